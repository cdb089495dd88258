"""Fixed texts citizens read on Telegram, from the catalogue (core/texts, keys `telegram.*`).

`texts.WELCOME` … are looked up on first use (never at import). The reply-keyboard labels
"查询进度" and "转人工" are ordinary messages the bot understands. Topic labels and groups come
from core.kb.topics.
"""

from __future__ import annotations

from html import escape

from core.kb.schema import OfficeSettings
from core.kb.topics import RIGHTS_TOPICS
from core.texts import t

# Module attributes served from the catalogue (in simplified Chinese, as the bot has always
# written; the conversation itself follows the citizen's language).
NAMES = frozenset(
    {
        "WELCOME", "HELP", "UNAVAILABLE", "NON_TEXT", "CONTACT_SHARED", "EDITED",
        "UNKNOWN_COMMAND", "FLOODED", "BUTTON_EXPIRED", "FEEDBACK_THANKS", "CHOOSE_QUESTION",
        "CHOOSE_TOPIC", "GROUP_REFUSAL", "INLINE_BUTTON", "LANG_CHOOSE", "LANG_USAGE",
        "SUBSCRIBED", "ALREADY_SUBSCRIBED", "UNSUBSCRIBED", "NOT_SUBSCRIBED", "DB_TROUBLE",
        "BTN_RIGHTS", "BTN_VISA", "BTN_LEGALIZATION", "BTN_STATUS", "BTN_HUMAN",
    }
)  # fmt: skip
LANG_CODES = ("zh", "zh-Hant", "en")


def __getattr__(name: str) -> object:
    if name in NAMES:
        return t(f"telegram.{name.lower()}")
    if name == "LANG_SET":
        return {
            code: t(f"telegram.lang_set_{code.replace('-', '_').lower()}") for code in LANG_CODES
        }
    if name == "SECTIONS":
        return {
            t("telegram.btn_rights"): RIGHTS_TOPICS,
            t("telegram.btn_visa"): ("visa_agency",),
            t("telegram.btn_legalization"): ("apostille", "legalization"),
        }
    raise AttributeError(name)


def privacy(office: OfficeSettings) -> str:
    """What the Telegram channel stores, from how the system works; retention per the office."""
    return t("telegram.privacy", contact=escape(office.contact))


def command_description(name: str) -> str:
    """The menu text of a bot command."""
    return t(f"telegram.command_{name}")
