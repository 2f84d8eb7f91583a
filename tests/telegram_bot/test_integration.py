"""Telegram with the help desk and the notification service (built on the `support` branch):
these run once both apps are merged; until then they are skipped."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings

from telegram_bot.integration import TelegramSender, support_conversation_message, support_conversation_start
from telegram_bot.models import TelegramLink
from tests.factories import UserFactory
from tests.telegram_bot.conftest import TOKEN

pytestmark = pytest.mark.django_db


@pytest.fixture
def telegram(fake_telegram):
    with override_settings(SETKA_TELEGRAM_API_URL=fake_telegram.url, SETKA_TELEGRAM_BOT_TOKEN=TOKEN):
        yield fake_telegram


def test_notification_sender_delivers_to_the_linked_chat_and_reports_blocks(telegram):
    if "notifications" not in settings.INSTALLED_APPS:
        pytest.skip("the notification service is on another branch until merged")
    from notifications.channels import FinalSendError, OutgoingMessage

    user, stranger = UserFactory(), UserFactory()
    chat = 7_000_001
    telegram.control("message", user_id=chat, text="hi")
    TelegramLink.objects.create(user=user, chat_id=chat)
    sender = TelegramSender()
    assert sender.address(stranger) is None
    message = OutgoingMessage(
        notification_id=1,
        user_id=user.pk,
        channel="telegram",
        address=sender.address(user),
        event="ticket_reply",
        language="en",
        title="Support replied",
        body="Your key needs the trade permission.",
        url="http://127.0.0.1:8000/support/1",
    )
    assert sender.send(message)
    assert "Your key needs the trade permission." in telegram.sent(chat)[-1]["text"]
    telegram.control("block", user_id=chat, blocked=True)
    with pytest.raises(FinalSendError):
        sender.send(message)
    assert TelegramLink.objects.get(user=user).blocked_at is not None


def test_support_conversation_becomes_a_ticket_thread(telegram):
    if "support" not in settings.INSTALLED_APPS:
        pytest.skip("the help desk is on another branch until merged")
    from support.models import Ticket

    user = UserFactory()
    chat = 7_000_002
    TelegramLink.objects.create(user=user, chat_id=chat)
    support_conversation_start(user=user, chat_id=chat, language="en")
    first = support_conversation_message(user=user, chat_id=chat, text="My bot does not trade", language="en")
    ticket = Ticket.objects.get(user=user)
    assert first == f"Ticket #{ticket.pk} is open. Everything you write next goes into it. /done to finish."
    support_conversation_message(user=user, chat_id=chat, text="It is BTCUSDT", language="en")
    assert ticket.messages.count() == 2
