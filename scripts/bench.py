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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.kb import load_kb  # noqa: E402
from core.kb.search import BM25Index  # noqa: E402
from scripts.stack import Stack, current_model, http_ok, local_stack  # noqa: E402

KB_QUESTION = "附加证明书怎么办理？"


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
    url: str, body_of: Callable[[str, str], dict], check: Callable[[httpx.Response], bool]
):
    async def post(client: httpx.AsyncClient, sender: str, text: str) -> float:
        start = time.perf_counter()
        response = await client.post(url, json=body_of(sender, text))
        elapsed = (time.perf_counter() - start) * 1000
        if response.status_code != 200 or not check(response):
            raise RuntimeError(f"bad reply {response.status_code}")
        return elapsed

    return post


def scenarios(
    rasa: str, api: str, token: str
) -> dict[str, Callable[[httpx.AsyncClient, str], Awaitable[list[float]]]]:
    webhook = timed_post(
        f"{rasa}/webhooks/rest/webhook",
        lambda s, t: {"sender": s, "message": t},
        lambda r: bool(r.json()),
    )
    widget = timed_post(
        f"{api}/api/v1/messages",
        lambda s, t: {"session_id": s.replace("bench-", "bench")[:64], "text": t},
        lambda r: bool(r.json().get("messages")),
    )
    parse = timed_post(
        f"{rasa}/model/parse?token={token}",
        lambda s, t: {"text": t},
        lambda r: "intent" in r.json(),
    )

    async def kb(client: httpx.AsyncClient, sender: str) -> list[float]:
        return [await webhook(client, sender, KB_QUESTION)]

    async def status(client: httpx.AsyncClient, sender: str) -> list[float]:
        return [
            await webhook(client, sender, "查询进度 VA-2026-000123"),
            await webhook(client, sender, "5678"),
        ]

    async def widget_kb(client: httpx.AsyncClient, sender: str) -> list[float]:
        return [await widget(client, sender, KB_QUESTION)]

    async def nlu_only(client: httpx.AsyncClient, sender: str) -> list[float]:
        return [await parse(client, sender, KB_QUESTION)]

    return {
        "webhook: KB answer": kb,
        "webhook: status lookup (per message)": status,
        "widget api: KB answer": widget_kb,
        "baseline: Rasa /model/parse (NLU only)": nlu_only,
    }


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


async def measure(
    rasa: str, api: str, token: str, quick: bool
) -> list[tuple[str, dict[str, float]]]:
    rows = []
    loads = [(1, 20 if quick else 100), (10, 5 if quick else 20), (50, 2 if quick else 10)]
    for name, turn in scenarios(rasa, api, token).items():
        for users, turns in loads:
            label = f"{name} — {'sequential' if users == 1 else f'{users} concurrent users'}"
            result = await run_load(turn, users, turns)
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
        try:
            rasa = f"http://127.0.0.1:{ports['rasa']}"
            api = f"http://127.0.0.1:{ports['api']}"
            assert http_ok(f"{api}/healthz")
            rows = asyncio.run(measure(rasa, api, token, args.quick))
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
    write_report(rows, memory, rasa_ready_s, model, trainings, args.quick)
    return 0


def write_report(rows, memory, rasa_ready_s, model, trainings, quick) -> None:  # type: ignore[no-untyped-def]
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
        f"| Rasa start to ready (process spawn → /status with model) | {rasa_ready_s:.1f} s |",
        *[f"| RSS of {name} | {mb:.0f} MB |" for name, mb in memory.items()],
        f"| model size ({model.name}) | {model.stat().st_size / 1e6:.1f} MB |",
        *[
            f"| cold training time, {name} | {seconds:.0f} s |"
            for name, seconds in trainings.items()
        ],
        "",
    ]
    text = "\n".join(parts)
    (ROOT / "docs").mkdir(exist_ok=True)
    (ROOT / "docs" / "benchmarks.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
