"""customer.created / updated / deleted → accounts."""

from __future__ import annotations

from sandbox.usersys.context import Ctx
from sandbox.usersys.families._rows import get_or_new
from sandbox.usersys.models import Account


def on_customer(ctx: Ctx) -> None:
    customer = ctx.obj
    deleted = ctx.type == "customer.deleted"
    rank = 1 if deleted else 0  # deletion is terminal
    account, created = get_or_new(ctx, Account, Account.stripe_customer_id, customer["id"])
    if not created and not ctx.fresh(account, rank, customer["id"]):
        return ctx.stale("older customer snapshot")
    account.email = customer.get("email")
    account.name = customer.get("name")
    account.delinquent = bool(customer.get("delinquent"))
    if deleted:
        account.deleted_at = account.deleted_at or ctx.now
    elif account.deleted_at is not None:
        # Only reachable with FM-02: a late created/updated snapshot resurrects the account.
        account.deleted_at = None
    ctx.stamp(account, rank)
    ctx.effect(f"account {customer['id']} {'deleted' if deleted else 'synced'}")
