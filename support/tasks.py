from celery import shared_task


@shared_task(
    time_limit=120,
    autoretry_for=(Exception,),
    retry_backoff=5,
    retry_backoff_max=600,
    max_retries=12,
)
def vk_reply_send_task(message_id: int) -> int | None:
    """A staff reply to a ticket opened from VK, sent to the VK conversation (idempotent)."""
    from support.services.vk import vk_reply_send

    return vk_reply_send(message_id=message_id)
