"""Resource modules: one Stripe collection (and its behaviour) per module.

Each module has ``register(reg: Registry) -> None``; `MODULES` is the order they load in.
Add a module here to serve it (see the package docstring of `sandbox.replica`).
"""

from __future__ import annotations

from types import ModuleType

from sandbox.replica.registry import Registry
from sandbox.replica.resources import (
    accounts,
    balance,
    balance_transactions,
    billing_meters,
    cash_balance,
    charges,
    checkout_sessions,
    credit_notes,
    customer_balance,
    customers,
    delayed_methods,
    disputes,
    events,
    invoice_actions,
    invoice_collection,
    invoice_payments,
    invoice_preview,
    invoiceitems,
    invoices,
    payment_intents,
    payment_methods,
    payouts,
    prices,
    products,
    refunds,
    subscription_cycle,
    subscription_items,
    subscription_schedules,
    subscriptions,
    tax_rates,
    webhook_endpoints,
)

MODULES: list[ModuleType] = [
    accounts,
    customers,
    products,
    prices,
    tax_rates,
    webhook_endpoints,
    billing_meters,
    events,
    # payments (one module per concept; see each module's docstring)
    payment_methods,
    balance_transactions,
    balance,
    charges,
    payment_intents,
    delayed_methods,
    refunds,
    disputes,
    payouts,
    cash_balance,
    checkout_sessions,
    # billing (subscriptions, invoices, credit notes; see each module's docstring)
    customer_balance,
    invoiceitems,
    invoice_payments,
    invoices,
    invoice_actions,
    invoice_collection,
    invoice_preview,
    subscription_items,
    subscriptions,
    subscription_cycle,
    subscription_schedules,
    credit_notes,
]


def register_all(reg: Registry, modules: list[ModuleType] | None = None) -> Registry:
    for module in modules or MODULES:
        module.register(reg)
    return reg
