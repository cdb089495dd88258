"""Generate the Rasa FAQ training data and retrieval responses from kb/ (`make kb`).

Output is deterministic (ids sorted, stable YAML) so a test can detect stale files.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from core.kb.loader import KnowledgeBase

HEADER = "# generated from kb/ by make kb; do not edit\n"
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


def render_files(kb: KnowledgeBase) -> dict[Path, str]:
    """File contents keyed by path relative to data/."""
    nlu = []
    responses = {}
    for kb_id in sorted(kb.entries):
        entry = kb.entries[kb_id]
        examples = sorted({_example(q) for q in [entry.title, *entry.questions]})
        nlu.append({"intent": f"faq/{kb_id}", "examples": "".join(f"- {q}\n" for q in examples)})
        responses[f"utter_faq/{kb_id}"] = [{"text": entry.answer}]
    dump = {"allow_unicode": True, "sort_keys": False, "width": 1000, "Dumper": _LiteralDumper}
    return {
        FAQ_NLU: HEADER + yaml.dump({"version": "3.1", "nlu": nlu}, **dump),
        FAQ_RESPONSES: HEADER + yaml.dump({"version": "3.1", "responses": responses}, **dump),
    }


def write_training_data(kb: KnowledgeBase, data_dir: Path) -> list[Path]:
    """Write the generated files under data_dir; return their paths."""
    written = []
    for rel, content in render_files(kb).items():
        path = data_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written
