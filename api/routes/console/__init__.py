"""Staff console (/console), one module per page: `auth` (login, logout), `tickets` (queue,
claim / reply / note / close), `users`, `drafts` (KB drafts), `analytics`, `audit`; `common`
holds the session, roles, CSRF, templates and security headers they share.

Server-rendered (Jinja2, autoescaped).
"""

from __future__ import annotations

from fastapi import APIRouter

from api.routes.console import analytics, audit, auth, drafts, tickets, users
from api.routes.console.common import install

__all__ = ["install", "router"]

router = APIRouter()
for page in (auth, tickets, audit, users, analytics, drafts):
    router.include_router(page.router)
