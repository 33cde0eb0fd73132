"""Time at the API edge: naive UTC inside, ISO 8601 with the Huế offset outside."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def to_iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc).astimezone(LOCAL_TZ).isoformat(timespec="seconds")


def to_utc(value: datetime) -> datetime:
    """Aware -> naive UTC; a naive value is taken as Huế local time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL_TZ)
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def parse_iso(text: str, *, require_offset: bool) -> datetime | None:
    """ISO 8601 -> naive UTC, or None when unreadable (or lacking a required offset)."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if require_offset and value.tzinfo is None:
        return None
    return to_utc(value)
