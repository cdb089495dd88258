"""A small sample of `make fuzz` (scripts/fuzz.py) against the session's stack."""

from __future__ import annotations

import asyncio

import pytest

from scripts.fuzz import (
    generate,
    integration_token,
    processes_healthy,
    run_schemathesis,
    send_probes,
)
from scripts.stack import Stack
from tests.e2e.conftest import API_PORT, RASA_PORT

pytestmark = pytest.mark.e2e
RASA = f"http://127.0.0.1:{RASA_PORT}"
API = f"http://127.0.0.1:{API_PORT}"


def test_random_and_malformed_messages_get_valid_replies(stack: Stack):
    probes = list(generate(240, seed=11, widget_secret=stack.env["WIDGET_SESSION_SECRET"]))
    result = asyncio.run(send_probes(RASA, API, probes, concurrency=4))
    problems = [f"{o.probe.target} {o.probe.kind} {o.status}: {o.problem}" for o in result.failures]
    assert not problems, "\n".join(problems[:20])
    # both targets answered, and the widget refused some probes with its Chinese JSON errors
    assert any(k.startswith("webhook 200 ") for k in result.counts)
    assert any(k.startswith("widget 200 ") for k in result.counts)
    assert any(k.startswith("widget 4") for k in result.counts)
    assert all(processes_healthy(stack).values())


def test_api_conforms_to_its_openapi_spec(stack: Stack):
    token = integration_token(stack.env)
    # The SSE endpoint streams for WIDGET_STREAM_S (55 s here); `make fuzz` covers it.
    result = run_schemathesis(
        API,
        max_examples=8,
        headers={"Authorization": f"Bearer {token}"},
        skip=("/events",),
    )
    assert result.operations >= 10 and result.cases > 50
    assert not result.failures, "\n\n".join(result.failures)
    assert not any(key.endswith(" 500") or key.endswith(" 503") for key in result.statuses)
