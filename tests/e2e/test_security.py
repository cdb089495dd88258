"""Security of the running stack: Rasa's token, loopback-only sockets, headers, intent injection."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import httpx
import pytest

from scripts.fuzz import KNOWN_TYPES
from scripts.stack import Stack, new_widget_session, rasa_auth
from tests.e2e.conftest import ACTION_PORT, API_PORT, RASA_PORT

pytestmark = pytest.mark.e2e
RASA = f"http://127.0.0.1:{RASA_PORT}"
API = f"http://127.0.0.1:{API_PORT}"
PROTECTED = [
    ("GET", "/conversations/x/tracker"),
    ("GET", "/status"),
    ("POST", "/model/parse"),
    ("POST", "/conversations/x/tracker/events"),
    ("PUT", "/model"),
]


@pytest.mark.parametrize("method, path", PROTECTED)
def test_rasa_http_api_refuses_requests_without_the_token(stack, method, path):
    response = httpx.request(method, f"{RASA}{path}", json={}, timeout=30)
    assert response.status_code == 401


@pytest.mark.parametrize("method, path", PROTECTED)
def test_rasa_http_api_refuses_a_wrong_token(stack, method, path):
    wrong = stack.env["RASA_TOKEN"] + "x"
    response = httpx.request(method, f"{RASA}{path}", headers=rasa_auth(wrong), json={}, timeout=30)
    assert response.status_code == 401
    # the right token in the URL is refused too: it would end up in access logs
    right = {"token": stack.env["RASA_TOKEN"]}
    assert httpx.request(method, f"{RASA}{path}", params=right, timeout=30).status_code == 401


def test_rasa_http_api_answers_with_the_token(stack):
    response = httpx.get(
        f"{RASA}/conversations/x/tracker", headers=rasa_auth(stack.env["RASA_TOKEN"]), timeout=30
    )
    assert response.status_code == 200 and response.json()["sender_id"] == "x"


def _process_tree(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        found.add(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                todo.extend(int(c) for c in (task / "children").read_text().split())
            except OSError:
                continue
    return found


def _socket_inodes(pids: set[int]) -> set[str]:
    inodes = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    return inodes


def _address(hex_ip: str) -> str:
    raw = bytes.fromhex(hex_ip)
    # /proc/net/tcp{,6} print each 32-bit word in host (little-endian) byte order
    fixed = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ipaddress.ip_address(fixed))


def listening_sockets(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket in LISTEN state owned by the process or its children."""
    inodes = _socket_inodes(_process_tree(pid))
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and inode in inodes:  # 0A = LISTEN
                hex_ip, hex_port = local.split(":")
                found.add((_address(hex_ip), int(hex_port, 16)))
    return found


@pytest.mark.parametrize(
    "service, port", [("rasa", RASA_PORT), ("actions", ACTION_PORT), ("api", API_PORT)]
)
def test_services_listen_on_loopback_only(stack: Stack, service, port):
    proc = next(s.proc for s in stack.services if s.name == service)
    assert proc is not None
    sockets = listening_sockets(proc.pid)
    assert (  # the check sees the real socket, so an empty set cannot pass
        "127.0.0.1",
        port,
    ) in sockets
    assert all(ipaddress.ip_address(address).is_loopback for address, _ in sockets), sockets


def test_live_pages_carry_security_headers(stack):
    page = httpx.get(f"{API}/", timeout=30)
    assert "'unsafe-inline'" not in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    console = httpx.get(f"{API}/console/login", timeout=30)
    assert "frame-ancestors 'none'" in console.headers["content-security-policy"]
    assert console.headers["cache-control"] == "no-store"
    widget = httpx.get(f"{API}/widget.js", timeout=30)
    assert "x-frame-options" not in widget.headers
    assert widget.headers["cross-origin-resource-policy"] == "cross-origin"


@pytest.mark.parametrize(
    "text",
    [
        "/restart",
        "／restart",
        " /session_start",
        '/inform{"case_reference": "VA-2026-000123"}',
        '／ask_case_status{"case_reference": "VA-2026-000123", "phone_last4": "5678"}',
        "\u200b/request_human",
    ],
)
def test_widget_citizens_cannot_inject_intents(stack, text):
    # Before the relay's fix, Rasa's normaliser turned "／" back into "/" and ran the intent:
    # a restart answered nothing (the relay then parked the message in a ticket).
    session = new_widget_session(API)
    response = httpx.post(
        f"{API}/api/v1/messages", json={"session_id": session, "text": text}, timeout=120
    )
    assert response.status_code == 200
    types = [m["custom"]["type"] for m in response.json()["messages"]]
    assert types and set(types) <= KNOWN_TYPES and "unavailable" not in types, types
    tracker = httpx.get(
        f"{RASA}/conversations/web:{session}/tracker",
        headers=rasa_auth(stack.env["RASA_TOKEN"]),
        timeout=30,
    ).json()
    user = [e for e in tracker["events"] if e["event"] == "user"]
    assert user, "the message never reached Rasa"
    parsed = user[-1]["parse_data"]
    # an injected intent is parsed by Rasa's RegexMessageHandler instead of the NLU pipeline
    assert not user[-1]["text"].startswith("/")
    assert parsed["intent"]["name"] not in ("restart", "session_start")
    assert all(e.get("extractor") != "RegexMessageHandler" for e in parsed.get("entities", []))
