"""`make report`: grouping of unanswered questions and the feedback tally."""

from __future__ import annotations

import datetime as dt

from core.db.models import Feedback, UnansweredQuestion
from scripts.report import feedback_summary, main, top_unanswered


def test_groups_variants_and_orders_by_count(sessions, sqlite_url, capsys):
    with sessions.begin() as session:
        for text in ["户口怎么迁？", "戶口怎麼遷", "户口怎么迁", "今天天气"]:
            session.add(UnansweredQuestion(kind="out_of_scope", text=text))
        session.add(UnansweredQuestion(kind="fallback", text="今天天气!"))
        session.add(Feedback(kb_id="visa_refusal", helpful=False))
        session.add(Feedback(kb_id="visa_refusal", helpful=True))
        session.add(Feedback(kb_id="office_contact", helpful=True))
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    with sessions() as session:
        top = top_unanswered(session, since, 10)
        assert [(n, kinds) for _, n, kinds in top] == [
            (3, "out_of_scope"),
            (2, "fallback,out_of_scope"),
        ]
        assert feedback_summary(session, 10)[0] == ("visa_refusal", 1, 1)
    assert main(["--database-url", sqlite_url]) == 0
    out = capsys.readouterr().out
    assert "   3  [out_of_scope]" in out and "visa_refusal: 1 / 1" in out
