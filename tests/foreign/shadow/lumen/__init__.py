"""Lumen Studio's Stripe webhook app (plain ASGI on Starlette, psycopg 3, PostgreSQL)."""
