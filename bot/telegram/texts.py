"""Fixed texts citizens read on Telegram, from the catalogue (core/texts, keys `telegram.*`), in
the citizen's language: `text("help", lang)`; English for "en", simplified Chinese otherwise and
converted to traditional characters for "zh-Hant".

The reply-keyboard labels (`btn_status`, `btn_human`) are ordinary messages the bot
understands in either language. Topic labels and groups come from core.kb.topics.
"""

from __future__ import annotations

from html import escape

from core.conversation.language import to_traditional
from core.kb.schema import OfficeSettings
from core.kb.topics import RIGHTS_TOPICS
from core.texts import LANGS, t

LANG_CODES = ("zh", "zh-Hant", "en")


def text(name: str, lang: str | None = "zh", **fmt: object) -> str:
    """The Telegram text `telegram.<name>` in the citizen's language and script."""
    out = t(f"telegram.{name}", lang, **fmt)
    return to_traditional(out) if lang == "zh-Hant" else out


def lang_set(lang: str) -> str:
    """The confirmation after the citizen chose an answer language (in that language)."""
    return t(f"telegram.lang_set_{lang.replace('-', '_').lower()}", lang)


def sections(lang: str | None = "zh") -> dict[str, tuple[str, ...]]:
    """The reply keyboard's section labels in one language → the topics they list."""
    return {
        text("btn_rights", lang): RIGHTS_TOPICS,
        text("btn_visa", lang): ("visa_agency",),
        text("btn_legalization", lang): ("apostille", "legalization"),
    }


def all_section_labels() -> frozenset[str]:
    """Every language's section labels (what a keyboard press may send)."""
    return frozenset(label for lang in (*LANGS, "zh-Hant") for label in sections(lang))


def section_topics(label: str) -> tuple[str, ...] | None:
    """The topics of a section label in any language; None for other text."""
    for lang in (*LANGS, "zh-Hant"):
        found = sections(lang).get(label)
        if found is not None:
            return found
    return None


def privacy(office: OfficeSettings, lang: str | None = "zh") -> str:
    """What the Telegram channel stores, from how the system works; retention per the office."""
    return text("privacy", lang, contact=escape(office.contact))


def command_description(name: str, lang: str | None = "zh") -> str:
    """The menu text of a bot command."""
    return text(f"command_{name}", lang)
