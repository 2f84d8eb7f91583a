from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = "Metrics"

    def ready(self) -> None:
        from metrics.receivers import funding_stored_fold, trades_stored_fold
        from trading.signals import funding_stored, trades_stored

        trades_stored.connect(trades_stored_fold, dispatch_uid="metrics.trades_stored_fold")
        funding_stored.connect(funding_stored_fold, dispatch_uid="metrics.funding_stored_fold")
