"""`make eval`: measure answer quality on the dev set and on the blind set of every reply type.

Runs in the same process, side by side:
- **system** — the real stack (Rasa on the current model + action server, temp SQLite DB):
  the dev set (tests/eval/dev_set.yml: KB answers, refusals, emergencies) goes to the REST
  webhook, one fresh sender per case; the blind set (tests/eval/blind/: every reply type,
  single turns and conversations) goes through core.conversation.relay.Relay, turn by turn
  (scripts/eval_blind.py); the replies' `custom` payloads are classified;
- **bm25** — plain BM25 over the KB (core.kb.search), top hit answers, evaluated in-process;
- **stock** — stock Rasa (tests/eval/stock_config.yml: Jieba + CountVectors + DIET +
  ResponseSelector, default hyperparameters, no fallback), NLU-only, trained on the
  retrieval-intent form of the KB with `--stock` (not measured when that model is missing).

Prints the report and writes docs/eval.md, the eval section of docs/benchmarks.md and the
failing tune turns of the blind set (var/eval/tune_failures.md; `--show-holdout` also lists the
holdout's). The NLU parse of every dev case is cached in var/eval/ so `--tune` can replay the
action's decision offline over a grid of thresholds (tune split only).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from scripts.model_hash import model_hash
from scripts.stack import (
    RASA_BIN,
    Stack,
    build_stack,
    rasa_service,
    write_endpoints,
)

ROOT = Path(__file__).resolve().parents[1]

DEV_SET = ROOT / "tests" / "eval" / "dev_set.yml"
STOCK_CONFIG = ROOT / "tests" / "eval" / "stock_config.yml"
OUT_DIR = ROOT / "var" / "eval"
REPORT = ROOT / "docs" / "eval.md"
BENCHMARKS = ROOT / "docs" / "benchmarks.md"
# docs/benchmarks.md: `make bench` writes what comes before this line, `make eval` what follows.
EVAL_MARK = "<!-- answer quality: the part below is written by make eval -->"
SPECIAL = ("out_of_scope", "emergency")


@dataclass(frozen=True)
class Case:
    text: str
    expect: str  # a KB id, "out_of_scope" or "emergency"
    cat: str
    also: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return self.expect if self.expect in SPECIAL else "in_scope"

    @property
    def split(self) -> str:
        """Stable half of the set: "tune" (thresholds are chosen on it) or "holdout"."""
        return "tune" if hashlib.md5(self.text.encode()).digest()[0] % 2 == 0 else "holdout"

    def right(self, kb_id: str | None) -> bool:
        return kb_id is not None and (kb_id == self.expect or kb_id in self.also)


@dataclass
class Outcome:
    kind: str  # answer | suggest | refuse | emergency | other
    kb_id: str | None = None
    options: list[str] = field(default_factory=list)
    latency_ms: float | None = None


def load_cases(path: Path = DEV_SET) -> list[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Case(str(c["text"]), str(c["expect"]), str(c["cat"]), tuple(c.get("also") or ()))
        for c in data["cases"]
    ]


def classify(payloads: list[dict]) -> Outcome:
    """The outcome of one bot turn from its `custom` payloads (an emergency wins)."""
    types = [p.get("type") for p in payloads]
    if "emergency" in types:
        return Outcome("emergency")
    for p in payloads:
        kind = p.get("type")
        if kind == "kb_answer":
            return Outcome("answer", p.get("kb_id"))
        if kind == "suggestions":
            return Outcome("suggest", options=[o["kb_id"] for o in p.get("options") or []])
        if kind in ("out_of_scope", "fallback"):
            return Outcome("refuse")
    return Outcome("other")


# ------------------------------------------------------------------------------ metrics


def metrics(cases: list[Case], outcomes: list[Outcome]) -> dict[str, float | int | None]:
    """Headline figures for one system on a subset of cases (rates in %)."""

    def pct(num: int, den: int) -> float | None:
        return round(100.0 * num / den, 1) if den else None

    ins = [(c, o) for c, o in zip(cases, outcomes, strict=True) if c.kind == "in_scope"]
    oos = [(c, o) for c, o in zip(cases, outcomes, strict=True) if c.kind == "out_of_scope"]
    emg = [(c, o) for c, o in zip(cases, outcomes, strict=True) if c.kind == "emergency"]
    latencies = [o.latency_ms for o in outcomes if o.latency_ms is not None]
    return {
        "n_in_scope": len(ins),
        "answer_right": pct(sum(o.kind == "answer" and c.right(o.kb_id) for c, o in ins), len(ins)),
        "answer_wrong": pct(
            sum(o.kind == "answer" and not c.right(o.kb_id) for c, o in ins), len(ins)
        ),
        "suggest_has_right": pct(
            sum(o.kind == "suggest" and any(c.right(k) for k in o.options) for c, o in ins),
            len(ins),
        ),
        "right_or_suggested": pct(
            sum(
                (o.kind == "answer" and c.right(o.kb_id))
                or (o.kind == "suggest" and any(c.right(k) for k in o.options))
                for c, o in ins
            ),
            len(ins),
        ),
        "in_scope_refused": pct(sum(o.kind == "refuse" for _, o in ins), len(ins)),
        "n_oos": len(oos),
        "oos_refused": pct(sum(o.kind == "refuse" for _, o in oos), len(oos)),
        "oos_false_answer": pct(sum(o.kind == "answer" for _, o in oos), len(oos)),
        "oos_suggested": pct(sum(o.kind == "suggest" for _, o in oos), len(oos)),
        "n_emergency": len(emg),
        "emergency_recall": pct(sum(o.kind == "emergency" for _, o in emg), len(emg)),
        "false_alarm": pct(
            sum(
                o.kind == "emergency"
                for c, o in zip(cases, outcomes, strict=True)
                if c.kind != "emergency"
            ),
            sum(c.kind != "emergency" for c in cases),
        ),
        "latency_p50_ms": round(statistics.median(latencies)) if latencies else None,
        "latency_p95_ms": round(sorted(latencies)[int(0.95 * (len(latencies) - 1))])
        if latencies
        else None,
    }


ROWS = [
    ("n_in_scope", "in-scope cases"),
    ("answer_right", "in-scope: right KB answer (top-1) %"),
    ("answer_wrong", "in-scope: wrong confident answer %"),
    ("suggest_has_right", "in-scope: did-you-mean contains the right entry %"),
    ("right_or_suggested", "in-scope: right answer or right suggestion %"),
    ("in_scope_refused", "in-scope: refused / fallback %"),
    ("n_oos", "out-of-scope cases"),
    ("oos_refused", "out-of-scope: refused %"),
    ("oos_false_answer", "out-of-scope: false KB answer %"),
    ("oos_suggested", "out-of-scope: did-you-mean offered %"),
    ("n_emergency", "emergency cases"),
    ("emergency_recall", "emergency recall %"),
    ("false_alarm", "emergency false alarms on other cases %"),
    ("latency_p50_ms", "latency p50 ms"),
    ("latency_p95_ms", "latency p95 ms"),
]


def table(columns: dict[str, dict]) -> str:
    names = list(columns)
    out = ["| metric | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for key, label in ROWS:
        cells = []
        for name in names:
            value = columns[name].get(key)
            cells.append("–" if value is None else str(value))
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def per_category(cases: list[Case], outcomes: list[Outcome]) -> str:
    """Share of cases handled as expected, by wording category."""
    total: Counter[str] = Counter()
    good: Counter[str] = Counter()
    for case, outcome in zip(cases, outcomes, strict=True):
        total[case.cat] += 1
        if case.kind == "in_scope":
            ok = outcome.kind == "answer" and case.right(outcome.kb_id)
        elif case.kind == "out_of_scope":
            ok = outcome.kind == "refuse"
        else:
            ok = outcome.kind == "emergency"
        good[case.cat] += ok
    lines = ["| category | cases | handled as expected % |", "|---|---:|---:|"]
    for cat in sorted(total):
        lines.append(f"| {cat} | {total[cat]} | {100.0 * good[cat] / total[cat]:.1f} |")
    return "\n".join(lines)


# ------------------------------------------------------------------------------ systems


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bm25_outcomes(cases: list[Case]) -> list[Outcome]:
    """Plain BM25 over the KB: the top hit answers, no hit refuses."""
    from core.kb.loader import load_kb
    from core.kb.search import BM25Index

    index = BM25Index(load_kb(ROOT / "kb"))
    out = []
    for case in cases:
        start = time.perf_counter()
        hits = index.search(case.text, limit=1)
        ms = (time.perf_counter() - start) * 1000
        out.append(Outcome("answer", hits[0].kb_id, latency_ms=ms) if hits else Outcome("refuse"))
    return out


def parse_all(base: str, token: str, texts: Iterable[str]) -> list[dict]:
    """Rasa's NLU parse of each text (intent ranking, response selector)."""
    out = []
    with httpx.Client(timeout=60, headers={"Authorization": f"Bearer {token}"}) as client:
        for text in texts:
            r = client.post(f"{base}/model/parse", json={"text": text})
            r.raise_for_status()
            out.append(r.json())
    return out


