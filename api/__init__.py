"""The HTTP service (FastAPI): demo page, widget api and relay, staff console, case integration
API, Telegram/WeChat webhooks forwarded to the bots, health and metrics. May import core/ only."""
