from datetime import date

import pytest
import sqlalchemy as sa

from cityapi import db
from cityapi.seed import ensure_slots, seed, working_days
from common.database import create_engine

pytestmark = pytest.mark.clock  # also run at fixed instants (scripts/test)


def test_working_days_skip_weekends_and_holidays():
    days = working_days(date(2026, 4, 29), 4)  # Wed; 30/4 and 1/5 are holidays, then a weekend
    assert days == [date(2026, 4, 29), date(2026, 5, 4), date(2026, 5, 5), date(2026, 5, 6)]
    assert len(working_days(date(2026, 11, 28), 14)) == 14


async def _counts(engine) -> dict:
    async with engine.connect() as conn:
        return {t.name: await conn.scalar(sa.select(sa.func.count()).select_from(t))
                for t in (db.services, db.locations, db.schedules, db.slots)}


async def test_seeding_twice_adds_nothing_and_the_window_rolls(database_url):
    engine = create_engine(database_url)
    await seed(engine, 14)
    first = await _counts(engine)
    assert first["services"] >= 9 and first["locations"] >= 6 and first["slots"] > 10000
    await seed(engine, 14)
    assert await _counts(engine) == first
    # A window that does not overlap adds a full window once, then nothing.
    assert await ensure_slots(engine, 14, today=date(2099, 1, 5)) == first["slots"]
    assert await ensure_slots(engine, 14, today=date(2099, 1, 5)) == 0
    await engine.dispose()
