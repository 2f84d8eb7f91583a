from django.urls import path

from announcements import apis

app_name = "announcements"

urlpatterns = [
    path("news/", apis.NewsListApi.as_view(), name="news"),
    path("news/<int:announcement_id>/", apis.NewsDetailApi.as_view(), name="news-detail"),
    path("announcements/vk/callback/", apis.VkCallbackApi.as_view(), name="vk-callback"),
]
