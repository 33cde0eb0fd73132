"""`python -m bot [--host H] [--port P]`: the channel gateway; Rasa's URL from RASA_URL."""
from __future__ import annotations

import argparse
import logging
import os
import sys

from aiohttp import web

from common.logs import setup_logging

from .app import make_app
from .settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GATEWAY_PORT", "8080")))
    args = parser.parse_args(argv)
    setup_logging()
    web.run_app(make_app(Settings.from_env()), host=args.host, port=args.port,
                print=lambda _: logging.info("web chat on http://%s:%d/", args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
