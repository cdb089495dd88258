"""Schema of one KB entry (kb/<topic>/<id>.yml) and of the office settings file."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

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
PENDING_PHRASE_EN = "check with the office"
POLICY_NOTE_ZH = "政策可能调整，以最新公告为准。"
POLICY_NOTE_EN = "Policies may change; the latest official notice prevails."

NonEmpty = Annotated[str, Field(min_length=1)]


class Source(BaseModel):
    """A citation shown to the citizen under an answer (依据).

    Official pages only (hosts in kb/sources_policy.yml, never a bare home page), unless marked
    `secondary: true` with the `reason` an editor accepted it (e.g. a reprint of an official
    notice whose original could not be found).
    """

    model_config = ConfigDict(extra="forbid")
    title: NonEmpty
    url: HttpUrl
    secondary: bool = False
    reason: str | None = None

    @model_validator(mode="after")
    def _secondary_has_reason(self) -> Source:
        if self.secondary and not (self.reason or "").strip():
            raise ValueError("a secondary: true source needs a non-empty reason")
        if self.reason is not None and not self.secondary:
            raise ValueError("reason is only for secondary: true sources")
        return self


class SourcePolicy(BaseModel):
    """Which hosts count as official (kb/sources_policy.yml)."""

    model_config = ConfigDict(extra="forbid")
    # A source's host must equal one of these or end with "." + one ("gov.cn" covers
    # mfa.gov.cn, flk.npc.gov.cn, embassy sites under china-embassy.gov.cn, …).
    official_hosts: list[NonEmpty] = Field(min_length=1)

    def is_official(self, host: str) -> bool:
        """True when `host` is one of the official hosts or a subdomain of one."""
        host = host.lower().rstrip(".")
        return any(host == h or host.endswith("." + h) for h in map(str.lower, self.official_hosts))


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


# Office facts shown in answers; each has an English twin `<field>_en` used by English answers.
OFFICE_TEXT_FIELDS = (
    "office_name",
    "qiaowu_department",
    "address",
    "hours",
    "phone",
    "website",
    "handoff_hours",
    "visa_agency_countries",
    "legalization_scope",
    "apec",
    "invitation",
    "legal_services",
    "petition_channels",
)


class OfficeSettings(BaseModel):
    """Office-specific facts (kb/office.yml). Answers reference them as {office.<field>};
    English answers as {office.<field>_en}."""

    model_config = ConfigDict(extra="forbid")
    example: bool = True  # True while the file still holds the shipped example values
    office_name: NonEmpty
    office_name_en: NonEmpty
    qiaowu_department: NonEmpty
    qiaowu_department_en: NonEmpty
    address: NonEmpty
    address_en: NonEmpty
    hours: NonEmpty
    hours_en: NonEmpty
    phone: NonEmpty
    phone_en: NonEmpty
    website: NonEmpty
    website_en: NonEmpty
    website_url: HttpUrl | None = None  # linked from the answer footer when set
    handoff_hours: NonEmpty
    handoff_hours_en: NonEmpty
    visa_agency_countries: NonEmpty
    visa_agency_countries_en: NonEmpty
    legalization_scope: NonEmpty
    legalization_scope_en: NonEmpty
    apec: NonEmpty
    apec_en: NonEmpty
    invitation: NonEmpty
    invitation_en: NonEmpty
    legal_services: NonEmpty
    legal_services_en: NonEmpty
    petition_channels: NonEmpty
    petition_channels_en: NonEmpty
    last_reviewed: dt.date

    @property
    def contact(self) -> str:
        """One line telling the citizen how to reach the office."""
        return f"{self.office_name}（地址：{self.address}；电话：{self.phone}；办公时间：{self.hours}）"

    @property
    def contact_en(self) -> str:
        """`contact` in English."""
        return (
            f"{self.office_name_en} (address: {self.address_en}; phone: {self.phone_en}; "
            f"hours: {self.hours_en})"
        )

    def contact_for(self, lang: str) -> str:
        """`contact` in the answer's language."""
        return self.contact_en if lang == "en" else self.contact

    def short_contact(self, lang: str) -> str:
        """Name and phone only, for the one-line answer footer."""
        if lang == "en":
            return f"{self.office_name_en}, phone: {self.phone_en}"
        return f"{self.office_name}，电话：{self.phone}"