@dataclass
class System:
    """A running Rasa server (and action server) with its token and app database."""

    base: str
    token: str
    database_url: str


@contextmanager
def running_system(model: Path, log: Callable[[str], None]) -> Iterator[System]:
    """Start actions + Rasa on `model` with a throw-away SQLite app DB (project migrations)."""
    from core.db.migrate import upgrade

    work = Path(tempfile.mkdtemp(prefix="qiaowu-eval-"))
    url = f"sqlite:///{work / 'app.db'}"
    upgrade(url)
    rasa_port, action_port = free_port(), free_port()
    token = secrets.token_urlsafe(16)
    stack = build_stack(
        model=model,
        database_url=url,
        rasa_port=rasa_port,
        action_port=action_port,
        api_port=None,
        rasa_token=token,
        endpoints=write_endpoints(
            work / "endpoints.yml", action_port=action_port, tracker_db=work / "tracker.db"
        ),
        log_dir=work / "log",
    )
    try:
        log(f"starting Rasa + actions on {model.name} (logs in {work / 'log'})")
        stack.up(timeout_s=400)
        yield System(f"http://127.0.0.1:{rasa_port}", token, url)
    finally:
        stack.down()


def system_outcomes(
    cases: list[Case], system: System, log: Callable[[str], None]
) -> tuple[list[Outcome], list[dict]]:
    """Every dev case to the REST webhook, fresh sender each; then the NLU parses (cached)."""
    outcomes: list[Outcome] = []
    with httpx.Client(timeout=60) as client:
        for i, case in enumerate(cases):
            start = time.perf_counter()
            r = client.post(
                f"{system.base}/webhooks/rest/webhook",
                json={"sender": f"eval-{uuid.uuid4().hex[:12]}", "message": case.text},
            )
            ms = (time.perf_counter() - start) * 1000
            r.raise_for_status()
            outcome = classify([m["custom"] for m in r.json() if "custom" in m])
            outcome.latency_ms = ms
            outcomes.append(outcome)
            if (i + 1) % 50 == 0:
                log(f"  dev set: {i + 1}/{len(cases)}")
    parses = parse_all(system.base, system.token, (c.text for c in cases))
    return outcomes, parses


