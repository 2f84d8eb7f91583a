"""Email backend for development and tests: every message lands in the outbox table."""

from django.core.mail.backends.base import BaseEmailBackend


class OutboxEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        from accounts.models import OutboxMessage

        for message in email_messages:
            for recipient in message.recipients():
                OutboxMessage.objects.create(
                    channel=OutboxMessage.Channel.EMAIL, recipient=recipient, subject=message.subject, body=message.body
                )
        return len(email_messages)
