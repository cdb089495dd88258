"""Deterministic routing rules that no statistical classifier may overrule.

- A case reference anywhere in a message (any kind, lower case, spaces, full-width digits,
  with or without hyphens) is a status enquiry for that case.
- An explicit request for a person ("转人工", "不要机器人，给我换个人", "I want a real person").
- Progress wording about one's own application ("附加证明书做完没有", "has my visa been
  approved?") — a status enquiry, not a question about how the service works.

Pure Python (stdlib + core.text): Rasa's override component (rasa_addons/routing.py) and the
app both use it, so every path into the bot routes the same way.
"""

from __future__ import annotations

import re

from core.cases import references
from core.cases.references import Reference
from core.text import normalize


def find_reference(text: str) -> Reference | None:
    """The first case reference in the text, in canonical form (core.cases.references)."""
    return references.find(text)


_HUMAN_RE = re.compile(
    "|".join(
        [
            r"转人工|转接人工|人工客服|人工服务|人工坐席|人工回复|人工处理|要人工|找人工|换人工|叫人工|^人工[!?.吧啊呀]*$",
            r"真人|活人|不要机器人|别用机器人|不想(跟|和)机器人|(机器人|机械人)(太笨|没用|不行|听不懂|答不了|答非所问)",
            r"(换|找|叫|来)(个|一个)?人(来|吧|啊|过来|回答|跟我|和我)|给我(换|找|转)(个|一个)?人|"
            r"转(个|一个)?人(吧|啊|呀)?$|直接转人|让(个|一个)?(真)?人(直接)?(跟|和|同)我(说|讲|聊|通话|联系)",
            r"(跟|和|同|找|要|请|让|叫)(你们)?(的)?(工作人员|职员|值班(的)?(同志|人员)?|负责人|经办人|客服)|"
            r"(跟|和|同|找|请|让|叫)你们(的)?人员|转接(你们)?(的)?(工作人员|职员|人员|客服|负责人|同事)",
            # "有冇職員可以幫我": is there a member of staff who can help
            r"(有没有|有冇|有无|有没)(职员|工作人员|真人|人工|客服|同事)(可以|能|会)?(帮|同|跟|和|回答|处理|解答)",
            r"(工作人员|职员|客服|经办人).{0,6}(联系我|回复我|打(电话)?给我|跟我(说|讲|聊|通话))",
            # "让懂行的同志跟我聊两句", "有没有值班的老师", "可唔可以有個人打俾佢"
            r"让.{0,6}(同志|老师|工作人员|职员|人)(跟|和|同)我(聊|说|讲|谈|倾)|"
            r"(有没有|有冇|有无)(值班|在班|当值)的?(老师|同志|人员|工作人员|职员)|"
            r"有(个|一个)(真)?人(打(电话)?|致电)(俾|给)(我|佢|他|她|我们)",
            # Cantonese ("我要搵人", "搵個真人同我傾"); normalize() has made 搵 simplified (揾)
            r"(要|想|帮我|同我|俾我)[搵揾](个|一个)?(真)?人(啊|呀|吧|喇|啦|嚟|同我)?$|[搵揾](个|一个)?真人|"
            r"[搵揾](你哋|你们)?(嘅|的)?(职员|工作人员|客服|负责人)|[搵揾](个|一个)?(真)?人出(嚟|来)",
            # "麻烦帮我接一下签证窗口的老师": put through to the staff at a counter
            r"(帮我|给我|替我|麻烦)(转)?接(一下|个)?.{0,8}的(老师|工作人员|同事|同志|负责人|职员)",
            # a person assigned to the case ("可以请专人协助吗")
            r"(请|要|派|找|安排)(一位|一个|个|位)?专人|转接专人|专人服务|专人(协助|处理|帮|跟进|对接|联系|解答|负责)",
            # "能否安排一位工作人员与我们联系", "能帮我接一下人工吗", "有冇人可以听电话"
            r"安排(一位|一个|个|位|名)?(工作人员|职员|同事|人员|人)(来)?(与|和|跟|同|给)?(我|我们)?(联系|联络|通话|沟通|回电|打电话)|"
            r"(工作人员|职员|同事|人员)(与|和|跟|同)(我|我们)(联系|联络|通话|沟通)|"
            r"接(一下|个|一个)?人工|(有没有|有冇|有无)人(可以|能|会)?(听电话|接电话|打电话(给我|俾我)?|回电话)",
            r"\b(real|live|actual) (person|human|agent|staff)|\blive (support|agent|help|operator)\b",
            # "discuss this with one of your officers rather than an automated system"
            r"\b(discuss|go over|talk about) (this|it|that|my case|the matter)( \w+)? with (one of your|a member of|an?|your) "
            r"(officers?|staff|person|human|colleagues?)|\brather than (a|an|the|your) (bot|chatbot|machine|automated)",
            r"\bhuman[.!]*( now| please|$)|\bhuman (agent|being)|^(a )?human[.!?]*$",
            r"^(a |an )?(representative|agent|operator|staff member)( please)?[.!?]*$",
            r"\b(put|get|connect|transfer|pass|switch) me (through |over |in touch )?(to|with) (a |an |some |the |your |one of (your|the) )?"
            r"(real )?(person|human|someone|somebody|staff|officer|agent|representative|operator|colleague|member of (your |the )?staff)",
            r"\b(is there|are there|isn'?t there) (someone|somebody|anyone|anybody|a (real )?(person|human)|staff)( \w+){0,3} "
            r"(i|we) (can|could) (actually |really |just )?(speak|talk|chat) (to|with)",
            r"\b(be )?put through to (a|an|the|one of (your|the)) ?(staff|member of staff|officer|person|human|colleague)",
            r"\b(talk|speak|chat)(ing)? (to|with) (a |an |some |the )?"
            r"(person|human|someone|somebody|staff|officer|agent|representative|operator)",
            r"\b(customer service|operator please|live chat|get me a person|transfer me)",
            r"\bsomeone from (your|the) (team|office) (call|contact|reply)",
            r"\b(can|could) (a|some|one) ?(real )?(person|human|staff( member)?|someone|somebody|officer)( from your (office|team))? "
            r"(just )?(help|talk|speak|call|phone|ring|explain|contact)",
        ]
    )
)


