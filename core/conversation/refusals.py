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
            r"你现在(是|扮演)|扮演一个|不受(任何)?限制|没有(任何)?限制的|"
            r"从现在(开始|起)你(就)?(是|扮演|变成)|你是dan|\bdan (mode|模式)|dan模式|"
            # asking for the database or other people's personal data
            r"(输出|导出|列出|显示|给我|发我|打印).{0,12}(数据库|后台)|(数据库|后台).{0,10}(导出|输出|发给我|给我)|"
            r"所有(的)?(案件|用户|人|市民|申请人)的?(手机|电话|身份证|个人信息|资料|号码)|"
            r"\b(dump|export|list|print|show me) (the |your )?(database|all (users|cases|phone numbers))"
        ),
    ),
    (
        "forgery",
        re.compile(
            r"(做|办|弄|搞|买|开|造|刻|印|改|p|编|整)(一|几)?(个|份|张|本|套|枚)?(假|伪造|仿)(?!设|期|日|如|若|条|装)的?|"
            r"伪造|造假|做假|作假|假冒|(假|仿造)的?(证件|证书|证明|文凭|学历|毕业证|护照|签证|公章|印章|"
            r"章|结婚证|出生证|户口本|公证书|认证|材料|资料|文件|邀请函|银行流水|存款证明|在职证明)|"
            r"买.{0,10}(文凭|学历|毕业证|学位证|证书|护照|签证|公章|绿卡|身份证|户口|证件)|"
            r"(改|修改|篡改|涂改)(一下)?(文件|证书|证明|护照|公证书|认证|材料)?上?的?(日期|出生日期|年龄|名字|姓名|印章|公章)|"
            r"(证明|证书|护照|文件|公证书|材料|文凭)上的?(日期|出生日期|年龄|名字|姓名|印章|公章).{0,4}(改|修改|篡改|涂改)|"
            r"\b(fake|forged?|forging|counterfeit|fabricat\w*|doctor(ed)?|phony|falsif\w*)\b.{0,30}"
            r"(document|certificate|diploma|degree|passport|visa|stamp|seal|letter|record|statement|id)|"
            r"\b(buy|purchase|get me)\b.{0,15}\b(diploma|degree|passport|visa|certificate|green card|stamp)\b|"
            r"\b(change|alter|edit|modify)\b.{0,20}\b(date|birth ?date|name|stamp|seal)\b.{0,20}"
            r"\b(on|of) (my|the|a) (certificate|document|passport|diploma)"
        ),
    ),
    (
        "bribery",
        re.compile(
            r"红包|送礼|塞(点)?钱|好处费|辛苦费|打点|走后门|找关系|托关系|疏通|通融|私下(给|加|付)|"
            r"给(你们|工作人员|领导|经办人|办事员)(的)?(点|一点|些)?(钱|好处|红包|礼)|"
            r"钻空子|绕过(规定|规则|审查|要求)|(规定|规则).{0,4}(变通|通融)|变通一下|"
            r"(路子|门路|后门|捷径).{0,8}(办|批|过|快)|有没有(什么)?(办法|路子).{0,4}(绕过|跳过|钻空子|不审|免审)|"
            r"\bbribe|under the table|pull (some )?strings|grease (someone'?s|the)|kickback|"
            r"\b(get|go) around the (rules|requirements?|law)|bypass the (rules|requirements?|checks?)|"
            r"\bloophole|pay (extra|something|a little) (to|so) .{0,20}(skip|faster|approve)"
        ),
    ),
    (
        "private_contact",
        re.compile(
            r"(局长|副局长|主任|副主任|处长|科长|领导|官员|经办人|办事员|工作人员|那位|那个人|负责人)"
            r".{0,6}(私人|个人|自己)?的?(手机|手机号|微信|微信号|私人电话|私人号码|家里电话|住址|家庭住址)|"
            r"私人(电话|手机|微信|号码|联系方式)|个人(手机|微信|电话号码|联系方式)|"
            r"(小姐姐|小哥哥?|小姐|大姐|阿姨|姐姐|帅哥|美女|那个人|那位).{0,8}的?(微信|微信号|手机号|手机|电话号码)|"
            r"\b(personal|private|direct|home|cell|mobile) (phone|number|mobile|wechat|contact|address)"
            r".{0,40}\b(director|officer|official|staff|head|chief|minister|clerk|of the person)|"
            r"\b(director|officer|official|head|chief|clerk)'?s? (personal|private|cell|mobile|home)"
        ),
    ),
]


def firm_reason(text: str) -> str | None:
    """`forgery`, `bribery`, `private_contact` or `injection` when the message asks for one."""
    plain = normalize(text).lower()
    for reason, pattern in _FIRM:
        if pattern.search(plain):
            if reason in ("forgery", "bribery") and _ADVICE.search(plain):
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
            r"外国人.{0,10}(工作许可|工作证|就业证|来华工作|工作签证|居留许可)|外籍.{0,6}(工作许可|工作证)|"
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


def authority_for(text: str) -> Authority | None:
    """The authority that handles what an out-of-scope question asks about, if one is recognised."""
    plain = normalize(text).lower()
    for authority, pattern in _AUTHORITIES:
        if pattern.search(plain):
            return authority
    return None
