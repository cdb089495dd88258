"""Rasa's SQL tracker store, made resilient to database restarts and cheaper on SQLite.

- PostgreSQL: Rasa's `SQLTrackerStore` pools connections without `pool_pre_ping`. After the
  server restarts, the first turn on each pooled connection fails; Rasa's fail-safe wrapper then
  answers that turn from an empty in-memory tracker (an active form is forgotten) and the pool
  recovers only afterwards. Checking connections on checkout avoids it
  (tests/e2e/test_production.py restarts PostgreSQL between two turns of a form).
- SQLite (the embedded default): write-ahead logging, so each saved turn costs one sync of the
  log instead of the rollback journal's several (tracker saves were the largest cost left in
  the Rasa process under load — docs/benchmarks.md). A process crash loses nothing committed.

- Verification secrets never reach the store: the user turn that answers the status form's
  verification prompt (last 4 phone digits or query code), the `phone_last4` slot values and
  digits typed beside a case reference are redacted by `core.redaction` on their way in (Rasa
  keeps the unredacted events in memory for the rest of the turn, so the lookup still works).

Used from endpoints.yml / endpoints.prod.yml as
`type: rasa_addons.tracker_store.ResilientSQLTrackerStore`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker

from core.redaction import redact_event, verification_turns


class ResilientSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` with pre-pinged connections (servers) or WAL mode (SQLite), storing
    conversations without verification secrets."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        if url.get_backend_name() == "sqlite":
            self.engine = sa.create_engine(url, hide_parameters=True)
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = sa.create_engine(
                url, pool_pre_ping=True, hide_parameters=True, **create_engine_kwargs(url)
            )
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Event]:
        """The events to store, verification secrets redacted."""
        new = list(super()._additional_events(session, tracker))
        if not new:
            return iter(())
        every = [event.as_dict() for event in tracker.events]
        turns = verification_turns(every)
        first = len(every) - len(new)
        stored = []
        for offset, event in enumerate(new):
            data = every[first + offset]
            redacted = redact_event(data, verification=first + offset in turns)
            stored.append(event if redacted is data else Event.from_parameters(redacted))
        return iter(stored)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()
