"""Lumen Studio's Stripe webhook endpoint: a plain Starlette ASGI app on PostgreSQL.

    POST /hooks/stripe     signed Stripe events (Stripe-Signature over the raw body)
    GET  /healthz          liveness + database round trip
    GET  /internal/state   support's debugging view: accounts, ledger, top-ups, disputes

Each event is handled in one transaction: take the webhook lock, claim the event id in
``event_inbox`` (a redelivery finds it there and is acknowledged without being processed
again), run the handler from the dispatch table, record ``done``/``skipped``. Receipts go
out after the commit, in the background.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

import stripe
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .db import libpq_url
from .handlers import VARIANTS, Context, dispatch_table

log = logging.getLogger("lumen.webhooks")

WEBHOOK_PATH = "/hooks/stripe"
SECRET_ENV = "LUMEN_STRIPE_WEBHOOK_SECRET"
WEBHOOK_LOCK = 0x4C554D45  # "LUME": one event at a time; volume is a few per minute
TIGHT_TOLERANCE = 60
# Each monthly renewal gets a receipt. Japanese customers' is a qualified invoice (適格請求書)
# PDF from a remote rendering service that takes about 12 s per document; USD receipts are a
# plain e-mail.
RECEIPT_SECONDS = {"jpy": 12.0}


async def send_receipt(receipt: dict[str, Any]) -> None:
    await asyncio.sleep(RECEIPT_SECONDS.get(receipt["currency"], 0.0))
    log.info("receipt sent for %s (%s %s)", receipt["invoice"], receipt["amount"],
             receipt["currency"])


def _claim_sql(ctx: Context) -> str:
    if ctx.bug("inbox_not_checked"):
        # Keeps the latest receipt time, and hands the event on every time.
        return ("INSERT INTO event_inbox (event_id, event_type, status) VALUES (%s, %s, 'done')"
                " ON CONFLICT (event_id) DO UPDATE SET received_at = now()"
                " RETURNING event_id")
    return ("INSERT INTO event_inbox (event_id, event_type, status) VALUES (%s, %s, 'done')"
            " ON CONFLICT (event_id) DO NOTHING RETURNING event_id")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in rows]


STATE_QUERIES = {
    "accounts": """
        SELECT stripe_customer_id, stripe_subscription_id, tier_key, plan_state,
               subscription_status, billing_currency, paid_through, quota_gb, topup_gb,
               suspended
        FROM studio_account ORDER BY stripe_customer_id""",
    "invoice_ledger": """
        SELECT stripe_invoice_id, stripe_customer_id, stripe_subscription_id, billing_reason,
               currency, amount_minor, amount_major, paid_at
        FROM invoice_ledger ORDER BY stripe_invoice_id, id""",
    "topups": """
        SELECT payment_intent_id, stripe_customer_id, charge_id, gb, currency, amount_minor,
               status
        FROM storage_topup ORDER BY payment_intent_id""",
    "disputes": """
        SELECT dispute_id, payment_intent_id, charge_id, status, reason
        FROM topup_dispute ORDER BY dispute_id""",
}


def create_app(db_url: str, secret: str, variant: str = "correct") -> Starlette:
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; one of {sorted(VARIANTS)}")
    if not secret:
        raise ValueError("a webhook signing secret is required")
    pool = AsyncConnectionPool(libpq_url(db_url), min_size=1, max_size=4, open=False,
                               kwargs={"row_factory": dict_row})
    handlers = dispatch_table(variant)
    tolerance = (TIGHT_TOLERANCE if variant == "tight_signature_window"
                 else stripe.Webhook.DEFAULT_TOLERANCE)
    background: set[asyncio.Task] = set()

    async def webhook(request: Request) -> Response:
        payload = await request.body()
        try:
            stripe.WebhookSignature.verify_header(
                payload, request.headers.get("stripe-signature"), secret, tolerance)
            event = json.loads(payload)
        except stripe.SignatureVerificationError as exc:
            log.warning("rejected delivery: %s", exc)
            return JSONResponse({"error": "invalid signature"}, status_code=400)
        except ValueError:
            return JSONResponse({"error": "invalid payload"}, status_code=400)

        ctx = Context(variant=variant)
        try:
            async with pool.connection() as conn, conn.transaction():
                async with conn.cursor() as cur:
                    await cur.execute("SELECT pg_advisory_xact_lock(%s)", (WEBHOOK_LOCK,))
                    await cur.execute(_claim_sql(ctx), (event["id"], event["type"]))
                    if await cur.fetchone() is None:
                        return JSONResponse({"received": True})  # already processed
                    handler = handlers.get(event["type"])
                    status = await handler(cur, event, ctx) if handler else "skipped"
                    await cur.execute("UPDATE event_inbox SET status = %s WHERE event_id = %s",
                                      (status, event["id"]))
        except Exception:
            log.exception("handler failed for %s (%s)", event.get("id"), event.get("type"))
            return JSONResponse({"error": "handler failed"}, status_code=500)

        for receipt in ctx.receipts:
            if ctx.bug("slow_receipt"):
                await send_receipt(receipt)
            else:
                task = asyncio.create_task(send_receipt(receipt))
                background.add(task)
                task.add_done_callback(background.discard)
        return JSONResponse({"received": True})

    async def healthz(request: Request) -> Response:
        async with pool.connection() as conn:
            await conn.execute("SELECT 1")
        return JSONResponse({"status": "ok", "variant": variant})

    async def state(request: Request) -> Response:
        doc: dict[str, Any] = {}
        async with pool.connection() as conn, conn.cursor() as cur:
            for name, sql in STATE_QUERIES.items():
                await cur.execute(sql)
                doc[name] = _rows(await cur.fetchall())
        return JSONResponse(doc)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        await pool.open()
        try:
            yield
        finally:
            for task in list(background):
                task.cancel()
            await pool.close()

    return Starlette(
        routes=[
            Route(WEBHOOK_PATH, webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/internal/state", state, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
