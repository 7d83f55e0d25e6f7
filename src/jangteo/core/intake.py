"""Intake of high-rate records (share-link visits): accepted on the request's hot path, stored in
batches, none lost and none stored twice.

- Embedded (no Redis): a record is stored at once, in its own small transaction.
- Scaled: the request appends the record to a Redis stream (one round trip) and returns; the
  background loop of every app or worker process drains it, reading as a consumer group: each
  batch is stored in one transaction keyed by the entry id (a stored entry is skipped), then
  acknowledged and deleted. A drain killed before acknowledging leaves its entries pending;
  the next drain claims and stores them again, which the entry ids make harmless.

Each stream has one store: `register(stream, store)`, where `store(entries)` receives
`(entry_id, fields)` pairs and must ignore entry ids it has already stored.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from jangteo.core.ids import uuid7

log = logging.getLogger("jangteo.intake")

Entry = tuple[str, dict[str, str]]
Store = Callable[[Sequence[Entry]], Awaitable[None]]
GROUP = "jangteo"


class Intake(Protocol):
    def register(self, stream: str, store: Store) -> None: ...

    async def add(self, stream: str, fields: dict[str, str]) -> str: ...

    async def drain(self, *, batch: int = 1000, rounds: int = 50) -> int: ...

    async def pending(self, stream: str) -> int: ...

    async def close(self) -> None: ...


class DirectIntake:
    """Stores each record as it comes (embedded mode: a local write is cheap)."""

    def __init__(self) -> None:
        self._stores: dict[str, Store] = {}

    def register(self, stream: str, store: Store) -> None:
        self._stores[stream] = store

    async def add(self, stream: str, fields: dict[str, str]) -> str:
        entry_id = str(uuid7())
        await self._stores[stream]([(entry_id, fields)])
        return entry_id

    async def drain(self, *, batch: int = 1000, rounds: int = 50) -> int:
        return 0

    async def pending(self, stream: str) -> int:
        return 0

    async def close(self) -> None:
        return None


class RedisIntake:
    """Appends to Redis streams; `drain` moves them into their stores."""

    def __init__(
        self,
        url: str,
        prefix: str,
        *,
        max_length: int = 5_000_000,
        claim_after_ms: int = 30_000,
        consumer: str | None = None,
    ) -> None:
        import redis.asyncio as redis

        self._redis = redis.Redis.from_url(url, decode_responses=True)
        self._prefix = prefix
        self._stores: dict[str, Store] = {}
        self._groups: set[str] = set()
        # a bound on memory if no drain runs for a long time (about 500 bytes per entry)
        self._max_length = max_length
        self._claim_after_ms = claim_after_ms
        self._consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"

    def _key(self, stream: str) -> str:
        return f"{self._prefix}intake:{stream}"

    def register(self, stream: str, store: Store) -> None:
        self._stores[stream] = store

    async def add(self, stream: str, fields: dict[str, str]) -> str:
        entry_id: str = await self._redis.xadd(
            self._key(stream), fields, maxlen=self._max_length, approximate=True
        )
        return entry_id

    async def _ensure_group(self, key: str) -> None:
        if key in self._groups:
            return
        try:
            await self._redis.xgroup_create(key, GROUP, id="0", mkstream=True)
        except Exception as exc:  # BUSYGROUP: made by another process already
            if "BUSYGROUP" not in str(exc):
                raise
        self._groups.add(key)

    async def _claim_stale(self, key: str, batch: int) -> list[Entry]:
        """Entries another consumer read but never acknowledged (it died): after a while, ours."""
        _next, claimed, *_ = await self._redis.xautoclaim(
            key,
            GROUP,
            self._consumer,
            min_idle_time=self._claim_after_ms,
            start_id="0-0",
            count=batch,
        )
        return list(claimed)

    async def drain(self, *, batch: int = 1000, rounds: int = 50) -> int:
        """Store what is waiting, up to `rounds` batches per stream; the number stored."""
        done = 0
        for stream, store in self._stores.items():
            key = self._key(stream)
            await self._ensure_group(key)
            # first what this consumer read before and did not acknowledge, then the stale
            # entries of others, then new ones
            sources: list[str] = ["0", "stale", ">"]
            for _ in range(rounds):
                if not sources:
                    break
                source = sources[0]
                if source == "stale":
                    read = await self._claim_stale(key, batch)
                else:
                    answer = await self._redis.xreadgroup(
                        GROUP, self._consumer, {key: source}, count=batch
                    )
                    read = [(i, f) for _k, items in answer for i, f in items]
                if not read:
                    sources.pop(0)
                    continue
                # an entry deleted while pending comes back without fields: only acknowledged
                entries = [(entry_id, fields) for entry_id, fields in read if fields]
                if entries:
                    await store(entries)
                ids = [entry_id for entry_id, _fields in read]
                await self._redis.xack(key, GROUP, *ids)
                await self._redis.xdel(key, *ids)
                done += len(entries)
        return done

    async def pending(self, stream: str) -> int:
        length: int = await self._redis.xlen(self._key(stream))
        return length

    async def close(self) -> None:
        await self._redis.aclose()


def make_intake(redis_url: str | None, prefix: str) -> Intake:
    return RedisIntake(redis_url, prefix) if redis_url else DirectIntake()
