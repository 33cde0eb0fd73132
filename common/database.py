"""Async database access that runs unchanged on SQLite (embedded default) and PostgreSQL."""
from __future__ import annotations

import asyncio
import functools
import json
import os
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine


def async_url(url: str) -> str:
    """Accept plain sqlite:// and postgresql:// URLs and pick the async drivers."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise ValueError(f"cannot read {url!r} as a database URL") from None
    if parsed.drivername in ("sqlite", "sqlite+aiosqlite"):
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+asyncpg"):
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported scheme {parsed.drivername}: use sqlite:/// or postgresql://")


def create_engine(url: str) -> AsyncEngine:
    url = async_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, json_serializer=_json)

        @sa.event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            if parsed.database and parsed.database != ":memory:":
                os.chmod(parsed.database, 0o600)  # citizens' data and the chat apps' tokens: ours alone to read
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    # Pre-ping: after a database restart, a pooled connection is found dead and replaced before a request uses it.
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True, json_serializer=_json)


# JSON columns keep Vietnamese as written (searchable), not as \u escapes.
_json = functools.partial(json.dumps, ensure_ascii=False)


def insert_for(conn: AsyncConnection, table: sa.Table):
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


async def insert_missing(conn: AsyncConnection, table: sa.Table, rows: list[dict]) -> None:
    """Insert rows whose key is not there yet (idempotent seeding)."""
    if rows:
        await conn.execute(insert_for(conn, table).on_conflict_do_nothing(), rows)


async def count_by(engine: AsyncEngine, column: sa.Column) -> dict[str, int]:
    """How many rows of the column's table have each value (a backlog's states, for metrics)."""
    async with engine.connect() as conn:
        rows = await conn.execute(sa.select(column, sa.func.count()).group_by(column))
        return {str(value): count for value, count in rows}


async def create_tables(engine: AsyncEngine, metadata: sa.MetaData) -> None:
    """The tables that are missing, and the nullable columns added to a table since it was made. Replicas
    starting together race to create them: the loser of the race finds them made by the winner on its second look."""
    for attempt in range(3):
        try:
            async with engine.begin() as conn:
                await conn.run_sync(metadata.create_all)
                await conn.run_sync(_add_new_columns, metadata)
            return
        except (sa.exc.IntegrityError, sa.exc.ProgrammingError, sa.exc.OperationalError):
            if attempt == 2:
                raise
            await asyncio.sleep(0.5)


def _add_new_columns(conn: sa.Connection, metadata: sa.MetaData) -> None:
    # Only nullable columns: existing rows take NULL, so no data has to be made up for them.
    inspector = sa.inspect(conn)
    for table in metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present and column.nullable:
                conn.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN {column.name} "
                                     f"{column.type.compile(conn.dialect)}"))


def is_transient(error: BaseException) -> bool:
    """A failure of the database's availability (restarting, unreachable), not of the statement."""
    if isinstance(error, sa.exc.DBAPIError):
        return not isinstance(error, (sa.exc.IntegrityError, sa.exc.ProgrammingError, sa.exc.DataError))
    return isinstance(error, OSError)  # asyncpg connecting while the server restarts


def patient(seconds: float = 20.0):
    """A store method tried again while the database restarts (a PostgreSQL restart takes seconds), then failing
    as it would have."""
    def decorate(method):
        @functools.wraps(method)
        async def wrapper(*args, **kwargs):
            deadline = time.monotonic() + seconds
            while True:
                try:
                    return await method(*args, **kwargs)
                except Exception as error:
                    if not is_transient(error) or time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.5)
        return wrapper
    return decorate
