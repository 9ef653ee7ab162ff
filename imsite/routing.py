"""WebSocket routes. Each app that speaks over the socket adds its patterns here."""

websocket_urlpatterns: list = []
