"""Run Lumen's webhook app under uvicorn.

    LUMEN_STRIPE_WEBHOOK_SECRET=whsec_… \\
        python -m tests.foreign.shadow.lumen.server --port 8000 --db postgresql://… \\
        [--variant correct]

The schema must exist first (``python -m tests.foreign.shadow.lumen.migrate --db …``).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

import uvicorn

from .app import SECRET_ENV, create_app
from .handlers import VARIANTS


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Lumen Studio Stripe webhook app")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--db", required=True, help="PostgreSQL URL")
    parser.add_argument("--variant", default="correct", choices=sorted(VARIANTS))
    args = parser.parse_args(argv)

    secret = os.environ.get(SECRET_ENV, "")
    if not secret:
        sys.exit(f"{SECRET_ENV} is not set")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = create_app(args.db, secret, args.variant)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
