"""The one topic list of the project: every topic id (core.kb.schema), its Chinese label, and
the group of returnee-rights (侨法) topics used by the daily tip and the Telegram menu."""

from __future__ import annotations

from core.kb.schema import TOPICS

__all__ = ["RIGHTS_TOPICS", "TOPICS", "TOPIC_LABELS", "label"]

# 侨法: returnee and family rights, and settling back in China (menu order).
RIGHTS_TOPICS = (
    "rights_status",
    "rights_law",
    "resettlement",
    "rights_education",
    "rights_employment",
    "rights_welfare",
    "rights_property",
    "rights_remedies",
)
TOPIC_LABELS = {
    "rights_status": "华侨、归侨、侨眷身份",
    "rights_law": "涉侨法律法规",
    "resettlement": "华侨回国定居",
    "rights_education": "教育与升学",
    "rights_employment": "就业与社会保险",
    "rights_welfare": "帮扶与救助",
    "rights_property": "房产、汇款与投资",
    "rights_remedies": "维权渠道",
    "visa_agency": "因私签证代办",
    "apostille": "附加证明书",
    "legalization": "领事认证",
}
assert set(RIGHTS_TOPICS) <= set(TOPICS) and set(TOPIC_LABELS) <= set(TOPICS)


def label(topic: str) -> str:
    """The topic's Chinese label, or its id when it has none."""
    return TOPIC_LABELS.get(topic, topic)
