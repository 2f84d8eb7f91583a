from django.urls import path

from .apis import health_view, metrics_view, ready_view

urlpatterns = [
    path("health", health_view, name="health"),
    path("ready", ready_view, name="ready"),
    path("metrics", metrics_view, name="metrics"),
]
