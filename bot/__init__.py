"""Telegram channel (aiogram 3): relays citizen messages to Rasa and renders the replies."""
