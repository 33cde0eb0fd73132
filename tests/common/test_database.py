"""Replicas starting together on one database, each creating the tables it needs; stores waiting out a restart."""
from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from bot.console.store import metadata as console_tables
from common.database import count_by, create_engine, create_tables, patient


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


async def test_a_store_waits_out_a_restart_but_not_a_wrong_statement():
    calls = []

    @patient(seconds=5)
    async def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise sa.exc.OperationalError("SELECT 1", {}, ConnectionRefusedError("restarting"))
        return "done"

    assert await flaky() == "done" and len(calls) == 3

    @patient(seconds=5)
    async def duplicate():
        calls.append(1)
        raise sa.exc.IntegrityError("INSERT", {}, Exception("duplicate key"))

    calls.clear()
    with pytest.raises(sa.exc.IntegrityError):
        await duplicate()
    assert len(calls) == 1  # not tried again: the same statement fails the same way

    @patient(seconds=0.2)
    async def down():
        raise FileNotFoundError("/var/run/postgresql/.s.PGSQL.5432")  # asyncpg while the server restarts

    with pytest.raises(FileNotFoundError):
        await down()
