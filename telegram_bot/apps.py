from django.apps import AppConfig


class TelegramBotConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "telegram_bot"
    verbose_name = "Telegram bot"

    def ready(self) -> None:
        from telegram_bot.integration import register_sender

        register_sender()
