"""`make bench`: latency under load, start-up time, memory, training time, model size.

Everything runs on 127.0.0.1 with bounded request counts. Figures are printed and written to
docs/benchmarks.md. A baseline measured in the same run sits next to each figure:
- for latency: Rasa's bare NLU endpoint (/model/parse) on the same server — the floor a
  webhook turn cannot beat — and the plain BM25 search in-process;
- for training: the stock Rasa pipeline (tests/eval/stock_config.yml) when `--baseline-train`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from core.conversation.widget_sessions import mint
from core.kb import load_kb
from core.kb.search import BM25Index
from scripts.stack import (
    Stack,
    current_model,
    free_port,
    http_ok,
    local_stack,
    rasa_auth,
    rasa_service,
)

ROOT = Path(__file__).resolve().parents[1]

KB_QUESTION = "附加证明书怎么办理？"


def dev_questions() -> list[str]:
    """In-scope questions of tests/eval/dev_set.yml: varied wording, so the answer path runs
    NLU, BM25 and the encoder for real (a repeated question would hit the embedding cache)."""
    from scripts.eval import load_cases

    return [c.text for c in load_cases() if c.kind == "in_scope"]


_QUESTIONS: list[str] = []


def next_question() -> str:
    """The dev-set questions in turn (one shared rotation for every scenario)."""
    if not _QUESTIONS:
        _QUESTIONS.extend(reversed(dev_questions()))
    question = _QUESTIONS.pop()
    _QUESTIONS.insert(0, question)
    return question


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summary(latencies_ms: list[float], errors: int) -> dict[str, float]:
    if not latencies_ms:
        return {
            "n": 0,
            "p50": float("nan"),
            "p95": float("nan"),
            "p99": float("nan"),
            "errors": errors,
        }
    return {
        "n": len(latencies_ms),
        "p50": pct(latencies_ms, 50),
        "p95": pct(latencies_ms, 95),
        "p99": pct(latencies_ms, 99),
        "errors": errors,
    }


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (MB)."""
    total = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(
                next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))
            )
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
            pids.extend(int(c) for c in children)
        except (OSError, StopIteration, ValueError):
            continue
    return total / 1024


async def run_load(
    turn: Callable[[httpx.AsyncClient, str], Awaitable[list[float]]],
    users: int,
    turns_per_user: int,
) -> dict[str, float]:
    """`users` concurrent senders, each doing `turns_per_user` conversations."""
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=users + 5)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def user(index: int) -> None:
            nonlocal errors
            for n in range(turns_per_user):
                try:
                    latencies.extend(
                        await turn(client, f"bench-{secrets.token_hex(4)}-{index}-{n}")
                    )
                except Exception:
                    errors += 1

        await asyncio.gather(*(user(i) for i in range(users)))
    return summary(latencies, errors)


def timed_post(
    url: str,
    body_of: Callable[[str, str], dict],
    check: Callable[[httpx.Response], bool],
    headers: dict[str, str] | None = None,
):
    async def post(client: httpx.AsyncClient, sender: str, text: str) -> float:
        body = body_of(sender, text)
        start = time.perf_counter()
        response = await client.post(url, json=body, headers=headers)
        elapsed = (time.perf_counter() - start) * 1000
        if response.status_code != 200 or not check(response):
            raise RuntimeError(f"bad reply {response.status_code}")
        return elapsed

    return post


def scenarios(
    rasa: str, api: str, token: str, widget_secret: str = ""
) -> dict[str, Callable[[httpx.AsyncClient, str], Awaitable[list[float]]]]:
    # The api takes only session ids it signed: one per simulated sender, minted locally with
    # the stack's WIDGET_SESSION_SECRET (asking POST /api/v1/sessions would load the api too).
    sessions: dict[str, str] = {}

    def session_of(sender: str) -> str:
        return sessions.setdefault(sender, mint(widget_secret, int(time.time())))

    webhook = timed_post(
        f"{rasa}/webhooks/rest/webhook",
        lambda s, t: {"sender": s, "message": t},
        lambda r: bool(r.json()),
    )
    widget = timed_post(
        f"{api}/api/v1/messages",
        lambda s, t: {"session_id": session_of(s), "text": t},
        lambda r: bool(r.json().get("messages")),
    )
    parse = timed_post(
        f"{rasa}/model/parse",
        lambda s, t: {"text": t},
        lambda r: "intent" in r.json(),
        headers=rasa_auth(token),
    )

    async def kb(client: httpx.AsyncClient, sender: str) -> list[float]:
        return [await webhook(client, sender, next_question())]

    async def status(client: httpx.AsyncClient, sender: str) -> list[float]:
        return [
            await webhook(client, sender, "查询进度 VA-2026-000123"),
            await webhook(client, sender, "5678"),
        ]

    async def widget_kb(client: httpx.AsyncClient, sender: str) -> list[float]:
        return [await widget(client, sender, next_question())]

    async def nlu_only(client: httpx.AsyncClient, sender: str) -> list[float]:
        return [await parse(client, sender, next_question())]

    return {
        "webhook: KB answer (dev-set questions)": kb,
        "webhook: status lookup (per message)": status,
        "widget api: KB answer": widget_kb,
        "baseline: Rasa /model/parse (NLU only, our model)": nlu_only,
    }


