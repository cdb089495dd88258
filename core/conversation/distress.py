"""Where the semantic emergency check reads a long message: the sentences with signs of distress.

The encoder costs about linearly in what it reads (docs/benchmarks.md), so a pasted letter
cannot be embedded whole. The check reads its start (the window Rasa and the KB ranking embed
anyway, core.encoder) and then, instead of fixed slices, the few sentences elsewhere that carry
a sign of distress — "失联", "扣了护照", "hasn't answered", "hospital" — cut to a short clip
around the sign. A letter of ordinary questions usually has none and costs one window; an
emergency buried anywhere in it is read where it is, not only if it falls in a fixed slice.

The signs are deliberately broad (a false sign costs one short encoder call, never an alarm:
the alarm is the semantic check's decision). Chosen on the NLU examples and the tune split of
the blind set only, 2026-12-04: 98 % of the tune emergencies and 95 % of the emergency examples
carry a strong sign; 4 % of the tune KB and status questions do. `scripts/eval_letters.py`
builds letters of 500-1,800 characters from tune questions with one tune emergency put in (never
first; 183 letters, batch 5 included) and 150 letters without: the check finds 172 (with the
start/middle/end slices of 120 characters before: 108), false alarms 0 (0); beyond the first
window (embedded for Rasa and the KB ranking anyway) the encoder reads 9 characters per letter
(122).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

# Strong signs: danger itself (3 points each). Matched on normalised, lower-case text, so
# traditional Chinese is read in simplified form. Chinese (and Cantonese), then English.
_STRONG_ZH = (
    r"救命|救救|绑|赎|撕票|勒索|人质|失联|失踪|走失|走散|迷路|没跟上|联系不上|联络不[上到]|联络唔到|联系唔到|找不到|揾唔到|不见了|唔见|打不通"
    r"|打唔通|没(?:有)?消息|冇(?:咗)?消息|没音讯|音讯全无|没(?:有)?人见过|没见(?:到|过)"
    r"|不知(?:道)?(?:他|她|人)?(?:在|去了)哪|(?:没|不|冇)(?:再)?(?:回|覆)(?:复|消息|信息|讯息|微信)?|没接|不接电话|关机"
    r"|冇返|没回来|再没回|扣(?:押|留|住|下|了|咗|着)|拘(?:留|押|捕)|逮捕|被抓|抓(?:了|走|咗)|带走|拉咗|拦(?:下|住)|截住|遣返"
    r"|关(?:起来|押|进|在|喺|咗)|坐牢|监狱|看守所|保释|囚|禁锢|软禁"
    r"|(?:不|唔)(?:让|准|俾|畀)(?:我|他|她|佢|我们|我哋)?(?:走|出|离开|回|打电话)"
    r"|护照.{0,6}(?:收|扣|拿走|没收|不还|不给)|(?:收|扣|拿走|没收)(?:了|咗|起|走)?.{0,8}护照"
    r"|打(?:伤|人|我|他|她|死|了一顿)|殴打|围殴|受伤|重伤|伤|流血|死|去世|过世|过身|身亡|遇难|遗体|杀|枪|刀|炸|导弹|空袭|炮|战|警报"
    r"|武装|冲突|暴动|暴乱|动乱|骚乱|政变|局势|封锁|撤侨|撤离|撤出|逃|躲|医院|住院|抢救|急诊|急症|重症|加护|icu|昏|叫不醒|没醒|晕倒|倒下"
    r"|不省人事|呼吸|脑溢血|心梗|心脏病|中风|车祸|撞|事故|出事|出咗事|意外|溺|淹|翻(?:了|船|咗)|手术|病危|高烧|中毒|下(?:了)?药|落咗药"
    r"|吞|地震|海啸|洪水|台风|飓风|火灾|着火|放火|山火|灾|困(?:在|住|喺)|滞留|回不来|走不了|出不来|出不了|出唔返|返唔到|冒充|自称"
    r"|说是.{0,6}(?:使馆|领馆|公安|警察|刑警)|安全(?:账|帐)户|监管(?:账|帐)户|保证金|洗(?:黑)?钱|涉(?:嫌|案)|转账|转钱|汇钱"
    r"|打钱|诈骗|骗|自杀|轻生|不想活|活不下去|跳楼|想死|寻死|结束(?:自己的)?生命|虐待|家暴|性侵|强奸|卖身|强迫|逼(?:我|他|她|着|佢)"
    r"|威胁|恐吓|跟踪|园区|电诈|电击|抢|打劫|偷(?:了|走|咗|晒)|身无分文|流落|露宿|赶出|冇晒|全部冇咗|丢(?:了|失|在)|遗失|拖进"
)
_STRONG_EN = (
    r"kidnap|hostage|ransom|abduct|missing|disappear|wander|lost my"
    r"|can'?t (?:reach|contact|find|get hold)|cannot (?:reach|contact|find)"
    r"|unreachable|no news|no word"
    r"|(?:haven'?t|hasn'?t|not|nobody has|no one has) (?:heard|answered|replied|picked up|been able)"
    r"|stopped (?:replying|answering|responding)|never came back|won'?t pick up|arrest"
    r"|detain|detention|custody|jail|prison|held (?:at|by|in)|stopped at"
    r"|sending (?:me|him|her|them) back|deport|locked|trapped|stuck|strand|confiscat"
    r"|seiz"
    r"|(?:kept|took|taken|holding|hold|keep) (?:my|our|his|her|their) (?:passport|papers|documents|phone)"
    r"|won'?t let (?:me|us|him|her|them)|guards|threat|forc(?:ed|ing)|traffick|scam"
    r"|fraud|safe account|deposit|launder|bitcoin|claiming to be|pretend|impersonat"
    r"|tied up|casino|followed|jumped me|hurt|injur|beat(?:en|ing|s)?\b|\bhits?\b"
    r"|attack|assault|abus|rape|violen|bleed|blood|stab|shot|shoot|gun|kill|dead"
    r"|\bdied?\b|death|passed away|drown|collapsed|breathing|unconscious|coma|hospital"
    r"|\bicu\b|intensive care|accident|crash|surgery|poison|overdose|pills|\bwar\b"
    r"|fighting|bomb|missile|air ?strike|shelling|explosion|riot|unrest|evacuat|flee"
    r"|escape|curfew|coup|sirens?|earthquake|tsunami|flood|hurricane|typhoon|cyclone"
    r"|fire\b|disaster|robbed|robbery|stolen|stole|mugg|all gone|on the street"
    r"|nowhere to (?:sleep|stay|go)|no place to (?:sleep|stay)|no money|suicid"
    r"|end (?:my|his|her) life|kill (?:my|him|her)self|want(?:s)? to die|self[- ]harm"
)
# Weak signs (1 point each): worry, the people one turns to, the people it happens to and
# for how long. They only rank sentences that have a strong sign.
_WEAK = (
    r"被|俾人|畀人|急|危|险|怕|惊|吓|慌|哭|喊紧|警|公安|移民局|边检|海关|机场|病|医|药|钱|卖|没办法|怎么办|点算|点办|唔知点|不知所措"
    r"|help|urgent|asap|emergenc|danger|police|immigration|money|\bpay\b|scared|afraid"
    r"|worried|please|😭|😰|😱|🆘|女儿|儿子|仔|女|老公|老婆|丈夫|妻子|先生|太太|爸|妈|爷|奶|弟|妹|哥|姐|家人|亲戚|朋友|同事"
    r"|室友|孩子|老人|(?:几|两|三|四|五|六|七|八|九|十|\d+) ?(?:天|日|个礼拜|个星期|周|小时|个钟)"
    r"|\bmy (?:son|daughter|wife|husband|brother|sister|mother|father|mom|mum|dad|parents?|friend|cousin|uncle|aunt|grand\w+)"
    r"|\d+ (?:days?|weeks?|hours?)"
)
_STRONG_RE = re.compile(_STRONG_ZH + "|" + _STRONG_EN)
_WEAK_RE = re.compile(_WEAK)
# Sentence ends: Chinese and Latin punctuation (normalised text has "." for "。"), line breaks;
# not the dot of "2.5" or of "U.S.".
_SENTENCE_RE = re.compile(r"(?:[^。！？!?；;\n.]|\.(?=[0-9A-Za-z]))+(?:[。！？!?；;\n.]+|$)")
# What joins questions in a letter carries nothing, and shifts a clip away from the examples.
_CONNECTIVE_RE = re.compile(
    r"^(?:另外|还有|还想问(?:一下|下)?|顺便(?:问一下|问下)?|对了|仲有|同埋|also|btw|by the way|and|plus)"
    r"[\s,，:：]*",
    re.IGNORECASE,
)
_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# What a clip may cost the encoder: about as many tokens as CLIP_WEIGHT Chinese characters
# (a Latin character is about a third of one: ~35 ms for either, one OpenMP thread).
CLIP_WEIGHT = 40
_LATIN_WEIGHT = 1 / 3


def sentences(text: str) -> Iterator[tuple[int, str]]:
    """(offset, sentence) for each sentence of the text."""
    for match in _SENTENCE_RE.finditer(text):
        if match.group().strip():
            yield match.start(), match.group()


def has_sign(text: str) -> bool:
    """The text carries a strong sign of distress."""
    return bool(_STRONG_RE.search(text.lower()))


def score(sentence: str) -> int:
    """How strongly a sentence signals distress: 3 per strong sign, 1 per weak one."""
    lower = sentence.lower()
    return 3 * len(_STRONG_RE.findall(lower)) + len(_WEAK_RE.findall(lower))


def _weight(text: str) -> float:
    cjk = len(_CJK_RE.findall(text))
    return cjk + _LATIN_WEIGHT * (len(text) - cjk)


def clip(sentence: str, weight: float = CLIP_WEIGHT) -> str:
    """The sentence (without a leading "另外," / "also"), or the part of it around its first
    sign that costs at most `weight`."""
    sentence = _CONNECTIVE_RE.sub("", sentence.strip())
    if _weight(sentence) <= weight:
        return sentence
    lower = sentence.lower()
    first = _STRONG_RE.search(lower) or _WEAK_RE.search(lower)
    start = end = first.start() if first else 0
    used = 0.0
    grew = True
    while grew:  # one character more on each side in turn, while the weight allows
        grew = False
        if end < len(sentence) and used + _weight(sentence[end]) <= weight:
            used += _weight(sentence[end])
            end += 1
            grew = True
        if start > 0 and used + _weight(sentence[start - 1]) <= weight:
            start -= 1
            used += _weight(sentence[start])
            grew = True
    return sentence[start:end].strip()


def clips(text: str, count: int, ignore: Callable[[str], bool] | None = None) -> list[str]:
    """Up to `count` clips of the distinct sentences with the strongest signs of distress (the
    first window's too: read amid other questions, a sentence of distress is diluted), except
    those `ignore` rejects. Ties go to the earlier sentence."""
    ranked = []
    seen = set()
    for offset, sentence in sentences(text):
        key = sentence.strip()
        if key in seen or not has_sign(key):  # weak signs only rank
            continue
        seen.add(key)
        if ignore is None or not ignore(key):
            ranked.append((-score(key), offset, key))
    ranked.sort()
    return [clip(sentence) for _, _, sentence in ranked[:count]]
