from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer


class HubConsumer(AsyncJsonWebsocketConsumer):
    pass
