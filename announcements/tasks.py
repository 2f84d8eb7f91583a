from celery import shared_task


@shared_task(time_limit=120)
def announcements_publish_due_task() -> int:
    from announcements.services import announcements_publish_due

    return announcements_publish_due()