# What the stock baseline learns from (NLU only): retrained only when one of these changes.
# data/nlu/faq.yml has no retrieval intents any more: the stock model learns the retrieval-intent
# form that core.kb.generate.render_retrieval_files makes from kb/.
STOCK_INPUTS = [
    "tests/eval/stock_config.yml",
    "data/nlu",
    "data/rules",
    "kb",
    "core/kb/generate.py",
    "domain.yml",
    "requirements/rasa-constraints.txt",
]


def stock_model_path() -> Path:
    return OUT_DIR / f"stock-{model_hash(ROOT, STOCK_INPUTS)}.tar.gz"


def stock_training_data(target: Path) -> Path:
    """data/ with faq.yml replaced by the retrieval-intent form (`faq/<kb_id>` + responses)."""
    import shutil

    from core.kb.generate import render_retrieval_files, write_training_data
    from core.kb.loader import load_kb

    shutil.copytree(ROOT / "data" / "rules", target / "rules")
    (target / "nlu").mkdir(parents=True)
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        if path.name != "faq.yml":
            shutil.copy(path, target / "nlu" / path.name)
    write_training_data(load_kb(ROOT / "kb"), target, render_retrieval_files)
    return target


def train_stock(log: Callable[[str], None]) -> Path:
    model = stock_model_path()
    if model.exists():
        return model
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    data = stock_training_data(Path(tempfile.mkdtemp(prefix="qiaowu-stock-data-")))
    log(f"training the stock-Rasa baseline {model.name} (NLU only, ~75 CPU-minutes)")
    subprocess.run(
        [
            str(RASA_BIN),
            "train",
            "nlu",
            "--config",
            str(STOCK_CONFIG),
            "--nlu",
            str(data / "nlu"),
            "--domain",
            str(ROOT / "domain.yml"),
            "--out",
            str(OUT_DIR),
            "--fixed-model-name",
            model.name.removesuffix(".tar.gz"),
            "--quiet",
        ],
        cwd=ROOT,
        check=True,
    )
    return model