def wants_human(text: str) -> bool:
    """The message explicitly asks for a person instead of the bot."""
    return bool(_HUMAN_RE.search(normalize(text).lower()))


def without_human_request(text: str) -> str:
    """The message without its request for a person ("讲咗几次都唔明，我要搵人" → "讲咗几次都唔明，"):
    what the semantic emergency check should read, since asking for staff is no sign of danger."""
    return _HUMAN_RE.sub(" ", normalize(text).lower()).strip()


# "我的认证材料办得怎么样了" asks about a case; "认证怎么办理" asks how the service works.
_STATUS_RE = re.compile(
    "|".join(
        [
            r"进度|进展|到哪一步|到哪了|到哪儿了|办到哪|审批到|办得怎么样|办的怎么样|怎么样了",
            r"(办|做|批|弄|审|认证|签)(好|完|下来|出来)了?(没|吗|么|没有|未|了没)",
            r"(下来|批下来|出来|送进.{0,6})了?(没|吗|没有|未)",
            # "送出去没有", "寄过去了吗": the papers sent on to the embassy or the ministry
            r"(送|寄|递|交)(出去|过去|上去|到使馆|到领馆|到外交部)了?(没|吗|没有|未|了没)",
            # "是不是已经做好了", "附加证明书好了吗", "他的文件好了没有", "可以去拿了吗"
            r"是不是(已经)?(办|做|批|弄|审)(好|完|下来|出来)了",
            r"(证明书|认证|签证|护照|文件|材料|证件|申请|卡|证书)(已经)?(好|批|出|回来)了(没|吗|么|没有|未)",
            r"(可以|能)(去)?(拿|取|领)了(吗|没|没有)",
            r"(什么时候|啥时候|几时)(能|可以|会)?(出结果|有结果|批下来|下来)",
            # "托你们办的…什么时候能出来", "放在你们这认证,啥时候能取": one's own papers
            r"(托|委托|交给|放在)你们[^?？]{0,20}(什么时候|啥时候|几时)(能|可以|会)?(出来|下来|办好|做好|拿|取|领)",
            # "送咗去領館未": sent on to the consulate yet?
            r"(送|寄|递|交)(咗|了)?(去|到|进)(使馆|领馆|大使馆|领事馆|外交部)(了)?(未|没|没有|吗|了没)",
            # "申請送出一週了,能幫忙查一下嗎": handed in a while ago, please look
            r"(送出|提交|递交|交了|交咗|寄出)[^?？]{0,12}(能|可以|麻烦|请)?(帮忙|帮我)(查|看)(一下|查|下)",
            # Cantonese "依家點呀": how is it now (after papers handed in)
            r"(交|送|递|寄)(咗|了)[^?？]{0,16}(依家|而家|现在)(点呀|点样|点|怎么样了)",
            r"(我|我的|我们|我家|我妈|我爸|她|他|公司).{0,12}(有消息|有结果|有回复)(了)?(吗|没)",
            r"\b(has|have|is|are) (my|our|her|his) .{0,40}\b(been )?(approved|issued|ready|done|"
            r"processed|finished|completed|authenticated|legali[sz]ed|apostilled)\b",
            r"\b(any|an) (news|update|progress)\b.{0,20}\b(on|about|with) (my|our|the)\b",
            r"\b(status|progress) of (my|our|her|his)\b|\b(check|track) (my|our) (application|case)",
            r"\bwhere is my (application|case|visa|passport|apostille|card)",
            # "has my visa come back from the embassy yet?", "whether my father's legalisation is done"
            r"\b(has|have|is|are) (my|our|her|his)( \w+'s)? .{0,30}\b(come|came) back\b",
            r"\bwhether (my|our|her|his)( \w+'s)? .{0,40}\b(is|has been|was|are) (done|ready|approved|"
            r"issued|processed|finished|completed|through)\b",
            r"^(status|any news|any updates?|update|progress)( please)?[?？!.]*$",
            # waiting without news ("申请咗成个月都冇消息", "至今未获通知", "一直没下来")
            # (about papers, not people: "女儿一个星期没消息了" is an emergency)
            r"(申请|材料|文件|资料|签证|认证|证明书|卡|证书|护照|递交|交上去|提交|办理|办)[^?？]{0,16}"
            r"(没|冇|未)(有)?(任何)?(消息|动静|音讯|下文|回音|回复|结果|通知)|未(获|收到)(任何)?(通知|回复)|"
            r"(一直|还|还是|迟迟|始终|仲)(没|冇|未)(有)?(批|下来|出来|办好|办完|寄回)",
            # where it has got to ("想知道去到边", "卡在哪个环节了"), how it is going
            r"(去到|走到|进行到|办到)(边|哪|哪里|哪儿|哪个环节|哪一步|什么阶段|什么程度)|"
            r"(卡在|到了)(哪个环节|哪一步|什么阶段|哪个阶段|哪个部门)|"
            r"(办理|处理|审批|审核|申请)(情况|状态|状况|结果出来)|(处理|审核|审批|办理)到(哪个|什么|哪一个)(阶段|环节|步)",
            # Cantonese "辦成點", "搞成點呀": how it is going; "搞掂未": is it done
            r"(办|搞|弄|做)成(点|点样|怎样)|(办|搞|弄|做)(掂|妥)(未|没|了没|咗未|咗没)",
            # "认证拿到没有": have I got it yet (not "能拿到补贴吗", which asks whether one may)
            r"(拿|取|领|攞)(到|得)(了|咗)?(没|没有|未)",
            # "申根签证材料,现在啥情况了", "帮我们看看到底是怎么回事": how things stand with the papers
            r"(签证|认证|申请|材料|文件|资料|卡|证明书|护照|件)[^?？]{0,20}(现在|目前|而家|到底)(是)?(啥|什么|咩|乜)(情况|状况|回事)|"
            r"(签证|认证|申请|材料|文件|资料|代办|证明书|卡)[^?？]{0,80}(帮|给|同)(我|我们|我哋)"
            r"(看看|查查|查一下|看一下|睇睇|睇下)(到底)?(是)?(怎么回事|什么情况|啥情况|咩情况)",
            # "护照什么时候能还给我": the passport handed in for the visa, on its way back
            r"(护照|材料|文件|证件|原件)(什么时候|啥时候|几时|何时)(能|可以|会)?(还|退|寄)(给|回)",
            r"(我|我的|我嘅|我们|我哋|我妈|我爸|阿妈|阿爸|个|嗰个|那个)(的|嘅)?.{0,8}"
            r"(签证|认证|申请|护照|文件|材料|卡|证明书|证书)(办得|搞得|弄得)?(点样|怎么样|咋样)",
            # one's own papers handed in earlier ("我的文件是上个月20号交的")
            r"(我|我的|我们|我哋|我嘅|我妈|我爸|公司)[^?？]{0,16}(上个月|上周|上星期|上礼拜|前几天|前天|昨天|\d+号|"
            r"\d+月|[一二三四五六七八九十两几半]+(个)?(月|周|星期|礼拜|天))(前)?[^?？]{0,6}(交|递交|提交|送|寄)(的|了|过去|上去|进去)",
            r"\b(application|documents?|docs|papers|visa|apostille|legali[sz]ation|card|passport|submitted|"
            r"applied|sent (in|off))\b.{0,60}\b(heard nothing|not heard (anything|back)|haven'?t heard( anything)?"
            r"( back)?|no (news|word|reply|response|updates?)( yet| since| so far| from)?|nothing (yet|so far))\b",
            r"\bwhere('s| is| are) (my|our|his|her|the) [\w\s'-]{0,40}\b(application|case|visa|passport|apostille|"
            r"card|documents?|papers|legali[sz]ation)\b|\bwhere (my|our|his|her|it|things|the application) "
            r"[\w\s'-]{0,40}\b(is|are|stands?)( at)?\b",
            r"\b(is|are) (my|our|his|her) [\w\s'-]{0,30}\b(back|ready|done|out|through)\b.{0,30}\byet\b|"
            r"\b(if|whether) (my|our|his|her)( \w+'s)? .{0,40}\b(is|are|has been|have been|was) (done|ready|"
            r"approved|issued|processed|finished|completed|through|back)\b",
            r"\b(my|our|his|her)\b.{0,40}\b(done|ready|approved|back|finished|through) yet\b|"
            r"\bwhere (that|it|this|things) stands?\b|\bwhen can (i|we) (pick up|collect|get back) (my|our|his|her) "
            r"(passport|documents?|papers|visa|apostille|card)\b|\btrack (the|my|our|his|her) (visa|application|case|"
            r"apostille|card|legali[sz]ation|documents?|passport)\b|"
            r"\bwhat'?s (happening|going on) (w|with) (my|our|his|her) |\bready for (collection|pick ?up)\b|"
            r"\b(my|our)\b.{0,100}\bany (update|news|progress)s?\b|\bhow far along\b|"
            r"\b(submitted|dropped off|handed in|sent in)\b.{0,80}\b(never heard back|check on it)\b|"
            r"\bcheck (on |up on |in on )?(my|our|his|her) [\w\s'-]{0,30}\b(application|case|visa|apostille|card|"
            r"legali[sz]ation|documents?|passport)\b|\bstatus of (mine|ours)\b",
        ]
    )
)
# … unless it asks how something is done, how long it takes or what it costs.
_HOW_RE = re.compile(
    r"怎么办理|如何办理|怎么申请|如何申请|需要(什么|哪些)|要(什么|哪些)材料|多久|多长时间|几天|多少钱|"
    r"费用|流程|条件|\bhow (do|can|to|long|much)\b|\bwhat (documents|is|are|does)\b"
)


