"""Widget relay: the browser posts a message, gets the bot's (or staff's) replies."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import RelayDep

router = APIRouter(prefix="/api/v1", tags=["widget"])


class MessageIn(BaseModel):
    """A citizen's message from the web widget."""

    session_id: str = Field(
        pattern=r"^[A-Za-z0-9_-]{8,64}$",
        description="Random id the widget keeps in browser storage",
    )
    text: str = Field(description="What the citizen typed (1–2,000 characters)")


class BotMessageOut(BaseModel):
    text: str | None
    custom: dict[str, Any] | None


class MessagesOut(BaseModel):
    messages: list[BotMessageOut]


@router.post(
    "/messages",
    response_model=MessagesOut,
    summary="Send a citizen message",
    responses={
        413: {"description": "Message too long"},
        422: {"description": "Empty or invalid message"},
        503: {"description": "Service unavailable; message not accepted"},
    },
)
async def post_message(body: MessageIn, relay: RelayDep) -> MessagesOut:
    """Relay one message to the bot (or to staff during a handoff) and return the replies."""
    replies = await relay.handle(f"web:{body.session_id}", body.text)
    return MessagesOut(messages=[BotMessageOut(**m.as_dict()) for m in replies])
