"""Fixed texts citizens read on WeChat, from the catalogue (core/texts, keys `wechat.*`), in the
citizen's language: `text("ack", lang)`; English for "en", simplified Chinese otherwise and
converted to traditional characters for "zh-Hant". Plain text (WeChat shows `<a href>` links
only). The notes staff read on a ticket are in bot/wechat/notes.py.
"""

from __future__ import annotations

from functools import lru_cache

from core.conversation.language import to_traditional
from core.kb.schema import OfficeSettings
from core.texts import LANGS, t

# Kinds of outbox rows with a template-message title of their own (else the "system" title).
TEMPLATE_TITLES = frozenset({"staff_reply", "notification"})


def text(name: str, lang: str | None = "zh", **fmt: object) -> str:
    """The WeChat text `wechat.<name>` in the citizen's language and script."""
    out = t(f"wechat.{name}", lang, **fmt)
    return to_traditional(out) if lang == "zh-Hant" else out


@lru_cache(maxsize=8)
def words(name: str) -> frozenset[str]:
    """The words (`words_<name>`: subscribe, unsubscribe, privacy, help) the bot answers itself,
    in every language and in traditional characters too, lower-cased."""
    found = {w for lang in LANGS for w in t(f"wechat.words_{name}", lang).split("|")}
    return frozenset(w.lower() for w in found | {to_traditional(w) for w in found})


def template_title(kind: str, lang: str | None = "zh") -> str:
    """The title of the template message that points to an undelivered row of this kind."""
    return text(f"template_title_{kind if kind in TEMPLATE_TITLES else 'system'}", lang)


def tip_timezone(timezone: str, lang: str | None = "zh") -> str:
    """The daily tip's time zone as the subscription confirmation names it."""
    return text("beijing_time", lang) if timezone == "Asia/Shanghai" else timezone


def privacy(office: OfficeSettings, lang: str | None = "zh") -> str:
    """What the WeChat channel stores, from how the system works; retention per the office."""
    return text("privacy", lang, contact=office.contact)
