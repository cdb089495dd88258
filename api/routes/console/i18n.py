"""The console in Chinese and English: each staff member's choice (`staff_users.lang`).

Templates write the Chinese text and wrap it in `_()`; this table gives its English. Staff
texts only: what citizens read lives with the channels and the KB.
"""

from __future__ import annotations

import re

LANGS = ("zh", "en")

EN: dict[str, str] = {
    # layout
    "工作台": "Console",
    "侨务助手": "Qiaowu Assistant",
    "跳到正文": "Skip to content",
    "侨务助手 · 人工服务工作台": "Qiaowu Assistant · staff console",
    "主导航": "Main navigation",
    "工单队列": "Queue",
    "搜索工单": "Search tickets",
    "统计": "Analytics",
    "知识库草稿": "KB drafts",
    "待复核": "Review queue",
    "常用回复": "Saved replies",
    "审计日志": "Audit log",
    "用户": "Users",
    "接口令牌": "API tokens",
    "修改密码": "Change password",
    "开启声音和桌面提醒": "Enable sound and desktop alerts",
    "提醒已开启": "Alerts on",
    "界面语言": "Language",
    "切换": "Switch",
    "坐席": "agent",
    "编辑": "editor",
    "管理员": "admin",
    "退出": "Log out",
    # login
    "登录": "Log in",
    "工作人员登录": "Staff login",
    "用户名": "Username",
    "密码": "Password",
    "用户名或密码错误。": "Wrong username or password.",
    # queue
    "待处理工单": "Open tickets",
    "人工服务时间：": "Staffed hours: ",
    "当前在服务时间内": "now within staffed hours",
    "当前非服务时间，市民已被告知回复时间": "now outside staffed hours; citizens were told when to expect a reply",
    "等待目标：": "Waiting target: ",
    "共 {n} 个，其中紧急 {u} 个": "{n} open, {u} urgent",
    "目前没有待处理的工单。": "No open tickets.",
    "工单": "Ticket",
    "优先级": "Priority",
    "状态": "State",
    "等待": "Waiting",
    "渠道": "Channel",
    "主题 / 原因": "Topic / reason",
    "最新留言": "Latest message",
    "紧急": "Urgent",
    "普通": "Normal",
    "排队中": "queued",
    "已接手": "claimed",
    "已关闭": "closed",
    "超时": "over target",
    "将超时": "near target",
    "最近关闭": "Recently closed",
    "网页": "Web",
    "微信": "WeChat",
    "市民请求人工": "citizen asked for staff",
    "机器人不可用时的留言": "message while the bot was down",
    "紧急情况": "emergency",
    "新工单": "New ticket",
    "紧急工单": "Urgent ticket",
    "工单升级为紧急": "Ticket escalated to urgent",
    # ticket
    "返回队列": "Back to the queue",
    "工单状态已变化。": "The ticket changed.",
    "更新操作按钮": "Update the actions",
    "操作": "Actions",
    "接手工单": "Claim ticket",
    "回复市民": "Reply to the citizen",
    "发送回复": "Send reply",
    "插入到回复框": "Insert into the reply box",
    "搜索知识库答案": "Search KB answers",
    "搜索": "Search",
    "插入": "Insert",
    "没有找到相关答案。": "No matching answers.",
    "（请选择）": "(choose)",
    "转交给": "Transfer to",
    "转交工单": "Transfer ticket",
    "内部备注（市民看不到）": "Internal note (citizens never see it)",
    "添加备注": "Add note",
    "结束人工服务（恢复机器人答复）": "End staff service (the bot answers again)",
    "转为知识库条目草稿": "Turn into a KB draft",
    "该市民的其他工单": "This citizen's other tickets",
    "没有其他工单。": "No other tickets.",
    "渠道：": "Channel: ",
    "主题：": "Topic: ",
    "原因：": "Reason: ",
    "创建：": "Created: ",
    "已等待": "waiting",
    "市民评分：": "Citizen's rating: ",
    "对话记录": "Conversation",
    "市民": "Citizen",
    "机器人": "Bot",
    "工作人员": "Staff",
    "内部备注": "Internal note",
    "系统": "System",
    "暂无对话记录。": "No messages yet.",
    "暂时无法读取与机器人的对话记录（Rasa 不可用）。": "The bot conversation cannot be read now (Rasa unavailable).",
    "机器人服务暂时不可用，无法恢复自动答复；工单保持打开，请稍后再关闭。": "The bot is unavailable, so automatic answers cannot resume; the ticket stays open, close it later.",
    "请先接手该工单再回复。": "Claim the ticket before replying.",
    "内容不能为空。": "The text must not be empty.",
    "工单不存在。": "No such ticket.",
    "工单已关闭。": "The ticket is closed.",
    "没有这个工作人员。": "No such staff member.",
    # search
    "工单号或文字": "Ticket number or text",
    "全部": "all",
    "开始日期": "From",
    "结束日期": "To",
    "创建时间": "Created",
    "处理人": "Handled by",
    "没有符合条件的工单。": "No tickets match.",
    "请输入条件后搜索。": "Enter something to search for.",
    "结果": "Results",
    # saved replies
    "标题": "Title",
    "内容": "Text",
    "新增常用回复": "Add a saved reply",
    "保存": "Save",
    "删除": "Delete",
    "暂无常用回复。": "No saved replies yet.",
    "创建人": "Created by",
    "标题和内容都不能为空。": "Title and text must not be empty.",
    # review
    "知识库复核": "KB review",
    "条目": "Entry",
    "上次复核": "Last reviewed",
    "天前": "days ago",
    "开始复核": "Start review",
    "没有到期需要复核的条目。": "No entries are due for review.",
    "国家和地区表": "Country table",
    "国家或地区": "Country or region",
    "上次核对": "Last checked",
    "没有到期需要核对的国家。": "No countries are due for a check.",
    "超过 {days} 天未复核的条目": "Entries not reviewed for more than {days} days",
    "超过 {days} 天未核对的国家": "Countries not checked for more than {days} days",
    # analytics
    "服务统计": "Service analytics",
    "最近 {days} 天 · 共 {turns} 条市民消息": "last {days} days · {turns} citizen messages",
    "天": "days",
    "每日会话数（不同市民）": "Conversations per day (distinct citizens)",
    "每日转人工工单": "Handoff tickets per day",
    "答复情况占比": "How messages were answered",
    "热门主题（已解答）": "Top topics (answered)",
    "未能解答的问题（数字已遮盖）": "Unanswered questions (digits masked)",
    "暂无数据。": "No data yet.",
    "暂无未解答的问题。": "No unanswered questions.",
    "满意度": "Satisfaction",
    "机器人答复 👍/👎": "Bot answers 👍/👎",
    "人工服务评分（1–5）": "Staff service rating (1–5)",
    "暂无评价。": "No ratings yet.",
    "平均": "average",
    "条评价": "ratings",
    "首次人工回复用时（中位数，分钟）": "Time to first staff reply (median, minutes)",
    "结束用时（中位数，分钟）": "Time to close (median, minutes)",
    "日期": "Date",
    "数值": "Value",
    "项目": "Item",
    "数量": "Count",
    "占比": "Share",
    "表格": "Table",
    "已解答": "answered",
    "给出候选问题": "did-you-mean",
    "未理解": "not understood",
    "超出范围": "out of scope",
    "转人工": "handoff",
    "按渠道": "By channel",
    "市民消息": "citizen messages",
    "评分": "Score",
    "次数": "Count",
    # drafts
    "待审": "to review",
    "已批准": "approved",
    "已驳回": "rejected",
    "草稿": "Draft",
    "条目 id": "Entry id",
    "主题": "Topic",
    "全部草稿": "All drafts",
    "复核": "review",
    "新条目": "new entry",
    "类型": "Kind",
    "不能批准，请修改：": "Cannot approve yet; please fix:",
    "依据（每行“标题 | https://链接”）": "Sources (one per line: “title | https://link”)",
    "依据（每行“标题 | https://链接”；不在官方网站名单上的页面，在行末加“ | 理由”标为次要来源）": (
        "Sources (one per line: “title | https://link”; for a page not on the list of official "
        "sites, add “ | reason” to mark it as a secondary source)"
    ),
    "官方网站：政府、外交部和驻外使领馆、国家法律法规数据库（法规的深链接）、海牙国际私法会议等，名单见 kb/sources_policy.yml。": (
        "Official sites: government, the Ministry of Foreign Affairs and Chinese embassies and "
        "consulates, the national law database (a statute's deep link), the Hague Conference and "
        "others; the list is kb/sources_policy.yml."
    ),
    "图表": "Charts",
    "在已关闭的工单页面点击“转为知识库条目草稿”即可创建；复核在“待复核”页面开始。批准后条目写入 kb/，答复即时生效。": (
        "Create a draft from a closed ticket (“Turn into a KB draft”); reviews start on the "
        "review queue. Approved entries are written to kb/ and answered at once."
    ),
    "批准复核并更新复核日期": "Approve the review and update its date",
    "批准并写入知识库": "Approve and write to the KB",
    "暂无草稿。": "No drafts yet.",
    "条目 id（snake_case，发布后不再更改）": "Entry id (snake_case, never changed once published)",
    "标题（标准问法）": "Title (the standard question)",
    "每日人工服务平均评分": "Average staff service rating per day",
    "答复（不要写金额、天数、电话，用 {office.字段} 占位）": (
        "Answer (no amounts, days or phone numbers: use {office.field} placeholders)"
    ),
    "问法（每行一个，至少 8 个，口语、繁体、英文都可以）": (
        "Questions (one per line, at least 8; colloquial, traditional or English are welcome)"
    ),
    "驳回": "Reject",
}