@contextmanager
def running_stock(model: Path, log: Callable[[str], None]) -> Iterator[System]:
    """Stock Rasa on `model`, NLU only (no actions, in-memory trackers)."""
    import os

    port, token = free_port(), secrets.token_urlsafe(16)
    work = Path(tempfile.mkdtemp(prefix="qiaowu-eval-stock-"))
    endpoints = work / "endpoints.yml"
    endpoints.write_text("action_endpoint:\n  url: http://127.0.0.1:9/webhook\n", encoding="utf-8")
    service = rasa_service("rasa-stock", model, port, token, endpoints)
    stack = Stack([service], {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}, work)
    try:
        log(f"starting stock Rasa on {model.name}")
        stack.up(timeout_s=400)
        yield System(f"http://127.0.0.1:{port}", token, "")
    finally:
        stack.down()


def stock_outcomes(cases: list[Case], system: System) -> list[Outcome]:
    """Stock Rasa NLU: intent faq → the selector's top response; out_of_scope → refusal."""
    out: list[Outcome] = []
    with httpx.Client(timeout=60) as client:
        for case in cases:
            start = time.perf_counter()
            r = client.post(
                f"{system.base}/model/parse",
                json={"text": case.text},
                headers={"Authorization": f"Bearer {system.token}"},
            )
            ms = (time.perf_counter() - start) * 1000
            r.raise_for_status()
            parse = r.json()
            intent = (parse.get("intent") or {}).get("name")
            if intent == "faq":
                key = (
                    ((parse.get("response_selector") or {}).get("faq") or {}).get("response") or {}
                ).get("intent_response_key") or ""
                out.append(Outcome("answer", key.partition("/")[2] or None, latency_ms=ms))
            elif intent == "out_of_scope":
                out.append(Outcome("refuse", latency_ms=ms))
            elif intent == "report_emergency":
                out.append(Outcome("emergency", latency_ms=ms))
            else:
                out.append(Outcome("other", latency_ms=ms))
    return out


# ------------------------------------------------------------------------------ offline replay


def replay(
    cases: list[Case], parses: list[dict], decide: Callable[[str, dict], Outcome]
) -> list[Outcome]:
    """The action's decision recomputed from cached NLU parses (for threshold tuning)."""
    return [decide(c.text, p) for c, p in zip(cases, parses, strict=True)]


def route(text: str, parse: dict) -> str:
    """What the rules do with a parsed message: emergency, refuse, other, faq or fallback."""
    from core.conversation.emergency import detect

    if detect(text) is not None:
        return "emergency"
    intent = (parse.get("intent") or {}).get("name")
    return {
        "report_emergency": "emergency",
        "out_of_scope": "refuse",
        "faq": "faq",
        "nlu_fallback": "fallback",
    }.get(str(intent), "other")


def ranking_outcome(ranking: Any) -> Outcome:
    if ranking.decision == "answer":
        return Outcome("answer", ranking.kb_ids[0])
    if ranking.decision == "suggest":
        return Outcome("suggest", options=list(ranking.kb_ids))
    return Outcome("refuse")


def default_decider() -> Callable[[str, dict], Outcome]:
    """Mirror of the rules + actions: emergency first, then intent routing, then the ranker."""
    from actions.kb_answer import decide_kb

    def decide(text: str, parse: dict) -> Outcome:
        where = route(text, parse)
        if where in ("emergency", "refuse", "other"):
            return Outcome(where)
        return ranking_outcome(decide_kb(text, parse if where == "faq" else {}))

    return decide


