"""Schema of one KB entry (kb/<topic>/<id>.yml) and of the office settings file."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

TOPICS = (
    "rights_status",  # 华侨/归侨/侨眷 definitions, status recognition
    "rights_law",  # legal framework
    "resettlement",  # 华侨回国定居, using a passport in China
    "rights_education",  # 三侨生, 联考, schooling
    "rights_employment",  # jobs, social insurance, pensions, leaving China
    "rights_welfare",  # subsidies, hardship
    "rights_property",  # housing, remittances, donations, investment
    "rights_remedies",  # legal aid, channels, who does what
    "visa_agency",  # 因私签证代办
    "apostille",  # 附加证明书
    "legalization",  # 领事认证
    "apec_card",
    "invitation",
    "official_travel",
    "consular_protection",
    "complaints",
    "office",
    "other_services",
)

KB_ID_RE = re.compile(r"^[a-z][a-z0-9_]{2,59}$")  # "kb:" + id fits Telegram's 64-byte callback data
PENDING_PHRASE = "请以办公室最新通知为准"

NonEmpty = Annotated[str, Field(min_length=1)]


class Source(BaseModel):
    """A citation shown to the citizen under an answer."""

    model_config = ConfigDict(extra="forbid")
    title: NonEmpty
    url: HttpUrl


class Entry(BaseModel):
    """One curated question/answer unit; `id` is stable and never renamed once published."""

    model_config = ConfigDict(extra="forbid")
    id: str
    topic: str
    title: NonEmpty
    title_en: str | None = None
    questions: list[NonEmpty] = Field(min_length=8)
    answer: NonEmpty
    answer_en: str | None = None
    sources: list[Source] = Field(min_length=1)
    effective_from: dt.date
    last_reviewed: dt.date
    follow_up: list[str] = Field(default_factory=list)
    pending_verification: bool = False  # brief marks a fact 待核实: answer defers to the office

    @field_validator("id")
    @classmethod
    def _id_is_snake_case(cls, value: str) -> str:
        if not KB_ID_RE.match(value):
            raise ValueError("id must be snake_case: lower-case letters, digits, underscores")
        return value

    @field_validator("topic")
    @classmethod
    def _known_topic(cls, value: str) -> str:
        if value not in TOPICS:
            raise ValueError(f"unknown topic {value!r}; known: {', '.join(TOPICS)}")
        return value

    @field_validator("answer", "answer_en")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        return value.strip() if value else value


class OfficeSettings(BaseModel):
    """Office-specific facts (kb/office.yml). Answers reference them as {office.<field>}."""

    model_config = ConfigDict(extra="forbid")
    example: bool = True  # True while the file still holds the shipped example values
    office_name: NonEmpty
    qiaowu_department: NonEmpty
    address: NonEmpty
    hours: NonEmpty
    phone: NonEmpty
    website: NonEmpty
    handoff_hours: NonEmpty
    visa_agency_countries: NonEmpty
    legalization_scope: NonEmpty
    apec: NonEmpty
    invitation: NonEmpty
    legal_services: NonEmpty
    petition_channels: NonEmpty
    last_reviewed: dt.date

    @property
    def contact(self) -> str:
        """One line telling the citizen how to reach the office."""
        return f"{self.office_name}（地址：{self.address}；电话：{self.phone}；办公时间：{self.hours}）"
