"""Run the webhook service:

    PANTRYBOX_STRIPE_WEBHOOK_SECRET=whsec_... PANTRYBOX_ADMIN_TOKEN=... \
        python -m tests.foreign.shadow.pantrybox.server --port 8000 \
        --db sqlite:////tmp/pantrybox.db --variant correct
"""

from __future__ import annotations

import argparse
import logging
import os

from werkzeug.serving import run_simple

from .variants import check
from .webapp import ADMIN_TOKEN_ENV, SECRET_ENV, create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="pantrybox-server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--db", required=True, help="SQLAlchemy URL, e.g. sqlite:////tmp/pb.db")
    parser.add_argument("--variant", default="correct")
    args = parser.parse_args(argv)
    secret = os.environ.get(SECRET_ENV)
    if not secret:
        raise SystemExit(f"{SECRET_ENV} is not set")
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = create_app(args.db, variant=check(args.variant), secret=secret,
                     admin_token=os.environ.get(ADMIN_TOKEN_ENV))
    run_simple(args.host, args.port, app, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
