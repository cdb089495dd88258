"""The relay keeps a conversation's language and script between messages, on every channel."""

from __future__ import annotations

import asyncio

import pytest

from core.conversation.relay import Relay
from core.db.engine import session_scope
from core.notify.preferences import stored_lang
from tests.fakes import FakeRasa


@pytest.mark.parametrize(
    "second, reply, lang",
    [
        # No language from the channel: the relay reads the one it stored for the sender, and
        # "算了，不用查了" (characters both scripts share) does not switch the script back …
        ("算了，不用查了", "答覆：算了，不用查了", "zh-Hant"),
        # … while simplified-only characters do.
        ("认证怎么办理", "答复：认证怎么办理", "zh"),
    ],
)
def test_a_traditional_conversation_keeps_its_script_until_the_citizen_changes_it(
    sessions, second, reply, lang
):
    rasa = FakeRasa()
    relay = Relay(rasa.client(), sessions)
    asyncio.run(relay.handle("web:trad00001", "附加證明書怎麼辦理"))
    replies = asyncio.run(relay.handle("web:trad00001", second))
    assert replies[0].text == reply
    assert (rasa.received[-1]["metadata"].get("script") == "hant") == (lang == "zh-Hant")
    with session_scope(sessions) as session:
        assert stored_lang(session, "web:trad00001") == lang
