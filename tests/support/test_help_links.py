"""Every error a user can meet links to a knowledge-base article that tells how to fix it, in
their language: why a bot stopped, the error lines of its log, the exchange's errors, and every
troubleshooter cause. Each code's article exists in Russian and English and is served by the
API; the link reaches the bot's API payload, the troubleshooter's answer, and the error
notifications (in the app, the email and the Telegram message)."""

from __future__ import annotations

import inspect

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.models import OutboxMessage
from bots.models import Bot, BotEvent
from bots.notify import bot_event_notify, bot_stop_notify
from config.codes import EVENTS, STOP_REASONS
from config.help import EVENT_ARTICLES, EXCHANGE_ARTICLES, STOP_ARTICLES
from exchanges import errors as exchange_errors
from notifications.models import Delivery, Notification
from notifications.services import delivery_send
from support.causes import CAUSES
from telegram_bot.models import TelegramLink
from tests.factories import BotFactory, UserFactory, grid_config
from tests.telegram_bot.conftest import TOKEN, fake_telegram  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

EXCHANGE_CLASSES = sorted(
    name
    for name, cls in inspect.getmembers(exchange_errors, inspect.isclass)
    if issubclass(cls, exchange_errors.ExchangeError) and cls.__module__ == exchange_errors.__name__
)
ALL_LINKS = sorted(
    {("cause", code, spec["article"]) for code, spec in CAUSES.items()}
    | {("stop", code, slug) for code, slug in STOP_ARTICLES.items()}
    | {("event", code, slug) for code, slug in EVENT_ARTICLES.items()}
    | {("exchange", code, slug) for code, slug in EXCHANGE_ARTICLES.items()}
)


def _client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_every_code_is_mapped():
    assert set(STOP_ARTICLES) == set(STOP_REASONS)  # every stop reason, and no invented one
    assert set(EVENT_ARTICLES) <= set(EVENTS)
    # every error line of a bot's log the engine writes at level "error" has its article
    assert {"launch_failed", "stopped_fatal", "stop_retry", "gave_up", "error_restart", "close_failed"} <= set(
        EVENT_ARTICLES
    )
    assert EXCHANGE_CLASSES and set(EXCHANGE_CLASSES) == set(EXCHANGE_ARTICLES)


@pytest.mark.parametrize(("kind", "code", "slug"), ALL_LINKS)
def test_each_codes_article_exists_in_both_languages(kind, code, slug):
    client = _client()
    titles = {}
    for language in ("ru", "en"):
        response = client.get(f"/api/support/articles/{slug}/", {"lang": language})
        assert response.status_code == 200, f"{kind} {code}: no {language} article {slug}"
        body = response.json()
        assert body["language"] == language and len(body["body"]) > 100
        titles[language] = body["title"]
    assert titles["ru"] != titles["en"]  # really translated, not a copy


@pytest.mark.parametrize("code", sorted(STOP_REASONS))
def test_a_stopped_bots_payload_links_the_article_of_its_stop_reason(code):
    user = UserFactory()
    bot = BotFactory(user=user, status=Bot.Status.STOPPED, stop_code=code, stop_reason="detail")
    payload = _client(user).get(f"/api/bots/{bot.pk}/").json()
    assert payload["help_article"] == STOP_ARTICLES[code]


@pytest.mark.parametrize("name", EXCHANGE_CLASSES)
def test_a_failing_bots_payload_links_the_article_of_its_exchange_error(name):
    user = UserFactory()
    bot = BotFactory(user=user, status=Bot.Status.ERROR, last_error=f"{name}: the exchange said no")
    payload = _client(user).get(f"/api/bots/{bot.pk}/").json()
    assert payload["help_article"] == EXCHANGE_ARTICLES[name]


