"""Rasa's SQL tracker store with connection checks, so a database restart costs no turn.

Rasa's `SQLTrackerStore` pools connections without `pool_pre_ping`: after PostgreSQL restarts,
the first turn of every pooled connection fails, Rasa's fail-safe wrapper then answers that
turn from an empty in-memory tracker (an active form is forgotten for that turn) and the pool
recovers only afterwards. Checking each connection on checkout avoids it
(tests/e2e/test_production.py restarts PostgreSQL between two turns of a form).

Used from endpoints.prod.yml as `type: rasa_addons.tracker_store.PrePingSQLTrackerStore`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs


class PrePingSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` whose engine tests pooled connections before using them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