def utility(cases: list[Case], outcomes: list[Outcome]) -> float:
    """Tuning objective: a confident wrong answer costs more than an honest refusal."""
    ins = oos = 0.0
    n_ins = n_oos = 0
    for case, o in zip(cases, outcomes, strict=True):
        if case.kind == "in_scope":
            n_ins += 1
            if o.kind == "answer":
                ins += 1.0 if case.right(o.kb_id) else -2.0
            elif o.kind == "suggest":
                ins += 0.5 if any(case.right(k) for k in o.options) else -0.2
        elif case.kind == "out_of_scope":
            n_oos += 1
            oos += {"refuse": 1.0, "suggest": -0.3, "answer": -3.0}.get(o.kind, 0.0)
    return ins / max(1, n_ins) + oos / max(1, n_oos)


def tune(cases: list[Case], parses: list[dict], log: Callable[[str], None]) -> None:
    """Grid search of the ranker's weights and thresholds on the tune split; report both."""
    import itertools

    from actions.kb_answer import dense_scores, negative_score, passage_scores, selector_ranking
    from core.kb.ranker import Thresholds, rank
    from core.services import get_index, get_kb

    index = get_index()
    kb = get_kb()
    feats = []
    for case, parse in zip(cases, parses, strict=True):
        where = route(case.text, parse)
        sel = [(k, c) for k, c in selector_ranking(parse) if k in kb.entries]
        feats.append(
            (
                where,
                sel if where == "faq" else [],
                index.search(case.text, limit=10),
                index.exact(case.text),
                dense_scores(case.text),
                negative_score(case.text),
                passage_scores(case.text),
            )
        )
    log("features ready")

    def outcomes(t: Thresholds, idx: list[int]) -> list[Outcome]:
        out = []
        for i in idx:
            where, sel, bm, exact, dn, neg, psg = feats[i]
            if where in ("emergency", "refuse", "other"):
                out.append(Outcome(where))
            else:
                ranking = rank(sel, bm, t, exact=exact, dense=dn, negative=neg, passage=psg)
                out.append(ranking_outcome(ranking))
        return out

    split = {s: [i for i, c in enumerate(cases) if c.split == s] for s in ("tune", "holdout")}
    # The NLU has no ResponseSelector any more (config.yml): the selector weight is moot and the
    # fused score is BM25 + dense alone, so the answer bar is searched lower than before.
    grid = {
        "w_selector": [0.3],
        "w_bm25": [0.3, 0.5, 0.7],
        "w_dense": [1.0],
        "dense_floor": [0.88],
        "answer": [0.45, 0.5, 0.55, 0.6],
        "margin": [0.1, 0.15, 0.2],
        "suggest": [0.4],
        "gate_dense": [0.93],
        "gate_bm25": [0.45, 0.6],
        "gate_selector": [0.6],
        "gate_fused": [float("inf"), 0.4, 0.45, 0.5],  # inf: every signal weak → refused
        "agree_margin": [0.0, 0.05],
        "agree_signals": [2, 4],  # 4: never (three signals), i.e. the plain margin rule
        "negative_floor": [0.9, 0.93],
        "negative_margin": [float("inf"), 0.0, 0.01],  # inf: never
    }
    results = []
    for values in itertools.product(*grid.values()):
        t = Thresholds(**dict(zip(grid, values, strict=True)))
        sub = [cases[i] for i in split["tune"]]
        results.append((utility(sub, outcomes(t, split["tune"])), t))
    results.sort(key=lambda r: -r[0])
    shown = results[:3]
    for margin in sorted({t.margin for _, t in results}):  # the best at each margin: the trade-off
        shown.append(next(r for r in results if r[1].margin == margin))
    for signals in sorted({t.agree_signals for _, t in results}):  # with and without corroboration
        shown.append(next(r for r in results if r[1].agree_signals == signals))
    for neg in sorted({t.negative_margin for _, t in results}):  # with and without near-miss gate
        shown.append(next(r for r in results if r[1].negative_margin == neg))
    for gate in sorted({t.gate_fused for _, t in results}):
        shown.append(next(r for r in results if r[1].gate_fused == gate))
    for u, t in shown:
        print(f"utility(tune)={u:.3f} {t}")
        for name, idx in split.items():
            m = metrics([cases[i] for i in idx], outcomes(t, idx))
            print(
                f"   {name:8} right={m['answer_right']} wrong={m['answer_wrong']} "
                f"right|sugg={m['right_or_suggested']} oos_refused={m['oos_refused']} "
                f"oos_false={m['oos_false_answer']}"
            )


# ------------------------------------------------------------------------------ report


