"""Sending SMS: `send_sms(to, text)` dispatches to the backend named by settings.SETKA_SMS_BACKEND.

A backend is a class with `send(self, to: str, text: str) -> None` that raises SmsError when the
message could not be handed over. Development and tests use OutboxSmsBackend (the message lands
in OutboxMessage, which operators see in admin and tests read); production plugs in a provider
class with the same method."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SmsError(Exception):
    """The SMS could not be sent: tell the user to try again later."""


class OutboxSmsBackend:
    def send(self, to: str, text: str) -> None:
        from accounts.models import OutboxMessage

        OutboxMessage.objects.create(channel=OutboxMessage.Channel.SMS, recipient=to, body=text)


class ConsoleSmsBackend:
    """Prints the recipient only (never the text: it carries a code)."""

    def send(self, to: str, text: str) -> None:
        logger.info("SMS to %s (%d characters)", to, len(text))


def get_sms_backend():
    return import_string(settings.SETKA_SMS_BACKEND)()


def send_sms(to: str, text: str) -> None:
    get_sms_backend().send(to, text)
