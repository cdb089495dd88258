"""The relay keeps a conversation's language and script between messages, on every channel."""

from __future__ import annotations

import asyncio

from core.conversation.relay import Relay
from core.db.engine import session_scope
from core.notify.preferences import stored_lang
from tests.fakes import FakeRasa


def test_a_traditional_conversation_stays_traditional_on_neutral_chinese(sessions):
    rasa = FakeRasa()
    relay = Relay(rasa.client(), sessions)
    asyncio.run(relay.handle("web:trad00001", "附加證明書怎麼辦理"))
    # No language from the channel: the relay reads the one it stored for the sender, and
    # "算了，不用查了" (characters both scripts share) does not switch the script back.
    replies = asyncio.run(relay.handle("web:trad00001", "算了，不用查了"))
    assert replies[0].text == "答覆：算了，不用查了"
    assert rasa.received[-1]["metadata"]["script"] == "hant"
    with session_scope(sessions) as session:
        assert stored_lang(session, "web:trad00001") == "zh-Hant"


def test_simplified_characters_switch_the_conversation_back(sessions):
    rasa = FakeRasa()
    relay = Relay(rasa.client(), sessions)
    asyncio.run(relay.handle("web:trad00002", "附加證明書怎麼辦理"))
    replies = asyncio.run(relay.handle("web:trad00002", "认证怎么办理"))
    assert replies[0].text == "答复：认证怎么办理"
    with session_scope(sessions) as session:
        assert stored_lang(session, "web:trad00002") == "zh"