METHOD_NOTES = [
    "The dev set was written by hand for this evaluation, independently of the KB questions and "
    "of data/nlu (tests/test_kb_eval_set.py fails if a case is verbatim a training example). "
    "It was written before the out-of-scope training data was enlarged; the enlargement covered "
    "the same *kinds* of near misses (hukou, ID cards, driving licences, other countries' "
    "immigration, injections) with different sentences, so out-of-scope figures are optimistic "
    "compared with truly unseen traffic.",
    "The ranker's weights and thresholds (core/kb/ranker.py, core/settings.py) were chosen by "
    "`scripts/eval.py --tune` on the tune split only (utility: +1 right answer, +0.5 right "
    "suggestion, -2 wrong answer; +1 refusal, -3 false answer on out-of-scope). The holdout "
    "split is the honest figure.",
    "The KB paraphrases added for issue 4 were written for the kinds of wording and the sibling "
    "confusions seen on the tune split (and the sibling pairs named in the issue), never copied "
    "from the dev set; none of them is 70 % similar (difflib ratio on normalised text) to a dev "
    "case. Older KB questions were not re-checked that way and some are close to dev cases "
    "(short questions on one topic converge), so the figures are somewhat optimistic compared "
    "with unseen traffic.",
    "One case was relabelled on 2026-11-24: `港澳通行证续签在哪里办` expected out_of_scope, but "
    "brief §2.10 puts HK/Macao travel permits in the passport entry (`passport_issued_by_police`, "
    "which names the 12367 hotline); five out-of-scope training examples about those permits "
    "contradicted the KB and were removed.",
    "The near-miss gate (refuse when the nearest out-of-scope training example is nearer than any "
    "KB question) and `gate_fused` were added on 2026-11-24 and tuned on the tune split with the "
    "other thresholds fixed at their earlier values; the grid's best setting for both was the same "
    "whatever the other parameters. The out-of-scope training examples were partly written after "
    "seeing tune-split near misses (see the first note), which flatters the tune split's "
    "out-of-scope figures more than the holdout's.",
    "One routing fix of 2026-11-24 was prompted by a holdout case (a long question about what "
    "to bring for an apostille for the USA was answered with the member-states entry because "
    "country routing replaced a practical entry that the ranker had only suggested); the rule "
    "(practical entries survive country routing) is general, but that case no longer counts as "
    "unseen.",
    "Paraphrases added on 2026-11-24 target sibling confusions seen on the tune split only; those "
    "written for entries whose only failures were on the holdout split were discarded, as was any "
    "paraphrase 70 % similar to a dev case.",
    "Latency is wall time per webhook call on a shared 2-core machine while other jobs run; "
    "it includes the action server and the dense query embedding.",
    "bm25 answers every question that shares a token with the KB, so it refuses almost nothing: "
    "it shows why retrieval alone is not a safe answerer.",
]


def dev_sections(
    cases: list[Case],
    systems: dict[str, list[Outcome]],
    model: Path,
    notes: list[str],
) -> tuple[list[str], dict[str, str], str, str]:
    """The dev-set part of the report: (lines, tables by split, generated line, legend)."""
    generated = (
        f"Generated by `scripts/eval.py` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} "
        f"with model `{model.name}`, `{DEV_SET.relative_to(ROOT)}` "
        f"({len(cases)} cases: {sum(c.kind == 'in_scope' for c in cases)} in-scope, "
        f"{sum(c.kind == 'out_of_scope' for c in cases)} out-of-scope, "
        f"{sum(c.kind == 'emergency' for c in cases)} emergencies) and the blind set "
        "`tests/eval/blind/`."
    )
    legend = (
        "Systems: **system** = this project (dev set: Rasa's REST webhook; blind set: the relay "
        "every channel uses, NLU + action server); **bm25** = plain BM25 over the KB, top hit "
        "answers (in-process); **stock** = stock Rasa NLU (Jieba + CountVectors + DIET + "
        "ResponseSelector, default hyperparameters, no normaliser, no fallback) trained on the "
        "retrieval-intent form of the KB and the other NLU data. Refused = out-of-scope reply or "
        "honest fallback."
    )
    lines = ["## KB answers, refusals and emergencies — the dev set", ""]
    tables: dict[str, str] = {}
    for split in ("all", "tune", "holdout"):
        chosen = [i for i, c in enumerate(cases) if split == "all" or c.split == split]
        sub = [cases[i] for i in chosen]
        columns = {name: metrics(sub, [outs[i] for i in chosen]) for name, outs in systems.items()}
        tables[split] = table(columns)
        title = {
            "all": "All cases",
            "tune": "Tune split (thresholds were chosen on these)",
            "holdout": "Holdout split (never used for tuning)",
        }[split]
        lines += [f"### {title}", "", tables[split], ""]
    lines += ["### By wording category (system)", "", per_category(cases, systems["system"]), ""]
    wrong = [
        (c, o)
        for c, o in zip(cases, systems["system"], strict=True)
        if (c.kind == "in_scope" and o.kind == "answer" and not c.right(o.kb_id))
        or (c.kind == "out_of_scope" and o.kind == "answer")
        or (c.kind == "emergency" and o.kind != "emergency")
    ]
    lines += ["### Confident mistakes and missed emergencies (system)", ""]
    lines += [f"- `{c.text}` — expected `{c.expect}`, got {o.kind} `{o.kb_id}`" for c, o in wrong]
    if not wrong:
        lines.append("- none")
    lines += [
        "",
        "### Method and caveats (dev set)",
        "",
        *[f"- {n}" for n in [*METHOD_NOTES, *notes]],
        "",
    ]
    return lines, tables, generated, legend


