"""A compact scenario script for shadow tests: one short story per thing a webhook handler
can get wrong, played on a running replica over HTTP with the official SDK.

    play(replica)  ->  the replica's event log holds ~150 events; record them with
                       `tools.shadow.corpus.record_corpus` (the events API)

Stories (each on its own customer): a card subscription upgraded in the portal and then
canceled; a signup whose first payment is declined and expires (incomplete_expired);
dunning that ends unpaid; a trial without a payment method that pauses; a trial whose
first invoice is paid without a charge; direct purchases in JPY and BHD; a SEPA purchase
that fails after five days; Checkout by SEPA (async succeeded / failed); an OXXO voucher
that expires; an underpaid bank transfer against an open invoice; a refund that fails
after succeeding; a disputed purchase; a purchase on a connected account.
"""

from __future__ import annotations

from typing import Any

import httpx

from sandbox.replica.testing import ReplicaHandle

DAY = 86_400


class _Api:
    def __init__(self, replica: ReplicaHandle) -> None:
        self.client = replica.client()
        self.admin = replica.admin
        self.http = httpx.Client(base_url=replica.url, timeout=30,
                                 auth=(replica.api_key, ""))

    def post(self, path: str, account: str | None = None, **params: Any) -> dict[str, Any]:
        if account:
            params["stripe_account"] = account
        resp = self.client.raw_request("post", path, **params)
        return self.client.deserialize(resp, api_mode="V1").to_dict()

    def try_post(self, path: str, **params: Any) -> dict[str, Any] | None:
        try:
            return self.post(path, **params)
        except Exception:  # noqa: BLE001 - a decline is an expected outcome of the story
            return None

    def delete(self, path: str) -> None:
        self.client.raw_request("delete", path)

    def advance(self, days: float) -> None:
        self.admin.advance_clock(days * DAY)


def _customer(api: _Api, n: int, account: str | None = None) -> str:
    return api.post("/v1/customers", account=account, email=f"shadow{n}@example.com",
                    name=f"Shadow {n}", metadata={"user_id": f"user_{n:04d}"})["id"]


def _attach(api: _Api, customer: str, pm: str) -> str:
    attached = api.post(f"/v1/payment_methods/{pm}/attach", customer=customer)
    api.post(f"/v1/customers/{customer}",
             invoice_settings={"default_payment_method": attached["id"]})
    return attached["id"]


def _prices(api: _Api) -> dict[str, str]:
    product = api.post("/v1/products", name="Relay")
    out = {}
    for key, amount in (("starter", 1900), ("team", 4900)):
        out[key] = api.post("/v1/prices", product=product["id"], currency="usd",
                            unit_amount=amount, lookup_key=f"{key}_monthly",
                            recurring={"interval": "month"})["id"]
    out["onboarding"] = api.post("/v1/prices", product=product["id"], currency="eur",
                                 unit_amount=15000)["id"]
    return out


def _purchase(api: _Api, customer: str, pm: str, amount: int, currency: str, order: str,
              **extra: Any) -> dict[str, Any] | None:
    return api.try_post("/v1/payment_intents", customer=customer, amount=amount,
                        currency=currency, payment_method=pm, confirm=True,
                        metadata={"order_id": order, "feature": "data_export"}, **extra)


