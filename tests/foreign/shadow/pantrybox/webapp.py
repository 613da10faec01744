"""Pantry Box's Flask app: the Stripe webhook, a health check and the staging reset."""

from __future__ import annotations

import hmac
import json
import logging
import time

import stripe
from flask import Flask, jsonify, request
from sqlalchemy import text
from sqlalchemy.orm import Session

from .handlers import Processor
from .models import create_schema, make_engine, reset_data
from .variants import check

SECRET_ENV = "PANTRYBOX_STRIPE_WEBHOOK_SECRET"
ADMIN_TOKEN_ENV = "PANTRYBOX_ADMIN_TOKEN"
ADMIN_TOKEN_HEADER = "X-Pantry-Admin-Token"
WEBHOOK_PATH = "/webhooks/stripe"

log = logging.getLogger("pantrybox")


def _signature_timestamp(header: str) -> int | None:
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            return int(value)
    return None


def create_app(db_url: str, *, variant: str, secret: str, admin_token: str | None) -> Flask:
    variant = check(variant)
    engine = make_engine(db_url)
    create_schema(engine)
    app = Flask("pantrybox")

    @app.get("/healthz")
    def healthz():
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return jsonify(ok=True, variant=variant)

    @app.post("/admin/reset")
    def admin_reset():
        given = request.headers.get(ADMIN_TOKEN_HEADER, "")
        if not admin_token or not hmac.compare_digest(given, admin_token):
            return jsonify(error="forbidden"), 403
        with Session(engine) as db, db.begin():
            reset_data(db)
        return jsonify(reset=True)

    @app.post(WEBHOOK_PATH)
    def stripe_webhook():
        payload = request.get_data()  # the raw bytes Stripe signed
        header = request.headers.get("Stripe-Signature", "")
        try:
            stripe.Webhook.construct_event(payload, header, secret)
        except (ValueError, stripe.SignatureVerificationError) as exc:
            log.warning("rejected webhook: %s", exc)
            return jsonify(error="invalid signature"), 400
        if variant == "strict_signature_window":
            # BUG: "replay protection" tighter than Stripe's 5-minute tolerance
            ts = _signature_timestamp(header)
            if ts is None or abs(time.time() - ts) > 60:
                return jsonify(error="stale signature"), 400
        event = json.loads(payload)
        with Session(engine) as db, db.begin():
            outcome = Processor(db, variant).process(event)
        for job in outcome.after_commit:
            job()
        return jsonify(received=True, result=outcome.status)

    return app
