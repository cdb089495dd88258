"""What the /api/v1 routers (the widget's, `widget`, and the integration API's, `cases`) share:
the prefix, and the 400 every route answers to a body that is not JSON (api/errors.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter


def v1_router(tag: str, responses: dict[int | str, dict[str, Any]], **options: Any) -> APIRouter:
    """A router under /api/v1 documenting `responses` besides the shared 400."""
    return APIRouter(
        prefix="/api/v1",
        tags=[tag],
        responses={400: {"description": "Body is not valid JSON"}, **responses},
        **options,
    )
