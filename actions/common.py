"""Helpers shared by the action modules: message text, sender pseudonym, unanswered log."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Tracker

from core.db.engine import session_scope
from core.db.models import UnansweredQuestion
from core.hashing import sender_tag
from core.services import get_sessionmaker
from core.settings import get_settings

logger = logging.getLogger("actions")
_DIGITS_RE = re.compile(r"\d")


def message_text(tracker: Tracker) -> str:
    """The latest user message as the citizen wrote it, cut at MAX_MESSAGE_CHARS.

    The api and the bot never send more; a raw POST to Rasa's webhook may (100 KB of text would
    tie up ranking for minutes). Lone surrogates (JSON escapes) cannot be encoded: dropped.
    """
    text = str(tracker.latest_message.get("text") or "")[: get_settings().max_message_chars]
    return text.encode("utf-8", "ignore").decode("utf-8")


def sender(tracker: Tracker) -> str:
    """Salted pseudonym of the sender, safe for logs."""
    return sender_tag(get_settings().log_salt.get_secret_value(), tracker.sender_id)


def log_event(event: str, tracker: Tracker, **fields: Any) -> None:
    """One structured log line; never message text or personal data."""
    logger.info(event, extra={"event": event, "sender": sender(tracker), **fields})


def record_unanswered(tracker: Tracker, kind: str) -> None:
    """Keep an unanswered question for curation, digits masked; never fails the turn."""
    intent = tracker.latest_message.get("intent") or {}
    text = _DIGITS_RE.sub("#", message_text(tracker))[:500]
    try:
        with session_scope(get_sessionmaker()) as session:
            session.add(
                UnansweredQuestion(
                    kind=kind,
                    text=text,
                    intent=intent.get("name"),
                    confidence=intent.get("confidence"),
                )
            )
    except Exception:  # database down: the answer matters more than the statistic
        logger.exception("unanswered_store_failed", extra={"event": "unanswered_store_failed"})
