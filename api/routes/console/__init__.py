"""Staff console (/console), one module per page: `auth` (login, logout), `prefs` (language,
script), `tickets` (live queue, claim / reply / note / transfer / close), `search`, `replies`
(KB answers and saved replies to insert), `review` (KB review queue), `users`, `drafts` (KB
drafts), `analytics`, `audit`, `tokens` (integration API tokens); `common` holds the session, roles, CSRF, templates and security
headers they share, `i18n` the console's English.

Server-rendered (Jinja2, autoescaped). May import core/, api.deps and api's other routes (`auth`
uses the widget's client tag).
"""

from __future__ import annotations

from fastapi import APIRouter

from api.routes.console import (
    analytics,
    audit,
    auth,
    drafts,
    prefs,
    replies,
    review,
    search,
    tickets,
    tokens,
    users,
)
from api.routes.console.common import install

__all__ = ["install", "router"]

router = APIRouter()
for page in (
    auth,
    prefs,
    tickets,
    search,
    replies,
    review,
    audit,
    users,
    tokens,
    analytics,
    drafts,
):
    router.include_router(page.router)
