"""Fixed texts citizens read on Telegram (simplified Chinese first, English where useful).

Topic labels and groups come from core.kb.topics."""

from __future__ import annotations

from html import escape

from core.kb.schema import OfficeSettings
from core.kb.topics import RIGHTS_TOPICS

WELCOME = (
    "您好！我是外事侨务办公室的智能助手，可以解答归侨侨眷权益、因私签证代办、领事认证和附加证明书等问题，"
    "也可以查询办理进度或为您转接人工服务。请直接输入问题，或点选下方按钮。\n"
    "Hello! Ask me about returnee rights, the visa agency service, legalization and apostilles "
    "(send /lang to get answers in English where available)."
)
HELP = (
    "<b>使用帮助</b>\n"
    "直接输入您的问题即可，例如“附加证明书怎么办理？”。\n\n"
    "/status 查询办理进度（需要受理编号和手机号后4位）\n"
    "/human 转人工服务\n"
    "/lang 切换答复语言（中文 / English）\n"
    "/subscribe 订阅每日「侨法早知道」\n"
    "/unsubscribe 取消订阅\n"
    "/privacy 我们保存哪些信息\n"
    "/help 显示本帮助\n\n"
    "如在国外遇到紧急情况，请拨打外交部领事保护应急热线 +86-10-12308（24小时）。"
)
UNAVAILABLE = "服务暂时不可用，请稍后再试。"
NON_TEXT = "目前只能处理文字消息，请用文字描述您的问题。如需人工帮助，请发送“转人工”。"
CONTACT_SHARED = (
    "为保护您的个人信息，请不要发送联系人名片，本助手不会保存它。"
    "请用文字描述您的问题；查询办理进度请发送 /status。"
)
EDITED = "修改后的消息不会重新处理。如需继续提问，请直接发送新消息。"
UNKNOWN_COMMAND = "未知命令。发送 /help 查看可用的命令。"
FLOODED = "您发送得太快了，请稍等几秒钟再发。"
BUTTON_EXPIRED = "该按钮已失效，请直接输入您的问题。"
FEEDBACK_THANKS = "谢谢您的反馈！"
CHOOSE_QUESTION = "请选择您想了解的问题（也可以直接输入问题）："
CHOOSE_TOPIC = "请选择类别："
GROUP_REFUSAL = (
    "为保护您的个人信息，本助手只在私聊中答复，请点击 @{username} 私聊提问。"
    "如在国外遇到紧急情况，请拨打外交部领事保护应急热线 +86-10-12308（24小时）。"
)
INLINE_BUTTON = "私聊侨务助手提问"

LANG_CHOOSE = "请选择答复语言 / Choose the answer language:"
LANG_SET = {
    "zh": "已切换为中文答复。",
    "zh-Hant": "已切換為繁體中文答覆。",
    "en": "Answers will be in English where the knowledge base has an English version; "
    "other answers stay in Chinese.",
}
LANG_USAGE = "用法：/lang zh、/lang zh-Hant 或 /lang en"

SUBSCRIBED = (
    "已订阅「侨法早知道」：每天 {time}（{tz}）推送一条侨法小知识，内容来自本助手的知识库并注明依据。"
    "发送 /unsubscribe 可随时取消。"
)
ALREADY_SUBSCRIBED = "您已订阅「侨法早知道」。发送 /unsubscribe 可取消。"
UNSUBSCRIBED = "已取消订阅「侨法早知道」，您的订阅记录已删除。"
NOT_SUBSCRIBED = "您目前没有订阅「侨法早知道」。发送 /subscribe 可订阅。"
DB_TROUBLE = "暂时无法完成操作，请稍后再试。"

# Reply-keyboard labels; "查询进度" and "转人工" are ordinary messages the bot understands.
BTN_RIGHTS = "归侨侨眷权益"
BTN_VISA = "签证代办"
BTN_LEGALIZATION = "领事认证/附加证明书"
BTN_STATUS = "查询进度"
BTN_HUMAN = "转人工"

SECTIONS = {
    BTN_RIGHTS: RIGHTS_TOPICS,
    BTN_VISA: ("visa_agency",),
    BTN_LEGALIZATION: ("apostille", "legalization"),
}


def privacy(office: OfficeSettings) -> str:
    """What the Telegram channel stores, from how the system works; retention per the office."""
    return (
        "<b>隐私说明</b>\n"
        "本助手在 Telegram 上保存以下信息：\n"
        "• 对话记录：您发送的文字和助手的答复，以 Telegram 聊天编号（tg:聊天编号）标识，用于连续答复；"
        "不保存您的姓名、用户名或头像。助手答不上来的问题（其中的数字已遮盖）留给工作人员完善知识库。\n"
        "• 转人工工单：转人工或服务暂时不可用时，您的留言和工作人员的回复保存在工单中，供工作人员处理。\n"
        "• 进度查询：为防止冒查，记录受理编号和每次核对是否成功（聊天编号只以摘要形式记录）。\n"
        "• 设置：答复语言、「侨法早知道」订阅，保存至您更改或发送 /unsubscribe 为止。\n"
        "• 答复评价（👍/👎）：只记录被评价的答复编号和评价，不记录是谁评价的。\n"
        "• 运行日志：不记录消息内容，聊天编号只以不可逆的摘要形式出现。\n\n"
        "照片、语音、文件、位置和联系人不会被处理或保存。"
        "其他信息的保存期限以本办的数据管理规定为准。如需查询或删除您的记录，请发送“转人工”，"
        f"或联系{escape(office.contact)}"
    )