# "有进展通知我" subscribes to notifications of the verified case: the subscribe intent's business.
_SUBSCRIBE_RE = re.compile(
    # (not "还没有电话通知我们": waiting for news is a status question)
    r"(?<!没)(?<!没有)(?<!没有电话)(?<!未)通知我(?!们)|提醒我|订阅|退订|取消通知|\bnotify me\b|\bsubscribe|"
    r"\balert me\b"
)


def wants_status(text: str) -> bool:
    """The message asks about the progress of the citizen's own application."""
    plain = normalize(text).lower()
    return (
        bool(_STATUS_RE.search(plain))
        and not _HOW_RE.search(plain)
        and not _SUBSCRIBE_RE.search(plain)
    )


# A short "never mind" ("算了，不用查了", "不查了", "forget it"): the citizen stops what is running
# (the status lookup asks for a reference or the last four digits; outside it Rasa says there is
# nothing to cancel). Long messages that start with "算了" go on to ask something else.
_CANCEL_WORDS = (
    r"算了|算啦|算数|不用了|不用查了|不查了|不要查了|别查了|取消|取消查询|不办了|不问了|先不查了|"
    r"唔查住|唔查喇|唔使查|唔使喇|唔要查|(迟啲|晚啲|迟些|回头|以后|之后|下次)(先|再)算|"
    r"never ?mind|nvm|forget it|cancel( it| that)?|stop|no need|don'?t bother"
)
_SEP = r"[,，。.!！?？~～\s]*"


