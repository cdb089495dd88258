"""Internal notes left on a ticket when a WeChat message cannot be delivered. Staff read them
in the console (which is Chinese-first), citizens never do, so they are not in the citizens'
catalogue (core/texts); tests/test_texts_in_channels.py exempts this module by name."""

from __future__ import annotations

WINDOW = (
    "【微信】上一条消息未送达：市民超过48小时未在公众号发消息，微信不允许再发客服消息，"
    "也未配置模板消息。市民再次发消息后会自动补发；如需尽快联系，请改用其他方式。"
)
WINDOW_TEMPLATE = (
    "【微信】上一条消息未送达：市民超过48小时未在公众号发消息，已发送模板通知请其回到公众号；"
    "市民再次发消息后会自动补发。"
)
UNFOLLOWED = "【微信】上一条消息无法送达：市民已取消关注公众号。"
UNREACHABLE = "【微信】上一条消息无法送达（微信错误 {code}：用户无效或已拒收）。"
FAILED = "【微信】上一条消息多次发送失败，已停止重试（{error}）。"
