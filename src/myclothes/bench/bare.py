"""The baseline: the smallest ASGI app, served exactly like the store (same server, one worker)."""

from __future__ import annotations

from typing import Any

BODY = b"hello"
HEADERS = [(b"content-type", b"text/plain"), (b"content-length", b"5")]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
