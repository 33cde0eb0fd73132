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


async def test_a_column_added_since_a_table_was_made_is_added_to_it(database_url):
    """A database made by an earlier version: its rows keep their values and take NULL in the new column."""
    before, now = sa.MetaData(), sa.MetaData()
    sa.Table("things", before, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.Text))
    things = sa.Table("things", now, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.Text),
                      sa.Column("seen_at", sa.DateTime))
    engine = create_engine(database_url)
    try:
        await create_tables(engine, before)
        async with engine.begin() as conn:
            await conn.execute(sa.text("INSERT INTO things (id, name) VALUES (1, 'cũ')"))
        await asyncio.gather(create_tables(engine, now), create_tables(engine, now))  # two replicas upgrading
        async with engine.connect() as conn:
            assert list(await conn.execute(sa.select(things))) == [(1, "cũ", None)]
    finally:
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
