"""Logging for every service: one set-up, and no secret, phone or ID number in any line."""
from __future__ import annotations

import contextvars
import json
import logging
import os
import re
from datetime import UTC, datetime

from common.text import mask_sensitive

# The request this task works for (common/observability.py sets it): every log line carries it.
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

# `api_key=…` in a query string or form, `"token": "…"` in JSON, `Authorization: Bearer …` in a header dump.
_SECRET_VALUE = re.compile(
    r"(?i)\b(api[_-]?key|access_token|refresh_token|secret[_-]?key|secret|token|password|signature|"
    r"authorization|x-twilio-signature|x-telegram-bot-api-secret-token|x-zevent-signature)"
    r"(['\"]?\s*[=:]\s*['\"]?)((?:bearer|basic|mac=)\s*)?[^&\s'\",;)]+")


# A hotline stream URL carries the call's signed token in its path (bot/hotline.py); a Bot API URL the bot's token.
_STREAM_TOKEN = re.compile(r"(/hotline/)[\w-]+\.[\w-]+")
_BOT_TOKEN = re.compile(r"(/(?:file/)?bot)[^/\s:]+:[\w-]+")


def mask_secrets(text: str) -> str:
    """'…?api_key=s3cr3t&x=1' -> '…?api_key=***&x=1'."""
    text = _BOT_TOKEN.sub(r"\1***", _STREAM_TOKEN.sub(r"\1***", text))
    return _SECRET_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3) or ''}***", text)


def masked(text: str) -> str:
    return mask_secrets(mask_sensitive(text))


class MaskingFilter(logging.Filter):
    """Rewrites every record that passes a handler, access log lines included, and tags it with the request id."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = getattr(record, "request_id", None) or request_id.get()
        message = record.getMessage()
        clean = masked(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = masked(logging.Formatter().formatException(record.exc_info))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for a log collector (LOG_FORMAT=json)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage(),
                "service": os.environ.get("SERVICE_NAME") or None,
                "request_id": getattr(record, "request_id", None)}
        if record.exc_info:
            line["error"] = record.exc_text or masked(self.formatException(record.exc_info))
        return json.dumps({k: v for k, v in line.items() if v is not None}, ensure_ascii=False)


def setup_logging() -> None:
    """INFO (or LOG_LEVEL) to stderr, every handler masked; one set up earlier (rasa-sdk's) is masked too.
    LOG_FORMAT=json writes JSON lines with the request id. Citizens' words are logged at DEBUG only."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO").upper(),
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    as_json = os.environ.get("LOG_FORMAT") == "json"
    for handler in root.handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
        if as_json:
            handler.setFormatter(JsonFormatter())
    # python-telegram-bot's HTTP client logs every request (each long poll) at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
