"""`make soak`: a bounded soak test over the widget api on loopback.

N simulated citizens (default 50, each with its own widget session) talk for M minutes (default
10) with ~1 s of think time: KB questions, status lookups with the demo references, out-of-scope
questions, greetings, and some handoff requests (after which their messages go to the ticket).
Checked: zero errors (every request 200 with messages of known payload types), zero lost messages
(every accepted message is in the app database: one analytics turn per message, every handoff's
ticket exists, every message sent into a ticket is stored), memory flat (RSS of Rasa, actions
and api sampled every 30 s: start / end / max and the least-squares slope). Figures are printed
and written to the "Soak" section of docs/reliability.md.

Simulated users type much faster than people, so the per-session rate limit is raised for the
run (WIDGET_RATE_PER_MINUTE; the limit itself is covered by tests/test_widget.py).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from scripts.bench import pct, rss_mb
from scripts.fuzz import (
    KNOWN_TYPES,
    check_stack,
    machine_note,
    parse_check,
    processes_healthy,
    publish,
)
from scripts.stack import Stack, new_widget_session

ROOT = Path(__file__).resolve().parents[1]

KB_QUESTIONS = [
    "附加证明书怎么办理？",
    "華僑是指什麼人？",
    "What is an apostille?",
    "APEC商务旅行卡怎么申请",
    "领事认证需要什么材料",
    "归侨子女高考有加分吗",
    "签证代办需要多长时间",
    "邀请外国人来华怎么办理邀请函",
    "在国外护照丢了怎么办",
    "侨眷身份怎么证明",
]
OUT_OF_SCOPE = ["今天天气怎么样", "帮我订一张机票", "推荐一家餐厅", "股票会涨吗"]
SMALL_TALK = ["你好", "谢谢", "再见"]
STATUS = [  # reference, last 4 digits (core/seed.py)
    ("VA-2026-000123", "5678"),
    ("LA-2026-000456", "4321"),
    ("AP-2026-000789", "2468"),
    ("IN-2026-000321", "1357"),
    ("RS-2026-000654", "8642"),
]
MIX = {"kb": 50, "status": 20, "out_of_scope": 12, "small_talk": 8, "handoff": 10}


@dataclass
class Tally:
    sent: int = 0
    answered: int = 0
    errors: list[str] = field(default_factory=list)
    types: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    tickets: dict[int, str] = field(default_factory=dict)  # ticket → sender
    in_ticket: Counter[int] = field(default_factory=Counter)  # ticket → messages sent into it
    senders: set[str] = field(default_factory=set)
    status_ok: int = 0
    parked: int = 0


class User:
    """One simulated citizen; starts a new session after a handoff."""

    def __init__(self, index: int, api: str, client: httpx.AsyncClient, tally: Tally, think: float):
        self.rng = random.Random(index)
        self.api, self.client, self.tally, self.think = api, client, tally, think
        self.new_session()

    def new_session(self) -> None:
        self.session = new_widget_session(self.api)  # issued by the api, as the widget's are
        self.tally.senders.add(f"web:{self.session}")

    async def say(self, text: str) -> list[dict]:
        self.tally.sent += 1
        started = time.perf_counter()
        try:
            response = await self.client.post(
                f"{self.api}/api/v1/messages", json={"session_id": self.session, "text": text}
            )
        except httpx.HTTPError as exc:
            self.tally.errors.append(f"{type(exc).__name__}")
            return []
        self.tally.latencies_ms.append((time.perf_counter() - started) * 1000)
        body = response.json() if response.status_code == 200 else None
        messages = body.get("messages") if isinstance(body, dict) else None
        customs = [m.get("custom") for m in messages or [] if isinstance(m, dict)]
        types = [c.get("type") for c in customs if isinstance(c, dict)]
        if not messages or len(types) != len(messages) or not set(types) <= KNOWN_TYPES:
            self.tally.errors.append(f"{response.status_code} {response.text[:120]}")
            return []
        if "unavailable" in types:  # parked: nothing was down, so this is an error here
            self.tally.errors.append("message parked (bot unavailable)")
            self.tally.parked += 1
        self.tally.answered += 1
        self.tally.types.update(types)
        for custom in customs:
            if custom["type"] == "handoff":
                self.tally.tickets[int(custom["ticket"])] = f"web:{self.session}"
            # a message sent while a ticket is open is stored in it (reply type `handoff`), as
            # is a parked one (`unavailable`)
            if custom["type"] == "unavailable" or (
                custom["type"] == "handoff" and text != "转人工"
            ):
                self.tally.tickets[int(custom["ticket"])] = f"web:{self.session}"
                self.tally.in_ticket[int(custom["ticket"])] += 1
        return customs

    async def pause(self) -> None:
        await asyncio.sleep(self.think * self.rng.uniform(0.5, 1.5))

    async def conversation(self) -> None:
        kind = self.rng.choices(list(MIX), list(MIX.values()))[0]
        if kind == "kb":
            await self.say(self.rng.choice(KB_QUESTIONS))
        elif kind == "out_of_scope":
            await self.say(self.rng.choice(OUT_OF_SCOPE))
        elif kind == "small_talk":
            await self.say(self.rng.choice(SMALL_TALK))
        elif kind == "status":
            reference, digits = self.rng.choice(STATUS)
            await self.say("查询进度")
            await self.pause()
            await self.say(reference)
            await self.pause()
            replies = await self.say(digits)
            if any(c.get("type") == "status" for c in replies):
                self.tally.status_ok += 1
        else:
            await self.say("转人工")
            for _ in range(self.rng.randint(1, 2)):  # while waiting, messages go to the ticket
                await self.pause()
                await self.say(self.rng.choice(["还在吗？", "请尽快回复", "我的材料寄丢了"]))
            self.new_session()  # this citizen waits for staff; a new one arrives
        await self.pause()

    async def run(self, until: float) -> None:
        while time.monotonic() < until:
            await self.conversation()


def slope_mb_per_min(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) in MB per minute."""
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_m = sum(m for _, m in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    cov = sum((t - mean_t) * (m - mean_m) for t, m in samples)
    return (cov / var) * 60 if var else 0.0


async def sample_memory(
    stack: Stack, until: float, every_s: float, out: dict[str, list[tuple[float, float]]]
) -> None:
    started = time.monotonic()
    while True:
        now = time.monotonic()
        for service in stack.services:
            if service.proc is not None:
                out[service.name].append((now - started, rss_mb(service.proc.pid)))
        if now >= until:
            return
        await asyncio.sleep(min(every_s, max(0.0, until - now)))


async def soak(
    stack: Stack, api: str, users: int, minutes: float, think: float, every_s: float
) -> tuple[Tally, dict[str, list[tuple[float, float]]], float]:
    tally = Tally()
    memory: dict[str, list[tuple[float, float]]] = defaultdict(list)
    until = time.monotonic() + minutes * 60
    started = time.monotonic()
    limits = httpx.Limits(max_connections=users + 5)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        people = [User(i, api, client, tally, think) for i in range(users)]
        await asyncio.gather(
            sample_memory(stack, until, every_s, memory), *(p.run(until) for p in people)
        )
    return tally, memory, time.monotonic() - started


WARM_UP = (KB_QUESTIONS[0], "查询进度", "VA-2026-000123", "5678", OUT_OF_SCOPE[0])


def warm_up(api: str) -> None:
    """One sequential conversation first: the action server loads the KB and the embedding
    model on its first request, which under 50 concurrent first requests exceeds Rasa's action
    timeout (measured separately: see docs/reliability.md). Not counted."""
    session = new_widget_session(api)
    for text in WARM_UP:
        httpx.post(
            f"{api}/api/v1/messages", json={"session_id": session, "text": text}, timeout=300
        ).raise_for_status()


def check_database(database_url: str, tally: Tally) -> list[str]:
    """Every accepted message is in the app database; problems found."""
    from sqlalchemy import func, select

    from core.db.engine import build_engine, session_factory, session_scope
    from core.db.models import BotTurn, HandoffMessage, HandoffTicket

    problems = []
    with session_scope(session_factory(build_engine(database_url))) as session:
        turns = session.scalar(
            select(func.count()).select_from(BotTurn).where(BotTurn.channel == "web")
        )
        # one analytics turn per message the bot or a ticket took (parked ones are in tickets)
        expected = tally.answered - tally.parked + len(WARM_UP)
        if turns != expected:
            problems.append(f"{expected} turns expected (incl. warm-up), {turns} stored")
        for ticket_id, sender in tally.tickets.items():
            ticket = session.get(HandoffTicket, ticket_id)
            if ticket is None or ticket.sender_id != sender:
                problems.append(f"ticket #{ticket_id} missing or not {sender}")
                continue
            stored = session.scalar(
                select(func.count())
                .select_from(HandoffMessage)
                .where(HandoffMessage.ticket_id == ticket_id, HandoffMessage.author == "citizen")
            )
            if stored < tally.in_ticket[ticket_id]:
                problems.append(
                    f"ticket #{ticket_id}: {tally.in_ticket[ticket_id]} sent, {stored} stored"
                )
    return problems


def report(tally, memory, seconds, db_problems, health, args, load_before) -> str:  # type: ignore[no-untyped-def]
    lat = tally.latencies_ms or [float("nan")]
    lines = [
        f"Measured by `make soak` on {dt.date.today().isoformat()}: {args.users} simulated users "
        f"for {seconds / 60:.1f} min over the widget api, think time ~{args.think:g} s "
        f"({load_before} at the start, {machine_note()} at the end; the 2 cores are shared "
        "with other work, so latency is only indicative).",
        "",
        "| figure | value |",
        "|---|---|",
        f"| messages sent | {tally.sent:,} ({tally.sent / seconds:.1f}/s) |",
        f"| answered (200, every message with a known payload type) | {tally.answered:,} |",
        f"| errors | **{len(tally.errors)}** |",
        f"| lost messages (database check) | **{len(db_problems)}** |",
        f"| handoff tickets opened / messages sent into them | {len(tally.tickets)} / "
        f"{sum(tally.in_ticket.values())} |",
        f"| status lookups verified | {tally.status_ok} |",
        f"| latency p50 / p95 / max | {pct(lat, 50):.0f} / {pct(lat, 95):.0f} / "
        f"{max(lat):.0f} ms |",
        "| processes healthy at the end | "
        + ", ".join(f"{n} {'yes' if ok else '**NO**'}" for n, ok in health.items())
        + " |",
        "",
        "Reply types: " + ", ".join(f"{k} {v}" for k, v in tally.types.most_common()) + ". "
        "`handoff` counts new tickets and the acknowledgements of messages sent while a ticket is "
        "open (after 转人工, or after an emergency wording such as 护照丢了 opened an urgent one).",
        "",
        f"Memory (RSS incl. children, sampled every {args.sample_s:g} s):",
        "",
        "| process | start MB | end MB | max MB | slope MB/min | slope, 2nd half |",
        "|---|---|---|---|---|---|",
    ]
    for name, samples in memory.items():
        values = [m for _, m in samples]
        half = samples[len(samples) // 2 :]
        lines.append(
            f"| {name} | {values[0]:.0f} | {values[-1]:.0f} | {max(values):.0f} | "
            f"{slope_mb_per_min(samples):+.2f} | {slope_mb_per_min(half):+.2f} |"
        )
    lines += ["", *[f"- error: {e}" for e in tally.errors[:20]]]
    lines += [f"- lost: {p}" for p in db_problems[:20]]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="make soak")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--think", type=float, default=1.0, help="seconds between messages")
    parser.add_argument("--sample-s", type=float, default=30, help="memory sampling interval")
    run = parse_check(parser, argv)
    if run is None:
        return 1
    args = run.args
    # staffed around the clock, so no after-hours notice varies the replies
    extra_env = {
        "WIDGET_RATE_PER_MINUTE": "10000",
        "OFFICE_HOURS": "00:00-23:59:59",
        "OFFICE_DAYS": "1-7",
    }
    with check_stack(run.model, extra_env) as (stack, ports):
        api = f"http://127.0.0.1:{ports['api']}"
        warm_up(api)
        print(f"soak: {args.users} users for {args.minutes:g} min …", flush=True)
        tally, memory, seconds = asyncio.run(
            soak(stack, api, args.users, args.minutes, args.think, args.sample_s)
        )
        health = processes_healthy(stack)
        db_problems = check_database(stack.env["DATABASE_URL"], tally)
    text = report(tally, memory, seconds, db_problems, health, args, run.load_before)
    publish("Soak", text, run)
    return 0 if not tally.errors and not db_problems and all(health.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
