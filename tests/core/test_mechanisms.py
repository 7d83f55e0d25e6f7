"""Outbox delivery, scheduled jobs, idempotency keys and rate limits, on both backends."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from jangteo.core.clock import FrozenClock
from jangteo.core.errors import IdempotencyConflict, RateLimited
from jangteo.core.events import Event, dispatch_pending, emit
from jangteo.core.idempotency import request_fingerprint, run_once
from jangteo.core.jobs import cancel, schedule
from jangteo.core.models import AuditEntry, OutboxEvent
from jangteo.core.platform import Platform
from jangteo.core.ratelimit import Limit


async def test_events_are_delivered_only_after_commit(platform: Platform) -> None:
    seen: list[Event] = []

    async def record(event: Event) -> None:
        seen.append(event)

    platform.bus.subscribe("thing.happened", record)
    with pytest.raises(RuntimeError):
        async with platform.db.write() as session:
            emit(session, platform.clock, "thing.happened", {"n": 0})
            raise RuntimeError("rolled back")
    async with platform.db.write() as session:
        emit(session, platform.clock, "thing.happened", {"n": 1})
    assert await dispatch_pending(platform.db, platform.bus, platform.clock) == 1
    assert [e.payload for e in seen] == [{"n": 1}]
    # delivered once: a second pass finds nothing
    assert await dispatch_pending(platform.db, platform.bus, platform.clock) == 0


async def test_failed_delivery_is_retried_later(platform: Platform, clock: FrozenClock) -> None:
    attempts: list[int] = []

    async def flaky(event: Event) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise ValueError("downstream down")

    platform.bus.subscribe("thing.flaky", flaky)
    async with platform.db.write() as session:
        emit(session, clock, "thing.flaky", {})
    assert await dispatch_pending(platform.db, platform.bus, clock) == 0
    # not before the back-off
    assert await dispatch_pending(platform.db, platform.bus, clock) == 0
    clock.advance(seconds=5)
    assert await dispatch_pending(platform.db, platform.bus, clock) == 1
    assert len(attempts) == 2
    async with platform.db.read() as session:
        row = await session.scalar(select(OutboxEvent))
        assert row is not None and row.attempts == 2 and row.dispatched_at is not None


async def test_jobs_run_when_due_and_once(platform: Platform, clock: FrozenClock) -> None:
    ran: list[dict[str, Any]] = []

    async def expire(payload: dict[str, Any]) -> None:
        ran.append(payload)

    platform.jobs.register("test.expire", expire)
    async with platform.db.write() as session:
        await schedule(
            session, "test.expire", "expire:1", clock.now().replace(minute=30), {"id": 1}
        )
        await schedule(
            session, "test.expire", "expire:2", clock.now().replace(minute=30), {"id": 2}
        )
        # scheduling the same key again moves it instead of adding one
        await schedule(
            session, "test.expire", "expire:1", clock.now().replace(minute=10), {"id": 1}
        )
    async with platform.db.write() as session:
        await cancel(session, "expire:2")
    assert await platform.jobs.run_due() == 0
    clock.advance(minutes=15)
    assert await platform.jobs.run_due() == 1
    clock.advance(hours=1)
    assert await platform.jobs.run_due() == 0
    assert ran == [{"id": 1}]


async def test_recurring_job_reschedules_itself(platform: Platform, clock: FrozenClock) -> None:
    runs: list[int] = []

    async def sweep(_payload: dict[str, Any]) -> None:
        runs.append(1)

    platform.jobs.register("test.sweep", sweep, every_seconds=3600)
    await platform.jobs.ensure_recurring()
    await platform.jobs.ensure_recurring()
    await platform.jobs.run_due()
    await platform.jobs.run_due()
    assert len(runs) == 1
    clock.advance(minutes=59)
    await platform.jobs.run_due()
    assert len(runs) == 1
    clock.advance(minutes=1)
    await platform.jobs.run_due()
    assert len(runs) == 2


async def test_failing_job_is_retried_with_backoff(platform: Platform, clock: FrozenClock) -> None:
    calls: list[int] = []

    async def fragile(_payload: dict[str, Any]) -> None:
        calls.append(1)
        if len(calls) < 2:
            raise ValueError("try again")

    platform.jobs.register("test.fragile", fragile)
    async with platform.db.write() as session:
        await schedule(session, "test.fragile", "fragile", clock.now(), {})
    assert await platform.jobs.run_due() == 0
    assert await platform.jobs.run_due() == 0
    clock.advance(seconds=2)
    assert await platform.jobs.run_due() == 1
    assert len(calls) == 2


async def _audited(platform: Platform, key: str | None, body: dict[str, Any]) -> dict[str, Any]:
    async def operation(session) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        from jangteo.core.audit import record_audit

        record_audit(
            session,
            platform.clock,
            actor_id=None,
            action="test.op",
            target_type="thing",
            target_id="1",
            after=body,
        )
        return {"done": body["n"]}

    return await run_once(
        platform.db,
        platform.clock,
        scope="test.op",
        owner="m1",
        key=key,
        fingerprint=request_fingerprint(body),
        operation=operation,
    )


async def _audit_count(platform: Platform) -> int:
    async with platform.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


async def test_idempotency_key_replays_the_first_answer(platform: Platform) -> None:
    first = await _audited(platform, "key-1", {"n": 1})
    again = await _audited(platform, "key-1", {"n": 1})
    assert first == again == {"done": 1}
    assert await _audit_count(platform) == 1
    with pytest.raises(IdempotencyConflict):
        await _audited(platform, "key-1", {"n": 2})
    await _audited(platform, None, {"n": 3})
    await _audited(platform, None, {"n": 3})
    assert await _audit_count(platform) == 3


async def test_concurrent_retries_run_the_operation_once(platform: Platform) -> None:
    results = await asyncio.gather(
        *[_audited(platform, "same-key", {"n": 7}) for _ in range(10)], return_exceptions=True
    )
    answers = [r for r in results if isinstance(r, dict)]
    assert answers and all(a == {"done": 7} for a in answers)
    assert await _audit_count(platform) == 1


async def test_rate_limit_counts_per_subject(platform: Platform) -> None:
    limit = Limit("test.login", max_hits=3, window_seconds=60)
    for _ in range(3):
        await platform.limiter.hit(limit, "alice")
    await platform.limiter.check(limit, "bob")
    with pytest.raises(RateLimited) as caught:
        await platform.limiter.check(limit, "alice")
    assert 1 <= caught.value.extra["retry_after"] <= 60
    with pytest.raises(RateLimited):
        await platform.limiter.hit(limit, "alice")
    await platform.limiter.reset(limit, "alice")
    await platform.limiter.hit(limit, "alice")
