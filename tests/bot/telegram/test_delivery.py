"""Telegram delivery: outbox rows exactly once across restarts, daily tips on an injected
clock, 429 and server-error back-off, and the webhook secret check."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest
from aiohttp import web
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from api.main import create_app
from bot.telegram.app import build_bot, build_dispatcher
from bot.telegram.outbox import OutboxDeliverer
from bot.telegram.webhook import build_webhook_app
from core.conversation.relay import Relay
from core.db.engine import session_scope
from core.db.models import Outbox
from core.notify import outbox, tips
from core.notify.background import Background, TransientFailure
from tests.fake_telegram import FakeTelegram, MutableClock, message_update, start_bot
from tests.fakes import FakeRasa

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def enqueue(sessions, sender_id: str, text: str, kind: str = "staff_reply", **extra) -> int:
    channel = sender_id.split(":", 1)[0]
    with session_scope(sessions) as session:
        return outbox.enqueue(
            session, channel=channel, sender_id=sender_id, kind=kind, text=text, **extra
        ).id


def outbox_rows(sessions) -> list[Outbox]:
    with session_scope(sessions) as session:
        return list(session.scalars(select(Outbox).order_by(Outbox.id)))


async def wait_until(predicate, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def texts_to(telegram: FakeTelegram, chat_id: str) -> list[str]:
    return [s["text"] for s in telegram.sent() if s["chat_id"] == chat_id]


# --- outbox -------------------------------------------------------------------------------


async def test_outbox_rows_are_delivered_exactly_once_across_a_restart(
    telegram, sessions, kb, tg_settings
):
    relay = Relay(FakeRasa().client(), sessions)
    enqueue(sessions, "tg:50", "第一条回复", payload={"ticket": 3})
    enqueue(sessions, "tg:50", "第二条回复", payload={"ticket": 3})
    enqueue(sessions, "web:abc", "网页渠道的消息")  # another channel's row: never sent here
    first = await start_bot(telegram, relay, kb, settings=tg_settings)
    try:
        await wait_until(lambda: len(texts_to(telegram, "50")) == 2)
        await wait_until(lambda: all(r.sent_at for r in outbox_rows(sessions)[:2]))
    finally:
        await first.stop()
    enqueue(sessions, "tg:50", "重启后的回复", kind="notification")
    second = await start_bot(telegram, relay, kb, settings=tg_settings)
    try:
        await wait_until(lambda: len(texts_to(telegram, "50")) == 3)
        await asyncio.sleep(0.3)  # several more delivery rounds: nothing is sent again
    finally:
        await second.stop()
    assert texts_to(telegram, "50") == [
        "<b>👤 工作人员回复（工单 #3）：</b>\n第一条回复",
        "<b>👤 工作人员回复（工单 #3）：</b>\n第二条回复",
        "🔔 重启后的回复",
    ]
    rows = outbox_rows(sessions)
    assert [r.sent_at is not None for r in rows] == [True, True, False, True]
    assert [r.attempts for r in rows] == [1, 1, 0, 1]


async def test_a_row_that_failed_is_retried_after_restart_and_keeps_chat_order(
    telegram, sessions, kb, tg_settings
):
    relay = Relay(FakeRasa().client(), sessions)
    settings = tg_settings
    enqueue(sessions, "tg:51", "甲")
    enqueue(sessions, "tg:51", "乙")
    for _ in range(20):  # Telegram keeps failing during the first lifetime
        telegram.fail("sendMessage", 500, "Internal Server Error")
    first = await start_bot(telegram, relay, kb, settings=settings)
    try:
        await wait_until(lambda: telegram.attempts.count("sendMessage") >= 2)
    finally:
        await first.stop()
    assert telegram.sent() == []
    jia, yi = outbox_rows(sessions)
    # Telegram being down costs the row none of its attempts; 乙 waited behind 甲.
    assert (jia.attempts, jia.last_error, jia.sent_at) == (0, "TelegramServerError", None)
    assert (yi.attempts, yi.last_error) == (0, None)
    telegram.failures.clear()
    second = await start_bot(telegram, relay, kb, settings=settings)
    try:
        await wait_until(lambda: len(texts_to(telegram, "51")) == 2)
    finally:
        await second.stop()
    assert [t[-1] for t in texts_to(telegram, "51")] == ["甲", "乙"]


async def test_blocked_chat_is_not_retried_and_other_chats_still_get_theirs(
    telegram, sessions, kb, tg_settings
):
    telegram.blocked_chats.add("52")
    enqueue(sessions, "tg:52", "给已屏蔽机器人的用户")
    enqueue(sessions, "tg:53", "正常用户")
    handle = await start_bot(
        telegram, Relay(FakeRasa().client(), sessions), kb, settings=tg_settings
    )
    try:
        await wait_until(lambda: len(texts_to(telegram, "53")) == 1)
        await asyncio.sleep(0.3)
    finally:
        await handle.stop()
    blocked = outbox_rows(sessions)[0]
    assert blocked.sent_at is None and blocked.last_error == "TelegramForbiddenError"
    assert blocked.attempts == tg_settings.telegram_outbox_max_attempts
    assert telegram.attempts.count("sendMessage") == 2  # one try each


# --- back-off -----------------------------------------------------------------------------


async def test_telegram_429_is_retried_after_retry_after(telegram, sessions, kb, tg_settings):
    telegram.fail("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
    handle = await start_bot(
        telegram, Relay(FakeRasa().client(), sessions), kb, settings=tg_settings
    )
    try:
        telegram.push(message_update(60, "附加证明书"))
        sent = await telegram.wait_for("sendMessage")
    finally:
        await handle.stop()
    assert handle.sleeps == [3.0]
    assert telegram.attempts.count("sendMessage") == 2 and sent[0]["chat_id"] == "60"


async def test_server_errors_back_off_exponentially_then_succeed(
    telegram, sessions, kb, tg_settings
):
    telegram.fail("sendMessage", 502, "Bad Gateway")
    telegram.fail("sendMessage", 502, "Bad Gateway")
    handle = await start_bot(
        telegram, Relay(FakeRasa().client(), sessions), kb, settings=tg_settings
    )
    try:
        telegram.push(message_update(61, "签证"))
        await telegram.wait_for("sendMessage")
    finally:
        await handle.stop()
    assert handle.sleeps == [0.5, 1.0]


async def test_network_errors_are_retried(tmp_path, sessions, kb, tg_settings):
    """A Bot API server that is not there yet: connection refused, then it comes up."""
    telegram = FakeTelegram()
    await telegram.start()
    port = int(telegram.base.rsplit(":", 1)[1])
    await telegram.stop()
    delays: list[float] = []

    async def restart_server(delay: float) -> None:
        delays.append(delay)
        if len(delays) == 1:
            runner = telegram._runner
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()

    bot = build_bot("123456:TEST-TOKEN", telegram.base, sleep=restart_server)
    try:
        await bot.send_message(62, "你好")
    finally:
        await bot.session.close()
        await telegram.stop()
    assert delays == [0.5] and telegram.sent()[0]["text"] == "你好"


# --- daily tip ----------------------------------------------------------------------------


def test_tip_of_the_day_is_deterministic_and_changes_daily(kb):
    day = dt.date(2026, 11, 23)
    assert tips.tip_entry_id(kb, day) == tips.tip_entry_id(kb, day)
    assert tips.tip_entry_id(kb, day) != tips.tip_entry_id(kb, day + dt.timedelta(days=1))
    assert kb.entries[tips.tip_entry_id(kb, day)].topic in tips.TIP_TOPICS


def test_tip_is_due_from_the_configured_local_time():
    at = dt.time(9, 0)
    before = dt.datetime(2026, 11, 23, 0, 59, tzinfo=dt.UTC)  # 08:59 in Shanghai
    assert tips.due_day(before, at, "Asia/Shanghai") is None
    late = dt.datetime(2026, 11, 23, 16, 30, tzinfo=dt.UTC)  # 00:30 next day in Shanghai
    assert tips.due_day(late, at, "Asia/Shanghai") is None
    assert tips.due_day(late + dt.timedelta(hours=1), dt.time(0, 0), "Asia/Shanghai") == dt.date(
        2026, 11, 24
    )


async def test_daily_tip_is_sent_once_per_day_with_its_source(telegram, sessions, kb, tg_settings):
    with session_scope(sessions) as session:
        tips.subscribe(session, "tg:70")
    relay = Relay(FakeRasa().client(), sessions)
    clock = MutableClock(dt.datetime(2026, 11, 23, 8, 59, tzinfo=SHANGHAI))
    handle = await start_bot(telegram, relay, kb, settings=tg_settings, clock=clock)
    try:
        await asyncio.sleep(0.3)
        assert texts_to(telegram, "70") == []  # not before 09:00
        clock.now = dt.datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
        await wait_until(lambda: len(texts_to(telegram, "70")) == 1)
    finally:
        await handle.stop()
    clock.now = dt.datetime(2026, 11, 23, 15, 0, tzinfo=SHANGHAI)  # restart later that day
    again = await start_bot(telegram, relay, kb, settings=tg_settings, clock=clock)
    try:
        await asyncio.sleep(0.3)
        assert len(texts_to(telegram, "70")) == 1
        clock.now = dt.datetime(2026, 11, 24, 9, 5, tzinfo=SHANGHAI)
        await wait_until(lambda: len(texts_to(telegram, "70")) == 2)
    finally:
        await again.stop()
    first, second = (s for s in telegram.sent() if s["chat_id"] == "70")
    entry = kb.entries[tips.tip_entry_id(kb, dt.date(2026, 11, 23))]
    assert first["text"].startswith(f"【侨法早知道】{entry.title}")
    assert f'<a href="{entry.sources[0].url}">' in first["text"]
    buttons = [b["callback_data"] for row in first["reply_markup"]["inline_keyboard"] for b in row]
    assert f"fb1:{entry.id}" in buttons and "cmd:unsubscribe" in buttons
    assert second["text"] != first["text"]
    keys = [r.dedupe_key for r in outbox_rows(sessions)]
    assert keys == ["tip:tg:70:2026-11-23", "tip:tg:70:2026-11-24"]


# --- webhook ------------------------------------------------------------------------------


def webhook_client(settings) -> TestClient:
    return TestClient(create_app(settings, relay=Relay(FakeRasa().client(), None)))


@pytest.mark.parametrize("header", [None, "wrong-secret", ""])
def test_webhook_refuses_a_missing_or_wrong_secret(settings, header):
    settings = settings.model_copy(
        update={"telegram_mode": "webhook", "telegram_webhook_secret": SecretStr("s3cret-token")}
    )
    headers = {"X-Telegram-Bot-Api-Secret-Token": header} if header is not None else {}
    with webhook_client(settings) as client:
        response = client.post("/telegram/webhook", json={"update_id": 1}, headers=headers)
    assert response.status_code == 403


def test_webhook_is_off_in_polling_mode(settings):
    with webhook_client(settings) as client:
        response = client.post(
            "/telegram/webhook", json={}, headers={"X-Telegram-Bot-Api-Secret-Token": "x"}
        )
    assert response.status_code == 404


def test_webhook_answers_503_when_the_bot_is_down_so_telegram_retries(settings):
    settings = settings.model_copy(
        update={
            "telegram_mode": "webhook",
            "telegram_webhook_secret": SecretStr("s3cret-token"),
            "telegram_webhook_listen": "127.0.0.1:9",  # nothing listens there
        }
    )
    with webhook_client(settings) as client:
        response = client.post(
            "/telegram/webhook",
            json={"update_id": 1},
            headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"},
        )
    assert response.status_code == 503


async def test_webhook_with_the_right_secret_reaches_the_bot(telegram, sessions, kb, tg_settings):
    rasa = FakeRasa()
    bot = build_bot("123456:TEST-TOKEN", telegram.base)
    dp = build_dispatcher(Relay(rasa.client(), sessions), kb, settings=tg_settings)
    runner = web.AppRunner(build_webhook_app(dp, bot, "s3cret-token"))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    settings = tg_settings.model_copy(
        update={
            "telegram_mode": "webhook",
            "telegram_webhook_secret": SecretStr("s3cret-token"),
            "telegram_webhook_listen": f"127.0.0.1:{port}",
        }
    )
    update = {"update_id": 5, **message_update(80, "附加证明书怎么办理？")}
    try:
        with webhook_client(settings) as client:
            response = await asyncio.to_thread(
                client.post,
                "/telegram/webhook",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"},
            )
            assert response.status_code == 200
            sent = await telegram.wait_for("sendMessage")
    finally:
        await runner.cleanup()
        await bot.session.close()
    assert rasa.received == [
        {"sender": "tg:80", "message": "附加证明书怎么办理？", "metadata": {"lang": "zh"}}
    ]
    assert sent[0]["chat_id"] == "80"


async def test_background_backs_off_while_telegram_or_the_database_is_down():
    class Flaky:
        def __init__(self, errors):
            self.errors = errors

        async def deliver_once(self):
            if self.errors:
                raise self.errors.pop(0)
            return 0

    loop = Background(
        Flaky([TransientFailure(retry_after=5), TransientFailure(), RuntimeError("db down")]),
        None,
        interval_s=1.0,
    )
    assert await loop.run_once() == 5.0  # Telegram's retry_after wins over the back-off
    assert await loop.run_once() == 4.0
    assert await loop.run_once() == 8.0
    assert await loop.run_once() == 1.0  # recovered: normal interval again


async def test_outbox_row_keeps_its_attempts_while_telegram_rate_limits(
    telegram, sessions, kb, tg_settings
):
    enqueue(sessions, "tg:54", "稍后送达")
    telegram.fail("sendMessage", 429, "Too Many Requests: retry after 600", retry_after=600)
    bot = build_bot("123456:TEST-TOKEN", telegram.base)
    deliverer = OutboxDeliverer(bot, sessions, lambda: dt.datetime.now(dt.UTC), max_attempts=1)
    try:
        with pytest.raises(TransientFailure) as raised:
            await deliverer.deliver_once()
        assert raised.value.retry_after == 600
        assert outbox_rows(sessions)[0].attempts == 0
        assert await deliverer.deliver_once() == 1  # max_attempts=1 was not used up
    finally:
        await bot.session.close()
    assert texts_to(telegram, "54") == ["<b>👤 工作人员回复：</b>\n稍后送达"]


def test_webhook_mode_refuses_to_start_without_secret_and_url(settings):
    from bot.telegram.__main__ import config_problems

    webhook = settings.model_copy(
        update={"telegram_token": SecretStr("1:x"), "telegram_mode": "webhook"}
    )
    problems = config_problems(webhook)
    assert any("TELEGRAM_WEBHOOK_SECRET" in p for p in problems)
    assert any("TELEGRAM_WEBHOOK_URL" in p for p in problems)
    polling = settings.model_copy(update={"telegram_token": SecretStr("1:x")})
    assert config_problems(polling) == []