def test_a_running_bot_without_errors_links_nothing_and_log_lines_carry_their_link():
    user = UserFactory()
    bot = BotFactory(user=user, status=Bot.Status.RUNNING)
    assert _client(user).get(f"/api/bots/{bot.pk}/").json()["help_article"] is None
    BotEvent.objects.create(
        bot=bot,
        kind=BotEvent.Kind.ERROR,
        level=BotEvent.Level.ERROR,
        message="x",
        data={"code": "launch_failed", "params": {"price": "1", "error": "e"}},
    )
    lines = _client(user).get(f"/api/bots/{bot.pk}/events/").json()
    rows = lines["results"] if isinstance(lines, dict) else lines
    assert [r["help_article"] for r in rows if r["kind"] == "error"] == ["launch-failed"]


def test_the_troubleshooters_answer_links_each_finding_to_an_existing_article():
    user = UserFactory(language="en")
    bot = BotFactory(user=user, config=grid_config(), status=Bot.Status.STOPPED, stop_code="auth_failed")
    findings = _client(user).get(f"/api/support/bots/{bot.pk}/troubleshoot/").json()["findings"]
    assert findings
    for finding in findings:
        assert finding["article"] == CAUSES[finding["cause"]]["article"]
        assert _client().get(f"/api/support/articles/{finding['article']}/", {"lang": "en"}).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_error_notifications_carry_how_to_fix_in_the_app_the_email_and_telegram(fake_telegram, settings):  # noqa: F811
    settings.EMAIL_BACKEND = "accounts.mail.OutboxEmailBackend"
    settings.SETKA_PUBLIC_URL = "http://127.0.0.1:3000"
    user = UserFactory(language="en")
    chat = 7_400_001
    fake_telegram.control("message", user_id=chat, text="hi")
    TelegramLink.objects.create(user=user, chat_id=chat)
    bot = BotFactory(
        user=user,
        status=Bot.Status.STOPPED,
        stop_code="auth_failed",
        stop_reason="AuthenticationFailed: key revoked",
        last_error="AuthenticationFailed: key revoked",
        name="Night grid",
    )
    with override_settings(SETKA_TELEGRAM_API_URL=fake_telegram.url, SETKA_TELEGRAM_BOT_TOKEN=TOKEN):
        bot_stop_notify(bot_id=bot.pk, generation=bot.generation)
        note = Notification.objects.get(user=user, event="bot_stopped")
        for delivery in Delivery.objects.filter(notification=note):
            delivery_send(delivery_id=delivery.pk)
    link = "http://127.0.0.1:3000/help/api-key-problems"
    listed = _client(user).get("/api/notifications/").json()["results"]
    assert [n["help_url"] for n in listed if n["event"] == "bot_stopped"] == ["/help/api-key-problems"]
    (mail,) = OutboxMessage.objects.filter(recipient=user.email)
    assert f"How to fix: {link}" in mail.body
    told = [m["text"] for m in fake_telegram.sent(chat) if "Night grid" in m.get("text", "")]
    assert told and f"How to fix: {link}" in told[-1]

    # An error line of a running bot: its own article (here: not enough funds), in Russian for a Russian user.
    other = UserFactory(language="ru")
    running = BotFactory(user=other, status=Bot.Status.ERROR, last_error="InsufficientBalance: 5 USDT free")
    event = BotEvent.objects.create(
        bot=running,
        kind=BotEvent.Kind.ERROR,
        level=BotEvent.Level.ERROR,
        message="Error: InsufficientBalance",
        data={
            "error": "InsufficientBalance",
            "code": "error_restart",
            "params": {"error": "x", "attempt": 1, "max": 5, "delay": 10},
        },
    )
    bot_event_notify(event_id=event.pk)
    error_note = Notification.objects.get(user=other, event="bot_error")
    assert error_note.params["help_article"] == "insufficient-balance"
    (email_delivery,) = Delivery.objects.filter(notification=error_note, channel="email")
    delivery_send(delivery_id=email_delivery.pk)
    (mail,) = OutboxMessage.objects.filter(recipient=other.email)
    assert "Как исправить: http://127.0.0.1:3000/help/insufficient-balance" in mail.body
