from django.urls import path

from metrics import apis

urlpatterns = [
    path("dashboard/", apis.DashboardApi.as_view(), name="dashboard"),
    path("metrics/", apis.UserMetricsApi.as_view(), name="user-metrics"),
]