_WAIT_EN = (("秒", "s"), ("分钟", "min"), ("小时", "h"), ("分", "min"))

# A draft's source problems (core/kb/drafts.py source_problems): "依据第 N 行：…".
_SOURCE_LINE_EN = (
    (
        r"请写成“标题 \| https://链接”（链接以 http:// 或 https:// 开头）。",
        "write “title | https://link” (the link starts with http:// or https://).",
    ),
    (
        r"(\S+) 不在官方网站名单（(\S+)）上。请引用官方页面，或在行末加“ \| 理由”标为次要来源。",
        "{0} is not on the list of official sites ({1}). Cite the official page, or add "
        "“ | reason” at the end of the line to mark it as a secondary source.",
    ),
    (
        r"(\S+) 是网站首页。请链接到具体页面（如法规的深链接），或在行末加“ \| 理由”标为次要来源。",
        "{0} is a home page. Link the page itself (e.g. a statute's deep link), or add "
        "“ | reason” at the end of the line to mark it as a secondary source.",
    ),
)


def _source_line(text: str) -> str | None:
    line = re.fullmatch(r"依据第 (\d+) 行：(.+)", text)
    if line is None:
        return None
    for pattern, english in _SOURCE_LINE_EN:
        found = re.fullmatch(pattern, line.group(2))
        if found:
            return f"Source line {line.group(1)}: " + english.format(*found.groups())
    return None


def translate(text: str, lang: str) -> str:
    """The English of a console text when `lang` is "en" (the Chinese when none is listed)."""
    if lang != "en":
        return text
    if text in EN:
        return EN[text]
    held = re.fullmatch(r"工单已由 (.+) 接手。", text)
    if held:
        return f"The ticket is already claimed by {held.group(1)}."
    holder = re.fullmatch(r"工单由 (.+) 处理，只有其本人或管理员可以(转交|结束)。", text)
    if holder:
        verb = "transfer" if holder.group(2) == "转交" else "close"
        return f"{holder.group(1)} holds this ticket; only they or an admin can {verb} it."
    return _source_line(text) or text


def format_wait(seconds: int, lang: str = "zh") -> str:
    """Waiting time for people: "45 秒", "12 分钟", "3 小时 5 分" (or "12 min" in English)."""
    if seconds < 60:
        return f"{seconds} 秒" if lang != "en" else f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} 分钟" if lang != "en" else f"{seconds // 60} min"
    hours, minutes = seconds // 3600, seconds % 3600 // 60
    return f"{hours} 小时 {minutes} 分" if lang != "en" else f"{hours} h {minutes} min"
