"""Database schema and the few primitives every module shares.

One SQLAlchemy Core schema runs on SQLite (embedded default) and PostgreSQL.
Times are stored as naive UTC and converted at the API edge.
Write transactions start with a write (a counter bump or a conditional UPDATE),
which makes SQLite take its write lock first and PostgreSQL lock the row, so
concurrent writers queue instead of racing.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from common.clock import utcnow
from common.database import create_tables, insert_for

metadata = sa.MetaData()

counters = sa.Table(
    "counters", metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

services = sa.Table(
    "services", metadata,
    sa.Column("code", sa.String(40), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("keywords", sa.Text, nullable=False),
    sa.Column("group_name", sa.Text, nullable=False),
    sa.Column("agency", sa.Text, nullable=False),
    sa.Column("sla_hours", sa.Integer, nullable=False),
    sa.Column("attributes", sa.JSON, nullable=False),
)

service_requests = sa.Table(
    "service_requests", metadata,
    sa.Column("id", sa.String(20), primary_key=True),
    sa.Column("service_code", sa.ForeignKey("services.code"), nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("status_notes", sa.Text),
    sa.Column("description", sa.Text),
    sa.Column("lat", sa.Float),
    sa.Column("long", sa.Float),
    sa.Column("address", sa.Text),
    sa.Column("address_id", sa.Text),
    sa.Column("attributes", sa.JSON, nullable=False),
    sa.Column("media_url", sa.Text),
    sa.Column("email", sa.Text),
    sa.Column("phone", sa.String(20)),
    sa.Column("first_name", sa.Text),
    sa.Column("last_name", sa.Text),
    sa.Column("device_id", sa.Text),
    sa.Column("account_id", sa.Text, index=True),
    sa.Column("client", sa.Text, nullable=False),
    sa.Column("idempotency_key", sa.String(200), unique=True),
    sa.Column("requested_at", sa.DateTime, nullable=False, index=True),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("expected_at", sa.DateTime),
)

request_history = sa.Table(
    "request_history", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.ForeignKey("service_requests.id"), nullable=False, index=True),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("status_notes", sa.Text),
    sa.Column("changed_by", sa.Text, nullable=False),
    sa.Column("changed_at", sa.DateTime, nullable=False),
)

events = sa.Table(
    "events", metadata,
    # Taken from a counter in the writer's transaction, so ids commit in order
    # and a reader's cursor never skips an event.
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("subject", sa.String(60), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

locations = sa.Table(
    "locations", metadata,
    sa.Column("id", sa.String(60), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("aliases", sa.JSON, nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("street", sa.Text),
    sa.Column("ward", sa.Text, nullable=False),
    sa.Column("phone", sa.String(20)),
    sa.Column("lat", sa.Float, nullable=False),
    sa.Column("long", sa.Float, nullable=False),
)

healthcare_services = sa.Table(
    "healthcare_services", metadata,
    sa.Column("id", sa.String(60), primary_key=True),
    sa.Column("location_id", sa.ForeignKey("locations.id"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
)

schedules = sa.Table(
    "schedules", metadata,
    sa.Column("id", sa.String(80), primary_key=True),
    sa.Column("location_id", sa.ForeignKey("locations.id"), nullable=False, index=True),
    sa.Column("healthcare_service_id", sa.ForeignKey("healthcare_services.id"), nullable=False),
    sa.Column("service_type", sa.String(40), nullable=False, index=True),
    sa.Column("slot_minutes", sa.Integer, nullable=False),
    sa.Column("sessions", sa.JSON, nullable=False),
)

slots = sa.Table(
    "slots", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("schedule_id", sa.ForeignKey("schedules.id"), nullable=False),
    sa.Column("start", sa.DateTime, nullable=False),
    sa.Column("end", sa.DateTime, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.UniqueConstraint("schedule_id", "start"),
    sa.Index("ix_slots_start_status", "start", "status"),
)

patients = sa.Table(
    "patients", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("name_key", sa.Text, nullable=False),
    sa.Column("phone", sa.String(20), nullable=False, index=True),
    sa.Column("account_id", sa.Text, index=True),
    sa.UniqueConstraint("phone", "name_key"),
)

appointments = sa.Table(
    "appointments", metadata,
    sa.Column("id", sa.String(20), primary_key=True),
    sa.Column("slot_id", sa.ForeignKey("slots.id"), nullable=False),
    sa.Column("patient_id", sa.ForeignKey("patients.id"), nullable=False, index=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("comment", sa.Text),
    sa.Column("cancelation_reason", sa.Text),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    # Last line of defence: one live booking per slot, whatever the code above does.
    sa.Index(
        "uq_appointments_booked_slot", "slot_id", unique=True,
        sqlite_where=sa.text("status = 'booked'"),
        postgresql_where=sa.text("status = 'booked'"),
    ),
)


async def create_schema(engine: AsyncEngine) -> None:
    await create_tables(engine, metadata)


async def next_value(conn: AsyncConnection, name: str) -> int:
    """Bump a named counter inside the caller's transaction (locks it until commit)."""
    await conn.execute(
        insert_for(conn, counters).values(name=name, value=0).on_conflict_do_nothing()
    )
    result = await conn.execute(
        sa.update(counters)
        .where(counters.c.name == name)
        .values(value=counters.c.value + 1)
        .returning(counters.c.value)
    )
    return result.scalar_one()


async def emit_event(conn: AsyncConnection, type_: str, subject: str, data: dict) -> int:
    """Publish a change in the same transaction that made it."""
    event_id = await next_value(conn, "events")
    await conn.execute(
        sa.insert(events).values(
            id=event_id, type=type_, subject=subject, data=data, created_at=utcnow()
        )
    )
    return event_id
