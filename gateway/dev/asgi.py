"""Run the dev loop inside the server's event loop: started after the app's startup, stopped at shutdown."""

from __future__ import annotations

from typing import Any

from gateway.dev.loop import DevLoop, Offer


class WithDevLoop:
    """ASGI wrapper: start `loop` once the app has started, stop it when the app stops."""

    def __init__(self, app: Any, loop: DevLoop, offer: Offer) -> None:
        self.app = app
        self.loop = loop
        self.offer = offer

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def receive_wrapped() -> Any:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                await self.loop.stop()
            return message

        async def send_wrapped(message: Any) -> None:
            if message["type"] == "lifespan.startup.complete":
                await self.loop.start(self.offer)
            await send(message)

        await self.app(scope, receive_wrapped, send_wrapped)
