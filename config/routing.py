"""Websocket routes: one endpoint for every realtime topic."""

from django.urls import path

from portal.realtime.consumer import HubConsumer

websocket_urlpatterns = [path("ws/", HubConsumer.as_asgi())]
