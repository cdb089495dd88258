"""Request dependencies: settings and the relay built in the lifespan."""

from __future__ import annotations

from typing import Annotated, TypeVar, cast

from fastapi import Depends, Request

from core.conversation.relay import Relay
from core.settings import Settings

T = TypeVar("T")


def app_state(request: Request, name: str, kind: type[T]) -> T:
    """What create_app or the lifespan put on `app.state` under `name` (of type `kind`)."""
    return cast(T, getattr(request.app.state, name))  # app.state is untyped (Starlette's State)


def lang_of_header(accept_language: str | None) -> str:
    """The catalogue language for an Accept-Language header: "en" when its first language is
    English (the widget sends its own language), else "zh"."""
    first = (accept_language or "").split(",")[0].strip().lower()
    return "en" if first.startswith("en") else "zh"


def request_lang(request: Request) -> str:
    """The language a citizen-facing error is written in (see lang_of_header)."""
    return lang_of_header(request.headers.get("accept-language"))


def get_relay(request: Request) -> Relay:
    """The relay created at start-up."""
    return app_state(request, "relay", Relay)


def get_app_settings(request: Request) -> Settings:
    """Settings the app was created with."""
    return app_state(request, "settings", Settings)


RelayDep = Annotated[Relay, Depends(get_relay)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
