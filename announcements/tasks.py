from celery import shared_task


@shared_task(time_limit=120)
def announcements_publish_due_task() -> int:
    from announcements.services import announcements_publish_due

    return announcements_publish_due()


@shared_task(time_limit=120)
def vk_events_pending_task() -> int:
    """VK callback events stored but not handled (a crash between storing and handling)."""
    from announcements.vk_callback import vk_events_pending_process

    return vk_events_pending_process()
