"""Messaging apps, one package each (bot/telegram/, …); what they share lives in core/."""
