"""WeChat Official Account (公众号) channel: `python -m bot.wechat` (see __main__)."""
