"""Messaging apps, one package each (bot/telegram/, bot/wechat/), siblings that never import each
other; what they share lives in core/, the only other package they may import."""
