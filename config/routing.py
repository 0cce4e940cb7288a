"""Websocket routes: one endpoint for every realtime topic."""

from django.urls import path

from portal.realtime.consumer import HubConsumer
from sandboxes.consumers import TerminalConsumer

websocket_urlpatterns = [
    path("ws/", HubConsumer.as_asgi()),
    # Keystrokes to a sandbox's terminal (output back on the same socket).
    path("ws/terminal/<int:sandbox_id>/", TerminalConsumer.as_asgi()),
]
