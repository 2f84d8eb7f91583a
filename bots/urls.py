from django.urls import path

from bots import apis

urlpatterns = [
    path("bots/", apis.BotListCreateApi.as_view(), name="bot-list"),
    path("bots/preview/", apis.BotPreviewApi.as_view(), name="bot-preview"),
    path("bots/<int:pk>/", apis.BotDetailApi.as_view(), name="bot-detail"),
    path("bots/<int:pk>/start/", apis.BotStartApi.as_view(), name="bot-start"),
    path("bots/<int:pk>/restart/preview/", apis.BotRestartPreviewApi.as_view(), name="bot-restart-preview"),
    path("bots/<int:pk>/restart/", apis.BotRestartApi.as_view(), name="bot-restart"),
    path("bots/<int:pk>/stop/", apis.BotStopApi.as_view(), name="bot-stop"),
    path("bots/<int:pk>/emergency-stop/", apis.BotEmergencyStopApi.as_view(), name="bot-emergency-stop"),
    path("bots/<int:pk>/events/", apis.BotEventListApi.as_view(), name="bot-events"),
    path("bots/<int:pk>/orders/", apis.BotOrderListApi.as_view(), name="bot-orders"),
    path("bots/<int:pk>/position/", apis.BotPositionApi.as_view(), name="bot-position"),
    path("bots/<int:pk>/metrics/", apis.BotMetricsApi.as_view(), name="bot-metrics"),
    path("bots/<int:pk>/metrics/series/", apis.BotMetricsSeriesApi.as_view(), name="bot-metrics-series"),
    path("dashboard/", apis.DashboardApi.as_view(), name="dashboard"),
    path("metrics/", apis.UserMetricsApi.as_view(), name="user-metrics"),
]
