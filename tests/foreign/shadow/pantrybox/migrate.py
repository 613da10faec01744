"""Create Pantry Box's schema and load the plan catalogue (idempotent):

    python -m tests.foreign.shadow.pantrybox.migrate --db sqlite:////tmp/pantrybox.db

The server runs the same step when it starts.
"""

from __future__ import annotations

import argparse

from .models import create_schema, make_engine


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="pantrybox-migrate")
    parser.add_argument("--db", required=True)
    args = parser.parse_args(argv)
    engine = make_engine(args.db)
    create_schema(engine)
    engine.dispose()


if __name__ == "__main__":
    main()
