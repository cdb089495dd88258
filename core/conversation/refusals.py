"""Refusals with a reason: requests the office must never help with, and other authorities' business.

- `firm_reason(text)`: forged or bought documents (`forgery`), bribes and "finding a way around the
  rules" (`bribery`), officials' private contacts (`private_contact`), prompt injection
  (`injection`). Such a message is refused firmly however much it resembles a KB question
  ("能帮我做一份假的公证书吗" is not a notarisation question); Rasa's routing component imports
  this module, so the rule holds on every path.
- `authority_for(text)`: for an out-of-scope question that belongs to another authority (hukou,
  ID cards, ordinary passports, medical insurance, pensions, foreigners' work permits, driving
  licences, tax, marriage registration), which authority to name in the refusal.

Pure Python (stdlib + core.text), like core.conversation.routing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.text import normalize

# Advice about avoiding a fraud is a KB question (visa_scams), not a request to commit one.
_ADVICE = re.compile(
    r"(怎么|怎样|如何|咋|哪些|什么)(分辨|识别|辨别|辨认|防范|防止|避免|预防|看出|区分|举报)|防骗|被骗|上当|"
    r"举报|是真的吗|是不是(真的|假的)|真假|"
    r"how (to|do i|can i|should i|do you) (spot|avoid|recogni[sz]e|tell|identify|report|check)|"
    r"is (it|this|that) (real|genuine|fake|legit)|\breport\b"
)

_FIRM: list[tuple[str, re.Pattern[str]]] = [
    (
        "injection",
        re.compile(
            r"ignore (all |any |the |your |my )*(previous |prior |above |earlier |system )*(instructions|rules|prompts?)|"
            r"system prompt|developer mode|jailbreak|you are now (a|an|dan)\b|pretend (you are|to be)|"
            r"忽略.{0,10}(指令|指示|规则|设定|提示)|系统提示词|"
            r"你现在(是|扮演)|现在你(就)?(是|扮演)(?!不是)|扮演一个|不受(任何)?限制|没有(任何)?限制的|"
            r"(你|您)(现在|而家|从现在起)?(来)?扮演|假装(你|您)(是|系)|"
            r"(你|您)(现在|而家)?(不是|唔系|不再是).{0,10}(机器人|助手|客服|ai)(了)?.{0,6}(你|您)(是|系)|"
            r"从现在(开始|起)你(就)?(是|扮演|变成)|你是dan|\bdan (mode|模式)|dan模式|"
            # making it say a given sentence ("下面这句话请原样回复": a forged approval, say)
            r"原样(回复|输出|重复|复述|照抄|发出)|一字不(改|差|漏)地?(回复|输出|重复|说)|照着(念|说|回复|输出)|跟着我(念|说|重复)|"
            r"\brepeat (after me|exactly|verbatim|word for word|the following)|\bsay exactly\b|"
            # asking for the database or other people's personal data
            r"(输出|导出|列出|显示|给我|发我|打印).{0,12}(数据库|后台)|(数据库|后台).{0,10}(导出|输出|发给我|给我)|"
            r"所有(的)?(案件|用户|人|市民|申请人)的?(手机|电话|身份证|个人信息|资料|号码)|"
            r"(管理员|开发者|调试|超级用户|上帝|root|admin|debug)模式|"
            r"(列出|导出|给我|发我|显示|查).{0,4}所有.{0,12}(申请人|用户|市民|案件).{0,6}(名单|名字|姓名|名称|公司|信息|资料)|"
            # someone else's case, looked up by name ("他是我同事，你按名字搜一下")
            r"(他|她|同事|朋友|邻居|别人)[^。]{0,30}(按|用|根据)(他的|她的)?(名字|姓名|身份证号?)(帮我)?(搜|查|找)|"
            r"(按|用|根据)(名字|姓名)(帮我)?(搜|查|找)[^。]{0,20}(他|她|同事|朋友|别人)|"
            r"\b(search|look (it |them )?up|find (it|them)?) by (his|her|their) name|"
            r"\b(dump|export|list|print|show me) (the |your )?(database|all (users|cases|phone numbers))"
        ),
    ),
    (
        "forgery",
        re.compile(
            r"(做|办|弄|搞|买|开|造|刻|印|改|p|编|整)(一|几)?(个|份|张|本|套|枚)?(假|伪造|仿)(?!设|期|日|如|若|条|装)的?|"
            r"伪造|造假|做假|作假|假冒|(假|仿造)的?(证件|证书|证明|文凭|学历|毕业证|护照|签证|公章|印章|"
            r"章|结婚证|出生证|户口本|公证书|认证|材料|资料|文件|邀请函|银行流水|存款证明|在职证明)|"
            # "买个文凭", not "买高铁票能用护照吗"
            r"买(?![^，,。]{0,4}票)[^，,。]{0,10}(文凭|学历|毕业证|学位证|证书|证明书|公证书|认证|护照|签证|公章|绿卡|身份证|户口|证件)|"
            # papers that come with the stamp already on them ("盖好章的附加证明书")
            r"(盖好|盖了|已经盖)(章|印)的|"
            # a bank statement made to look better ("做一份好看点的流水")
            r"(做|刷|包装|美化|弄)(一份|个|点|些)?(好看|漂亮)?(点|一点)?的?(银行)?流水|流水.{0,10}(做|刷|包装|美化)得?(好看|漂亮)|"
            r"流水.{0,16}(帮忙|帮我|给我|找人|有人(能|可以)?(帮忙)?)(做|弄|刷|包装)|"
            # retouched in an image editor ("我自己用PS改一下", "P一下存款证明")
            r"用?ps(改|修|一下|过|掉)|p(一下|过)(存款|流水|日期|数字|证明|余额)|"
            # stamping it oneself, the office's seal sent over
            r"(自己|自行)(填|打印|印|刻|做|盖|写)[^。,，]{0,8}(章|盖上)|(公章|印章|章)的?(样子|样式|图片|图样|电子版|模板).{0,8}(发|给|传)|"
            # a document for facts that are not true ("其实我没工作 … 帮我写一份")
            # certified now, the original "filled in later" ("毕业证原件后面再补")
            r"(原件|证书|毕业证|证明|材料)(后面|以后|之后|回头)再补|"
            r"其实(我)?(没|没有|不是|不在|没住满|没满).{0,30}(帮我|给我|能不能|可以|可不可以).{0,6}(写|开|做|弄|办)|"
            r"(帮我|给我|能不能|可以|可不可以).{0,6}(写|开|做|弄|办)(一|几)?(个|份|张|本)?.{0,40}其实(我)?(没|没有|不是|不在|没住满|没满)|"
            r"反正.{0,8}(不会|不)(查|核实|发现)|(使馆|他们|没人|没有人)(也)?不会(去)?(查|核实|发现)|"
            r"\b(nobody|no one|they) (will|would)(n'?t| not) (check|notice|find out)\b|"
            r"(改|修改|篡改|涂改)(一下)?(文件|证书|证明|护照|公证书|认证|材料)?上?的?(日期|出生日期|年龄|名字|姓名|印章|公章)|"
            # "日期过期了,我自己改一下再拿去做": altered by hand, then handed in
            r"(自己|自行|私自)(改|修改|涂改|p|ps)(一下|过|好)?(再|然后)?(拿|交|送|去|递)|"
            r"(刻|做|弄)(个|一个|枚|一枚)?.{0,6}(公章|印章)|"
            # someone else's paper made out in his name; a copy of an old one made at home
            r"改成(他|她|我|我们|佢)(的|嘅)?(名字|姓名|名)|"
            r"(照|按|仿|跟)(着)?(旧|原来|以前|别人|原件|原本)[^。,，]{0,6}(格式|样子|模板|样式)[^。,，]{0,4}(做|弄|打|印|整)|"
            # the office's seal on a paper it did not issue ("在翻譯件上蓋你們外辦的公章")
            r"盖(个|一个|上)?(你们|外办|贵办|你哋)[^。?？]{0,6}(公章|章|印)|"
            r"(整|做|弄)(份|一份|张)?.{0,4}(靓|好看|漂亮)(啲|点|一点)?(嘅|的)?(银行)?流水|"
            r"(证明书|证明|证书|护照|文件|公证书|材料|文凭)上的?(日期|出生日期|年龄|名字|姓名|印章|公章).{0,4}(改|修改|篡改|涂改)|"
            r"\b(make|write|issue|create|produce|give) me (a|an|one)\b.{0,80}\b(don'?t|do not|never) (actually|really)\b|"
            r"\b(don'?t|do not) (actually|really) (have|work|live|own)\b.{0,80}\b(make|write|issue|create|produce)\b|"
            r"\b(fake|forged?|forging|counterfeit|fabricat\w*|doctor(ed)?|phony|falsif\w*)\b.{0,30}"
            r"(document|certificate|diploma|degree|passport|visa|stamp|seal|letter|record|statement|id|card)|"
            r"\bno real (company|job|business|employer|school)\b|"
            r"\b(buy|purchase)\b.{0,15}\b(diploma|degree|passport|visa|certificate|green card|stamp)\b|"
            r"\b(change|alter|edit|modify)\b.{0,20}\b(date|birth ?date|name|stamp|seal)\b.{0,20}"
            r"\b(on|of) (my|the|a) (certificate|document|passport|diploma)"
        ),
    ),
    (
        "bribery",
        re.compile(
            r"红包|利是|利市|茶钱|送礼|塞(点)?钱|好处费|辛苦费|打点|走后门|找关系|托关系|疏通|通融|私下(给|加|付)|"
            r"(多|加)(交|给|付|出|畀)(点|些|一点|啲)?钱.{0,12}(快|先|加急|插队|优先)|该表示的.{0,8}表示|不会(让你们白忙|亏待)|"
            r"给(你们|工作人员|领导|经办人|办事员)(的)?(点|一点|些)?(钱|好处|红包|礼)|"
            r"钻空子|绕过(规定|规则|审查|要求)|(规定|规则).{0,4}(变通|通融)|变通一下|"
            r"(帮我|帮忙|给我)(跟|和|向)?.{0,6}打(个|声)?招呼|(认识|识得|识)(里面|里头|内部)(的|啲|嘅)?人|"
            # "我表哥认识你们办公室的一个领导,能不能让他打个招呼", "找找那边的关系,花点钱也行"
            r"(让|叫|请|找)(他|她|佢|人|领导|朋友|亲戚|熟人).{0,6}打(个|声)?招呼|"
            r"(认识|识得|识)(你们|你哋|外办|办公室|使馆|领馆)[^?？。]{0,10}(领导|处长|科长|主任|局长|官员|人)|"
            r"找(找)?[^?？。,，]{0,6}(的)?关系|花(点|些|啲)?钱也(行|可以|没问题|得)|"
            r"(规矩|规定|规则)是死的|人是活的|(钱|价钱)不是问题|不差钱|"
            # jumping the queue ("我想加钱插队", "可以加塞吗")
            r"插队|加塞|往前排|排(到)?前面|"
            # gifts for the clerk, sponsorship for a favour
            r"(给|送|带)(经办|工作人员|你们|同志|领导|办事员|处长|科长)[^。?？]{0,10}(土特产|特产|礼物|礼品|心意)|"
            r"(赞助|捐助|捐款)(你们|贵办|外办)|"
            r"(事后|之后|回头|办成)(一定|必)?(好好|重重)?(感谢|酬谢|答谢|表示一下)|"
            r"不走公(帐|账)|(额外|另外|私下)(付|给|塞|转)[^。]{0,10}(承办人|经办人|工作人员|办事员|你们|处长|科长)|"
            r"(路子|门路|后门|捷径).{0,8}(办|批|过|快)|有没有(什么)?(办法|路子).{0,4}(绕过|跳过|钻空子|不审|免审)|"
            r"\bbribe|under the table|pull (some )?strings|grease (someone'?s|the)|kickback|"
            r"\b(get|go) around the (rules|requirements?|law)|bypass the (rules|requirements?|checks?)|"
            r"\bloophole|pay (extra|something|a little) (to|so) .{0,20}(skip|faster|approve)|"
            r"\bextra\b.{0,20}\bpay\b.{0,10}\b(skip|jump|faster|quicker|priority)|"
            r"\b(skip|jump|cut) the (queue|line)\b"
        ),
    ),
    (
        "private_contact",
        re.compile(
            r"(局长|副局长|主任|副主任|处长|科长|领导|官员|经办人|办事员|工作人员|那位|那个人|负责人|同事|承办人)"
            r".{0,6}(私人|个人|自己)?(的|嘅)?(手机|手提(电话)?|手机号|微信|微信号|私人电话|私人号码|家里电话|"
            r"住址|家庭住址|家里(的)?地址|家庭地址|住在哪|住哪|line|whatsapp|telegram|signal)|"
            r"私人(电话|手机|微信|号码|联系方式|line|whatsapp|telegram|邮箱)|"
            r"个人(手机|微信|电话号码|联系方式|line|whatsapp)|"
            r"私下(同|跟|和|找)(他|她|佢)(倾|谈|聊|联系|说)|"
            r"(小姐姐|小哥哥?|小姐|大姐|阿姨|姐姐|帅哥|美女|那个人|那位).{0,8}的?(微信|微信号|手机号|手机|电话号码)|"
            r"\b(personal|private|direct|home|cell|mobile) (phone|number|mobile|wechat|contact|address)"
            r".{0,40}\b(director|officer|official|staff|head|chief|minister|clerk|of the person)|"
            r"\b(director|officer|official|head|chief|clerk)'?s? (personal|private|cell|mobile|home)"
        ),
    ),
]


# "…是真的吗？我愿意包": whoever offers to pay is not asking for advice.
_WILLING = re.compile(
    r"我(愿意|可以|肯|都)(包|给|出|付|塞|畀)|(价钱|价格|钱)(好谈|好说|不是问题)|不差钱|"
    r"\bi'?(ll| will| would| can) pay\b|money is(n'?t| not) (a|an) (problem|issue)"
)


# Requests nothing to do with the office ("帮我孩子解道题", "寫首詩送俾我老婆", "tell me a joke"):
# refused as out of scope whatever DIET guessed (the tune split of 2026-12-04 had homework start
# the status form and a poem read as an emergency).
_OFF_TOPIC = re.compile(
    r"(解|做|算|讲)(一|几)?道(数学|物理|化学|奥数)?题|(数学|物理|化学|奥数|作业|功课)题|(做|写|抄)作业|"
    r"鸡兔同笼|(写|作)(一|几)?(首|篇|段)(诗|情诗|文章|作文|情书|歌词|小说|祝福语)|"
    r"(讲|说)(个|一个|几个)笑话|(今天|明天|后天|这周|周末)?(天气|气温)(怎么样|如何|预报|好不好)|"
    r"(菜谱|食谱)|怎么(做|煮|炒|烧)(菜|饭|鱼|肉|蛋糕|红烧)|"
    r"(推荐|买|哪只|哪个)(一只|几只|什么)?(股票|基金)|炒股|彩票(号码)?|"
    r"(写|编)(一段|个|一个)?(代码|程序|脚本)|"
    r"\bhomework\b|\bsolve (this|a|the|my)\b.{0,20}\b(problem|equation|puzzle|question)\b|"
    r"\bwrite (me )?(a|an|some)? ?(poem|song|story|essay|love letter|code|program|script)\b|"
    r"\btell (me )?(a|some) jokes?\b|\b(weather|forecast) (in|for|today|tomorrow|this)\b|\brecipe\b|"
    r"\b(stock|crypto) (tips?|picks?)\b|\bwhich stocks?\b|\blottery numbers?\b"
)


def off_topic_request(text: str) -> bool:
    """A request unrelated to any public service: homework, poems, jokes, recipes, stock tips."""
    return bool(_OFF_TOPIC.search(normalize(text).lower()))


def firm_reason(text: str) -> str | None:
    """`forgery`, `bribery`, `private_contact` or `injection` when the message asks for one."""
    plain = normalize(text).lower()
    for reason, pattern in _FIRM:
        if pattern.search(plain):
            if (
                reason in ("forgery", "bribery")
                and _ADVICE.search(plain)
                and not _WILLING.search(plain)
            ):
                continue
            return reason
    return None


@dataclass(frozen=True)
class Authority:
    key: str
    zh: str
    en: str


_AUTHORITIES: list[tuple[Authority, re.Pattern[str]]] = [
    (
        Authority(
            "entry_exit",
            "公安机关出入境管理部门",
            "the exit-entry administration of the public security bureau",
        ),
        re.compile(
            r"(办|申请|换|补|续|更新|加急).{0,4}(普通)?护照|护照.{0,6}(过期|到期|换发|补办|办理|续签|快满)|"
            r"港澳通行证|台湾通行证|往来台湾|签注|"
            r"\b(renew|apply for|get|replace)\b.{0,12}\b(chinese )?passport\b|passport (renewal|expir\w*)"
        ),
    ),
    (
        Authority(
            "hukou_police",
            "户籍所在地公安派出所",
            "the local police station (household registration)",
        ),
        re.compile(
            r"户口|户籍|迁户|落户|身份证|居住证|"
            r"\bhukou\b|household regist|\bid card\b|identity card|residence permit for"
        ),
    ),
    (
        Authority(
            "medical_insurance",
            "医疗保障部门（医保局）",
            "the medical insurance (healthcare security) bureau",
        ),
        re.compile(r"医保|医疗保险|报销|\bmedical insurance\b|health insurance"),
    ),
    (
        Authority(
            "social_security",
            "人力资源和社会保障部门（社保经办机构）",
            "the human resources and social security bureau",
        ),
        re.compile(
            r"社保|养老金|退休金|养老保险|失业金|\bpension|social security|retirement benefit"
        ),
    ),
    (
        Authority(
            "foreigners_work",
            "外国人来华工作管理部门（科技或外专部门）及公安出入境管理部门",
            "the foreigners' work permit office (science and technology / foreign experts) and the exit-entry administration",
        ),
        re.compile(
            r"外国(人|籍|老公|老婆|丈夫|妻子|朋友|员工|同事|工程师)?.{0,10}(工作许可|工作证|就业证|来华工作|工作签证|居留许可)|"
            r"外籍.{0,6}(工作许可|工作证)|"
            r"\bwork permit\b|foreigners?'? work|employ(ing)? (a )?foreign"
        ),
    ),
    (
        Authority(
            "traffic_police",
            "公安交通管理部门（车管所）",
            "the traffic police vehicle administration office",
        ),
        re.compile(r"驾照|驾驶证|车管所|行驶证|\bdriv(er'?s|ing) licen[cs]e\b"),
    ),
    (
        Authority("notary", "公证机构（公证处）", "a notary office"),
        # notarising itself; "公证书要先认证吗" names the office's own service and is answered
        re.compile(r"公证(?!书)|\bnotari[sz](e|ation|ing)\b"),
    ),
    (
        Authority(
            "foreign_immigration",
            "该国驻华使领馆或其移民主管部门",
            "that country's embassy or consulate in China, or its immigration authority",
        ),
        re.compile(
            r"移民(申请|签证)?|\bimmigrat(e|ion)\b|permanent residen(ce|cy)|green card|"
            r"\bpr (application|card|status)\b|\b(ircc|uscis)\b"
        ),
    ),
    (
        Authority("tax", "税务部门", "the tax bureau"),
        re.compile(r"个税|个人所得税|报税|纳税|税务|退税|\btax(es)?\b"),
    ),
    (
        Authority(
            "civil_affairs",
            "民政部门（婚姻登记机关）",
            "the civil affairs bureau (marriage registration)",
        ),
        re.compile(
            r"结婚登记|离婚登记|婚姻登记|领结婚证|\bmarriage regist|register (our|a|my) marriage"
        ),
    ),
]


# "外办能不能给办一下", "找你们侨办能不能给办", "do you renew it?": the citizen asks the office
# itself to do the other authority's business.
_ASKS_OFFICE = re.compile(
    r"(外办|侨办|你们|贵办|办公室|你们这|你们这边|这边|你哋)(侨办|外办)?.{0,6}"
    r"(能不能|可不可以|可以|能|会不会|有没有|有冇|得唔得|帮|给|受理|管|派人|负责)|"
    r"(找|到|去|在)(你们|外办|侨办|你们这)(这边|这里)?.{0,6}(办|换|补|弄|查|改|申请|做|公证)|"
    r"(外办|侨办|你们)(受理|管|负责|办)(吗|不|么|这个)|"
    r"\b(do|can|could|will) (you|your office|the office)( guys)? (renew|issue|handle|do|process|help|change|fix|sort|"
    r"check|push|ask|contact|chase|follow up|speed up)|"
    r"\bwith you\b|\byour office (handle|do|deal)|which desk in your office"
)


def asks_office(text: str) -> bool:
    """The message asks the office itself to act ("外办可以派人来家里帮她换吗")."""
    return bool(_ASKS_OFFICE.search(normalize(text).lower()))


# The office's own services: "能不能直接在你们这里办附加证明书？户口在外省" asks about one of them.
_OWN_SERVICE = re.compile(
    r"附加证明书|认证|海牙|签证|apec|商务旅行卡|归侨|侨眷|华侨|侨属|定居|邀请|"
    r"\b(apostille|legali[sz]\w*|visa|invit\w*)\b"
)


# Authorities whose business no KB entry touches: a how-to about it ("外国人工作许可证要准备什么
# 材料") is refused even when it does not ask the office itself. Passports, ID cards, hukou,
# notarisation, pensions, immigration and medical costs ("在国外住院的钱大使馆给报销吗") are not
# among them: KB entries answer parts of those.
_UNMISTAKABLE = {"foreigners_work", "traffic_police", "tax", "civil_affairs"}


def other_authority_request(text: str) -> Authority | None:
    """The authority, when the message asks the office to do that authority's business, or asks
    about business only another authority handles (and names none of the office's own services)."""
    authority = authority_for(text)
    if authority is None or not (asks_office(text) or authority.key in _UNMISTAKABLE):
        return None
    return None if _OWN_SERVICE.search(normalize(text).lower()) else authority


def authority_for(text: str) -> Authority | None:
    """The authority that handles what an out-of-scope question asks about, if one is recognised."""
    plain = normalize(text).lower()
    for authority, pattern in _AUTHORITIES:
        if pattern.search(plain):
            return authority
    return None