# Measured once on the KB before issue 15's answer shape (commit 76e8ebd^: the contact paragraph
# and the policy line inside every answer), with that commit's own renderer.
ANSWER_CHARS_BEFORE = {"zh": 258.5, "en": 753.0}


def answer_length_section() -> list[str]:
    """Median rendered answer length per language, body alone and with the footer line."""
    import statistics

    from core.kb.answers import answer_text, footer_fields
    from core.services import get_kb

    kb = get_kb()
    rows = []
    for lang, label in (("zh", "Chinese"), ("en", "English")):
        body = [len(answer_text(kb, k, lang)[0]) for k in kb.entries]
        footer = [len(footer_fields(kb, k, lang)["footer"]) + 1 for k in kb.entries]
        rows.append(
            f"| {label} | {ANSWER_CHARS_BEFORE[lang]:g} | {statistics.median(body):g} | "
            f"{statistics.median(b + f for b, f in zip(body, footer, strict=True)):g} |"
        )
    return [
        "## Answer length (characters, median over the KB's entries)",
        "",
        "| answers | before (contact and policy lines in the body) | now: body | now: body + footer |",
        "|---|---:|---:|---:|",
        *rows,
        "",
        "Before: the KB at commit 76e8ebd^ rendered by that commit's `kb_answer`. Now: the answer "
        "text a channel shows, and with the one footer line (policy or 待核实 note, office name "
        "and phone) the channels render under it (widget: a small line with a link).",
        "",
    ]


def write_report(
    cases: list[Case],
    systems: dict[str, list[Outcome]],
    model: Path,
    notes: list[str],
    blind_lines: list[str],
    blind_headline: list[str],
) -> str:
    from scripts.eval_blind import METHOD_NOTES as BLIND_NOTES

    dev, tables, generated, legend = dev_sections(cases, systems, model, notes)
    lines = ["# Answer quality — `make eval`", "", generated, "", legend, ""]
    lines += blind_lines
    lines += ["### Method and caveats (blind set)", "", *[f"- {n}" for n in BLIND_NOTES], ""]
    lines += dev
    lines += ["", *answer_length_section()]
    text = "\n".join(lines)
    REPORT.write_text(text, encoding="utf-8")
    write_benchmarks_section(generated, legend, blind_headline, tables["all"], tables["holdout"])
    return text


def write_benchmarks_section(
    generated: str, legend: str, blind: list[str], all_cases: str, holdout: str
) -> None:
    """The headline tables of the report, also in docs/benchmarks.md (after EVAL_MARK)."""
    head = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else "# Benchmarks\n"
    head = head.split(EVAL_MARK)[0].rstrip("\n")
    section = [
        EVAL_MARK,
        "",
        "## Answer quality (`make eval`)",
        "",
        generated,
        legend,
        "Per script, emergencies, out-of-scope, the KB baselines and the method: "
        "[eval.md](eval.md).",
        "",
        *blind,
        "### Dev set (KB answers, refusals, emergencies): all cases",
        "",
        all_cases,
        "",
        "### Dev set: holdout split (never used for tuning)",
        "",
        holdout,
        "",
    ]
    BENCHMARKS.write_text(head + "\n\n" + "\n".join(section), encoding="utf-8")