async def telegram_load(
    rasa: str, database_url: str, users: int, turns_per_user: int
) -> dict[str, float]:
    """The real bot (aiogram, polling) against the fake Bot API server of the tests: time from
    an update being available to the bot's sendMessage for that chat."""
    from core.conversation.rasa_client import RasaClient
    from core.conversation.relay import Relay
    from core.db.engine import build_engine, session_factory
    from tests.fake_telegram import FakeTelegram, message_update, start_bot

    telegram = FakeTelegram()
    await telegram.start()
    rasa_client = RasaClient(rasa, timeout_s=60)
    relay = Relay(rasa_client, session_factory(build_engine(database_url)))
    running = await start_bot(telegram, relay, load_kb(ROOT / "kb"), background=False)
    replied: dict[int, asyncio.Event] = {}
    seen = 0

    async def watch() -> None:
        nonlocal seen
        while True:
            for method, params in telegram.calls[seen:]:
                chat = int(params.get("chat_id", 0)) if method == "sendMessage" else 0
                if chat in replied:
                    replied[chat].set()
            seen = len(telegram.calls)
            await asyncio.sleep(0.002)

    latencies: list[float] = []
    errors = 0

    async def user(index: int) -> None:
        nonlocal errors
        for n in range(turns_per_user):
            chat = 10_000_000 + index * 1_000 + n  # a fresh conversation per turn
            replied[chat] = asyncio.Event()
            start = time.perf_counter()
            telegram.push(message_update(chat, next_question()))
            try:
                await asyncio.wait_for(replied[chat].wait(), 60)
                latencies.append((time.perf_counter() - start) * 1000)
            except TimeoutError:
                errors += 1

    watcher = asyncio.create_task(watch())
    try:
        await asyncio.gather(*(user(i) for i in range(users)))
    finally:
        watcher.cancel()
        await running.stop()
        await rasa_client.aclose()
        await telegram.stop()
    return summary(latencies, errors)


async def wechat_load(
    rasa: str, database_url: str, users: int, turns_per_user: int
) -> dict[str, float]:
    """The WeChat bot (its endpoint: signature, dedupe, relay, rendering) against the fake WeChat
    API of the tests: time from WeChat's POST to the passive reply; an answer slower than the
    4.5 s deadline counts until its customer-service message arrives."""
    from pydantic import SecretStr

    from bot.wechat.app import build_channel
    from bot.wechat.conversation import RasaClient, Relay
    from bot.wechat.menu import load_menu
    from bot.wechat.protocol import signed_query
    from bot.wechat.texts import ACK
    from core.db.engine import build_engine, session_factory
    from core.settings import Settings
    from tests.bot.wechat.conftest import start_bot, text_xml
    from tests.bot.wechat.fake_wechat import FakeWeChat

    wechat = FakeWeChat()
    await wechat.start()
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        wechat_token=SecretStr("bench-token"),
        wechat_app_id="wxbench",
        wechat_app_secret=SecretStr("bench-secret"),
        wechat_api_base=wechat.base,
        wechat_outbox_interval_s=0.05,
    )
    rasa_client = RasaClient(rasa, timeout_s=60)
    sessions = session_factory(build_engine(database_url))
    kb = load_kb(ROOT / "kb")
    channel = build_channel(
        settings, Relay(rasa_client, sessions), kb, load_menu(kb=kb), sessions=sessions
    )
    running = await start_bot(channel)
    latencies: list[float] = []
    errors = 0

    async def user(index: int) -> None:
        nonlocal errors
        for n in range(turns_per_user):
            openid = f"oBench{index}x{n}"  # a fresh conversation per turn
            xml = text_xml(next_question(), openid=openid).encode()
            start = time.perf_counter()
            try:
                response = await running.http.post(
                    running.url, params=signed_query("bench-token"), content=xml
                )
                if response.status_code != 200 or response.text == "success":
                    raise ValueError(response.status_code)
                if ACK in response.text:
                    deadline = time.monotonic() + 60
                    while not wechat.texts_to(openid):
                        if time.monotonic() > deadline:
                            raise TimeoutError
                        await asyncio.sleep(0.01)
                latencies.append((time.perf_counter() - start) * 1000)
            except (httpx.HTTPError, ValueError, TimeoutError):
                errors += 1

    try:
        await asyncio.gather(*(user(i) for i in range(users)))
    finally:
        await running.stop()
        await rasa_client.aclose()
        await wechat.stop()
    return summary(latencies, errors)