def play(replica: ReplicaHandle) -> list[str]:
    """Play every story; returns the connected accounts created (their events are listed
    with ``Stripe-Account``)."""
    api = _Api(replica)
    prices = _prices(api)
    n = iter(range(1, 1000))
    sepa = {"mandate_data": {"customer_acceptance": {"type": "offline"}}}

    # Subscription upgraded outside the app, later canceled on request.
    c = _customer(api, next(n))
    _attach(api, c, "pm_card_visa")
    upgraded = api.post("/v1/subscriptions", customer=c, items=[{"price": prices["starter"]}])
    # Signup whose first payment is declined: incomplete, then incomplete_expired.
    c = _customer(api, next(n))
    _attach(api, c, "pm_card_chargeDeclined")
    api.try_post("/v1/subscriptions", customer=c, items=[{"price": prices["team"]}])
    # Dunning that ends unpaid.
    c = _customer(api, next(n))
    _attach(api, c, "pm_card_visa")
    dunning = api.post("/v1/subscriptions", customer=c, items=[{"price": prices["starter"]}],
                       metadata={"replica_dunning_end": "unpaid",
                                 "replica_dunning_retry_days": "1,2"})
    declining = api.post("/v1/payment_methods/pm_card_chargeDeclined/attach", customer=c)
    api.post(f"/v1/subscriptions/{dunning['id']}", default_payment_method=declining["id"])
    # Trial without a payment method that pauses at its end; its first invoice is paid
    # without any charge (amount 0).
    c = _customer(api, next(n))
    api.post("/v1/subscriptions", customer=c, items=[{"price": prices["team"]}],
             trial_period_days=7,
             trial_settings={"end_behavior": {"missing_payment_method": "pause"}})
    # Direct purchases in zero- and three-decimal currencies; a refund that fails later; a
    # disputed purchase.
    _purchase(api, _customer(api, next(n)), "pm_card_visa", 15000, "jpy", "ord_jpy")
    _purchase(api, _customer(api, next(n)), "pm_card_visa", 37650, "bhd", "ord_bhd")
    refund_fails = _purchase(api, _customer(api, next(n)), "pm_card_refundFail", 5000, "usd",
                             "ord_refund")
    _purchase(api, _customer(api, next(n)), "pm_card_createDispute", 7000, "usd", "ord_dispute")
    # SEPA purchase that fails after five days.
    _purchase(api, _customer(api, next(n)), "pm_sepaDebit_fails", 9900, "eur", "ord_sepa",
              **sepa)
    # Checkout by SEPA: one settles, one fails; an OXXO voucher left to expire.
    for pm in ("pm_sepaDebit_succeeds", "pm_sepaDebit_fails"):
        session = api.post("/v1/checkout/sessions", mode="payment", customer=_customer(
            api, next(n)), success_url="https://relay.example/ok",
            line_items=[{"price": prices["onboarding"], "quantity": 1}],
            metadata={"order_id": f"ord_{pm}", "feature": "onboarding"},
            payment_method_types=["card", "sepa_debit"])
        api.post(f"/_replica/test_helpers/checkout/sessions/{session['id']}/complete",
                 payment_method=pm)
    _purchase(api, _customer(api, next(n)), "pm_oxxo", 20000, "mxn", "ord_oxxo",
              payment_method_options={"oxxo": {"expires_after_days": 2}})
    # Underpaid bank transfer against an open invoice.
    c = _customer(api, next(n))
    api.post("/v1/invoiceitems", customer=c, amount=12000, currency="usd")
    invoice = api.post("/v1/invoices", customer=c, collection_method="send_invoice",
                       days_until_due=14, pending_invoice_items_behavior="include",
                       payment_settings={"payment_method_types": ["customer_balance"]})
    api.post(f"/v1/invoices/{invoice['id']}/finalize")
    api.post(f"/v1/test_helpers/customers/{c}/fund_cash_balance", amount=5000,
             currency="usd", reference="short")
    # A purchase on a connected account.
    account = api.post("/v1/accounts", type="express", country="US", email="m@example.com")
    connected = _customer(api, next(n), account["id"])
    api.post("/v1/payment_intents", account=account["id"], customer=connected, amount=2500,
             currency="usd", payment_method="pm_card_visa", confirm=True,
             metadata={"order_id": "ord_connect", "feature": "listing"})

    api.advance(1)  # dispute arrives; incomplete signup expires
    if refund_fails:
        api.post("/v1/refunds", payment_intent=refund_fails["id"], amount=2000)
    api.post(f"/v1/subscriptions/{upgraded['id']}", items=[{
        "id": upgraded["items"]["data"][0]["id"], "price": prices["team"]}])
    api.advance(3)
    api.advance(4)  # debits settle or fail; the trial pauses; dunning retries
    api.delete(f"/v1/subscriptions/{upgraded['id']}")
    api.advance(23)  # renewals; the dunning customer's card declines
    api.advance(3)  # retries run out: unpaid
    api.http.close()
    return [account["id"]]


__all__ = ["play"]
