"""Generate Rasa training data from kb/.

- `render_files` → `data/nlu/faq.yml`: a fixed-size, script-balanced sample of the KB questions
  as examples of the one `faq` intent. Rasa only learns *that* a message is a KB question; which
  entry answers it is decided in the action server against the live KB (BM25 + dense), so a KB
  edit needs no retraining. The sample is rewritten only by `python -m core.kb sample` (an
  explicit, retraining step), never by `make kb`.
- `render_retrieval_files` → the old retrieval-intent form (`faq/<kb_id>` + `utter_faq/<kb_id>`)
  for the stock-Rasa baseline of `make eval` only.

Output is deterministic (ids sorted, stable YAML).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml

from core.kb.loader import KnowledgeBase

HEADER = "# generated from kb/ for the stock-Rasa baseline; do not edit\n"
SAMPLE_HEADER = (
    "# sampled from kb/ by `python -m core.kb sample` (then retrain); do not edit by hand.\n"
    "# Rasa learns only the intent `faq`; the action server picks the entry from the live KB.\n"
)
FAQ_NLU = Path("nlu/faq.yml")
FAQ_RESPONSES = Path("nlu/responses/faq.yml")


class _LiteralDumper(yaml.SafeDumper):
    pass


def _str_presenter(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralDumper.add_representer(str, _str_presenter)


def _example(question: str) -> str:
    # Rasa reads "[text](entity)" as an entity annotation; these questions carry none.
    return question.replace("[", "【").replace("]", "】").replace("\n", " ").strip()


PER_ENTRY = 6  # examples per entry in the `faq` sample


def _script(text: str) -> str:
    from core.text import normalize

    if not any("\u4e00" <= ch <= "\u9fff" for ch in text):
        return "en"
    return (
        "hant" if normalize(text) != text.replace("？", "?") and normalize(text) != text else "hans"
    )


def _stable(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sample_questions(questions: list[str], k: int = PER_ENTRY) -> list[str]:
    """Up to `k` of the questions, round-robin over scripts (zh-Hans, zh-Hant, en) in a stable
    pseudo-random order, so every script of an entry is represented."""
    by_script: dict[str, list[str]] = {}
    for q in sorted(set(questions), key=_stable):
        by_script.setdefault(_script(q), []).append(q)
    out: list[str] = []
    while len(out) < k and any(by_script.values()):
        for script in ("hans", "en", "hant"):
            if by_script.get(script) and len(out) < k:
                out.append(by_script[script].pop(0))
    return sorted(out)


def render_files(kb: KnowledgeBase, per_entry: int = PER_ENTRY) -> dict[Path, str]:
    """`data/nlu/faq.yml`: the `faq` intent's examples, sampled from the KB questions."""
    examples: set[str] = set()
    for kb_id in sorted(kb.entries):
        entry = kb.entries[kb_id]
        examples.update(
            _example(q) for q in sample_questions([entry.title, *entry.questions], per_entry)
        )
    nlu = [{"intent": "faq", "examples": "".join(f"- {q}\n" for q in sorted(examples))}]
    return {FAQ_NLU: SAMPLE_HEADER + _dump({"version": "3.1", "nlu": nlu})}


def render_retrieval_files(kb: KnowledgeBase) -> dict[Path, str]:
    """Retrieval-intent training data and responses (the stock-Rasa baseline of `make eval`)."""
    nlu = []
    responses = {}
    for kb_id in sorted(kb.entries):
        entry = kb.entries[kb_id]
        examples = sorted({_example(q) for q in [entry.title, *entry.questions]})
        nlu.append({"intent": f"faq/{kb_id}", "examples": "".join(f"- {q}\n" for q in examples)})
        responses[f"utter_faq/{kb_id}"] = [{"text": entry.answer}]
    return {
        FAQ_NLU: HEADER + _dump({"version": "3.1", "nlu": nlu}),
        FAQ_RESPONSES: HEADER + _dump({"version": "3.1", "responses": responses}),
    }


def _dump(data: dict[str, object]) -> str:
    """Stable YAML: the keys in the order given, literal blocks, no line wrapping."""
    return yaml.dump(data, allow_unicode=True, sort_keys=False, width=1000, Dumper=_LiteralDumper)


def write_training_data(
    kb: KnowledgeBase,
    data_dir: Path,
    render: Callable[[KnowledgeBase], dict[Path, str]] = render_files,
) -> list[Path]:
    """Write the generated files under data_dir; return their paths."""
    written = []
    for rel, content in render(kb).items():
        path = data_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written
