"""UTC datetimes read back from the database."""

from __future__ import annotations

import datetime as dt


def aware(value: dt.datetime) -> dt.datetime:
    """SQLite returns naive datetimes; everything is stored in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
