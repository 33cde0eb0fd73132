"""Rasa's SQL tracker store, able to forget a citizen (Decree 13/2023/NĐ-CP: personal data erased on request).

Rasa 3.6 has no way to delete a conversation: its SQL store only ever appends the events of each turn. Here a
turn that sets the slot `forget_me` (action_answer_yes_no, after the citizen confirmed) deletes every stored event
of that sender instead, under the conversation's lock, as Rasa saves the turn: nothing of it is written back.
The next message starts a new conversation that knows nothing of the old one.
"""
from __future__ import annotations

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SlotSet

FORGET_SLOT = "forget_me"


def forget_requested(tracker) -> bool:
    last = next((e for e in reversed(tracker.events) if isinstance(e, SlotSet) and e.key == FORGET_SLOT), None)
    return bool(last and last.value)


class ForgettingSQLTrackerStore(SQLTrackerStore):
    async def save(self, tracker) -> None:
        if not forget_requested(tracker):
            await super().save(tracker)
            return
        with self.session_scope() as session:
            session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == tracker.sender_id).delete()
            session.commit()
