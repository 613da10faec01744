"""A local Stripe replica: speaks Stripe's wire format so the official SDK works unmodified.

    client = stripe.StripeClient("sk_test_x", base_addresses={"api": replica.url})

Engine modules (one concept each)
    app.py        create_app(config) -> Starlette app; lifespan opens the store, ticks due work
    config.py     ReplicaConfig, FaultRule
    pipeline.py   one request: auth, Stripe-Account, faults, params, idempotency, handler,
                  expand, response headers, request log
    engine.py     owns store, clock, ids, faults, events, due work, webhook dispatcher
    registry.py   ResourceSpec / Registry: what resource modules register
    context.py    Ctx: what handlers get (account, clock, store access, emit, schedule)
    crud.py       generic list/create/retrieve/update/delete from a ResourceSpec
    store.py      SQLite (WAL) objects/events/idempotency/deliveries/requests/due_work
    forms.py      Stripe form encoding -> nested dicts/lists; coercion
    listing.py    limit/cursors/created filters -> PageQuery; list objects
    expand.py     expand[] along dotted paths (max 4 levels)
    templates.py  new objects from Stripe's examples (fixtures/fixtures3.json, MIT)
    events.py     event shape, endpoint matching;  webhooks.py  signed delivery + retries
    faults.py     fault rules;  clock.py  replica clock;  duework.py  work due at a time
    auth.py       test keys only, Stripe-Account;  ids.py  Stripe prefixes and lengths
    admin.py      /_replica/* endpoints;  requestlog.py  request log and totals
    testing.py    running_replica() for tests;  seed.py  seed_small();  server.py  serve()

Resource modules (``resources/``): the interface
    A module exposes ``register(reg: Registry) -> None`` and is listed in
    ``resources/__init__.py:MODULES``. It can:

    * ``reg.resource(ResourceSpec(...))`` — a collection with generic CRUD: new objects
      start from Stripe's example for ``object`` (with ``defaults`` over it), params in
      ``fields`` are applied with Stripe's semantics, ``prepare(ctx, obj, params, creating)``
      validates and derives, ``{object}.created/updated/deleted`` events are emitted, list
      filters come from ``filters``. GET by id works for every registered resource.
    * ``reg.route(method, path, handler)`` — any endpoint; ``handler(ctx, params, **path)``
      returns the object (``expand[]`` is applied for it) or raises ``ApiError``.
      ``raise ApiError(402, ..., type="card_error", code="card_declined", commit=True)``
      keeps the handler's writes (a failed charge) and stores the answer for idempotency.
    * ``reg.on_due(kind, fn)`` + ``ctx.schedule(at, kind, payload)`` — work that runs when
      the replica clock reaches ``at`` (``POST /_replica/clock {"advance": s}`` in tests),
      in its own transaction, with the clock reading ``at`` and events delivered after.

    Inside handlers: ``ctx.get(id, "customer", param="customer")`` (404 in Stripe's words),
    ``ctx.new_object(type)``, ``ctx.insert/replace(obj)``, ``ctx.emit(type, obj,
    previous=...)``, ``ctx.now()``, ``ctx.for_account(acct)``, ``crud.create/update(ctx,
    SPEC, ...)`` to reuse another resource's rules. Keys starting with ``_`` are private
    (stored, never answered).

Example: a payment intent whose SEPA debit settles three days later::

    SPEC = ResourceSpec(object="payment_intent", path="/v1/payment_intents",
                        defaults={"status": "requires_payment_method", ...},
                        fields=frozenset({"amount", "currency", "customer", "metadata"}),
                        required=("amount", "currency"), filters={"customer": "customer"},
                        prepare=_prepare)

    def confirm(ctx: Ctx, params: Params, id: str) -> Obj:
        pi = crud.load(ctx, SPEC, id)
        if pi["status"] not in ("requires_payment_method", "requires_confirmation"):
            raise ApiError(400, "...", code="payment_intent_unexpected_state")
        before = {"status": pi["status"]}
        pi["status"] = "processing"
        ctx.replace(pi)
        ctx.emit("payment_intent.processing", pi, previous=before)
        ctx.schedule(ctx.now() + 3 * 86400, "payment_intent.settle", {"id": id})
        return pi

    def settle(ctx: Ctx, payload: Obj) -> None:          # runs when the clock passes it
        pi = crud.load(ctx, SPEC, payload["id"])
        pi["status"] = "succeeded"
        ctx.replace(pi)
        ctx.emit("payment_intent.succeeded", pi, previous={"status": "processing"})

    def register(reg: Registry) -> None:
        reg.resource(SPEC)
        reg.route("POST", SPEC.path + "/{id}/confirm", confirm)
        reg.on_due("payment_intent.settle", settle)

Extension points waiting for their modules (ids already in ``core.ids.STRIPE_PREFIXES``):
payment_methods, payment_intents, charges, refunds, disputes, balance_transactions,
balance (a singleton: ``reg.route("GET", "/v1/balance", ...)``), payouts,
subscriptions (+ subscription_items), subscription_schedules, invoices (+ lines,
``create_preview``: literal paths win over ``{id}``), invoiceitems, credit_notes,
checkout sessions, customer cash balance transactions (``/v1/customers/{id}/...``).
"""
