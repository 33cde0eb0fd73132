"""Rasa's SQL tracker store, able to forget a citizen (Decree 13/2023/NĐ-CP: personal data erased on request), and
able to wait out a database restart.

Rasa 3.6 has no way to delete a conversation: its SQL store only ever appends the events of each turn. Here a
turn that sets the slot `forget_me` (action_answer_yes_no, after the citizen confirmed) deletes every stored event
of that sender instead, under the conversation's lock, as Rasa saves the turn: nothing of it is written back.
The next message starts a new conversation that knows nothing of the old one.

Rasa wraps every tracker store in a FailSafeTrackerStore: a failed read gives a new, empty conversation and a
failed write goes to the server's memory, so a citizen half-way through a report would be asked from the start
(seen in bench/faults.py when PostgreSQL restarted). Here connections are checked before use (a restart leaves
the pool's ones dead) and a read or write that fails for the database's sake is tried again for a while
(common.database.patient does the same in the application's environment; Rasa's has SQLAlchemy 1.4 and psycopg2).
"""
from __future__ import annotations

import asyncio
import logging
import time

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import SlotSet

log = logging.getLogger(__name__)

FORGET_SLOT = "forget_me"
RETRY_SECONDS = 20.0  # a PostgreSQL restart or fail-over; the gateway waits 30 s for the turn


def forget_requested(tracker) -> bool:
    last = next((e for e in reversed(tracker.events) if isinstance(e, SlotSet) and e.key == FORGET_SLOT), None)
    return bool(last and last.value)


async def _patiently(what: str, attempt):
    deadline = time.monotonic() + RETRY_SECONDS
    while True:
        try:
            return await attempt()
        except (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.DisconnectionError) as error:
            if time.monotonic() > deadline:
                raise
            log.warning("tracker store: %s failed (%s), trying again", what, type(error).__name__)
            await asyncio.sleep(0.5)


class ForgettingSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Rasa makes its engine without pre-ping; the same engine, checking each connection before use.
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def retrieve(self, sender_id):
        return await _patiently("reading a conversation", lambda: super(ForgettingSQLTrackerStore, self)
                                .retrieve(sender_id))

    async def retrieve_full_tracker(self, sender_id):
        return await _patiently("reading a conversation", lambda: super(ForgettingSQLTrackerStore, self)
                                .retrieve_full_tracker(sender_id))

    async def save(self, tracker) -> None:
        await _patiently("saving a turn", lambda: self._save(tracker))

    async def _save(self, tracker) -> None:
        if not forget_requested(tracker):
            await super().save(tracker)
            return
        with self.session_scope() as session:
            session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == tracker.sender_id).delete()
            session.commit()
