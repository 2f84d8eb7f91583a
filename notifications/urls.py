from django.urls import path

from notifications import apis

app_name = "notifications"

urlpatterns = [
    path("", apis.NotificationListApi.as_view(), name="list"),
    path("unread-count/", apis.UnreadCountApi.as_view(), name="unread-count"),
    path("read/", apis.MarkReadApi.as_view(), name="read"),
    path("preferences/", apis.PreferencesApi.as_view(), name="preferences"),
]
