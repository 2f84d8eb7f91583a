from channels.generic.websocket import AsyncJsonWebsocketConsumer


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """Placeholder; the API/live-updates work fills this in."""

    async def connect(self):
        await self.close()
