"""Publish/subscribe between the processes of one deployment: live notifications, chat rooms.

Messages are fire-and-forget (what must not be lost goes through the outbox and the database;
a subscriber that misses a message reads the database again). Redis pub/sub when Redis is
configured, so a message published by one app process reaches subscribers on every other;
in-process queues in the embedded mode.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

from redis.asyncio import Redis

# a subscriber that stops reading loses its oldest messages rather than holding memory
QUEUE_SIZE = 256


class PubSub(Protocol):
    async def publish(self, channel: str, message: bytes) -> None: ...

    def subscribe(self, channel: str) -> contextlib.AbstractAsyncContextManager[Subscription]: ...

    async def close(self) -> None: ...


class Subscription:
    """The messages of one channel, as they arrive."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(QUEUE_SIZE)

    def deliver(self, message: bytes) -> None:
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(message)

    async def next(self, within: float | None = None) -> bytes | None:
        """The next message, or None after `within` seconds without one."""
        try:
            return await asyncio.wait_for(self.queue.get(), within)
        except TimeoutError:
            return None

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[bytes]:
        while True:
            yield await self.queue.get()


class MemoryPubSub:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)

    async def publish(self, channel: str, message: bytes) -> None:
        for subscription in list(self._subscribers.get(channel, ())):
            subscription.deliver(message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        subscription = Subscription()
        self._subscribers[channel].add(subscription)
        try:
            yield subscription
        finally:
            self._subscribers[channel].discard(subscription)
            if not self._subscribers[channel]:
                del self._subscribers[channel]

    async def close(self) -> None:
        self._subscribers.clear()


class RedisPubSub:
    """One Redis connection per subscription, read by a task that feeds its queue."""

    def __init__(self, url: str, prefix: str = "jangteo:") -> None:
        self.redis = Redis.from_url(url)
        self.prefix = prefix + "pubsub:"

    async def publish(self, channel: str, message: bytes) -> None:
        await self.redis.publish(self.prefix + channel, message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        subscription = Subscription()
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self.prefix + channel)

        async def pump() -> None:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    subscription.deliver(message["data"])

        reader = asyncio.create_task(pump())
        try:
            yield subscription
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
            with contextlib.suppress(Exception):
                await pubsub.unsubscribe()
            await pubsub.aclose()

    async def close(self) -> None:
        await self.redis.aclose()


def make_pubsub(redis_url: str | None, prefix: str = "jangteo:") -> PubSub:
    return RedisPubSub(redis_url, prefix) if redis_url else MemoryPubSub()
