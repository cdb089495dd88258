"""Emergencies inside long messages: the figures quoted in core/conversation/distress.py.

Builds letters of 500-1,800 characters from the blind set's tune KB and status questions, puts
one tune emergency into each (never first: the first window is read in any case), and adds as
many letters without one. Then runs the relay's emergency check (core.conversation.safety) on
each and prints how many emergencies it found, how many false alarms it raised, how many
characters the encoder read beyond each letter's first window (that one is embedded for Rasa
and the KB ranking anyway) and the check's CPU time. Tune split only: never the holdout.

    .venv/bin/python -m scripts.eval_letters        (after `make kb`: the exemplar cache)
"""

from __future__ import annotations

import random
import time

from core import encoder
from core.conversation.safety import get_safety
from core.encoder import QUERY_CHARS
from core.text import normalize
from scripts.eval_blind import load_blind

SIZES = (500, 1000, 1800)


def main() -> None:
    safety = get_safety()
    safety.warm()
    emergencies: list[str] = []
    questions: list[str] = []
    for dialogue in load_blind():
        if dialogue.split != "tune":
            continue
        for turn in dialogue.turns:
            if turn.expect == "emergency":
                emergencies.append(turn.text)
            elif turn.expect in ("kb_answer", "status_prompt") and 8 < len(turn.text) < 150:
                questions.append(turn.text)
    # a question that is itself an alarm would blur the count
    questions = [q for q in questions if safety.check(q) is None]
    rng = random.Random(7)

    def letter(size: int, emergency: str | None) -> str:
        pieces: list[str] = []
        while sum(len(p) + 4 for p in pieces) < size:
            pieces.append(rng.choice(questions).rstrip("。？?！!."))
        if emergency is not None:
            pieces.insert(
                rng.choice([1, len(pieces) // 2, len(pieces)]), emergency.rstrip("。？?！!.")
            )
        return "您好。" + "。另外，".join(pieces) + "。谢谢！"

    letters = [(letter(SIZES[i % 3], e), True) for i, e in enumerate(emergencies)]
    letters += [(letter(SIZES[i % 3], None), False) for i in range(150)]
    firsts = {normalize(text).strip()[:QUERY_CHARS] for text, _ in letters}
    read = [0]
    real = encoder.encode

    def counting(texts: list[str]):  # type: ignore[no-untyped-def]
        read[0] += sum(len(t) for t in texts if t not in firsts)
        return real(texts)

    encoder.encode = counting  # type: ignore[assignment]
    encoder.forget_recent()
    found = alarms = 0
    start = time.process_time()
    for text, is_emergency in letters:
        hit = safety.check(text) is not None
        found += hit and is_emergency
        alarms += hit and not is_emergency
    cpu = time.process_time() - start
    encoder.encode = real
    n_emergency = sum(1 for _, e in letters if e)
    print(
        f"emergencies found {found}/{n_emergency}, false alarms {alarms}/{len(letters) - n_emergency}, "
        f"encoder characters per letter beyond the first window {read[0] / len(letters):.0f}, "
        f"CPU of the check per letter {1000 * cpu / len(letters):.0f} ms"
    )


if __name__ == "__main__":
    main()