def _only(head: str, tail: str) -> re.Pattern[str]:
    """A message of a `head` phrase followed by `tail` phrases, punctuation and nothing else."""
    return re.compile(rf"^({head})({_SEP}({tail}))*{_SEP}$")


# One or more "never mind" phrases and nothing else ("never mind, cancel", "唔查住，取消").
_CANCEL_WORDS_MORE = rf"{_CANCEL_WORDS}|skip (it|that|this)|actually skip( it| that)?"
# What may follow "never mind": putting it off ("回头再说", "I'll call later"), nothing new.
_LATER = (
    r"回头再说|以后再说|下次再说|改天再说|晚点再说|有空再说|再说吧|回头再查|以后再查|改天再查|"
    r"(迟啲|迟些|晚啲|晚点|回头|以后|下次|改天|之后)(先|再)?(问|讲|说|查|来|搵)(过)?(啦|喇|吧)?|"
    r"我(再)?自己(查|找|看)(一下|吧)?|我再找找|等我找到(编号)?再(说|查|来)|"
    r"(我)?(明天|后天|今天|改天|回头|过两天|过几天|下次|下周|迟啲)?(直接|自己|亲自)?(去|到|来)(你们)?(窗口|办公室|现场|柜台|外办)(问|查|办|看)(吧|一下)?|"
    r"i'?ll (call|check|look|try|come back|do it|ask)\b[^?]{0,40}|"
    r"(maybe |i'?ll .{0,20})?(later|another time|tomorrow|next time)"
)
_CANCEL_RE = _only(
    rf"{_CANCEL_WORDS_MORE}",
    rf"{_CANCEL_WORDS_MORE}|{_LATER}|吧|了|喇|啦|谢谢|多谢|thanks?|please|the (status|lookup|search|check)",
)
# "唔記得編號擺咗喺邊，算啦", "hmm I don't have it on me. forget it": a short reason first, then
# the "never mind" at the end; the reason may not ask anything.
_REASON_THEN_CANCEL_RE = re.compile(
    rf"^[^?？吗呢]{{1,40}}[,，。.!！~～]\s*({_CANCEL_WORDS_MORE})({_SEP}(吧|了|喇|啦|{_LATER}))*{_SEP}$"
)


