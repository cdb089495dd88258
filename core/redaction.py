"""Verification secrets out of stored conversations (pure Python: also used inside Rasa).

A case reference plus the last 4 phone digits (or the receipt's query code) is a credential, so
no store keeps what a citizen typed to verify themselves. Works on Rasa events as dicts
(`Event.as_dict()`), in order:

- a user turn that answers the verification prompt (active loop `case_status_form`, requested
  slot `phone_last4`) and holds a digit — every accepted secret holds one — loses its text,
  its parse data's text and entities;
- in any other user turn that names a case reference, standalone 4-digit groups and code-like
  tokens are masked (a reference and its digits typed in one message);
- `phone_last4` slot values are dropped (stored as null);
- the message's vector handed between processes (`VECTOR_KEY`, core.encoder) is dropped from
  every user turn's metadata and parse data: it names the text it encodes, and is of use only
  while the turn runs.

Used by rasa_addons/tracker_store.py before events reach the tracker store, and by
core/handoff/history.py for the widget's history and the console's ticket page (trackers
stored before the redaction existed).
"""

from __future__ import annotations

import copy
import re
import unicodedata
from typing import Any

FORM = "case_status_form"
SECRET_SLOT = "phone_last4"
REDACTED_TEXT = "［已隐去核验信息］"
MASK = "****"
VECTOR_KEY = "qiaowu_e5"
_REFERENCE_RE = re.compile(r"(?<![A-Z0-9])(?:VA|LA|AP|IN|RS)[-_ ]?\d{4}[-_ ]?\d{6}(?![0-9])")
# Digit runs of 4 or more (last 4 digits, a whole phone number) and 6-10 character codes.
_SECRET_TOKEN_RE = re.compile(
    r"(?<![A-Za-z0-9])(?:\d{4,}|(?=[A-Za-z]*\d)[A-Za-z0-9]{6,10})(?![A-Za-z0-9])"
)


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def names_reference(text: str) -> bool:
    """True when the text contains a case reference in any case or width."""
    return _REFERENCE_RE.search(_plain(text).upper()) is not None


def mask_secrets_beside_reference(text: str) -> str:
    """The text with digit groups and codes masked, the reference itself kept."""
    plain = _plain(text)
    kept = [(m.start(), m.end()) for m in _REFERENCE_RE.finditer(plain.upper())]

    def mask(match: re.Match[str]) -> str:
        inside = any(a <= match.start() < b for a, b in kept)
        return match.group(0) if inside else MASK

    return _SECRET_TOKEN_RE.sub(mask, plain)


def verification_turns(events: list[dict[str, Any]]) -> set[int]:
    """Indices of user events typed while the form asked for the verification secret."""
    found: set[int] = set()
    active_loop: str | None = None
    requested: str | None = None
    for index, event in enumerate(events):
        kind = event.get("event")
        if kind == "active_loop":
            active_loop = event.get("name")
            if active_loop is None:
                requested = None
        elif kind == "slot" and event.get("name") == "requested_slot":
            requested = event.get("value")
        elif kind in ("session_started", "restart"):
            active_loop = requested = None
        elif (
            kind == "user"
            and active_loop == FORM
            and requested == SECRET_SLOT
            and any(ch.isdigit() for ch in _plain(str(event.get("text") or "")))
        ):
            found.add(index)
    return found


def redact_event(event: dict[str, Any], *, verification: bool) -> dict[str, Any]:
    """A copy of the event without verification secrets (the event itself is not changed)."""
    kind = event.get("event")
    if kind == "slot" and event.get("name") == SECRET_SLOT and event.get("value") is not None:
        return {**event, "value": None}
    if kind != "user":
        return event
    if _has_vector(event):
        event = _without_vector(event)
    text = event.get("text")
    if not isinstance(text, str):
        return event
    if verification:
        replacement = REDACTED_TEXT
    elif names_reference(text) and mask_secrets_beside_reference(text) != _plain(text):
        replacement = mask_secrets_beside_reference(text)
    else:
        return event
    out = copy.deepcopy(event)
    out["text"] = replacement
    parse = out.get("parse_data")
    if isinstance(parse, dict):
        parse["text"] = replacement
        if verification:
            parse["entities"] = []
        else:
            for entity in parse.get("entities") or []:
                if isinstance(entity, dict) and isinstance(entity.get("value"), str):
                    entity["value"] = mask_secrets_beside_reference(entity["value"])
    return out


def _vector_holders(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The event's metadata, its parse data and the parse data's copy of the metadata."""
    parse = event.get("parse_data")
    parts = [
        event.get("metadata"),
        parse,
        parse.get("metadata") if isinstance(parse, dict) else None,
    ]
    return [part for part in parts if isinstance(part, dict)]


def _has_vector(event: dict[str, Any]) -> bool:
    return any(VECTOR_KEY in part for part in _vector_holders(event))


def _without_vector(event: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(event)
    for part in _vector_holders(out):
        part.pop(VECTOR_KEY, None)
    return out


def redact_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every event without verification secrets."""
    turns = verification_turns(events)
    return [redact_event(e, verification=i in turns) for i, e in enumerate(events)]


def needs_redaction(event: dict[str, Any], *, verification: bool) -> bool:
    """True when `redact_event` would change the event."""
    return redact_event(event, verification=verification) is not event
