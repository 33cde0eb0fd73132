"""Conversation locks in Redis that several Rasa servers can share.

Rasa's own RedisLockStore changes a conversation's ticket lock with a GET then a SET: two servers taking
messages of one conversation at the same moment can both get ticket 0, both "hold" the lock, and one of
the two messages is lost from the tracker (rasa#9213; the fix upstream is only in the paid edition). Here
every such read-modify-write runs under a short Redis mutex, keeping Rasa's ticket order and expiry.
"""
from __future__ import annotations

from typing import Text

from rasa.core.lock_store import LOCK_LIFETIME, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

# A guarded step is a few Redis round trips; a holder that died frees the mutex after this long.
GUARD_SECONDS = 5


class AtomicRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: EndpointConfig) -> None:
        # Rasa builds lock stores named by module path from the whole endpoint config.
        super().__init__(host=endpoint_config.url, **endpoint_config.kwargs)

    def _guard(self, conversation_id: Text):
        # Outside key_prefix's namespace, so no conversation id can name a guard.
        return self.red.lock(f"guard:{self.key_prefix}{conversation_id}", timeout=GUARD_SECONDS, sleep=0.005,
                             blocking_timeout=GUARD_SECONDS)

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self._guard(conversation_id):
            return super().issue_ticket(conversation_id, lock_lifetime)

    def update_lock(self, conversation_id: Text) -> None:
        with self._guard(conversation_id):
            super().update_lock(conversation_id)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        with self._guard(conversation_id):
            super().cleanup(conversation_id, ticket_number)
