"""Readiness of what a citizen's message needs: Rasa with a model, the action server, the app DB."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from core.conversation.rasa_client import RasaClient

CHECK_TIMEOUT_S = 5.0


def _database_ok(sessions: sessionmaker[Session]) -> bool:
    with sessions() as session:
        return session.execute(text("SELECT 1")).scalar() == 1


async def database_ready(sessions: sessionmaker[Session]) -> bool:
    """True when the app database answers a trivial query in time."""
    try:
        return await asyncio.wait_for(asyncio.to_thread(_database_ok, sessions), CHECK_TIMEOUT_S)
    except Exception:  # any driver error or the timeout: not ready
        return False


async def action_server_ready(url: str, client: httpx.AsyncClient | None = None) -> bool:
    """True when the action server's /health answers 200."""
    owned = client is None
    client = client or httpx.AsyncClient(timeout=CHECK_TIMEOUT_S)
    try:
        response = await client.get(f"{url.rstrip('/')}/health", timeout=CHECK_TIMEOUT_S)
        return response.status_code == 200
    except httpx.HTTPError:
        return False
    finally:
        if owned:
            await client.aclose()


async def readiness(
    rasa: RasaClient, action_server_url: str, sessions: sessionmaker[Session]
) -> dict[str, bool]:
    """Each dependency's state, checked concurrently."""
    rasa_ok, actions_ok, db_ok = await asyncio.gather(
        rasa.is_ready(), action_server_ready(action_server_url), database_ready(sessions)
    )
    return {"rasa": rasa_ok, "action_server": actions_ok, "database": db_ok}
