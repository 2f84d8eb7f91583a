"""Webhook mode checks Telegram's secret-token header; sends keep Telegram's limits (one a
second per chat, 30 a second overall) and survive a 429; nothing points outside 127.0.0.1."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
import redis
import requests
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from telegram_bot.client import api_server
from telegram_bot.models import TelegramLink
from telegram_bot.sending import SendFailed, send_text, send_to_chat
from tests.factories import UserFactory
from tests.telegram_bot.conftest import TOKEN

SECRET = "s3cret-Token_value"


@pytest.fixture
def telegram_settings(fake_telegram):
    prefix = f"test:telegram:{time.monotonic_ns()}"
    with override_settings(
        SETKA_TELEGRAM_API_URL=fake_telegram.url,
        SETKA_TELEGRAM_BOT_TOKEN=TOKEN,
        SETKA_TELEGRAM_WEBHOOK_SECRET=SECRET,
        SETKA_TELEGRAM_LIMIT_PREFIX=prefix,
    ):
        yield
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def _update(update_id: int, chat_id: int, text: str) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Ann"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Ann", "language_code": "en"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
        },
    }


@pytest.mark.django_db(transaction=True)
def test_webhook_answers_only_with_the_secret_header(client, fake_telegram, telegram_settings):
    chat = 6_000_001
    fake_telegram.control("message", user_id=chat, text="hi", language_code="en")  # the chat exists
    url = "/api/telegram/webhook/"
    before = len(fake_telegram.sent(chat))

    assert client.post(url, _update(1, chat, "/status"), content_type="application/json").status_code == 403
    wrong = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": "guess"}
    assert client.post(url, _update(2, chat, "/status"), content_type="application/json", **wrong).status_code == 403
    assert len(fake_telegram.sent(chat)) == before  # refused updates did nothing

    right = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": SECRET}
    resp = client.post(url, _update(3, chat, "/status"), content_type="application/json", **right)
    assert resp.status_code == 200
    sent = fake_telegram.sent(chat)
    assert len(sent) == before + 1 and "Link Telegram" in sent[-1]["text"]  # a stranger: how to link, no data

    garbage = client.post(url, '{"update_id": "x", "message": 5}', content_type="application/json", **right)
    assert garbage.status_code == 400
    assert client.post(url, "[1, 2]", content_type="application/json", **right).status_code == 400

    with override_settings(SETKA_TELEGRAM_WEBHOOK_SECRET=""):  # not configured: webhook closed
        assert client.post(url, _update(4, chat, "/status"), content_type="application/json").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_webhook_setup_delivers_updates_with_the_header(live_server, fake_telegram, telegram_settings):
    """setWebhook through the real client; the fake then POSTs a user's message to our endpoint
    with the secret header, and the bot's answer comes back to the chat."""
    call_command("telegram_webhook_set", url=f"{live_server.url}/api/telegram/webhook/")
    try:
        answer = fake_telegram.say(6_000_002, "/bots", language_code="en")
        assert "Link Telegram" in answer["text"]
    finally:
        requests.post(f"{fake_telegram.url}/bot{TOKEN}/deleteWebhook", timeout=5)


@pytest.mark.django_db
def test_one_message_a_second_per_chat(fake_telegram, telegram_settings):
    user = UserFactory()
    chat = 6_000_003
    fake_telegram.control("message", user_id=chat, text="hi")
    TelegramLink.objects.create(user=user, chat_id=chat)
    for n in range(3):
        assert send_text(user_id=user.pk, text=f"message {n}")
    times = [m["sent_at"] for m in fake_telegram.sent(chat)]
    assert len(times) == 3
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.95, gaps


@pytest.mark.django_db
def test_global_limit_spaces_messages_to_many_chats(fake_telegram, telegram_settings):
    """The global limit (30/s in production; 5/s here to keep the test short) spaces sends to
    different chats: no one-second window holds more than the limit."""
    chats = [6_100_000 + n for n in range(8)]
    for chat in chats:
        fake_telegram.control("message", user_id=chat, text="hi")
    with override_settings(SETKA_TELEGRAM_GLOBAL_PER_SECOND=5):
        started = time.monotonic()
        for chat in chats:
            send_to_chat(chat_id=chat, text="news")
        elapsed = time.monotonic() - started
    times = sorted(m["sent_at"] for chat in chats for m in fake_telegram.sent(chat) if m["text"] == "news")
    assert len(times) == 8
    assert all(sum(1 for t in times if start <= t < start + 0.999) <= 5 for start in times)
    assert elapsed >= 1.4  # 8 sends at 5 a second: the last one waits for its slot at 1.4 s (plus margin)


@pytest.mark.django_db
def test_a_429_is_retried_after_retry_after_and_403_marks_the_chat(fake_telegram, telegram_settings):
    user = UserFactory()
    chat = 6_000_004
    fake_telegram.control("message", user_id=chat, text="hi")
    TelegramLink.objects.create(user=user, chat_id=chat)
    fake_telegram.control("flood", retry_after=1, count=1)
    assert send_text(user_id=user.pk, text="after the flood")
    assert [m["text"] for m in fake_telegram.sent(chat)] == ["after the flood"]

    fake_telegram.control("block", user_id=chat, blocked=True)
    assert send_text(user_id=user.pk, text="blocked") is False
    assert TelegramLink.objects.get(user=user).blocked_at is not None
    assert send_text(user_id=user.pk, text="not even tried") is False


@pytest.mark.django_db
def test_unknown_chat_is_telegrams_400(fake_telegram, telegram_settings):
    """Telegram's 400 is final (sending again will not help); the chat is not marked blocked."""
    with pytest.raises(SendFailed, match="chat not found") as failed:
        send_to_chat(chat_id=9_999_999, text="hello?")
    assert failed.value.final and not failed.value.blocked


def test_every_telegram_address_is_loopback():
    """The Bot API the product talks to is the fake on 127.0.0.1 unless production sets it."""
    for url in (settings.SETKA_TELEGRAM_API_URL, api_server().base, api_server().file):
        assert urlsplit(url).hostname in ("127.0.0.1", "localhost"), url
