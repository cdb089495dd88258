"""core.conversation.relay.build_relay: the one relay set-up of the api and the messaging apps."""

from __future__ import annotations

import threading

from core.conversation import relay as relay_module
from core.conversation.relay import build_relay
from core.conversation.safety import Safety


async def test_build_relay_wires_settings_and_starts_the_emergency_warm_up(settings, monkeypatch):
    loaded = threading.Event()

    def exemplars() -> None:
        loaded.set()  # the semantic index would be built here (keywords only afterwards)

    monkeypatch.setattr(relay_module, "get_safety", lambda: Safety(exemplars))
    relay = build_relay(settings, handoff_hours=lambda lang: f"hours:{lang}", title_en=lambda k: k)
    try:
        assert relay.warming is not None
        assert await relay.warming is False  # it ran (and found no index) before any message
        assert loaded.is_set()
        assert relay.max_chars == settings.max_message_chars
        assert relay.turn_salt == settings.hash_salt.get_secret_value()
        assert relay.hours is not None and relay.handoff_hours is not None
        assert relay.handoff_hours("en") == "hours:en"
    finally:
        await relay.aclose()