def wants_cancel(text: str) -> bool:
    """A short message that only says "never mind" (perhaps with why, or "later")."""
    plain = normalize(text).strip().lower()
    return bool(_CANCEL_RE.match(plain) or _REASON_THEN_CANCEL_RE.match(plain))


# "取消通知" / "stop notifications": a short message that only ends the progress notifications
# (DIET, with few examples of it, sometimes reads it as fallback).
_UNSUBSCRIBE_RE = _only(
    r"(取消|关闭|停止|退订)(进度)?(通知|提醒|订阅)|不用(再)?通知(我)?了?|(别|不要)(再)?(通知|提醒)我(了)?|"
    r"退订(进度通知)?|unsubscribe|stop (the )?(notifications?|updates|alerts)",
    r"吧|了|谢谢|thanks?|please",
)


def wants_unsubscribe(text: str) -> bool:
    """A short message that only asks to stop the case notifications."""
    return bool(_UNSUBSCRIBE_RE.match(normalize(text).strip().lower()))


_DIGITS_RE = re.compile(r"^\s*\d{4}\s*$")
_CODE_RE = re.compile(r"^[A-Za-z0-9]{6,10}$")


def is_bare_code(text: str) -> bool:
    """Four digits, or a receipt query code ("QW123456"), on their own: the answer to the
    verification prompt."""
    plain = normalize(text).strip()
    if _DIGITS_RE.match(plain):
        return True
    # A receipt query code as core.cases.rules.find_query_code reads it (6–10 letters and digits),
    # with at least three digits ("hello1" is a word) and not a case reference. Matched here,
    # not imported: Rasa's venv cannot import core.cases.rules (SQLAlchemy 2).
    return (
        bool(_CODE_RE.match(plain))
        and sum(c.isdigit() for c in plain) >= 3
        and find_reference(plain) is None
    )


