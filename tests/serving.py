"""The app on a real socket, for what the in-process transport cannot carry: streams, websockets,
other processes."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import uvicorn

from jangteo.app import create_app
from jangteo.core.platform import Platform


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def serving(platform: Platform) -> AsyncIterator[str]:
    """The platform's app served by uvicorn in this event loop; yields `127.0.0.1:<port>`."""
    port = free_port()
    app = create_app(platform.settings, platform=platform)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.02)
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
