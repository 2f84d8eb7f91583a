"""Support services: tickets (create, messages, status, rating), attachments, the bot
diagnostics snapshot and the troubleshooter. Import from here."""

from support.services.tickets import (
    ticket_close,
    ticket_create,
    ticket_message_add,
    ticket_rate,
    ticket_reply_sent,
    ticket_status_set,
    tickets_overdue,
)

__all__ = [
    "ticket_close",
    "ticket_create",
    "ticket_message_add",
    "ticket_rate",
    "ticket_reply_sent",
    "ticket_status_set",
    "tickets_overdue",
]