# A bare opener: a greeting, perhaps with "may I ask something", and nothing else ("老师好 请教个问题",
# "您好，在吗", "hi, I have a question"). The question itself comes next; DIET, which sees the
# words of questions in "请教/问题", sometimes read these as goodbye or as a KB question.
_GREETING = (
    r"(你|您|老师|同志|大家|各位|工作人员|领导)(们)?好(呀|啊|哇)?|(早上|上午|中午|下午|晚上)好|早晨|早安|午安|安安|"
    r"嗨|哈[喽啰罗]|喂|hello|hi|hey|yo|hiya|howdy|good (morning|afternoon|evening)|greetings"
)
_OPENER_TAIL = (
    r"(请问|麻烦|打扰)(一下|了)?|在吗|在不在|有人(在)?吗|"
    r"(我)?(想|要)?(请教|咨询|问|打听)(一?下|个|一个|几个)?(问题|事|事情)?|"
    r"there|everyone|i have (a|some) questions?|can i ask (you )?(a|something)( question)?|"
    r"(i'?d like|i want) to ask (a question|something)|"
    r"(请问)?(这里|这儿|这边|你们)?(可以|能)(咨询|提问|问问题|问事情|问)(吗|不|么)?|"
    r"(is|are) (anyone|anybody|someone) there|有(冇|没有)人(喺度|喺|在)?(吗|呀|啊)?"
)
_OPENER_RE = _only(_GREETING, rf"{_OPENER_TAIL}|呀|啊|哈")
# "有人吗？", "在吗", "anyone there?": an opener without a greeting word.
_BARE_OPENER_RE = _only(
    r"有人(在)?吗|有没有人(在)?|在吗|在不在|有人在不在|(is )?(anyone|anybody|someone) (there|here|around)",
    r"呀|啊|哈|请问|你好|您好",
)


def is_opener(text: str) -> bool:
    """A greeting that asks nothing yet."""
    plain = normalize(text).strip().lower()
    return bool(_OPENER_RE.match(plain) or _BARE_OPENER_RE.match(plain))


