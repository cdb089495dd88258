"""Answer in the citizen's own language and script, on every channel.

- `detect(text, current)`: "en" for a message in Latin letters, "zh-Hant" for one in traditional
  characters, "zh" for simplified; Chinese in characters both scripts share keeps the
  conversation's script; None for a message with neither (a reference, four digits, an emoji) —
  the conversation keeps the language it had (the relay stores it per sender).
- `localize(messages, lang)`: for English, replies whose text is fixed by their payload (greeting,
  prompts, cancellations, handoff, status cards, denials, fallback, did-you-mean, the relay's
  own notices) are rendered in English from the payload, so every reply exists in English even
  where Rasa said a Chinese response; KB answers and refusals are already English (the actions
  read `metadata.lang`). For traditional Chinese, the rendered text — and the option titles the
  channels show as buttons — are converted with OpenCC (s2t) after rendering.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache
from typing import Any

from core.cases import references
from core.cases.rules import KINDS, STATES
from core.conversation.rasa_client import BotMessage
from core.text import to_simplified
from core.texts import t

LANGS = ("zh", "zh-Hant", "en")
_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


# Written Cantonese ("早晨", "唔使喇", "先咁啦") in characters both scripts share: Hong Kong, Macao
# and the overseas communities that write it read traditional characters.
_CANTONESE_RE = re.compile(r"[嘅咗唔冇喺啲嚟佢哋嗰噉嘢咩乜]|^早晨[!！~～。.]*$|先咁|咁(样|樣)")


def detect(text: str, current: str | None = None) -> str | None:
    """The language/script a message is written in, or None when it shows none.

    Chinese written only with characters both scripts share ("算了，不用查了", "你好") shows no
    script: it keeps the conversation's Chinese script (`current`), else simplified — unless it is
    written Cantonese ("早晨", "唔使喇") at the start of a conversation: read as traditional."""
    if _CJK_RE.search(text):
        if to_simplified(text) != text:
            return "zh-Hant"
        if to_traditional(text) == text and (
            current == "zh-Hant" or (current is None and _CANTONESE_RE.search(text))
        ):
            return "zh-Hant"
        return "zh"
    plain = references.REFERENCE_RE.sub(" ", unicodedata.normalize("NFKC", text).lower())
    letters = [c for c in plain if c.isalpha()]
    if len(letters) >= 2 and sum(c.isascii() for c in letters) / len(letters) > 0.7:
        return "en"
    return None


@lru_cache(maxsize=1)
def _s2t() -> Callable[[str], str]:
    from opencc import OpenCC

    convert: Callable[[str], str] = OpenCC("s2t").convert
    return convert


def to_traditional(text: str) -> str:
    """Simplified → traditional characters; Latin text, digits and URLs are left alone."""
    return _s2t()(text)


def rasa_lang(lang: str) -> str:
    """What the actions understand in `metadata.lang` ("en" or "zh")."""
    return "en" if lang == "en" else "zh"


# English texts of replies fixed by their payload: catalogue keys (core/texts) by payload key.
_FIXED_KEYS: dict[tuple[str, ...], str] = {
    ("greeting",): "reply.greeting",
    ("goodbye",): "reply.goodbye",
    ("thanks",): "reply.thanks",
    ("status_prompt", "reference"): "reply.status_prompt_reference",
    ("status_prompt", "reference", "format"): "reply.status_prompt_reference_format",
    ("status_prompt", "verification"): "reply.status_prompt_verification",
    ("status_prompt", "verification", "format"): "reply.status_prompt_verification_format",
    ("status_cancelled",): "reply.status_cancelled",
    ("status_cancelled", "nothing"): "reply.status_cancelled_nothing",
    ("status_denied",): "reply.status_denied",
    ("status_unavailable",): "reply.status_unavailable",
    ("fallback",): "reply.fallback",
    ("suggestions",): "reply.suggestions",
    ("unavailable",): "reply.unavailable",
    ("handoff_unavailable",): "reply.handoff_unavailable",
}


def _key(payload: dict[str, Any]) -> tuple[str, ...]:
    kind = str(payload.get("type"))
    if kind == "status_prompt":
        need = str(payload.get("need"))
        return (kind, need, "format") if payload.get("error") else (kind, need)
    if kind == "status_cancelled" and payload.get("nothing"):
        return (kind, "nothing")
    return (kind,)


def english_text(payload: dict[str, Any], hours_en: Callable[[], str]) -> str | None:
    """The English text of a reply fixed by its payload; None to keep the action's text."""
    kind = payload.get("type")
    if kind == "handoff":
        return t(
            "reply.handoff",
            "en",
            ticket=payload.get("ticket"),
            position=payload.get("position"),
            hours=hours_en(),
        )
    if kind == "in_ticket":
        return t("reply.in_ticket", "en", ticket=payload.get("ticket"))
    if kind == "status" and payload.get("state") in STATES:
        state = STATES[str(payload["state"])]
        prefix = str(payload.get("reference", ""))[:2]
        kinds = {k.prefix: k for k in KINDS.values()}
        label = kinds[prefix].label_en if prefix in kinds else "Application"
        card = t(
            "reply.status_card",
            "en",
            kind=label,
            reference=payload.get("reference"),
            state=state.label_en,
            updated=payload.get("updated_at"),
            next_step=state.next_step_en,
        )
        return f"{card}\n\n{t('reply.status_notify_hint', 'en')}"
    if kind == "office_hours":
        opening = str(payload.get("next_open", ""))[:16].replace("T", " ")
        return t("reply.office_hours", "en", hours="", opening=opening)
    if kind == "status_denied" and payload.get("retry_after_s"):
        minutes = max(1, round(int(payload["retry_after_s"]) / 60))
        locked = (
            "reply.status_locked_query_code" if payload.get("query_code") else "reply.status_locked"
        )
        return t(locked, "en", minutes=minutes)
    key = _FIXED_KEYS.get(_key(payload))
    return t(key, "en", contact="") if key else None


def _traditional_payload(payload: dict[str, Any]) -> dict[str, Any]:
    out = dict(payload)
    for field in ("title", "next_step"):
        if isinstance(out.get(field), str):
            out[field] = to_traditional(out[field])
    if isinstance(out.get("options"), list):
        out["options"] = [
            {**o, "title": to_traditional(str(o.get("title", "")))} if isinstance(o, dict) else o
            for o in out["options"]
        ]
    return out


def _english_options(
    payload: dict[str, Any], title_en: Callable[[str], str | None] | None
) -> dict[str, Any]:
    if title_en is None or not isinstance(payload.get("options"), list):
        return payload
    options = []
    for option in payload["options"]:
        if isinstance(option, dict) and option.get("kb_id"):
            option = {**option, "title": title_en(str(option["kb_id"])) or option.get("title")}
        options.append(option)
    return {**payload, "options": options}


def localize(
    messages: list[BotMessage],
    lang: str,
    hours_en: Callable[[], str] = lambda: "",
    title_en: Callable[[str], str | None] | None = None,
) -> list[BotMessage]:
    """The replies in the conversation's language and script."""
    if lang == "en":
        out = []
        for message in messages:
            text = english_text(message.custom, hours_en) if message.custom else None
            custom = (
                _english_options(message.custom, title_en) if message.custom else message.custom
            )
            out.append(
                replace(message, text=text if text is not None else message.text, custom=custom)
            )
        return out
    if lang == "zh-Hant":
        return [
            replace(
                m,
                text=to_traditional(m.text) if m.text else m.text,
                custom=_traditional_payload(m.custom) if m.custom else m.custom,
            )
            for m in messages
        ]
    return messages
