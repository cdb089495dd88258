"""Prometheus metrics: requests and latencies, bot turns by reply type, fallbacks, handoffs.

One registry per process (prometheus_client's default); the api serves it at /metrics. Labels
are bounded sets (route templates, channel names, reply types of the reply contract) — never a
sender id or message text. Bot turns are counted by core.conversation.analytics.observe_turn.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUESTS = Counter(
    "qiaowu_http_requests_total", "HTTP requests served by the api", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "qiaowu_http_request_duration_seconds",
    "Time to answer an HTTP request (api)",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
TURNS = Counter(
    "qiaowu_bot_turns_total", "Citizen messages answered, by channel", ["channel", "outcome"]
)
REPLIES = Counter(
    "qiaowu_bot_replies_total", "Bot reply payloads, by channel and type", ["channel", "type"]
)
FALLBACKS = Counter(
    "qiaowu_fallbacks_total",
    "Turns the bot could not answer from the KB (fallback or out of scope)",
    ["channel", "type"],
)
HANDOFFS = Counter(
    "qiaowu_handoffs_total",
    "Turns handed to staff: requested, emergency, or parked because the bot was unavailable",
    ["channel", "reason"],
)
RASA_LATENCY = Histogram(
    "qiaowu_rasa_request_duration_seconds",
    "Time Rasa took to answer one citizen message (REST webhook)",
    buckets=LATENCY_BUCKETS,
)
