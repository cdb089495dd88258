"""Emergency first on every path: in the relay, during an open ticket and while Rasa is down."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

import core.encoder
from core.conversation import semantic
from core.conversation.distress import clip, clips
from core.conversation.emergency import CLEAR_KEY, detect
from core.conversation.relay import Relay
from core.conversation.safety import Safety
from core.conversation.semantic import EmergencyThresholds, IntentExemplars, readings
from core.db.engine import session_scope
from core.db.models import HandoffMessage, HandoffTicket
from core.handoff.tickets import request_handoff
from tests.fakes import FakeRasa

SENDER = "web:safety-test"


def run(coro):
    return asyncio.run(coro)


class _Fake:
    """A stand-in encoder: each word is a direction, a text the normalised sum of its words."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}

    def __call__(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.split():
                out[row, self.vocab.setdefault(word, len(self.vocab) % 64)] += 1.0
            out[row] /= max(1e-6, float(np.linalg.norm(out[row])))
        return out


@pytest.fixture
def fake_encoder(monkeypatch):
    fake = _Fake()
    monkeypatch.setattr(core.encoder, "encode", fake)
    core.encoder.forget_recent()
    yield fake
    core.encoder.forget_recent()


def test_semantic_check_finds_an_emergency_without_keywords(fake_encoder):
    index = IntentExemplars(
        [
            ("report_emergency", "relative unreachable five days cambodia"),
            ("faq", "how apply apostille"),
            ("faq", "visa agency documents"),
        ]
    )
    t = EmergencyThresholds(floor=0.6, margin=0.05)
    assert index.looks_like_emergency("relative unreachable five days", t)
    assert not index.looks_like_emergency("how apply apostille", t)
    safety = Safety(lambda: index, t)
    hit = safety.check("relative unreachable five days cambodia")
    assert hit is not None and hit.kind == "danger"
    assert safety.check("how apply apostille") is None


def test_keywords_win_even_without_the_semantic_index():
    hit = Safety(lambda: None).check("我儿子在国外被绑架了，对方要赎金")
    assert hit is not None and hit.kind == "ransom"


def test_a_long_message_is_read_by_its_start_and_its_sentences_of_distress():
    assert readings("short", 120, 3) == ["short"]
    questions = "我想咨询一下签证材料的问题。认证要几天？" * 20
    # ordinary questions only: the first window (the one Rasa embeds anyway), nothing more
    assert readings(questions, 120, 3) == [questions[:120]]
    letter = questions + "另外，我弟弟去缅甸五天了，一直联系不上。" + questions
    parts = readings(letter, 120, 3)
    assert parts[0] == letter[:120]
    assert parts[1:] == ["我弟弟去缅甸五天了，一直联系不上。"]  # the sentence, without "另外"


def test_a_clip_costs_about_forty_chinese_characters_or_three_times_as_many_latin_ones():
    sentence = "我们一家人上个月去了很多地方玩" * 5 + "昨天我爸在车站走失了" + "后来" * 30
    part = clip(sentence)
    assert "走失" in part and len(part) == 40
    english = "We travelled a lot last month and " * 6 + "my father went missing at the station"
    part = clip(english)
    assert "missing" in part and 40 < len(part) <= 120
    assert len(clips("一般问题。" * 40, 2)) == 0
    assert len(clips("他被打伤了。她失联了。有人绑架了他。" * 3, 2)) == 2


class _OnlyThis:
    """An index that sees an emergency in exactly one sentence (and nothing else)."""

    def __init__(self, sentence: str) -> None:
        self.sentence = sentence
        self.read: list[str] = []

    def assess(self, text, thresholds, ignore=None):
        index = IntentExemplars.__new__(IntentExemplars)
        index.emergency_margin = lambda part: (1.0, 0.0) if part == self.sentence else (0.0, 1.0)
        index.read = self.read
        return IntentExemplars.assess(index, text, thresholds, ignore)


def test_a_what_if_question_elsewhere_in_a_letter_does_not_hide_an_emergency():
    # Until 2026-12-04 a "what if" question or a request for a forged paper anywhere in a letter
    # switched the semantic check off for all of it, and the keyword rules' "what if" exception
    # read the whole letter too.
    situation = "我表弟在那边的工地干活，已经好几天没人见过他了。"
    letter = "出国时护照要是丢了一般怎么补？" * 8 + situation + "谢谢。"
    assert Safety(lambda: _OnlyThis("我表弟在那边的工地干活,已经好几天没人见过他了.")).check(letter)
    assert detect("出国时护照要是丢了一般怎么补？另外，我老公在迪拜被警察抓了。") is not None
    assert detect("出国时护照要是丢了一般怎么补") is None
    assert detect("要是在国外被警察抓了一般怎么办") is None


def test_emergency_buried_in_a_long_message_is_found():
    letter = (
        "我想咨询一下签证材料的问题。" * 60
        + "另外我弟弟在泰国被绑架了，他们要赎金。"
        + "谢谢。" * 50
    )
    assert Safety().check(letter) is not None


def test_relay_marks_an_emergency_for_rasa(sessions):
    rasa = FakeRasa()
    relay = Relay(rasa.client(), sessions)
    run(relay.handle(SENDER, "救命，我在国外被抢劫了"))
    assert rasa.received[-1]["metadata"]["route"] == "report_emergency"
    assert rasa.received[-1]["metadata"]["emergency"] == "danger"


@pytest.mark.parametrize(("evidence", "clear"), [("none", True), ("weak", None), (None, None)])
def test_relay_tells_rasa_when_the_check_found_no_sign_of_an_emergency(sessions, evidence, clear):
    # Only a semantic check that saw nothing lets Rasa overrule DIET's own report_emergency;
    # weak evidence, or keywords alone (no index), leave DIET its say.
    rasa = FakeRasa()
    safety = Safety(lambda: _Fixed(evidence) if evidence else None)
    run(Relay(rasa.client(), sessions, safety=safety).handle(SENDER, "我女儿在英国读研，算侨眷吗"))
    assert rasa.received[-1]["metadata"].get(CLEAR_KEY) is clear


def test_emergency_during_an_open_ticket_raises_it_and_gives_12308(sessions):
    with session_scope(sessions) as session:
        request_handoff(session, SENDER, "request_human")
    rasa = FakeRasa()
    relay = Relay(rasa.client(), sessions, handoff_hours=lambda lang: "工作日 9:00-17:00")
    replies = run(relay.handle(SENDER, "他们说我女儿在他们手上，要我马上打钱，不然撕票"))
    assert rasa.received == []  # the ticket has the conversation; Rasa is not asked
    payload = replies[0].custom
    assert payload["type"] == "emergency" and payload["hotline"] == "12308"
    assert "12308" in replies[0].text
    with session_scope(sessions) as session:
        ticket = session.scalars(select(HandoffTicket)).one()
        assert ticket.priority == "urgent" and payload["ticket"] == ticket.id
        texts = [m.text for m in session.scalars(select(HandoffMessage))]
        assert any("撕票" in t for t in texts)  # the message reached the staff too


def test_emergency_while_rasa_is_down_opens_an_urgent_ticket(sessions):
    rasa = FakeRasa()
    rasa.down = True
    relay = Relay(rasa.client(), sessions)
    replies = run(relay.handle(SENDER, "my son was kidnapped abroad and they want a ransom"))
    payload = replies[0].custom
    assert payload["type"] == "emergency" and payload["hotline"] == "12308"
    assert "12308" in replies[0].text and "Do not transfer" in replies[0].text
    with session_scope(sessions) as session:
        ticket = session.scalars(select(HandoffTicket)).one()
        assert ticket.priority == "urgent" and ticket.reason == "emergency:ransom"
        assert [m.text for m in session.scalars(select(HandoffMessage))] == [
            "my son was kidnapped abroad and they want a ransom"
        ]


def test_ordinary_message_while_rasa_is_down_is_parked_not_an_emergency(sessions):
    rasa = FakeRasa()
    rasa.down = True
    replies = run(Relay(rasa.client(), sessions).handle(SENDER, "附加证明书怎么办"))
    assert replies[0].custom["type"] == "unavailable"


@pytest.mark.parametrize(
    "text, kind",
    [
        ("我哥去了迪拜，五天了都没回消息", "missing"),
        ("my dad hasn't replied to anyone for three days, he is travelling in Peru", "missing"),
        ("酒店外面在开枪，我们不敢出门", "danger"),
        ("we are stuck in the hotel because of the flood and can't get out", "danger"),
        ("对方穿着警服视频，说我涉嫌洗钱，要我先交保证金", "fraud"),
        ("he says he is from the embassy and I have to wire money to a safe account", "fraud"),
    ],
)
def test_situations_without_the_old_keywords(text, kind):
    hit = Safety().check(text)
    assert hit is not None and hit.kind == kind


@pytest.mark.parametrize(
    "text",
    [
        "附加证明书怎么办理",
        "怎样分辨冒充使馆的骗子",
        "what does consular protection cover",
        "签证要几天",
    ],
)
def test_ordinary_questions_raise_no_alarm(text):
    assert Safety().check(text) is None


class _AlwaysEmergency:
    def assess(self, text, thresholds, ignore=None):
        return "emergency"


def test_a_what_if_question_skips_the_semantic_check():
    # The exemplars cannot tell "if my passport were lost" from "my passport is lost"; the KB
    # answers the first (passport_lost_abroad), so the second opinion is not asked.
    safety = Safety(lambda: _AlwaysEmergency())
    assert safety.check("出国时护照要是丢了一般怎么补") is None
    assert safety.check("我老公去缅甸五天没消息了，我很担心") is not None


def test_a_request_to_forge_or_for_a_private_number_is_not_read_as_danger():
    # Near distress wordings for the encoder (tune split, 2026-12-03); the keywords still apply.
    safety = Safety(lambda: _AlwaysEmergency())
    assert safety.check("有冇人可以整張假嘅出世紙") is None
    assert safety.check("把你们王科长的私人手机号发我") is None
    assert safety.check("帮我做个假护照，我在国外被绑架了") is not None


def test_the_nearest_emergency_example_must_lead_by_the_margin(fake_encoder):
    index = IntentExemplars([("report_emergency", "lost phone help"), ("faq", "lost receipt help")])
    tied = "lost help"  # equally near both
    emergency, other = index.emergency_margin(tied)
    assert abs(emergency - other) < 1e-6
    assert index.looks_like_emergency(tied, EmergencyThresholds(floor=0.5, margin=0.0))
    assert not index.looks_like_emergency(tied, EmergencyThresholds(floor=0.5))  # default margin


def test_evidence_below_the_margin_is_weak_and_far_below_it_none(fake_encoder):
    # words of their own: the index reuses vectors of texts other tests embedded
    index = IntentExemplars([("report_emergency", "stuck car aid"), ("faq", "stuck form aid")])
    tied = "stuck aid"  # margin 0: below `margin`, at `support` when that is 0
    assert index.assess(tied, EmergencyThresholds(floor=0.5, support=0.0)) == "weak"
    assert index.assess(tied, EmergencyThresholds(floor=0.5, support=0.005)) == "none"
    assert index.assess(tied, EmergencyThresholds(floor=0.5)) == "weak"  # a little behind counts
    assert index.assess("form", EmergencyThresholds(floor=0.5, support=0.0)) == "none"
    assert index.assess(tied, EmergencyThresholds(floor=0.999, support=0.0)) == "none"  # too far


class _Fixed:
    def __init__(self, evidence: str) -> None:
        self.evidence = evidence

    def assess(self, text, thresholds, ignore=None):
        return self.evidence


@pytest.mark.parametrize(
    ("evidence", "emergency", "clear"),
    [("emergency", True, False), ("weak", False, False), ("none", False, True)],
)
def test_the_assessment_says_when_a_message_is_clear(evidence, emergency, clear):
    verdict = Safety(lambda: _Fixed(evidence)).assess("我女儿在英国读研,那我们家算侨眷吗")
    assert (verdict.emergency is not None) == emergency
    assert verdict.clear is clear


def test_keywords_alone_never_call_a_message_clear():
    # Without the semantic index nobody looked beyond the keywords: DIET's guess keeps its say.
    assert Safety(lambda: None).assess("算了,不查了").clear is False
    assert Safety(lambda: _Fixed("none")).assess("我儿子在国外被绑架了").emergency is not None


class _Recording:
    """Flags every text it is asked about as an emergency, and remembers the texts."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def assess(self, text, thresholds, ignore=None):
        self.asked.append(text)
        return "emergency"


def test_a_request_for_a_person_is_not_read_as_a_missing_person():
    # "我要搵人" (Cantonese: I want a person) is near "looking for a missing person" for the
    # encoder: the semantic check reads the message without the request for a person.
    index = _Recording()
    safety = Safety(lambda: index)
    assert safety.check("转人工") is None and index.asked == []
    safety.check("講咗幾次都唔明，我要搵人")
    assert index.asked == []  # nothing left that shows a sign of distress
    safety.check("阿爸仲喺醫院，我要搵人")
    assert index.asked == ["阿爸仲喺医院,我"]
    # a missing relative named next to a request for a person is still checked, in full
    assert safety.check("我要搵人，我阿爸喺泰國冇咗聯絡三日") is not None


def test_kb_questions_are_non_emergency_exemplars_except_where_the_answer_gives_12308():
    from core.conversation.semantic import kb_negatives
    from core.services import get_kb

    kb = get_kb()
    negatives = kb_negatives(kb)
    assert negatives and {intent for intent, _ in negatives} == {"faq"}
    texts = {text for _, text in negatives}
    hotline = [k for k in kb.entries if "12308" in kb.answer(k, "zh")]
    others = [k for k in kb.entries if k not in hotline]
    assert hotline and others
    assert not any(semantic._plain(q) in texts for k in hotline for q in kb.entries[k].questions)
    assert all(semantic._plain(q) in texts for k in others for q in kb.entries[k].questions)


def test_a_nearer_kb_question_outweighs_an_emergency_example(fake_encoder):
    # The margin rule: the nearest example of any other intent — here a KB question — wins.
    emergencies = [("report_emergency", "police took my brother abroad"), ("faq", "apostille fee")]
    alone = IntentExemplars(emergencies)
    with_kb = IntentExemplars([*emergencies, ("faq", "can consulate make police release someone")])
    t = EmergencyThresholds(floor=0.3, margin=0.0)
    text = "can consulate make police release my brother"
    assert alone.looks_like_emergency(text, t)
    assert not with_kb.looks_like_emergency(text, t)


def test_a_kb_that_does_not_load_leaves_the_exemplars_without_kb_neighbours(tmp_path):
    (tmp_path / "broken.yml").write_text("id: [unclosed", encoding="utf-8")
    assert semantic._kb_negatives_from(tmp_path) == []


def test_the_relay_hands_rasa_the_vector_its_emergency_check_computed(sessions, fake_encoder):
    index = IntentExemplars([("report_emergency", "robbed abroad"), ("faq", "how apply apostille")])
    rasa = FakeRasa()
    relay = Relay(rasa.client(), sessions, safety=Safety(lambda: index))
    run(relay.handle(SENDER, "ＨＯＷ apply apostille "))
    hint = rasa.received[-1]["metadata"][core.encoder.KEY]
    assert hint["text"] == "HOW apply apostille"  # what Rasa embeds: normalised, stripped
    assert (core.encoder.from_hint("HOW apply apostille", {**hint, "tag": "x"})) is None
    # Nothing embedded this text (keywords only): Rasa encodes it itself, no hint is sent.
    run(Relay(rasa.client(), sessions).handle(SENDER, "what does an apostille cost"))
    assert core.encoder.KEY not in rasa.received[-1]["metadata"]


def test_the_checks_own_exemplars_are_emergencies_outside_the_training_data():
    # Exemplars of the semantic check only: DIET never trains on them (rasa train reads data/).
    from core.conversation.semantic import EXEMPLAR_DIR, load_labelled

    own = load_labelled(EXEMPLAR_DIR)
    assert len(own) >= 150 and {intent for intent, _ in own} == {"report_emergency"}
    assert not EXEMPLAR_DIR.resolve().is_relative_to(Path("data").resolve())
    training = {text for _, text in load_labelled(Path("data/nlu"))}
    assert not training & {text for _, text in own}


def test_get_exemplars_reads_the_checks_own_exemplars(tmp_path, fake_encoder):
    from core.conversation.semantic import _cache, get_exemplars

    data = tmp_path / "nlu"
    data.mkdir()
    (data / "x.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hello\n', encoding="utf-8"
    )
    _cache.clear()
    try:
        index = get_exemplars(data, None)
        assert index is not None
        assert int(index.is_emergency.sum()) >= 150 and "greet" in set(index.intents)
    finally:
        _cache.clear()


def test_a_request_for_a_person_with_no_sign_of_distress_is_not_danger():
    # The rest of "… Let me talk to a person." is read only when it shows a sign of distress.
    index = _Recording()
    safety = Safety(lambda: index)
    assert (
        safety.check("I don't have the phone I registered with anymore. Let me talk to a person.")
        is None
    )
    assert index.asked == []
    safety.check("我老公在那边被扣了三天,转人工")
    assert index.asked  # a sign: the check reads it (the keywords may already have)
    assert detect("Got mugged in Johannesburg, no wallet no phone no passport") is not None
