"""WebSocket routes."""

from django.urls import path

from messaging.socket.consumer import ChatConsumer

websocket_urlpatterns = [
    path("ws/", ChatConsumer.as_asgi()),
]
