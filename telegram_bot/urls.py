from django.urls import path

from telegram_bot import apis

app_name = "telegram_bot"

urlpatterns = [
    path("link/", apis.TelegramLinkApi.as_view(), name="link"),
    path("dev/start/", apis.TelegramDevStartApi.as_view(), name="dev-start"),
    path("webhook/", apis.telegram_webhook, name="webhook"),
]
