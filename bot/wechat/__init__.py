"""WeChat Official Account (公众号) channel: `python -m bot.wechat` (see __main__); the protocol,
handler, menu, outbox delivery and texts. May import core/ only (never api/, actions/ or
another messaging app)."""
