"""Idempotent seeding: the catalogue once, and free slots for the coming working days."""
from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from common import clock
from common.clock import LOCAL_TZ, to_utc
from common.database import insert_missing
from common.office_hours import is_working_day

from . import db
from .catalog import CLINIC_SERVICES, FACILITIES, HOSPITAL_SESSIONS, SERVICES, STATION_SESSIONS

log = logging.getLogger(__name__)


def _catalogue_rows() -> dict[sa.Table, list[dict]]:
    rows: dict[sa.Table, list[dict]] = {
        db.services: [], db.locations: [], db.healthcare_services: [], db.schedules: []}
    for position, service in enumerate(SERVICES, 1):
        code, name, description, keywords, group, agency, sla, attributes = service
        rows[db.services].append(dict(
            code=code, position=position, name=name, description=description, keywords=keywords,
            group_name=group, agency=agency, sla_hours=sla, attributes=attributes))
    for ident, name, aliases, kind, street, ward, lat, long, offered in FACILITIES:
        rows[db.locations].append(dict(id=ident, name=name, aliases=aliases, kind=kind,
                                       street=street, ward=ward, phone=None, lat=lat, long=long))
        service_id = f"{ident}-kham-benh"
        rows[db.healthcare_services].append(dict(
            id=service_id, location_id=ident, name=f"Khám bệnh theo hẹn - {name}"))
        sessions = HOSPITAL_SESSIONS if kind == "hospital" else STATION_SESSIONS
        for code in offered:
            rows[db.schedules].append(dict(
                id=f"{ident}-{code}", location_id=ident, healthcare_service_id=service_id,
                service_type=code, slot_minutes=CLINIC_SERVICES[code][1], sessions=sessions))
    return rows


def working_days(start: date, count: int) -> list[date]:
    days, day = [], start
    while len(days) < count:
        if is_working_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def _slot_rows(schedule: sa.Row, days: list[date]) -> list[dict]:
    rows, step = [], timedelta(minutes=schedule.slot_minutes)
    for day in days:
        for begin, end in schedule.sessions:
            moment = datetime.combine(day, time.fromisoformat(begin))
            finish = datetime.combine(day, time.fromisoformat(end))
            while moment + step <= finish:
                rows.append(dict(schedule_id=schedule.id, start=to_utc(moment),
                                 end=to_utc(moment + step), status="free"))
                moment += step
    return rows


async def ensure_slots(engine: AsyncEngine, days_ahead: int, today: date | None = None) -> int:
    """Create the free slots of the coming working days that do not exist yet."""
    today = today or clock.today()
    days = working_days(today, days_ahead)
    async with engine.begin() as conn:
        before = await conn.scalar(sa.select(sa.func.count()).select_from(db.slots))
        for schedule in list(await conn.execute(sa.select(db.schedules))):
            await insert_missing(conn, db.slots, _slot_rows(schedule, days))
        after = await conn.scalar(sa.select(sa.func.count()).select_from(db.slots))
    return after - before


async def seed(engine: AsyncEngine, days_ahead: int) -> None:
    await db.create_schema(engine)
    async with engine.begin() as conn:
        for table, rows in _catalogue_rows().items():
            await insert_missing(conn, table, rows)
    created = await ensure_slots(engine, days_ahead)
    log.info("seed ready; %d new slots", created)


async def refresh_slots_daily(engine: AsyncEngine, days_ahead: int) -> None:
    """Keep the booking window rolling: extend it a little after each local midnight."""
    while True:
        now = clock.local_now()
        tomorrow = datetime.combine(now.date() + timedelta(days=1), time(0, 5), LOCAL_TZ)
        await asyncio.sleep((tomorrow - now).total_seconds())
        try:
            await ensure_slots(engine, days_ahead)
        except Exception:
            log.exception("daily slot refresh failed; retrying tomorrow")
