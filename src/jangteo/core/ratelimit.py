"""Fixed-window rate limits on top of the cache port (atomic in Redis, in-process otherwise)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from jangteo.core.cache import Cache
from jangteo.core.errors import RateLimited


@dataclass(frozen=True)
class Limit:
    name: str
    max_hits: int
    window_seconds: int


class RateLimiter:
    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    async def hit(self, limit: Limit, subject: str) -> None:
        """Count one hit for `subject`; raise RateLimited once it is over the limit."""
        count, resets_in = await self.cache.incr_window(
            f"rl:{limit.name}:{subject}", limit.window_seconds
        )
        if count > limit.max_hits:
            raise RateLimited(retry_after=max(1, math.ceil(resets_in)))

    async def check(self, limit: Limit, subject: str) -> None:
        """Raise RateLimited if `subject` is already over the limit, without counting."""
        count, resets_in = await self.cache.peek_window(f"rl:{limit.name}:{subject}")
        if count >= limit.max_hits:
            raise RateLimited(retry_after=max(1, math.ceil(resets_in)))

    async def reset(self, limit: Limit, subject: str) -> None:
        await self.cache.delete(f"rl:{limit.name}:{subject}")
