"""Emergency first, on every path: the check every channel's relay runs before anything else.

`Safety.check` combines the keyword rules (core.conversation.emergency.detect: exact templates
per kind, in all three scripts, anywhere in a long message) with the semantic second opinion
(core.conversation.semantic: nearest NLU examples), so a situation described without any of
the keywords still gets 12308. `emergency_reply` is the one wording of the reply — used by the
relay (open ticket, Rasa down) and by the emergency action alike.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.conversation.distress import has_sign
from core.conversation.emergency import HOTLINE, Emergency, detect, is_hypothetical, template
from core.conversation.refusals import firm_reason
from core.conversation.routing import wants_human, wants_status, without_human_request
from core.conversation.semantic import EmergencyThresholds, IntentExemplars, get_exemplars
from core.settings import get_settings
from core.text import normalize
from core.texts import t

logger = logging.getLogger(__name__)
SEMANTIC_KIND = "danger"  # the general template: hotline first, then a person


@dataclass(frozen=True)
class Assessment:
    """The check's verdict: the emergency template, or None; `clear` when the semantic check ran
    and found not even weak evidence (the keyword rules alone cannot say so)."""

    emergency: Emergency | None
    clear: bool = False


@dataclass
class Safety:
    """Emergency detection; `exemplars` loads the semantic index lazily (None: keywords only)."""

    exemplars: Callable[[], IntentExemplars | None] | None = None
    thresholds: EmergencyThresholds = field(default_factory=EmergencyThresholds)

    @classmethod
    def from_settings(
        cls,
        data_dir: Path,
        cache_dir: Path | None,
        semantic: bool = True,
        kb_dir: Path | None = None,
    ) -> Safety:
        if not semantic:
            return cls()
        return cls(lambda: get_exemplars(data_dir, cache_dir, kb_dir))

    def warm(self) -> bool:
        """Load the semantic index now (at a service's start), so the first citizen's message
        does not wait for it; True when it is available."""
        return self.exemplars is not None and self.exemplars() is not None

    def check(self, text: str) -> Emergency | None:
        """The emergency template for the message, or None."""
        return self.assess(text).emergency

    def assess(self, text: str) -> Assessment:
        """The emergency, if any, and whether the message is clear of any sign of one."""
        hit = detect(text)
        if hit is not None:
            return Assessment(hit)
        plain = normalize(text).strip()
        if len(plain) <= self.thresholds.window and _not_distress(plain):
            return Assessment(None, clear=True)
        index = self.exemplars() if self.exemplars is not None else None
        if index is None:
            return Assessment(None)  # keywords only: no opinion on what they did not match
        # A request for a person ("我要搵人") is not read as a missing person: the check reads
        # the rest of the message (the keyword rules above still read all of it).
        rest = without_human_request(text) if wants_human(text) else text
        if not rest or (rest != text and not has_sign(rest)):
            # what is left of a request for a person shows no sign of distress ("I don't have
            # the phone I registered with anymore. Let me talk to a person.": tune split)
            return Assessment(None, clear=True)
        try:
            # in a long message each part the check reads is judged on its own: a "what if"
            # question or a request for a forged paper elsewhere in a letter does not hide a
            # relative in danger
            evidence = index.assess(rest, self.thresholds, ignore=_not_read)
        except Exception:  # never let the second opinion break a turn
            logger.exception("semantic_check_failed", extra={"event": "semantic_check_failed"})
            return Assessment(None)
        if evidence == "emergency":
            return Assessment(template(SEMANTIC_KIND))
        return Assessment(None, clear=evidence == "none")


def _not_distress(text: str) -> bool:
    """Messages clear of any emergency the keywords did not find: a "what if" question the KB's
    steps answer, and a request to forge, bribe or reach an official privately ("有冇人可以整張假
    嘅出世紙"), which sits near distress wordings for the encoder and gets its firm refusal."""
    return is_hypothetical(text) or firm_reason(text) is not None


def _not_read(text: str) -> bool:
    """Parts the semantic check leaves alone: those above, and an enquiry about one's own
    application ("track the visa you are processing for my daughter, we are getting a bit
    nervous": tune split, 2026-12-04; none of the tune emergencies or the emergency examples is
    worded as one). The keyword rules still read all of them."""
    return _not_distress(text) or wants_status(text)


@functools.lru_cache(maxsize=1)
def get_safety() -> Safety:
    """The relay's emergency check: keywords, plus the semantic index unless KB_DENSE=0."""
    settings = get_settings()
    return Safety.from_settings(
        settings.nlu_dir, settings.kb_cache_dir, semantic=settings.kb_dense, kb_dir=settings.kb_dir
    )


def emergency_reply(
    emergency: Emergency, *, english: bool, ticket: int | None, handoff_hours: str
) -> tuple[str, dict[str, Any]]:
    """The citizen's text (hotline first) and the `emergency` payload."""
    lang = "en" if english else "zh"
    text = emergency.text_en if english else emergency.text_zh
    if ticket is not None:
        text += "\n\n" + t("reply.emergency_ticket", lang, ticket=ticket, hours=handoff_hours)
    else:
        text += "\n\n" + t("reply.emergency_no_ticket", lang)
    payload = {
        "type": "emergency",
        "hotline": HOTLINE,
        "kind": emergency.kind,
        "level": emergency.level,
        "ticket": ticket,
    }
    return text, payload
