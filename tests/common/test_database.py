"""Replicas starting together on one database: each creates the tables it needs, and none fails for the race."""
from __future__ import annotations

import asyncio

import sqlalchemy as sa

from bot.console.store import metadata as console_tables
from common.database import count_by, create_engine, create_tables


async def test_replicas_starting_together_all_find_their_tables(database_url):
    engines = [create_engine(database_url) for _ in range(4)]
    try:
        await asyncio.gather(*(create_tables(engine, console_tables) for engine in engines))
        conversations = console_tables.tables["console_conversations"]
        assert await count_by(engines[0], conversations.c.status) == {}
        async with engines[1].connect() as conn:
            names = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
        assert set(console_tables.tables) <= set(names)
    finally:
        for engine in engines:
            await engine.dispose()
