from analytics.services.backtests import backtest_create, backtest_launch_query, backtest_run
from analytics.services.candles import (
    Bar,
    candles_download,
    candles_refresh_all,
    candles_upsert,
    market_data_venues,
    partitions_ensure,
    read_shipped_csv,
    series_discover,
    series_ensure,
    series_fees,
    series_quote_refresh,
    series_rules,
)
from analytics.services.screener import screener_refresh, screener_row_compute

__all__ = [
    "Bar",
    "backtest_create",
    "backtest_launch_query",
    "backtest_run",
    "candles_download",
    "candles_refresh_all",
    "candles_upsert",
    "market_data_venues",
    "partitions_ensure",
    "read_shipped_csv",
    "screener_refresh",
    "screener_row_compute",
    "series_discover",
    "series_ensure",
    "series_fees",
    "series_quote_refresh",
    "series_rules",
]
