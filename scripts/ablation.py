"""Pipeline ablation (`make ablation`): what each part of the Rasa pipeline buys, and costs.

For each variant of config.yml the NLU is trained (`rasa train nlu`, CPU time and wall time
measured) and parses the **tune** split of the blind single-turn cases (never the holdout) and
the dev set; the table in docs/ablation.md gives, per variant, the routing accuracy per expected
reply type (the intent the message must get: status → ask_case_status, handoff → request_human,
…), the English and traditional rows, training time and model size. The `+selector` variant
trains the old ResponseSelector on the retrieval-intent form of the KB and replays the dev set
through the action server's ranker with and without its signal — the question issue 19 asks.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from core.kb.generate import render_retrieval_files
from scripts.eval import load_cases
from scripts.eval_blind import load_blind

ROOT = Path(__file__).resolve().parents[1]
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"
OUT = ROOT / "var" / "ablation"
REPORT = ROOT / "docs" / "ablation.md"
KEPT = "<!-- kept by make ablation -->"

# Expected reply type → the intents that route a message to it.
ROUTE = {
    "status_prompt": {"ask_case_status", "inform"},
    "handoff": {"request_human"},
    "emergency": {"report_emergency"},
    "greeting": {"greet"},
    "thanks": {"thank"},
    "goodbye": {"goodbye"},
    "out_of_scope": {"out_of_scope", "nlu_fallback"},
    "fallback": {"out_of_scope", "nlu_fallback"},
    "kb_answer": {"faq", "nlu_fallback"},  # nlu_fallback also reaches the KB ranker
}

PARSE_SCRIPT = r"""
import asyncio, json, sys
from rasa.core.agent import Agent
agent = Agent.load(sys.argv[1])
texts = json.load(sys.stdin)
async def main():
    out = []
    for t in texts:
        p = await agent.parse_message(t)
        out.append({"intent": (p.get("intent") or {}).get("name"),
                    "response_selector": p.get("response_selector")})
    return out
