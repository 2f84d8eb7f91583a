"""The Celery app. Tasks live in each app's tasks.py; periodic schedules are written by
`manage.py setup_schedules` into django-celery-beat's tables (one place, see bots)."""

import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("setka")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _aiogram_before_the_pool(**_) -> None:
    """A worker sends Telegram messages (the notification outbox, announcements), and the first
    must not wait for aiogram's import (~6 s of CPU on a slow core): the main process imports it
    before the pool forks, as it did when every process imported it at start. Beat, the streams,
    the web and the simulators no longer pay it (telegram_bot.sending)."""
    import aiogram  # noqa: F401
