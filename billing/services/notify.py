"""Billing emails in the user's language (email now; Telegram joins through the notification
service once it exists). Sent after the transaction commits."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction

logger = logging.getLogger(__name__)

TEXTS = {
    "activated": {
        "ru": ("Тариф «{plan}» активен", "Оплата получена. Тариф «{plan}» действует до {until}."),
        "en": ("Your {plan} plan is active", "Payment received. Your {plan} plan is active until {until}."),
    },
    "past_due": {
        "ru": (
            "Оплатите тариф «{plan}»",
            "Срок тарифа «{plan}» закончился {until}. Продлите его на странице «Оплата»: боты работают как прежде.",
        ),
        "en": (
            "Please renew your {plan} plan",
            "Your {plan} plan ended on {until}. Renew it on the Billing page; your bots keep running as before.",
        ),
    },
    "grace": {
        "ru": (
            "Льготный период до {until}",
            "Тариф «{plan}» не оплачен. До {until} всё работает как прежде; затем боты сверх бесплатного "
            "тарифа перестанут открывать новые циклы (защитные ордера останутся).",
        ),
        "en": (
            "Grace period until {until}",
            "Your {plan} plan is unpaid. Everything works until {until}; then bots beyond the free plan stop "
            "opening new cycles (their protective orders stay).",
        ),
    },
    "expired": {
        "ru": (
            "Тариф «{plan}» закончился",
            "Тариф закончился. Боты сверх бесплатного тарифа ({bots}) больше не открывают новые циклы; "
            "их защитные ордера и позиции не тронуты. Продлите тариф, чтобы они продолжили работу.",
        ),
        "en": (
            "Your {plan} plan has ended",
            "Your plan has ended. Bots beyond the free plan ({bots}) no longer open new cycles; their "
            "protective orders and positions are untouched. Renew to let them trade on.",
        ),
    },
    "revoked": {
        "ru": ("Платёж возвращён", "Платёж {amount} {currency} возвращён; тариф «{plan}» отозван."),
        "en": ("Payment refunded", "Payment of {amount} {currency} was refunded; the {plan} plan was withdrawn."),
    },
}


def notify_user(*, user, kind: str, **context) -> None:
    language = getattr(user, "language", "ru") if getattr(user, "language", "ru") in ("ru", "en") else "ru"
    subject, body = TEXTS[kind][language]
    message = EmailMessage(
        subject=subject.format(**context),
        body=body.format(**context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )

    def send():
        try:
            message.send()
        except Exception:  # noqa: BLE001 - a mail outage must not undo a payment
            logger.exception("billing email %s to user %s failed", kind, user.pk)

    transaction.on_commit(send)
