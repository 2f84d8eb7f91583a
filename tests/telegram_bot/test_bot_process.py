"""The Telegram bot as a user meets it: the real bot process (manage.py run_telegram_bot, long
polling with aiogram) against the fake Bot API. A chat is linked by the one-time deep link, the
commands answer for the linked user only, /stop N stops the bot after the confirmation button,
a bot error (one raised by the real Celery worker's tick against the simulator) reaches the chat
within 5 s, a stranger's chat gets nothing, and a plan paid in Stars is credited once."""

from __future__ import annotations

import os
import time

import pytest
from django.conf import settings
from django.db import connection, transaction

from billing.models import Payment, Plan, ProviderEvent, Subscription
from bots.log import bot_event
from bots.models import Bot, BotEvent
from bots.services import bot_start
from telegram_bot.models import TelegramLink
from telegram_bot.services import link_token_create
from tests.factories import BotFactory, ExchangeAccountFactory, UserFactory
from tests.stack import Stack
from tests.telegram_bot.conftest import TOKEN

OWNER_CHAT, STRANGER_CHAT = 5_000_001, 5_000_002


def _start_arg(url: str) -> str:
    return url.split("?start=", 1)[1]


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_link_commands_stop_and_errors_on_the_real_bot_process(tmp_path, fake_telegram):
    db = settings.DATABASES["default"]
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")
    env = {
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{connection.settings_dict['NAME']}",
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "SETKA_TELEGRAM_API_URL": fake_telegram.url,
        "SETKA_TELEGRAM_BOT_TOKEN": TOKEN,
        "SETKA_TELEGRAM_BOT_USERNAME": "setka_test_bot",
    }
    owner = UserFactory(language="en")
    other = UserFactory()
    mine = BotFactory(user=owner, status=Bot.Status.RUNNING, name="Mine")
    theirs = BotFactory(user=other, status=Bot.Status.RUNNING, name="Theirs")
    _, url, _ = link_token_create(user=owner)
    assert url.startswith("https://t.me/")  # the link the profile shows; the bot reads only its start

    with Stack(env=env, log_dir=tmp_path) as stack:
        simulator = stack.start("simulator", replay="", state=str(tmp_path / "sim.sqlite3"))
        stack.env["SETKA_SIMULATOR_URL"] = simulator.url
        settings.SETKA_SIMULATOR_URL = simulator.url
        stack.start("worker", concurrency=1, purge=True, timeout=90)
        stack.start("bot", "manage", args=["run_telegram_bot"], ready="polling", timeout=90)

        # A stranger (no link) learns how to link, and nothing else.
        answer = fake_telegram.say(STRANGER_CHAT, "/bots", language_code="en")
        assert "Link Telegram" in answer["text"] and "Theirs" not in answer["text"]

        # The owner presses Start on the deep link: linked, in the account's language.
        answer = fake_telegram.say(OWNER_CHAT, f"/start {_start_arg(url)}")
        assert "linked" in answer["text"] and owner.email in answer["text"]
        assert TelegramLink.objects.get(user=owner).chat_id == OWNER_CHAT

        # The same link does not work twice (another chat pressing it gets nothing linked).
        answer = fake_telegram.say(STRANGER_CHAT, f"/start {_start_arg(url)}", language_code="en")
        assert "expired" in answer["text"]
        assert not TelegramLink.objects.filter(chat_id=STRANGER_CHAT).exists()

        answer = fake_telegram.say(OWNER_CHAT, "/bots")
        assert f"#{mine.pk} Mine" in answer["text"] and "Theirs" not in answer["text"]
        answer = fake_telegram.say(OWNER_CHAT, f"/bot {theirs.pk}")
        assert answer["text"] == f"There is no bot #{theirs.pk}."
        answer = fake_telegram.say(OWNER_CHAT, "/status")
        assert "Active bots: 1 of 1" in answer["text"]

        # /stop N asks first; "Cancel" keeps it running; "Yes" stops it.
        ask = fake_telegram.say(OWNER_CHAT, f"/stop {mine.pk}")
        buttons = [b["callback_data"] for b in ask["reply_markup"]["inline_keyboard"][0]]
        assert buttons == [f"stop:{mine.pk}:yes", f"stop:{mine.pk}:no"]
        mine.refresh_from_db()
        assert mine.status == Bot.Status.RUNNING
        fake_telegram.control("callback", user_id=OWNER_CHAT, message_id=ask["message_id"], data=f"stop:{mine.pk}:no")
        _wait(lambda: _current(fake_telegram, OWNER_CHAT, ask["message_id"]) == f"Bot #{mine.pk} keeps running.")
        mine.refresh_from_db()
        assert mine.status == Bot.Status.RUNNING

        ask = fake_telegram.say(OWNER_CHAT, f"/stop {mine.pk}")
        fake_telegram.control("callback", user_id=OWNER_CHAT, message_id=ask["message_id"], data=f"stop:{mine.pk}:yes")
        _wait(lambda: "is stopping" in _current(fake_telegram, OWNER_CHAT, ask["message_id"]))
        assert Bot.objects.get(pk=mine.pk).status == Bot.Status.STOPPING

        # The owner cannot stop someone else's bot, and a stranger cannot act at all, even with
        # a forged button press.
        ask = fake_telegram.say(OWNER_CHAT, f"/stop {theirs.pk}")
        assert ask["text"] == f"There is no bot #{theirs.pk}." and "reply_markup" not in ask
        forged = fake_telegram.say(STRANGER_CHAT, "hello", language_code="en")
        fake_telegram.control(
            "callback", user_id=STRANGER_CHAT, message_id=forged["message_id"], data=f"stop:{theirs.pk}:yes"
        )
        fake_telegram.say(STRANGER_CHAT, "/status", language_code="en")  # the callback was handled before this
        assert Bot.objects.get(pk=theirs.pk).status == Bot.Status.RUNNING
        assert all("Theirs" not in m.get("text", "") for m in fake_telegram.sent(STRANGER_CHAT))

        # A bot error reaches the linked chat within 5 s, in the owner's language; another
        # user's error goes nowhere near this chat. (A bot that is told one error is quiet for
        # ten minutes, and the stopped bot above was told its own, so this is a fresh one.)
        day = BotFactory(user=owner, status=Bot.Status.RUNNING, name="Day grid")
        started = time.monotonic()
        with transaction.atomic():
            bot_event(
                bot=theirs, kind=BotEvent.Kind.ERROR, level=BotEvent.Level.ERROR, message="Exchange rejected: other"
            )
            bot_event(
                bot=day,
                kind=BotEvent.Kind.ERROR,
                level=BotEvent.Level.ERROR,
                message="The exchange rejected the API key",
            )
        expected = f"⚠️ Bot #{day.pk} Day grid: The exchange rejected the API key"
        told = fake_telegram.wait_for(OWNER_CHAT, lambda m: m.get("text", "").startswith(expected), timeout=5)
        assert told["text"].endswith(f"/bots/{day.pk}")  # the line, then the link to the bot
        assert time.monotonic() - started < 5
        # a second error of the same bot within ten minutes is not told again (no flood)
        bot_event(bot=day, kind=BotEvent.Kind.ERROR, level=BotEvent.Level.ERROR, message="Second failure")
        assert all("other" not in m.get("text", "") for m in fake_telegram.sent(OWNER_CHAT))
        assert all("other" not in m.get("text", "") for m in fake_telegram.sent(STRANGER_CHAT))

        # An error raised by the REAL worker: the exchange refuses the key of a new bot's
        # account; the worker's tick records the error and the chat has it within 5 s.
        night = BotFactory(user=owner, exchange_account=ExchangeAccountFactory(user=owner), name="Night grid")
        bot_start(bot=night)
        # (its start is told first, as every start is; then the error)
        lead = f"⚠️ Bot #{night.pk} Night grid:"
        _wait(lambda: any(m.get("text", "").startswith(lead) for m in fake_telegram.sent(OWNER_CHAT)), timeout=60)
        delivered = next(m for m in fake_telegram.sent(OWNER_CHAT) if m.get("text", "").startswith(lead))
        error = BotEvent.objects.filter(bot=night, level=BotEvent.Level.ERROR).order_by("id").first()
        latency = delivered["sent_at"] - error.created_at.timestamp()
        print(f"bot error (worker) -> Telegram chat: {latency:.2f} s")
        assert 0 <= latency < 5
        assert delivered["text"].startswith(f"⚠️ Bot #{night.pk} Night grid:")
        assert not any("Second failure" in m.get("text", "") for m in fake_telegram.sent(OWNER_CHAT))

        # Telegram Stars: /plans offers the paid plans; the invoice is answered at pre-checkout,
        # and the plan is credited once on successful_payment, even when Telegram delivers
        # that update twice.
        plan = _paid_plan()
        offer = fake_telegram.say(OWNER_CHAT, "/plans")
        stars = (plan.price_usdt * 77).to_integral_value(rounding="ROUND_CEILING")
        assert [b["callback_data"] for b in offer["reply_markup"]["inline_keyboard"][0]] == [f"buy:{plan.code}"]
        assert f"{stars} ⭐" in offer["reply_markup"]["inline_keyboard"][0][0]["text"]
        fake_telegram.control("callback", user_id=OWNER_CHAT, message_id=offer["message_id"], data=f"buy:{plan.code}")
        invoice = fake_telegram.wait_for(OWNER_CHAT, lambda m: "invoice" in m)
        assert invoice["invoice"]["currency"] == "XTR" and invoice["invoice"]["total_amount"] == stars
        payment = Payment.objects.get(user=owner, provider="telegram_stars")
        assert payment.credited_at is None  # nothing is credited for an invoice

        paid = fake_telegram.control("pay", user_id=OWNER_CHAT, message_id=invoice["message_id"], deliver_twice=True)
        assert paid["paid"] is True
        fake_telegram.wait_for(OWNER_CHAT, lambda m: m.get("text", "").startswith("Payment received: the "))
        _wait(lambda: ProviderEvent.objects.filter(provider="telegram_stars", deliveries=2).exists())
        payment.refresh_from_db()
        assert payment.status == Payment.Status.SUCCEEDED and payment.credited_at is not None
        assert ProviderEvent.objects.filter(provider="telegram_stars").count() == 1
        assert Subscription.objects.get(user=owner).plan_id == plan.pk
        fake_telegram.say(OWNER_CHAT, "/status")  # both deliveries handled before this answer
        assert [m.get("text", "").startswith("Payment received") for m in fake_telegram.sent(OWNER_CHAT)].count(
            True
        ) == 1

        # The same invoice cannot be paid again: pre-checkout refuses it.
        again = fake_telegram.control("pay", user_id=OWNER_CHAT, message_id=invoice["message_id"])
        assert again == {"paid": False, "reason": "This invoice is already paid or closed."}


def _paid_plan() -> Plan:
    plan = Plan.objects.filter(kind=Plan.Kind.TIER, is_public=True, price_usdt__gt=0).order_by("price_usdt").first()
    if plan is None:  # transactional tests start from an empty database
        plan = Plan.objects.create(
            code="start", kind=Plan.Kind.TIER, name_ru="Старт", name_en="Start", price_rub=990, price_usdt=10
        )
    Plan.objects.filter(kind=Plan.Kind.TIER).exclude(pk=plan.pk).update(is_public=False)
    return plan


def _current(fake, chat_id, message_id):
    for record in fake.sent(chat_id):
        if record["message_id"] == message_id:
            return record["current_text"]
    return None


def _wait(predicate, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")
