"""Domain events through the transactional outbox, and their dispatch to subscribers.

A state change and its event are written in one transaction (`emit`); `dispatch_pending`
delivers them afterwards, at least once, so every subscriber must be idempotent by event id.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.core.clock import Clock
from jangteo.core.db import Database
from jangteo.core.models import OutboxEvent

log = logging.getLogger("jangteo.events")


@dataclass(frozen=True)
class Event:
    id: uuid.UUID
    topic: str
    payload: dict[str, Any]
    created_at: datetime


Subscriber = Callable[[Event], Awaitable[None]]


def emit(session: AsyncSession, clock: Clock, topic: str, payload: dict[str, Any]) -> None:
    """Record an event in the caller's transaction; it is delivered only if that commits."""
    now = clock.now()
    session.add(OutboxEvent(topic=topic, payload=payload, created_at=now, next_attempt_at=now))


class EventBus:
    def __init__(self) -> None:
        self._subscribers: dict[str, list[Subscriber]] = defaultdict(list)

    def subscribe(self, topic: str, subscriber: Subscriber) -> None:
        self._subscribers[topic].append(subscriber)

    def subscribers(self, topic: str) -> list[Subscriber]:
        return list(self._subscribers.get(topic, ()))


async def dispatch_pending(db: Database, bus: EventBus, clock: Clock, batch: int = 100) -> int:
    """Deliver due events to their subscribers; returns how many were delivered."""
    now = clock.now()
    due = (OutboxEvent.dispatched_at.is_(None), OutboxEvent.next_attempt_at <= now)
    # look before taking the write lock: idle polling must not queue behind checkouts
    async with db.read() as session:
        if await session.scalar(select(OutboxEvent.id).where(*due).limit(1)) is None:
            return 0
    async with db.write() as session:
        query = select(OutboxEvent).where(*due).order_by(OutboxEvent.id).limit(batch)
        if not db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        rows = list((await session.scalars(query)).all())
        # claim them for a while so another worker does not deliver them at the same time
        if rows:
            await session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id.in_([r.id for r in rows]))
                .values(next_attempt_at=now + timedelta(minutes=5))
            )
    outcomes: list[tuple[OutboxEvent, str | None]] = []
    for row in rows:
        event = Event(row.id, row.topic, row.payload, row.created_at)
        error: str | None = None
        for subscriber in bus.subscribers(row.topic):
            try:
                await subscriber(event)
            except Exception as exc:  # a failing subscriber must not stop the others
                log.exception("subscriber failed", extra={"topic": row.topic})
                error = f"{type(exc).__name__}: {exc}"[:1000]
        outcomes.append((row, error))
    if not outcomes:
        return 0
    # one transaction marks the whole batch: on SQLite every write queues for the one writer
    async with db.write() as session:
        finished = clock.now()
        for row, error in outcomes:
            if error is None:
                values: dict[str, Any] = {"dispatched_at": finished, "attempts": row.attempts + 1}
            else:
                backoff = timedelta(seconds=min(3600, 2 ** min(row.attempts, 11)))
                values = {
                    "attempts": row.attempts + 1,
                    "last_error": error,
                    "next_attempt_at": finished + backoff,
                }
            await session.execute(
                update(OutboxEvent).where(OutboxEvent.id == row.id).values(**values)
            )
    return sum(1 for _, error in outcomes if error is None)
