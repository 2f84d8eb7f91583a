"""The email channel: the event's own template when it has one
(templates/notifications/email/<lang>/<event>_{subject,body}.txt, context `p` = the params), else
the generic one (the notification's title and text). Goes through Django's email backend (the
outbox in development and tests)."""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMessage
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import translation

from notifications.channels import FinalSendError, OutgoingMessage, RetryableSendError


def _render(name: str, language: str, context: dict) -> str:
    with translation.override(language):
        return render_to_string(f"notifications/email/{language}/{name}.txt", context).strip()


class EmailSender:
    name = "email"

    def address(self, user) -> str | None:
        profile = getattr(user, "profile", None)
        if not user.email or not user.is_active or (profile is not None and not profile.notify_email):
            return None  # Profile.notify_email is the master switch for all email
        return user.email

    def send(self, message: OutgoingMessage) -> str:
        language = message.language if message.language in ("ru", "en") else "ru"
        context = {
            "p": message.params,
            "title": message.title,
            "body": message.body,
            "url": message.url,
            "help_url": message.help_url,
            "settings_url": f"{settings.SETKA_PUBLIC_URL.rstrip('/')}/notifications/settings",
        }
        try:
            subject = _render(f"{message.event}_subject", language, context)
            body = _render(f"{message.event}_body", language, context)
        except TemplateDoesNotExist:
            subject = f"Setka: {message.title}"
            body = _render("generic_body", language, context)
        email = EmailMessage(
            subject=" ".join(subject.split()), body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[message.address]
        )
        try:
            email.send()
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
            raise FinalSendError(str(exc)) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise RetryableSendError(str(exc)) from exc
        return f"email:{message.notification_id}"
