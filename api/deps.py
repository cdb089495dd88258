"""Request dependencies: settings and the relay built in the lifespan."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from core.conversation.relay import Relay
from core.settings import Settings


def get_relay(request: Request) -> Relay:
    """The relay created at start-up."""
    relay: Relay = request.app.state.relay
    return relay


def get_app_settings(request: Request) -> Settings:
    """Settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


RelayDep = Annotated[Relay, Depends(get_relay)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
