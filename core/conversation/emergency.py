"""Emergency detection and the exact wording of brief §7.3 (hotline first, then explanation).

Detection is keyword based on normalised text so it also works inside long messages, in
traditional Chinese and in English; the NLU intent `report_emergency` is a second route in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.text import normalize

HOTLINE = "12308"


@dataclass(frozen=True)
class Emergency:
    kind: str
    level: str  # P0 → urgent ticket immediately; P1 → ticket offered/opened as normal urgent
    text_zh: str
    text_en: str


_TEMPLATES = {
    "danger": Emergency(
        "danger",
        "P0",
        "如果您或他人正面临危险，请立即拨打当地报警或急救电话。然后请联系中国驻当地使领馆，或拨打外交部"
        "领事保护应急热线 +86-10-12308（备用 +86-10-65612308，24小时）。我现在为您转接人工服务；在等待时，请先确保自身安全。",
        "If you or someone else is in danger, call the local police or emergency number now. Then "
        "contact the nearest Chinese embassy or consulate, or call the MFA consular emergency hotline "
        "+86-10-12308 (alternative +86-10-65612308, 24/7). I am transferring you to a staff member — "
        "please stay safe while you wait.",
    ),
    "ransom": Emergency(
        "ransom",
        "P0",
        "请先不要转账。请立即拨打110报警，并通过12308（+86-10-12308）或中国驻当地使领馆核实家人是否安全。"
        "使领馆和公安机关不会通过电话要求您汇款。我已为您转接人工服务。",
        "Do not transfer any money. Call 110 (police in China) now, and check that your relative is "
        "safe through 12308 (+86-10-12308) or the Chinese embassy or consulate. Embassies and police "
        "never ask for money by phone. I have asked a staff member to help you.",
    ),
    "detained": Emergency(
        "detained",
        "P1",
        "请尽快联系中国驻当地使领馆，或拨打 +86-10-12308。使领馆可以根据情况进行探视或联络，要求当地给予公正、"
        "人道的待遇，并提供当地律师名单；案件由当地司法机关依法处理，使领馆不能代付律师费等费用。"
        "我不能就具体案件提供法律意见，已为您转接人工服务。",
        "Contact the nearest Chinese embassy or consulate as soon as possible, or call +86-10-12308. "
        "The consulate can, as circumstances allow, visit or contact the person, ask for fair and humane "
        "treatment and provide a list of local lawyers; the case is handled by the local judicial "
        "authorities and the consulate cannot pay legal fees. I cannot give legal advice on a case; a "
        "staff member has been asked to help you.",
    ),
    "passport_lost": Emergency(
        "passport_lost",
        "P1",
        "请先到当地警察局报案，拿到报案证明；然后带上身份材料的复印件和照片，到最近的中国驻当地使领馆申请补发"
        "护照或旅行证。请只走使领馆的正规渠道，不要相信声称能“快速补证”的中介。遇到困难可以拨打 +86-10-12308。",
        "First report the loss to the local police and get a police report; then bring copies of your "
        "identity documents and photos to the nearest Chinese embassy or consulate to apply for a new "
        "passport or travel document. Use official channels only. If you need help, call +86-10-12308.",
    ),
    "fraud": Emergency(
        "fraud",
        "P1",
        "请立即停止转账，不要向任何人提供验证码或银行信息。中国驻外使领馆和国内公检法机关不会通过电话要求您转账，"
        "也不会在电话里把您“转接”到警方。在国内请拨打110报警，也可以拨打96110咨询；在国外请向当地警方报案，"
        "并可以请国内亲属向国内公安机关报案。可通过12308核实来电。",
        "Stop any transfer now and do not give anyone verification codes or bank details. Chinese "
        "embassies and Chinese police never ask you to transfer money by phone. In China call 110, or "
        "96110 for advice; abroad, report to the local police. You can verify a call through 12308.",
    ),
    "missing": Emergency(
        "missing",
        "P1",
        "请尽快向当地警方报案；可请中国驻当地使领馆或拨打 +86-10-12308 提供报警和求助渠道。我已为您转接人工服务。",
        "Report to the local police as soon as possible; the Chinese embassy or consulate, or the "
        "hotline +86-10-12308, can help with reporting channels. A staff member has been asked to help.",
    ),
    "foreigner_in_china": Emergency(
        "foreigner_in_china",
        "P1",
        "如有紧急情况，请立即拨打110（报警）、120（急救）、119（火警）或122（交通事故）。签证、居留问题可拨打12367"
        "（中英双语，24小时）。也可以联系本国驻华使领馆。",
        "If this is an emergency, call 110 (police), 120 (ambulance), 119 (fire) or 122 (traffic "
        "accident) now. For visa, passport or residence questions, call 12367 (Chinese/English, 24/7). "
        "You may also contact your country's embassy or consulate in China.",
    ),
    "self_harm": Emergency(
        "self_harm",
        "P0",
        "听到您这么难受，我很担心您。如果您有伤害自己的想法或处境危险，请立即拨打110或120，或马上联系身边可以信任的人。"
        "我现在为您转接人工。",
        "I am worried about you. If you are thinking of harming yourself or are in danger, call 110 or "
        "120 now, or reach out to someone you trust nearby. I am connecting you to a staff member.",
    ),
}

# Ordered: the first matching kind wins (more specific before general).
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("self_harm", re.compile(r"不想活|轻生|自杀|想死|i want to die|kill myself|suicid")),
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
            r"被.{0,4}(抓|拘|捕|扣押|关押)|抓走|拘留|逮捕|坐牢|进了监狱|arrested|detained|in jail|in prison"
        ),
    ),
    (
        "missing",
        re.compile(
            r"失联|联系不上|失踪|找不到人|下落不明|"
            r"(几|两|三|四|五|六|七|八|九|十|多|好几|\d+)(天|日|个?星期|个?礼拜)(了)?(都|一直|也|还)?"
            r"(没|没有|不|冇)(再)?(回|接|联系|消息|音讯|动静|覆)|"
            r"(没|不|冇)(再)?(回|覆)(消息|信息|讯息|微信|电话).{0,20}(电话|手机).{0,4}关机|"
            r"电话(一直|也)?关机.{0,20}(没|不|冇)(回|消息)|"
            r"missing|can'?t reach|(hasn'?t|haven'?t|has not|have not) (answered|replied|called|been heard)"
            r".{0,30}(for|in) (\w+ )?(days|a week)|no (news|word|contact) (from|since).{0,30}(days|week)"
        ),
    ),
    (
        "danger",
        re.compile(
            r"绑架|被绑|绑走|袭击|抢劫|被抢|被困|战乱|撤离|车祸|出事了|受伤|住院|生命危险|救命|扣押|不让我走|"
            r"洪水|地震|海啸|台风|山火|火灾|爆炸|暴动|暴乱|骚乱|枪击|开枪|恐袭|放火|打仗|政变|"
            r"(被)?(围|困)住|出不去|走不了|被打|打伤|被人打|"
            r"kidnap|attacked|robbed|trapped|evacuat|accident|hospitali[sz]ed|help me|in danger|"
            r"earthquake|flood|tsunami|riot|shooting|gunfire|explosion|on fire|beaten|assaulted|"
            r"held at (the )?(airport|border)|won'?t let (me|us) (leave|go)|can'?t get out"
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


def detect(text: str) -> Emergency | None:
    """The emergency template for the text, or None when it describes no emergency."""
    plain = normalize(text).lower()
    for kind, pattern in _PATTERNS:
        if pattern.search(plain):
            if kind == "fraud" and _PREVENTION.search(plain) and not _VICTIM.search(plain):
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
