"""The intake of high-rate records: each one stored exactly once, also when a drain dies between
storing and acknowledging, or a consumer dies holding entries it never stored."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

import pytest
from tests.conftest import REDIS_URL

from jangteo.core.intake import DirectIntake, Entry, RedisIntake


class Recorder:
    """A store that keeps entries by id (as a table with a unique key would) and can be told
    to fail once after storing, as a process killed before it acknowledges."""

    def __init__(self) -> None:
        self.stored: dict[str, dict[str, str]] = {}
        self.calls = 0
        self.fail_after_store = False

    async def __call__(self, entries: Sequence[Entry]) -> None:
        self.calls += 1
        for entry_id, fields in entries:
            self.stored.setdefault(entry_id, fields)
        if self.fail_after_store:
            self.fail_after_store = False
            raise RuntimeError("killed before acknowledging")


async def test_direct_intake_stores_each_record_at_once() -> None:
    intake, store = DirectIntake(), Recorder()
    intake.register("visits", store)
    ids = [await intake.add("visits", {"n": str(n)}) for n in range(5)]
    assert list(store.stored) == ids
    assert await intake.drain() == 0 and await intake.pending("visits") == 0


@pytest.mark.usefixtures("scaled_services")
async def test_redis_intake_survives_a_drain_killed_before_it_acknowledges() -> None:
    prefix = f"test-intake-{uuid.uuid4().hex[:8]}:"
    intake = RedisIntake(REDIS_URL, prefix, consumer="one")
    store = Recorder()
    intake.register("visits", store)
    try:
        for start in range(0, 2500, 50):  # 50 requests at a time, as concurrent visits
            await asyncio.gather(
                *[intake.add("visits", {"n": str(n)}) for n in range(start, start + 50)]
            )
        assert await intake.pending("visits") == 2500
        store.fail_after_store = True
        with pytest.raises(RuntimeError):
            await intake.drain(batch=1000)
        assert len(store.stored) == 1000  # stored, never acknowledged
        assert await intake.drain(batch=1000) == 2500  # the 1000 again, then the rest
        assert len(store.stored) == 2500
        assert sorted(int(f["n"]) for f in store.stored.values()) == list(range(2500))
        assert await intake.drain() == 0 and await intake.pending("visits") == 0
    finally:
        await intake.close()


@pytest.mark.usefixtures("scaled_services")
async def test_entries_of_a_dead_consumer_are_claimed_by_another() -> None:
    prefix = f"test-intake-{uuid.uuid4().hex[:8]}:"
    dead = RedisIntake(REDIS_URL, prefix, consumer="dead", claim_after_ms=50)
    alive = RedisIntake(REDIS_URL, prefix, consumer="alive", claim_after_ms=50)
    lost, store = Recorder(), Recorder()
    dead.register("visits", lost)
    alive.register("visits", store)
    try:
        for n in range(30):
            await dead.add("visits", {"n": str(n)})
        lost.fail_after_store = True  # it read 30 and died before storing them for good
        with pytest.raises(RuntimeError):
            await dead.drain()
        for n in range(30, 40):
            await alive.add("visits", {"n": str(n)})
        await asyncio.sleep(0.1)
        assert await alive.drain() == 40
        assert sorted(int(f["n"]) for f in store.stored.values()) == list(range(40))
        assert await alive.pending("visits") == 0
    finally:
        await dead.close()
        await alive.close()