print("RESULT " + json.dumps(asyncio.run(main()), ensure_ascii=False))
"""


def pipeline(config: dict[str, Any]) -> list[dict[str, Any]]:
    return config["pipeline"]


def without(name: str):
    def edit(config: dict[str, Any]) -> None:
        config["pipeline"] = [c for c in pipeline(config) if not c["name"].endswith(name)]

    return edit


def diet_epochs(epochs: int):
    def edit(config: dict[str, Any]) -> None:
        for c in pipeline(config):
            if c["name"] == "DIETClassifier":
                c["epochs"] = epochs

    return edit


def no_char_ngrams(config: dict[str, Any]) -> None:
    config["pipeline"] = [c for c in pipeline(config) if c.get("analyzer") != "char_wb"]


def with_selector(config: dict[str, Any]) -> None:
    steps = pipeline(config)
    at = next(i for i, c in enumerate(steps) if c["name"] == "DIETClassifier") + 1
    steps.insert(
        at,
        {
            "name": "ResponseSelector",
            "retrieval_intent": "faq",
            "epochs": 120,
            "constrain_similarities": True,
            "random_seed": 42,
        },
    )


# The emergency check's own exemplars, tried as DIET data by the `+emergencies` rows.
EMERGENCIES = ("core/conversation/exemplars/emergency.yml", "near_miss_faq.yml")
# Candidate training data an ablation row adds to data/nlu (kept out of data/, which `rasa train`
# reads whole); docs/ablation.md says why it is not in data/nlu.
CANDIDATES = ROOT / "scripts" / "ablation_data"


def with_data(*names: str):
    """Train with the candidate files scripts/ablation_data/<name> (or a path from the repository
    root) added to data/nlu."""

    def edit(config: dict[str, Any], data: Path) -> None:
        for name in names:
            source = CANDIDATES / name if (CANDIDATES / name).exists() else ROOT / name
            (data / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")

    return edit


def config_edit(change):
    """A pipeline change only (the training data stays data/nlu)."""

    def edit(config: dict[str, Any], data: Path) -> None:
        change(config)

    return edit


VARIANTS = {
    "current": [],
    "-e5 features": [config_edit(without("E5SentenceFeaturizer"))],
    "-char n-grams": [config_edit(no_char_ngrams)],
    "DIET 30 epochs": [config_edit(diet_epochs(30))],
    "DIET 120 epochs": [config_edit(diet_epochs(120))],
    "+selector": [config_edit(with_selector)],
    # Issue 16's question "more varied data?": the rows without the routing rules show what DIET
    # itself learnt (e.g. its own emergency recall).
    "-route rules": [config_edit(without("RouteOverride"))],
    "+varied data": [with_data("varied.yml")],
    "+varied data -route rules": [with_data("varied.yml"), config_edit(without("RouteOverride"))],
    "+varied +emergencies": [with_data("varied.yml", *EMERGENCIES)],
    "+varied +emergencies -route rules": [
        with_data("varied.yml", *EMERGENCIES),
        config_edit(without("RouteOverride")),
    ],
}


def cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def train(name: str, edits: list, log) -> tuple[Path, float, float]:
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    work = OUT / name.replace(" ", "_").replace("+", "plus_").replace("-", "minus_")
    work.mkdir(parents=True, exist_ok=True)
    nlu = Path(tempfile.mkdtemp(prefix="ablation-"))
    for p in (ROOT / "data" / "nlu").glob("*.yml"):
        if name != "+selector" or p.name != "faq.yml":
            (nlu / p.name).write_text(p.read_text(encoding="utf-8"), encoding="utf-8")
    for edit in edits:
        edit(config, nlu)
    (work / "config.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    if name == "+selector":
        from core.services import get_kb

        for rel, content in render_retrieval_files(get_kb()).items():
            (nlu / rel.name if "responses" not in str(rel) else nlu / "responses.yml").write_text(
                content, encoding="utf-8"
            )
    model = work / "model.tar.gz"
    # A variant's model is reused only while its config and training data are unchanged.
    digest = hashlib.sha256((work / "config.yml").read_bytes())
    for path in sorted(nlu.glob("*.yml")):
        digest.update(path.name.encode() + path.read_bytes())
    stamp = work / "inputs.sha256"
    cpu0, wall0 = cpu_children(), time.monotonic()
    if not model.exists() or not stamp.exists() or stamp.read_text() != digest.hexdigest():
        log(f"training {name} …")
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_ENABLE_ONEDNN_OPTS": "0"}
        subprocess.run(
            [str(RASA), "train", "nlu", "-c", str(work / "config.yml"), "--nlu", str(nlu),
             "--out", str(work), "--fixed-model-name", "model", "--quiet"],
            cwd=ROOT, env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        stamp.write_text(digest.hexdigest())
        (work / "timing.json").write_text(
            json.dumps({"cpu_s": cpu_children() - cpu0, "wall_s": time.monotonic() - wall0})
        )
    timing = json.loads((work / "timing.json").read_text())
    return model, timing["cpu_s"], timing["wall_s"]


def parse(model: Path, texts: list[str]) -> list[dict[str, Any]]:
    done = subprocess.run(
        [str(RASA_PY), "-c", PARSE_SCRIPT, str(model)],
        input=json.dumps(texts, ensure_ascii=False), capture_output=True, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TF_ENABLE_ONEDNN_OPTS": "0"}, check=True,
    )  # fmt: skip
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def routing_rows(cases: list[Any], parses: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for case, p in zip(cases, parses, strict=True):
        turn = case.turns[0]
        for key in (turn.expect, f"script:{case.script}", "all"):
            total[key] += 1
            right[key] += p["intent"] in ROUTE.get(turn.expect, set())
    return {k: (right[k], total[k]) for k in total}


def kb_top1(parses: list[dict[str, Any]] | None, dev: list[Any], use_selector: bool) -> float:
    from actions.kb_answer import decide_kb

    ok = n = 0
    for i, case in enumerate(dev):
        if case.kind != "in_scope":
            continue
        parse = parses[i] if parses is not None and use_selector else {}
        ranking = decide_kb(case.text, parse)
        n += 1
        ok += ranking.decision == "answer" and case.right(ranking.kb_ids[0])
    return 100.0 * ok / max(1, n)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="variants to run (default: all)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    cases = [d for d in load_blind() if d.single and d.split == "tune"]
    dev = load_cases()
    texts = [c.turns[0].text for c in cases]
    results: dict[str, dict[str, Any]] = {}
    for name, edits in VARIANTS.items():
        if args.only and name not in args.only:
            continue
        model, cpu_s, wall_s = train(name, edits, lambda m: print(m, file=sys.stderr))
        parses = parse(model, texts)
        row: dict[str, Any] = {
            "routing": routing_rows(cases, parses),
            "cpu_s": cpu_s,
            "wall_s": wall_s,
            "size_mb": model.stat().st_size / 1e6,
        }
        if name == "+selector":
            dev_parses = parse(model, [c.text for c in dev])
            row["kb_with"] = kb_top1(dev_parses, dev, True)
            row["kb_without"] = kb_top1(None, dev, False)
        results[name] = row
        print(name, json.dumps(row["routing"]["all"]), f"{cpu_s:.0f} CPU-s", file=sys.stderr)
    write_report(results, len(cases))
    return 0


def write_report(results: dict[str, dict[str, Any]], n: int) -> None:
    types = ["status_prompt", "handoff", "emergency", "greeting", "thanks", "goodbye",
             "out_of_scope", "kb_answer"]  # fmt: skip
    cols = [*types, "script:hans", "script:hant", "script:en", "all"]
    lines = [
        "# Pipeline ablation",
        "",
        f"Written by `make ablation` ({time.strftime('%Y-%m-%d')}). Each variant changes one thing in",
        "config.yml; the NLU is trained on data/nlu and parses the **tune** split of the blind",
        f"single-turn cases ({n} cases; the holdout is never parsed here). A cell is the share of",
        "cases whose predicted intent routes to the expected reply type (after the routing rules,",
        "which are part of the pipeline). Training: CPU seconds of `rasa train nlu` on this machine",
        "(shared, 2 cores: wall time is noisy, CPU time less so).",
        "",
        "| variant | "
        + " | ".join(c.replace("script:", "") for c in cols)
        + " | train CPU-s | wall s | model MB |",
        "|---|" + "---:|" * (len(cols) + 3),
    ]
    for name, row in results.items():
        cells = []
        for c in cols:
            right, total = row["routing"].get(c, (0, 0))
            cells.append(f"{100 * right / total:.0f} %" if total else "–")
        lines.append(
            f"| {name} | "
            + " | ".join(cells)
            + f" | {row['cpu_s']:.0f} | {row['wall_s']:.0f} | {row['size_mb']:.1f} |"
        )
    if "+selector" in results:
        r = results["+selector"]
        lines += [
            "",
            "**ResponseSelector.** KB top-1 on the dev set's in-scope cases through the action server's",
            f"ranker: {r['kb_with']:.1f} % with the selector's signal, {r['kb_without']:.1f} % without it",
            f"(BM25 + dense only); the selector costs {r['cpu_s']:.0f} CPU-s of training against",
            f"{results.get('current', r)['cpu_s']:.0f} for the current pipeline, and every KB edit would retrain it.",
        ]
    # Hand-written findings below the marker (decisions and the runs behind them) survive a rerun.
    kept = REPORT.read_text(encoding="utf-8").partition(KEPT)[2] if REPORT.exists() else ""
    if kept:
        lines += ["", KEPT + kept.rstrip("\n")]
    REPORT.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
