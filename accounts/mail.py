"""Email: the outbox backend used in development and tests, and templated messages in the
user's language (templates/accounts/email/<lang>/<name>_subject.txt and _body.txt)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.template.loader import render_to_string
from django.utils import translation


class OutboxEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        from accounts.models import OutboxMessage

        for message in email_messages:
            for recipient in message.recipients():
                OutboxMessage.objects.create(
                    channel=OutboxMessage.Channel.EMAIL, recipient=recipient, subject=message.subject, body=message.body
                )
        return len(email_messages)


def _language(language: str | None) -> str:
    codes = {code for code, _ in settings.LANGUAGES}
    return language if language in codes else settings.LANGUAGE_CODE


def render_text(kind: str, name: str, *, language: str | None, context: dict) -> str:
    """Render templates/accounts/<kind>/<lang>/<name>.txt in the given language."""
    lang = _language(language)
    with translation.override(lang):
        return render_to_string(f"accounts/{kind}/{lang}/{name}.txt", context).strip()


def send_templated_email(*, to: str, name: str, language: str | None, context: dict) -> None:
    subject = " ".join(render_text("email", f"{name}_subject", language=language, context=context).split())
    body = render_text("email", f"{name}_body", language=language, context=context)
    EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to]).send()
