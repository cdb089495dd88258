"""`make report`: the most frequent unanswered questions and the least helpful answers.

Reads DATABASE_URL (core.settings). Texts were stored with digits masked and without senders, so
the report holds no personal data. Use it to decide which questions to add to kb/ (or to
data/nlu/out_of_scope.yml) next.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections import Counter

from sqlalchemy import func, select

from core.db.engine import build_engine, session_factory, session_scope
from core.db.models import Feedback, UnansweredQuestion
from core.kb.search import question_key
from core.settings import get_settings


def top_unanswered(session, since: dt.datetime, limit: int) -> list[tuple[str, int, str]]:  # type: ignore[no-untyped-def]
    """(example text, count, kinds) for the most frequent questions, grouped ignoring
    script, width, case and punctuation."""
    counts: Counter[str] = Counter()
    example: dict[str, str] = {}
    kinds: dict[str, set[str]] = {}
    rows = session.execute(
        select(UnansweredQuestion.text, UnansweredQuestion.kind).where(
            UnansweredQuestion.created_at >= since
        )
    )
    for text, kind in rows:
        key = question_key(text) or text
        counts[key] += 1
        example.setdefault(key, text)
        kinds.setdefault(key, set()).add(kind)
    return [(example[k], n, ",".join(sorted(kinds[k]))) for k, n in counts.most_common(limit)]


def feedback_summary(session, limit: int) -> list[tuple[str, int, int]]:  # type: ignore[no-untyped-def]
    """(kb_id, 👍, 👎) for the entries with the most 👎."""
    rows = session.execute(
        select(Feedback.kb_id, Feedback.helpful, func.count()).group_by(
            Feedback.kb_id, Feedback.helpful
        )
    ).all()
    tally: dict[str, list[int]] = {}
    for kb_id, is_helpful, n in rows:
        tally.setdefault(kb_id, [0, 0])[0 if is_helpful else 1] += n
    ranked = sorted(tally.items(), key=lambda kv: (-kv[1][1], kv[0]))
    return [(kb_id, up, down) for kb_id, (up, down) in ranked[:limit]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Top unanswered questions and 👎 answers")
    parser.add_argument("--days", type=int, default=30, help="look back this many days")
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    url = args.database_url or get_settings().database_url
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=args.days)
    with session_scope(session_factory(build_engine(url))) as session:
        unanswered = top_unanswered(session, since, args.limit)
        feedback = feedback_summary(session, args.limit)
    print(f"Top unanswered questions, last {args.days} days (digits masked):")
    if not unanswered:
        print("  none")
    for text, n, kinds in unanswered:
        print(f"  {n:4d}  [{kinds}]  {text}")
    print("\nAnswers with the most 👎 (kb_id: 👍 / 👎):")
    if not feedback:
        print("  none")
    for kb_id, up, down in feedback:
        print(f"  {kb_id}: {up} / {down}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
