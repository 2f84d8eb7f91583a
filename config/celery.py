"""The Celery app. Tasks live in each app's tasks.py; periodic schedules are written by
`manage.py setup_schedules` into django-celery-beat's tables (one place, see bots)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("setka")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
