"""Emergency detection and the exact wording of brief §7.3 (hotline first, then explanation).

Detection is keyword based on normalised text so it also works inside long messages, in
traditional Chinese and in English; the NLU intent `report_emergency` is a second route in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.conversation.distress import sentences
from core.text import normalize
from core.texts import t

HOTLINE = "12308"
# The relay's metadata flag telling Rasa that the emergency check (keywords and the semantic
# check) saw no sign of an emergency at all: the NLU's `report_emergency` alone is then not
# enough (rasa_addons.routing).
CLEAR_KEY = "emergency_clear"


@dataclass(frozen=True)
class Emergency:
    """One emergency kind; its texts (hotline first) are in the catalogue, `emergency.<kind>`."""

    kind: str
    level: str  # P0 → urgent ticket immediately; P1 → ticket offered/opened as normal urgent

    @property
    def text_zh(self) -> str:
        """The template in Chinese."""
        return t(f"emergency.{self.kind}", "zh")

    @property
    def text_en(self) -> str:
        """The template in English."""
        return t(f"emergency.{self.kind}", "en")


_TEMPLATES = {
    kind: Emergency(kind, level)
    for kind, level in (
        ("danger", "P0"),
        ("ransom", "P0"),
        ("detained", "P1"),
        ("passport_lost", "P1"),
        ("fraud", "P1"),
        ("missing", "P1"),
        ("foreigner_in_china", "P1"),
        ("self_harm", "P0"),
    )
}

# Ordered: the first matching kind wins (more specific before general).
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "self_harm",
        re.compile(
            r"不想活|轻生|自杀|想死|i want to die|kill myself|suicid|end it all|end my life|"
            r"(pills|rope) (are |is )?ready|(can'?t|cannot) see (any|a) way out|no reason to (live|go on)"
        ),
    ),
    (
        "ransom",
        re.compile(
            r"赎金|撕票|ransom|(绑架|绑走|被绑).{0,12}(钱|汇款|转账)|(钱|汇款|转账).{0,12}绑架"
        ),
    ),
    (
        "fraud",
        re.compile(
            r"诈骗|骗子|被骗|冒充.{0,6}(使馆|领馆|领事馆|公安|警察|法院|检察院)|洗钱|转账.{0,8}(安全账户|保证金)|"
            r"(使馆|领馆|领事馆|公安|警察|法院|检察院).{0,20}(要我|叫我|让我).{0,6}(转账|汇款|打钱|付款)|"
            r"(交|转|付|汇|打).{0,4}(保证金|保释金|解冻费|安全账户)|穿着?警服.{0,30}(钱|转|交)|"
            r"涉嫌.{0,30}(交|转|汇|打).{0,6}(钱|款|金)|不让我(跟|和|告诉)(任何人|家人|别人)|"
            r"scam|fraud|safe account|(claim|pretend|say|said)\w*.{0,40}(police|embassy|consulate)"
            r".{0,60}(transfer|send|pay|wire)"
        ),
    ),
    (
        "passport_lost",
        re.compile(
            r"护照.{0,6}(丢|掉|遗失|被偷|被抢|不见|没了)|(丢|遗失|被偷|被抢).{0,6}护照|(lost|stolen).{0,12}passport|passport.{0,12}(lost|stolen)"
        ),
    ),
    (
        "detained",
        re.compile(
            r"被.{0,4}(抓|拘|捕|扣押|关押)|抓走|拘留|逮捕|坐牢|进了监狱|arrested|detained|in jail|in prison|"
            # "俾人禁錮咗" (Cantonese, normalised): held against one's will
            r"禁锢|软禁|囚禁|非法拘禁|"
            r"关起来|被关|关在.{0,8}(里|屋|房)|锁在.{0,8}(里|屋|房)|不放(我|我们|他|她|人)(走|出来|出去)|"
            r"locked (me |us |him |her |them )?(up|in)|being held|held (captive|hostage)"
        ),
    ),
    (
        "missing",
        re.compile(
            r"失联|联系不上|失踪|找不到人|下落不明|"
            r"(几|两|三|四|五|六|七|八|九|十|多|好几|\d+)(天|日|个?星期|个?礼拜)(了)?(都|一直|也|还)?"
            r"(没|没有|不|冇)(再)?(回|接|联系|消息|音讯|动静|覆)|"
            r"(没|不|冇)(再)?(回|覆)(消息|信息|讯息|微信|电话).{0,20}(电话|手机).{0,4}关机|"
            r"(开始|以来|之后|后来)(就|都)?(没|冇|不)(再)?(回|覆|接)(消息|信息|讯息|微信|电话)|"
            r"(没|冇)(有)?(返|回)(来|嚟|家|酒店|房间|宿舍)(过)?.{0,20}(担心|怕|惊|急|找不到)|"
            r"电话(一直|也)?关机.{0,20}(没|不|冇)(回|消息)|"
            # "從昨晚到現在都沒接電話": silent since a given time
            r"(从|由|自)(昨晚|昨天|前天|前晚|上周|上星期|上礼拜|那天|当天|\d+号)(开始)?(到现在|至今|以来|起)"
            r"(都|一直|也|还)?(没|冇|未|不)(有)?(接|回|覆|联系|消息)|"
            r"missing|can'?t reach|(hasn'?t|haven'?t|has not|have not) (answered|replied|called|been heard)"
            r".{0,30}(for|in) (\w+ )?(days|a week)|no (news|word|contact) (from|since).{0,30}(days|week)"
        ),
    ),
    (
        "danger",
        re.compile(
            r"绑架|被绑|绑走|袭击|抢劫|被抢|被困|战乱|撤离|车祸|(?<!方便)(?<!以防)(?<!万一)(?<!要是)(?<!如果)(?<!假如)(?<!以免)(?<!免得)(?<!怕)出事了|受伤|住院(?![^。？?]{0,8}(报销|医保|费用|押金))|生命危险|救命|扣押|不让我走|"
            r"洪水|地震|海啸|台风|山火|火灾|爆炸|暴动|暴乱|骚乱|枪击|开枪|恐袭|放火|打仗|政变|"
            r"导弹|飞弹|空袭|炮击|轰炸|救救|救(我|他|她|佢)(?!济|助)|"
            # a medical emergency abroad, a relative stranded or lost on the way
            r"大出血|昏迷|抢救|重伤|休克|心脏病(发|犯)|重症监护|icu|送(进)?急诊|"
            r"走丢|走散|跟丢|没跟上|被(扔|丢)下|一个人(在|困在)(车站|机场|火车站|街上|路边)|"
            r"bleeding|unconscious|intensive care|heart attack|emergency room|"
            r"got separated|stranded|left behind|lost (my|our) (child|son|daughter|father|mother|dad|mum|mom)|"
            r"(被)?(围|困)住|出不去|走不了|被打|打伤|被人打|"
            r"kidnap|attacked|robbed|mugged|trapped|evacuat|accident|hospitali[sz]ed|in danger|"
            r"(taken|abducted|seized|grabbed) by (armed |masked )?(men|gunmen|strangers|a gang)|"
            r"hit by a (car|scooter|motorbike|motorcycle|truck|bus|taxi|van)|lying (on|in) the (road|street)|"
            # a cry for help, not "can you help me debug this" / "help me with my visa"
            r"^(please |somebody |someone )?help( me| us)?( please)?[!.]*$|help me!|(somebody|someone) help|"
            r"earthquake|flood|tsunami|riot|shooting|gunfire|explosion|on fire|beaten|assaulted|"
            r"missiles?\b|air ?strikes?|bombing|shelling|"
            r"held (at|by) (the )?(airport|border|immigration|customs|police)|detained at|"
            r"won'?t let (me|us|him|her|them) (leave|go|call)|can'?t get out"
        ),
    ),
]
# "How do I spot a fake visa agent?" asks for advice, not help with a fraud under way: it goes to
# the KB (visa_scams) unless the message also says the asker is being or was defrauded.
_PREVENTION = re.compile(
    r"(怎么|怎样|如何|咋|哪些|什么)(分辨|识别|辨别|辨认|防范|防止|避免|预防|看出|区分|防)|防骗|反诈|提防|"
    r"how (to|do i|can i|should i|do you) (spot|avoid|recogni[sz]e|tell|identify|protect)|avoid\w* (a |being )?scam"
)
_VICTIM = re.compile(
    r"被骗了|骗了我|我被骗|已经(转|汇|付|打)|转了|汇了|打了.{0,4}钱|要我|叫我|让我|正在|刚才|刚刚|"
    r"i (was|got|have been|am being|'ve been) (scammed|defrauded|cheated)|told me to|asked me to|"
    r"i (sent|transferred|paid)"
)
_FOREIGNER = re.compile(r"\b(foreigner|i am a foreign|in china)\b|外国人在(中国|华)")
_ABROAD_HINT = re.compile(
    r"国外|境外|海外|abroad|overseas|在(美国|日本|英国|法国|德国|泰国|缅甸|柬埔寨|意大利|西班牙|加拿大|澳大利亚)"
)


# "出国时护照要是丢了一般怎么补" asks what one would do: the KB answers it (passport_lost_abroad).
# Only for the kinds whose KB entry gives the same steps; danger, ransom, fraud and self-harm are
# emergencies however they are phrased.
_HYPOTHETICAL = re.compile(
    r"要是|如果|万一|假如|假设|一般|通常|\bif\b|\bin case\b|\bwhat happens\b"
)
_HYPOTHETICAL_KINDS = frozenset({"passport_lost", "detained", "missing"})


def is_hypothetical(text: str) -> bool:
    """A "what would I do if …" question about a kind the KB answers ("出国时护照要是丢了一般
    怎么补"): neither the keywords nor the semantic check treat it as an emergency."""
    plain = normalize(text).lower()
    if not _HYPOTHETICAL.search(plain):
        return False
    return any(kind in _HYPOTHETICAL_KINDS and p.search(plain) for kind, p in _PATTERNS)


def _asked_as_hypothesis(plain: str, pattern: re.Pattern[str]) -> bool:
    """Every match of the pattern sits in a sentence that asks "what if" (so a "what if"
    question elsewhere in a letter does not hide a real detention or a missing relative)."""
    asked = [(o, o + len(s)) for o, s in sentences(plain) if _HYPOTHETICAL.search(s)]
    return all(any(a <= m.start() < b for a, b in asked) for m in pattern.finditer(plain))


def detect(text: str) -> Emergency | None:
    """The emergency template for the text, or None when it describes no emergency."""
    plain = normalize(text).lower()
    for kind, pattern in _PATTERNS:
        if pattern.search(plain):
            if kind == "fraud" and _PREVENTION.search(plain) and not _VICTIM.search(plain):
                continue
            if kind in _HYPOTHETICAL_KINDS and _asked_as_hypothesis(plain, pattern):
                continue
            if (
                kind in {"danger", "missing"}
                and _FOREIGNER.search(plain)
                and not _ABROAD_HINT.search(plain)
            ):
                return _TEMPLATES["foreigner_in_china"]
            return _TEMPLATES[kind]
    return None


def template(kind: str) -> Emergency:
    """A template by kind (default: danger to life abroad)."""
    return _TEMPLATES.get(kind, _TEMPLATES["danger"])