_THANKS = r"谢谢|多谢|唔该|感谢|thank you|thanks|thx|ty|cheers"
# "That's all for now, have a good day.", "就这些，再见": the citizen ends the conversation.
_FAREWELL = (
    r"再见|再会|回见|拜拜|拜|88|886|唔阻你(喇|啦|了)?|"
    r"(那|好|好的|ok)?[,，\s]*我(先)?去(准备|办|弄|找|交|拿)[^,，。!?]{0,8}(了|啦|喇)|先这样(吧)?|先咁(啦|吧|样)?|就这些(了)?|没(有)?(别的|其他)(问题|事)了|下次再聊|"
    r"((好的|好|嗯|ok|okay)[,，\s]*)?(我)?先(下|下线|走|撤|闪)(了|啦|喇|咯)|"
    r"bye|goodbye|bye ?bye|see you|take care|ttyl|talk (to you )?later|that'?s (all|it)( for (now|today))?|"
    r"have a (good|nice|great|lovely|wonderful) (day|evening|night|weekend)|"
    r"that'?s everything|nothing else"
)
_FAREWELL_RE = _only(
    # "好,謝謝,再見": thanks on the way out is a goodbye
    rf"((好的|好|嗯|ok|okay|那)[,，\s]*)?(({_THANKS})[,，\s]*)?({_FAREWELL})",
    rf"{_FAREWELL}|谢谢|多谢|thanks?( a lot| again)?|thank you|啦|了|啊|呀",
)


# "Thank you, that's really helpful.", "好，唔該": thanks and nothing else.
_THANKS_RE = _only(
    rf"((好|好的|嗯|ok|okay|great|perfect|got it|noted|understood|i see|明白|明白了|知道了|收到|好嘅)[,，\s]*)?({_THANKS})",
    rf"{_THANKS}|(你|您)(们)?|晒|哂|啦|了|啊|呀|喇|(very|so) much|a lot|again|"
    r"(that'?s|this is|it'?s|that was) (really |very |so |super )?(helpful|useful|great|clear)|"
    r"(that|this) helps( a lot)?|(很|好|真|非常)?有(帮助|用)|"
    r"have a (good|nice|great|lovely|wonderful) (day|evening|night|weekend)|bye|再见|拜拜",
)


def is_thanks(text: str) -> bool:
    """A short message that only says thank you."""
    return bool(_THANKS_RE.match(normalize(text).strip().lower()))


# The office's own opening hours, address and phone ("你们几点上班，周末开门吗", "when is your
# office open"): a KB question (office_contact), whatever DIET guessed (out_of_scope, handoff).
_OFFICE_FACTS_RE = re.compile(
    # (no gap: "你们要我的电话号码吗" in the status form asks about the citizen's own number)
    r"(你们|外办|侨办|办公室|窗口|贵办|你哋|这边)(的)?(办公室|窗口|办公地点)?(的)?(地址|电话|联系电话|号码|在哪|喺边|几点|"
    r"办公时间|上班时间|开门|开放时间|工作时间)|(几点|什么时候|几时|何时)(上班|下班|开门|关门|办公|开始办公)|"
    r"(办公|上班|开放|工作|营业|对外)时间|(周末|周六|周日|星期六|星期日|节假日|午休)(开门|上班|办公|有人)|"
    r"\b(opening|office|business|working) hours\b|\bwhen (is|are) (your|the) (office|counter|window)s? open\b|"
    r"\bwhat time (do|does) (you|your office|the office|the counter) (open|close)\b|"
    r"\bare you open (on )?(weekends?|saturdays?|sundays?|today|now)\b|"
    r"\b(your|the office'?s?) (street )?(address|phone number|location)\b|\bwhere is (your|the) office\b"
)


def asks_office_facts(text: str) -> bool:
    """The message asks when the office is open, where it is or how to phone it."""
    return bool(_OFFICE_FACTS_RE.search(normalize(text).lower()))


def is_farewell(text: str) -> bool:
    """A short message that only says goodbye."""
    return bool(_FAREWELL_RE.match(normalize(text).strip().lower()))
