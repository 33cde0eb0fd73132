"""`python -m cityapi [--host H] [--port P]`; DATABASE_URL and secrets from the environment."""
from __future__ import annotations

import argparse
import logging
import sys

from aiohttp import web

from common.logs import setup_logging

from .app import make_app
from .config import ConfigError, Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cityapi", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    setup_logging()
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        print(f"cityapi: {error}", file=sys.stderr)
        return 2
    web.run_app(make_app(settings), host=args.host, port=args.port,
                print=lambda _: logging.info("cityapi listening on http://%s:%d", args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
