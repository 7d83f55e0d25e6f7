"""A per-process micro-cache of public GET answers (catalog pages hit by every visitor).

Holding an identical public answer for about a second turns a burst of the same request into one
database read, while anything that changes state is unaffected: placement re-reads stock and
prices in its own transaction, so a product page that is a second behind never oversells. Staff
writes made through this process clear the cache at once; other processes catch up within the TTL.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict

from starlette.types import ASGIApp, Message, Receive, Scope, Send

Entry = tuple[float, int, list[tuple[bytes, bytes]], bytes]


class MicroCache:
    def __init__(self, ttl_seconds: float, max_entries: int = 5000) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self.hits = 0
        self.misses = 0
        # one computation per key at a time: when an entry expires under load, the other
        # requests for it wait for the first instead of all reaching the database together
        self.inflight: dict[str, asyncio.Event] = {}

    def get(self, key: str) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= time.monotonic():
            self.misses += 1
            return None
        self.hits += 1
        return entry

    def put(self, key: str, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self._entries[key] = (time.monotonic() + self.ttl, status, headers, body)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


class MicroCacheMiddleware:
    """Serves cached answers for GETs of the paths `public_paths` matches in full, and clears the
    cache after any successful staff write (`/api/v1/admin/…`).

    Only answers that are the same for every caller may be listed (the key is the locale, path
    and query): a path below them that depends on who asks (a product's reviews, with the
    viewer's own votes and what their blocks hide) must not match.
    """

    def __init__(
        self,
        app: ASGIApp,
        cache: MicroCache,
        public_paths: re.Pattern[str],
        admin_prefix: str = "/api/v1/admin/",
    ) -> None:
        self.app = app
        self.cache = cache
        self.public_paths = public_paths
        self.admin_prefix = admin_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.cache.ttl <= 0:
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        if method != "GET":
            if path.startswith(self.admin_prefix):
                await self.app(scope, receive, self._clearing_after_success(send))
            else:
                await self.app(scope, receive, send)
            return
        if not self.public_paths.fullmatch(path):
            await self.app(scope, receive, send)
            return
        locale = scope.get("state", {}).get("locale", "ko")
        key = f"{locale}|{path}?{scope.get('query_string', b'').decode('latin-1')}"
        entry = self.cache.get(key)
        if entry is None and key in self.cache.inflight:
            await self.cache.inflight[key].wait()
            entry = self.cache.get(key)
        if entry is not None:
            _, status, headers, body = entry
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        done = self.cache.inflight[key] = asyncio.Event()
        try:
            await self._fill(key, scope, receive, send)
        finally:
            del self.cache.inflight[key]
            done.set()

    async def _fill(self, key: str, scope: Scope, receive: Receive, send: Send) -> None:
        captured: dict[str, object] = {"chunks": []}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                captured["chunks"].append(message.get("body", b""))  # type: ignore[attr-defined]
                if not message.get("more_body") and captured.get("status") == 200:
                    self.cache.put(
                        key,
                        200,
                        captured["headers"],  # type: ignore[arg-type]
                        b"".join(captured["chunks"]),
                    )  # type: ignore[arg-type]
            await send(message)

        await self.app(scope, receive, capture)

    def _clearing_after_success(self, send: Send) -> Send:
        async def clearing(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                self.cache.clear()
            await send(message)

        return clearing