def bm25_baseline() -> dict[str, float]:
    index = BM25Index(load_kb(ROOT / "kb"))
    index.search(KB_QUESTION)
    latencies = []
    for _ in range(200):
        start = time.perf_counter()
        index.search(KB_QUESTION)
        latencies.append((time.perf_counter() - start) * 1000)
    return summary(latencies, 0)


def start_stack(work: Path) -> tuple[Stack, dict[str, int], float]:
    """Start the system on free ports; seconds from spawn until Rasa is ready."""
    stack, ports = local_stack(work, model=current_model())
    started = time.monotonic()
    for service in stack.services:
        stack.start(service)
    rasa = next(s for s in stack.services if s.name == "rasa")
    stack.wait_healthy(rasa, 600)
    rasa_ready_s = time.monotonic() - started
    for service in stack.services:
        stack.wait_healthy(service, 300)
    return stack, ports, rasa_ready_s


def latest_stock_model() -> Path | None:
    """The newest stock-pipeline model trained by `scripts/eval.py --train-stock`, if any."""
    models = sorted((ROOT / "var" / "eval").glob("stock-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def start_stock(stack: Stack, work: Path, model: Path, token: str) -> tuple[str, float]:
    """Start a second Rasa server on the stock model (joins `stack`); its URL and start time."""
    port = free_port()
    endpoints = work / "stock-endpoints.yml"
    endpoints.write_text("action_endpoint:\n  url: http://127.0.0.1:9/webhook\n", encoding="utf-8")
    service = rasa_service("rasa-stock", model, port, token, endpoints)
    stack.services.append(service)
    started = time.monotonic()
    stack.start(service)
    stack.wait_healthy(service, 600)
    return f"http://127.0.0.1:{port}", time.monotonic() - started


def train_time(config: Path, label: str) -> float:
    """Train from an empty cache into a temp dir; seconds."""
    with tempfile.TemporaryDirectory() as out, tempfile.TemporaryDirectory() as cache:
        env = {
            **os.environ,
            "RASA_CACHE_DIRECTORY": cache,
            "PYTHONPATH": str(ROOT),
            "RASA_TELEMETRY_ENABLED": "false",
            "PYTHONWARNINGS": "ignore",
        }
        start = time.monotonic()
        subprocess.run(
            [
                str(ROOT / ".venv-rasa/bin/rasa"),
                "train",
                "--config",
                str(config),
                "--out",
                out,
                "--fixed-model-name",
                label,
                "--quiet",
            ],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        return time.monotonic() - start


def table(rows: list[tuple[str, dict[str, float]]]) -> str:
    lines = ["| scenario | n | p50 ms | p95 ms | p99 ms | errors |", "|---|---|---|---|---|---|"]
    lines += [
        f"| {name} | {r['n']} | {r['p50']:.0f} | {r['p95']:.0f} | {r['p99']:.0f} | {r['errors']} |"
        for name, r in rows
    ]
    return "\n".join(lines)


def load_levels(quick: bool) -> list[tuple[int, int]]:
    """(concurrent users, turns per user)."""
    return [(1, 20 if quick else 100), (10, 5 if quick else 20), (50, 2 if quick else 10)]


def load_label(name: str, users: int) -> str:
    return f"{name} — {'sequential' if users == 1 else f'{users} concurrent users'}"


async def measure(
    rasa: str,
    api: str,
    token: str,
    database_url: str,
    quick: bool,
    stock: str | None,
    widget_secret: str = "",
) -> list[tuple[str, dict[str, float]]]:
    rows = []
    runs = dict(scenarios(rasa, api, token, widget_secret))
    if stock is not None:  # the stock model has no dialogue policies: NLU is all it serves
        runs["baseline: stock Rasa pipeline /model/parse (NLU only)"] = scenarios(
            stock, api, token
        )["baseline: Rasa /model/parse (NLU only, our model)"]
    for name, turn in runs.items():
        for users, turns in load_levels(quick):
            result = await run_load(turn, users, turns)
            print(f"{load_label(name, users)}: {result}", flush=True)
            rows.append((load_label(name, users), result))
    for users, turns in load_levels(quick):
        result = await telegram_load(rasa, database_url, users, turns)
        label = load_label("telegram bot (fake Bot API server): KB answer", users)
        print(f"{label}: {result}", flush=True)
        rows.append((label, result))
    for users, turns in load_levels(quick):
        result = await wechat_load(rasa, database_url, users, turns)
        label = load_label("wechat bot (fake WeChat API): KB answer", users)
        print(f"{label}: {result}", flush=True)
        rows.append((label, result))
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("--quick", action="store_true", help="fewer requests (smoke run)")
    parser.add_argument(
        "--train",
        action="store_true",
        help="also time a cold training run (ours and the stock pipeline)",
    )
    args = parser.parse_args(argv)
    model = current_model()
    if not model.exists():
        print(f"no model {model.name}: run make train first", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        stack, ports, rasa_ready_s = start_stack(Path(tmp))
        token = stack.env["RASA_TOKEN"]
        ready = {"Rasa start to ready, our model (spawn → /status with model)": rasa_ready_s}
        try:
            rasa = f"http://127.0.0.1:{ports['rasa']}"
            api = f"http://127.0.0.1:{ports['api']}"
            assert http_ok(f"{api}/healthz")
            stock_url = None
            stock_model = latest_stock_model()
            if stock_model is not None:
                stock_url, ready[f"Rasa start to ready, stock pipeline ({stock_model.name})"] = (
                    start_stock(stack, Path(tmp), stock_model, token)
                )
            rows = asyncio.run(
                measure(
                    rasa,
                    api,
                    token,
                    stack.env["DATABASE_URL"],
                    args.quick,
                    stock_url,
                    stack.env["WIDGET_SESSION_SECRET"],
                )
            )
            memory = {s.name: rss_mb(s.proc.pid) for s in stack.services if s.proc}
        finally:
            stack.down()
    rows.append(("baseline: plain BM25 search in-process", bm25_baseline()))
    trainings = {}
    if args.train:
        trainings["ours (config.yml)"] = train_time(ROOT / "config.yml", "bench-ours")
        stock = ROOT / "tests" / "eval" / "stock_config.yml"
        if stock.exists():
            trainings["stock Rasa pipeline"] = train_time(stock, "bench-stock")
    write_report(rows, memory, ready, model, trainings, args.quick)
    return 0


def write_report(rows, memory, ready, model, trainings, quick) -> None:  # type: ignore[no-untyped-def]
    cores = os.cpu_count()
    parts = [
        "# Benchmarks",
        "",
        f"Measured by `make bench` on {dt.date.today().isoformat()}, {cores} cores, loopback only"
        + (" (quick run: fewer requests)." if quick else "."),
        "Each latency row is one load level; the baselines were measured in the same run.",
        "Answer quality (accuracy, refusals, emergency recall) is measured by `make eval`: "
        "see [eval.md](eval.md).",
        "",
        table(rows),
        "",
        "## Start-up, memory, model",
        "",
        "| figure | value |",
        "|---|---|",
        *[f"| {name} | {seconds:.1f} s |" for name, seconds in ready.items()],
        *[f"| RSS of {name} | {mb:.0f} MB |" for name, mb in memory.items()],
        f"| model size ({model.name}) | {model.stat().st_size / 1e6:.1f} MB |",
        *[
            f"| cold training time, {name} | {seconds:.0f} s |"
            for name, seconds in trainings.items()
        ],
        "",
    ]
    from scripts.eval import keep_eval_section

    text = keep_eval_section("\n".join(parts))
    (ROOT / "docs").mkdir(exist_ok=True)
    (ROOT / "docs" / "benchmarks.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
