"""The one clock every service reads, and time at the API edge (naive UTC inside, ISO 8601 with the Huế
offset outside).

Time is an input: `TROLYHUE_NOW=2026-12-11T16:45:00+07:00` makes that instant "now" for the process and
every process it starts (the clock runs on from there), so tests and a developer can stand on any day;
tests inside one process use `set_now`.
"""
from __future__ import annotations

import os
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# The offset in seconds from the wall clock, shared with child processes so that all agree to the second.
_OFFSET_VARIABLE = "TROLYHUE_CLOCK_OFFSET"


def now() -> datetime:
    """Now, aware, in UTC."""
    return datetime.now(timezone.utc) + _offset


def local_now() -> datetime:
    """Now in Huế."""
    return now().astimezone(LOCAL_TZ)


def today() -> date:
    """Today in Huế."""
    return local_now().date()


def set_now(moment: datetime | None) -> None:
    """Make `moment` now (a naive one is Huế time); the clock runs on from it. None: back to the process's own
    clock (TROLYHUE_NOW's, or the wall clock)."""
    global _offset
    if moment is None:
        _offset = _process_offset
        return
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    _offset = moment - datetime.now(timezone.utc)


def _from_environment() -> timedelta:
    if os.environ.get(_OFFSET_VARIABLE):
        return timedelta(seconds=float(os.environ[_OFFSET_VARIABLE]))
    if os.environ.get("TROLYHUE_NOW"):
        moment = datetime.fromisoformat(os.environ["TROLYHUE_NOW"])
        offset = moment.replace(tzinfo=moment.tzinfo or LOCAL_TZ) - datetime.now(timezone.utc)
        os.environ[_OFFSET_VARIABLE] = repr(offset.total_seconds())  # the processes we start agree to the second
        return offset
    return timedelta(0)


_process_offset = _offset = _from_environment()


def utcnow() -> datetime:
    """Now as stored: naive UTC, whole seconds."""
    return now().replace(tzinfo=None, microsecond=0)


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
