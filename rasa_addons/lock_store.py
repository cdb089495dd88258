"""A Redis lock store whose ticket bookkeeping is atomic across Rasa replicas.

Rasa's `RedisLockStore` reads a conversation's ticket lock, changes it in Python and writes it
back. Two replicas doing that at the same moment overwrite each other's tickets, and `cleanup`
can delete a lock another replica has just queued on: that message then waits for the ticket
to expire (60 s) or fails with a LockError. Measured here: 12 concurrent messages of one
conversation over two replicas lost 2 (tests/e2e/test_production.py). Every read-modify-write
below runs as a Redis optimistic transaction (WATCH / MULTI / EXEC, retried on conflict).

Used from endpoints.prod.yml as `type: rasa_addons.lock_store.AtomicRedisLockStore`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import WatchError

T = TypeVar("T")
# A change gets the stored lock (or None) and returns (lock to store or None to delete, result).
Change = Callable[[TicketLock | None], tuple[TicketLock | None, T]]


class AtomicRedisLockStore(RedisLockStore):
    """`RedisLockStore` with atomic ticket issue, serve, expiry and clean-up."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs}
        super().__init__(**kwargs)

    def _transact(self, conversation_id: str, change: Change[T]) -> T:
        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(raw)) if raw else None
                    new_lock, result = change(lock)
                    pipe.multi()
                    if new_lock is None:
                        pipe.delete(key)
                    else:
                        pipe.set(key, new_lock.dumps())
                    pipe.execute()
                    return result
                except WatchError:
                    continue  # another replica changed the lock meanwhile: redo on fresh state

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def change(lock: TicketLock | None) -> tuple[TicketLock | None, int]:
            lock = lock or TicketLock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._transact(conversation_id, change)
        except Exception as exc:
            raise LockError(f"Error while acquiring lock. Error:\n{exc}") from exc

    def update_lock(self, conversation_id: str) -> None:
        def change(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._transact(conversation_id, change)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        def change(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return lock, None

        self._transact(conversation_id, change)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Give the ticket back; delete the lock only if nobody queued meanwhile."""

        def change(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return (lock if lock.is_someone_waiting() else None), None

        self._transact(conversation_id, change)
