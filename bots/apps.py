from django.apps import AppConfig


class BotsConfig(AppConfig):
    name = "bots"
    verbose_name = "Bots"

    def ready(self) -> None:
        from accounts.signals import access_ended
        from bots.receivers import access_ended_stop_bots, trading_log_write
        from trading.signals import bot_log

        bot_log.connect(trading_log_write, dispatch_uid="bots.trading_log_write")
        access_ended.connect(access_ended_stop_bots, dispatch_uid="bots.access_ended_stop_bots")
