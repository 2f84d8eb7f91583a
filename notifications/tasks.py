"""Celery tasks of the notifications: thin, they take ids and call one service."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=30, time_limit=60)
def delivery_send_task(delivery_id: int) -> None:
    from notifications.services import delivery_send

    delivery_send(delivery_id=delivery_id)


@shared_task(acks_late=True, ignore_result=True, expires=50)
def deliveries_send_due_task() -> int:
    from notifications.services import deliveries_send_due

    return deliveries_send_due()
