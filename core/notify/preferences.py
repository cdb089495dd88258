"""Per-sender channel preferences (answer language)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from core.db.models import ChannelPreference

LANGS = ("zh", "zh-Hant", "en")  # answer language; zh-Hant: traditional characters


def get_lang(session: Session, sender_id: str) -> str:
    """The sender's answer language; "zh" unless they chose otherwise."""
    return stored_lang(session, sender_id) or "zh"


def stored_lang(session: Session, sender_id: str) -> str | None:
    """The answer language stored for the sender (chosen, or the language they wrote in last);
    None when nothing is stored yet."""
    pref = session.get(ChannelPreference, sender_id)
    return pref.lang if pref is not None and pref.lang in LANGS else None


def set_lang(session: Session, sender_id: str, lang: str, now: dt.datetime) -> None:
    """Store the sender's answer language ("zh", "zh-Hant" or "en")."""
    if lang not in LANGS:
        raise ValueError(f"unsupported language {lang!r}")
    pref = session.get(ChannelPreference, sender_id)
    if pref is None:
        session.add(ChannelPreference(sender_id=sender_id, lang=lang, updated_at=now))
    else:
        pref.lang = lang
        pref.updated_at = now
    session.flush()
