"""Fixed texts citizens read on WeChat (plain text; WeChat shows `<a href>` links only)."""

from __future__ import annotations

from core.kb.schema import OfficeSettings

WELCOME = (
    "您好，欢迎关注！我是外事侨务办公室的智能助手，可以解答归侨侨眷权益、因私签证代办、"
    "领事认证和附加证明书等问题，也可以查询办理进度或为您转接人工服务。\n"
    "请直接输入您的问题，或点击下方菜单：\n{menu}"
)
PRIVACY_LINE = "本助手只保存答复您所需的信息，详见菜单「隐私说明」或回复“隐私”。"
WELCOME_BACK = "欢迎回来！请直接输入您的问题，或点击下方菜单。"
ACK = "您的问题已收到，正在为您查询，请稍候……"
UNAVAILABLE = "服务暂时不可用，请稍后再试。"
NON_TEXT = "目前只能处理文字消息，请用文字描述您的问题。如需人工帮助，请回复“转人工”。"
IMAGE = (
    "已收到图片。本助手暂时无法识别图片内容，请用文字描述您的问题；如需提交材料，请回复“转人工”。"
)
VOICE_UNRECOGNIZED = "抱歉，没有识别出这段语音，请再说一遍或直接输入文字。"
LOCATION = "已收到位置。本助手不会使用或保存您的位置信息。如需办公地址和办公时间，请直接提问，例如“办公地址在哪里？”"
LINK = "本助手无法打开链接或文章，请用文字描述您想了解的问题。"
FILE = "本助手无法查看文件。如需提交材料，请回复“转人工”，工作人员会告诉您提交方式。"
OPTIONS_HINT = "回复数字即可查看，如“1”。"
FOLLOW_UP_HEADER = "您可能还想了解："
CHOOSE_QUESTION = "请选择您想了解的问题（也可以直接输入问题）："
CHOOSE_TOPIC = "请选择类别："
HUMAN_HINT = "如需人工帮助，请回复“转人工”。"
STATUS_HEADER = "📋 办理进度"
SOURCES = "依据："
SOURCES_EN = "Sources: "
REVIEWED = "审核日期："
REVIEWED_EN = "Last reviewed: "
STAFF_HEADER = "👤 工作人员回复"
NOTIFICATION_MARK = "🔔 "
TIP_FOOTER = "回复“退订侨法”可取消每日推送。"
MENU_EXPIRED = "该菜单项已更新，请直接输入您的问题。"

SUBSCRIBE_WORDS = frozenset({"订阅侨法", "订阅侨法早知道", "订阅每日侨法"})
UNSUBSCRIBE_WORDS = frozenset({"退订侨法", "取消订阅侨法", "退订每日侨法"})
PRIVACY_WORDS = frozenset({"隐私", "隐私说明", "隐私政策"})
HELP_WORDS = frozenset({"帮助", "菜单", "help", "?", "？"})
SUBSCRIBED = (
    "已订阅「侨法早知道」：每天 {time}（{tz}）推送一条侨法小知识，内容来自本助手的知识库并注明依据。"
    "微信只允许在您最近48小时内与本号互动过时推送；回复“退订侨法”可随时取消。"
)
ALREADY_SUBSCRIBED = "您已订阅「侨法早知道」。回复“退订侨法”可取消。"
UNSUBSCRIBED = "已取消订阅「侨法早知道」，您的订阅记录已删除。"
NOT_SUBSCRIBED = "您目前没有订阅「侨法早知道」。点击菜单「订阅每日侨法」或回复“订阅侨法”即可订阅。"
DB_TROUBLE = "暂时无法完成操作，请稍后再试。"

# Template message (outside the 48-hour window): what the office's template shows.
TEMPLATE_TITLE = {
    "staff_reply": "工作人员已回复您的咨询",
    "notification": "您关注的办理进度有更新",
    "system": "您的咨询有新消息",
}
TEMPLATE_HINT = "请进入公众号发送任意消息，即可查看完整内容。"

# Internal notes on the ticket when a WeChat message cannot be delivered (staff read them).
NOTE_WINDOW = (
    "【微信】上一条消息未送达：市民超过48小时未在公众号发消息，微信不允许再发客服消息，"
    "也未配置模板消息。市民再次发消息后会自动补发；如需尽快联系，请改用其他方式。"
)
NOTE_WINDOW_TEMPLATE = (
    "【微信】上一条消息未送达：市民超过48小时未在公众号发消息，已发送模板通知请其回到公众号；"
    "市民再次发消息后会自动补发。"
)
NOTE_UNFOLLOWED = "【微信】上一条消息无法送达：市民已取消关注公众号。"
NOTE_UNREACHABLE = "【微信】上一条消息无法送达（微信错误 {code}：用户无效或已拒收）。"
NOTE_FAILED = "【微信】上一条消息多次发送失败，已停止重试（{error}）。"

# Commands the menu and plain words send to the bot (Rasa understands these).
STATUS_TEXT = "查询进度"
HUMAN_TEXT = "转人工"


def privacy(office: OfficeSettings) -> str:
    """What the WeChat channel stores, from how the system works; retention per the office."""
    return (
        "隐私说明\n"
        "本助手在微信上保存以下信息：\n"
        "• 对话记录：您发送的文字和助手的答复，以您在本公众号的 OpenID（wx:OpenID）标识，用于连续答复；"
        "不获取您的微信号、昵称或头像。助手答不上来的问题（其中的数字已遮盖）留给工作人员完善知识库。\n"
        "• 微信消息编号的摘要（约一天后删除），用于识别微信的重发，避免重复答复。\n"
        "• 您最近一次发消息的时间和是否关注本号，用于判断能否向您发送工作人员回复；"
        "最近一次答复中的编号选项，用于回复数字。\n"
        "• 转人工工单：您的留言和工作人员的回复保存在工单中，供工作人员处理。\n"
        "• 进度查询：为防止冒查，记录受理编号和每次核对是否成功（OpenID 只以摘要形式记录）。\n"
        "• 「侨法早知道」订阅，保存至您取消订阅或取消关注。\n"
        "• 运行日志：不记录消息内容，OpenID 只以不可逆的摘要形式出现。\n\n"
        "图片、语音（微信的语音识别文字除外）、视频、文件、位置和链接不会被处理或保存。"
        "取消关注后不再向您推送任何消息。其他信息的保存期限以本办的数据管理规定为准。"
        f"如需查询或删除您的记录，请回复“转人工”，或联系{office.contact}"
    )
