"""Emergency detection: every kind, every script, and no false alarms on ordinary questions."""

from __future__ import annotations

import pytest

from core.conversation.emergency import detect, is_hypothetical


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("我儿子在泰国被人绑走了，对方要钱", "ransom"),
        ("有人打电话说是大使馆的，说我有包裹涉案要我转账", "fraud"),
        ("有人冒充領事館打電話叫我匯款", "fraud"),
        ("someone claiming to be chinese police told me to transfer money", "fraud"),
        ("我在国外被抢了，身上什么都没有了", "danger"),
        ("我在日本護照丟了", "passport_lost"),
        ("my brother was detained by police in dubai", "detained"),
        ("请问附加证明书怎么办理？另外我表弟在老挝被人扣押了要赎金", "ransom"),
        # Advice-seeking wording does not hide a fraud under way.
        ("怎么识别骗子？刚才有人冒充大使馆要我转账", "fraud"),
        ("how to spot a scam? i was scammed by a fake visa agent", "fraud"),
    ],
)
def test_detects(text, kind):
    found = detect(text)
    assert found is not None and found.kind == kind


@pytest.mark.parametrize(
    "text",
    [
        "附加证明书怎么办理",
        "使馆能帮我付医药费吗",
        "公安局开的无犯罪证明要认证吗",
        "大使馆让我补交材料怎么办",
        "签证被拒了怎么办",
        # Asking how to avoid fraud is a KB question (visa_scams), not an emergency.
        "怎么分辨代办签证的骗子",
        "如何防范冒充领事馆的诈骗电话",
        "how do i avoid visa scams",
    ],
)
def test_no_false_alarm(text):
    assert detect(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "快帮帮我，我被关起来了",
        "They locked me in a room and took my phone",
        "我老婆在日本生孩子大出血，医院要我们签字",
        "my father had a heart attack in Bangkok and is unconscious",
        "我爸去俄罗斯跟团，团走了他没跟上，现在一个人在车站",
        "we got separated from the tour group and my mother is stranded",
    ],
)
def test_situations_without_the_old_keywords_are_emergencies(text):
    assert detect(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "爸爸在国外病危，护照能加急办吗？",
        "我家是侨眷，老伴前年中风瘫痪了，有没有针对侨眷的救助？",
        "出国时护照要是丢了一般怎么补",
    ],
)
def test_a_relative_ill_at_home_or_a_what_if_question_is_not(text):
    assert detect(text) is None
    assert is_hypothetical(text) == ("要是" in text)


@pytest.mark.parametrize("text", ["help me!", "Please help us", "somebody help, we are trapped"])
def test_a_cry_for_help_is_an_emergency(text):
    assert detect(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "Can you help me with my visa application?",
        "please help me understand the apostille steps",
        "出国前在哪里登记一下，以防出事了能找到使馆",  # a precaution, not an event
    ],
)
def test_asking_for_help_with_a_question_is_not_an_emergency(text):
    assert detect(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "I can't see any way out, the pills are ready",
        "my brother was taken by armed men on the airport road",
        "she was hit by a motorbike and is lying in the street",
    ],
)
def test_batch_six_emergencies(text):
    assert detect(text) is not None


def test_an_insurance_claim_for_a_hospital_stay_is_not_an_emergency():
    assert detect("医保在外地住院怎么报销") is None
    assert detect("我爸在泰国住院了,昏迷不醒") is not None
