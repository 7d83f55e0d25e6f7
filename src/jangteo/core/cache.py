"""The cache port: Redis when configured, an in-process dictionary otherwise."""

from __future__ import annotations

import time
from typing import Protocol

from redis.asyncio import Redis


class Cache(Protocol):
    async def get(self, key: str) -> bytes | None: ...
    async def set(self, key: str, value: bytes, ttl_seconds: float | None = None) -> None: ...
    async def delete(self, key: str) -> None: ...
    async def incr_window(self, key: str, window_seconds: int) -> tuple[int, float]:
        """Count one hit in a fixed window; returns (hits so far, seconds until it resets)."""
        ...

    async def peek_window(self, key: str) -> tuple[int, float]:
        """The hits counted in the current window and the seconds until it resets."""
        ...

    async def ping(self) -> bool: ...
    async def close(self) -> None: ...


class MemoryCache:
    def __init__(self) -> None:
        self._data: dict[str, tuple[bytes, float | None]] = {}
        self._counters: dict[str, tuple[int, float]] = {}

    def _alive(self, key: str) -> bytes | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and expires <= time.monotonic():
            self._data.pop(key, None)
            return None
        return value

    async def get(self, key: str) -> bytes | None:
        return self._alive(key)

    async def set(self, key: str, value: bytes, ttl_seconds: float | None = None) -> None:
        expires = time.monotonic() + ttl_seconds if ttl_seconds else None
        self._data[key] = (value, expires)
        if len(self._data) > 100_000:
            self._evict()

    def _evict(self) -> None:
        now = time.monotonic()
        for key in [k for k, (_, exp) in self._data.items() if exp is not None and exp <= now]:
            self._data.pop(key, None)
        while len(self._data) > 50_000:
            self._data.pop(next(iter(self._data)))

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)
        self._counters.pop(key, None)

    async def incr_window(self, key: str, window_seconds: int) -> tuple[int, float]:
        now = time.monotonic()
        count, resets = self._counters.get(key, (0, now + window_seconds))
        if resets <= now:
            count, resets = 0, now + window_seconds
        count += 1
        self._counters[key] = (count, resets)
        return count, resets - now

    async def peek_window(self, key: str) -> tuple[int, float]:
        now = time.monotonic()
        count, resets = self._counters.get(key, (0, now))
        return (0, 0.0) if resets <= now else (count, resets - now)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        return None


_INCR_WINDOW = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
return {n, ttl}
"""


class RedisCache:
    def __init__(self, url: str, prefix: str = "jangteo:") -> None:
        self.redis = Redis.from_url(url)
        self.prefix = prefix
        self._incr = self.redis.register_script(_INCR_WINDOW)

    async def get(self, key: str) -> bytes | None:
        return await self.redis.get(self.prefix + key)

    async def set(self, key: str, value: bytes, ttl_seconds: float | None = None) -> None:
        px = int(ttl_seconds * 1000) if ttl_seconds else None
        await self.redis.set(self.prefix + key, value, px=px)

    async def delete(self, key: str) -> None:
        await self.redis.delete(self.prefix + key)

    async def incr_window(self, key: str, window_seconds: int) -> tuple[int, float]:
        count, ttl_ms = await self._incr(keys=[self.prefix + key], args=[window_seconds])
        return int(count), max(int(ttl_ms), 0) / 1000

    async def peek_window(self, key: str) -> tuple[int, float]:
        async with self.redis.pipeline(transaction=False) as pipe:
            raw, ttl_ms = await pipe.get(self.prefix + key).pttl(self.prefix + key).execute()
        return (int(raw), max(int(ttl_ms), 0) / 1000) if raw is not None else (0, 0.0)

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except Exception:
            return False

    async def close(self) -> None:
        await self.redis.aclose()


def make_cache(redis_url: str | None, prefix: str = "jangteo:") -> Cache:
    return RedisCache(redis_url, prefix) if redis_url else MemoryCache()
