"""The Celery application. Tasks run eagerly unless REDIS_URL (or CELERY_BROKER_URL) is set."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imsite.settings")

app = Celery("switchboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
