"""Telegram channel (aiogram 3): relays citizen messages to Rasa and renders the replies.

May import core/ only (never api/, actions/ or another messaging app)."""
