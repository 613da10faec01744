"""The sample company's own system: its database and the webhook handler that writes it.

`models` (tables), `handler.apply_event` (event processing, usable without HTTP),
`app.create_handler_app` (the FastAPI webhook app), `server` (uvicorn in a thread),
`mapping.yaml` (what the tables mean, for reconciliation) and `agreement` (field-by-field
comparison of the tables with Stripe objects through that mapping).
"""
