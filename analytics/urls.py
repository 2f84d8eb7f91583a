from django.urls import path

from analytics import apis

urlpatterns = [
    path("series/", apis.SeriesListApi.as_view(), name="analytics-series"),
    path("screener/", apis.ScreenerListApi.as_view(), name="analytics-screener"),
    path("backtests/", apis.BacktestListApi.as_view(), name="analytics-backtests"),
    path("backtests/<int:backtest_id>/", apis.BacktestDetailApi.as_view(), name="analytics-backtest"),
]