def keep_eval_section(text: str) -> str:
    """`make bench` output followed by the answer-quality part `make eval` wrote, if any."""
    old = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else ""
    if EVAL_MARK not in old:
        return text
    return text.rstrip("\n") + "\n\n" + EVAL_MARK + old.split(EVAL_MARK, 1)[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--stock",
        "--train-stock",
        action="store_true",
        help="train the stock-Rasa baseline if its model is missing (~75 CPU-minutes), measure it",
    )
    parser.add_argument("--no-stock", action="store_true", help="skip the stock baseline")
    parser.add_argument(
        "--show-holdout",
        action="store_true",
        help="also list the failing holdout turns in var/eval/holdout_failures.md "
        "(final reports only: looking at them makes them seen)",
    )
    parser.add_argument("--replay", action="store_true", help="offline replay of cached parses")
    parser.add_argument("--tune", action="store_true", help="grid-search thresholds (tune split)")
    parser.add_argument("--model", type=Path, help="model file (default: current data hash)")
    args = parser.parse_args()

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    from scripts import eval_blind as blind

    cases = load_cases()
    model = args.model or ROOT / "models" / f"qiaowu-{model_hash(ROOT)}.tar.gz"
    cache = OUT_DIR / f"parse-{model.name.removesuffix('.tar.gz')}.json"
    if args.tune:
        tune(cases, json.loads(cache.read_text(encoding="utf-8")), log)
        return 0
    if args.replay:
        parses = json.loads(cache.read_text(encoding="utf-8"))
        outs = replay(cases, parses, default_decider())
        for split in ("tune", "holdout"):
            idx = [i for i, c in enumerate(cases) if c.split == split]
            print(split, metrics([cases[i] for i in idx], [outs[i] for i in idx]))
        return 0
    if not model.exists():
        log(f"no trained model {model.name}: run `make train` first")
        return 1
    blind.check_imports()  # fail before the ~10 minutes of the dev set, not after
    dialogues = blind.load_blind()
    if blind.holdout_sha256(dialogues) != blind.SEALED_HOLDOUT_SHA256:
        log("WARNING: the blind holdout files do not match SEALED_HOLDOUT_SHA256")
    notes: list[str] = []
    systems: dict[str, list[Outcome]] = {}
    with running_system(model, log) as system:
        systems["system"], parses = system_outcomes(cases, system, log)
        log(f"blind set: {sum(len(d.turns) for d in dialogues)} turns through the relay")
        blind_system = blind.system_results(
            dialogues, system.base, system.token, system.database_url, log
        )
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(parses, ensure_ascii=False), encoding="utf-8")
    systems["bm25"] = bm25_outcomes(cases)
    blind_bm25 = blind.bm25_results(dialogues)
    blind_stock = None
    if not args.no_stock:
        if args.stock:
            train_stock(log)
        stock = stock_model_path()
        if not stock.exists():
            # A baseline trained on slightly older data/nlu or kb still measures stock Rasa; it
            # costs ~75 CPU-minutes to retrain, so the newest one is used and the report says so.
            older = sorted(OUT_DIR.glob("stock-*.tar.gz"), key=lambda p: p.stat().st_mtime)
            if older:
                stock = older[-1]
                notes.append(
                    f"stock-Rasa baseline: `{stock.name}`, trained on earlier inputs (data/nlu "
                    "or kb changed since; `--stock` retrains it for the current ones)."
                )
        if stock.exists():
            with running_stock(stock, log) as server:
                systems["stock"] = stock_outcomes(cases, server)
                blind_stock = blind.stock_results(dialogues, server.base, server.token)
        else:
            notes.append(
                f"stock-Rasa baseline not measured: no model `{stock.name}` for the current "
                "inputs (`.venv/bin/python scripts/eval.py --stock` trains it once: Rasa's "
                "default DIET/ResponseSelector hyperparameters need ~75 CPU-minutes here)."
            )
    leaks = blind.holdout_leaks(dialogues)
    blind_lines, blind_headline = blind.report_sections(
        dialogues, blind_system, blind_bm25, blind_stock, leaks, args.show_holdout
    )
    report = write_report(cases, systems, model, notes, blind_lines, blind_headline)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
