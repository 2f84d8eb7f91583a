"""WebSocket routes. The consumers live with the app whose events they forward."""

from django.urls import path

from bots.consumers import LiveConsumer

websocket_urlpatterns = [
    path("ws/", LiveConsumer.as_asgi()),
]
