"""customer.created / updated / deleted → accounts."""

from __future__ import annotations

from sqlalchemy import bindparam, select

from sandbox.usersys.context import Ctx
from sandbox.usersys.families._rows import get_row, new_row
from sandbox.usersys.models import Account

# Another customer already linked to the same user, in the same account scope. Built once,
# as `models.by_key`: it runs for every new customer.
_TWIN = select(Account.stripe_customer_id).where(
    Account.user_ref == bindparam("user"),
    Account.connect_account_id.is_not_distinct_from(bindparam("scope")),
    Account.stripe_customer_id != bindparam("customer"),
).limit(1)


def on_customer(ctx: Ctx) -> None:
    customer = ctx.obj
    deleted = ctx.type == "customer.deleted"
    rank = 1 if deleted else 0  # deletion is terminal
    known = get_row(ctx, Account, Account.stripe_customer_id, customer["id"])
    user = (customer.get("metadata") or {}).get("user_id")
    if known is None and not deleted and user:
        # An account is one user of the app (metadata.user_id): a second customer made for a
        # user who already has one (a signup race) is not linked; it stays in Stripe only.
        twin = ctx.session.scalar(_TWIN, {"user": user, "scope": ctx.scope,
                                          "customer": customer["id"]})
        if twin is not None:
            return ctx.ignore(f"user {user} already linked to {twin}")
    if known is None:
        account = new_row(ctx, Account, Account.stripe_customer_id, customer["id"])
    elif not ctx.fresh(known, rank, customer["id"]):
        return ctx.stale("older customer snapshot")
    else:
        account = known
    account.email = customer.get("email")
    account.name = customer.get("name")
    account.delinquent = bool(customer.get("delinquent"))
    account.user_ref = user or account.user_ref
    if deleted:
        account.deleted_at = account.deleted_at or ctx.now
    elif account.deleted_at is not None:
        # Only reachable with FM-02: a late created/updated snapshot resurrects the account.
        account.deleted_at = None
    ctx.stamp(account, rank)
    ctx.effect(f"account {customer['id']} {'deleted' if deleted else 'synced'}")
