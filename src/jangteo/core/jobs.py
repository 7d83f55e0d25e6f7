"""Scheduled jobs in a table: one-off (expire this order at 12:30) or recurring (every hour).

Any number of processes may poll the table; a job is claimed with a lease before it runs.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.core.clock import Clock
from jangteo.core.db import Database
from jangteo.core.models import ScheduledJob

log = logging.getLogger("jangteo.jobs")

JobHandler = Callable[[dict[str, Any]], Awaitable[None]]
LEASE = timedelta(minutes=5)


async def schedule(
    session: AsyncSession, kind: str, key: str, run_at: datetime, payload: dict[str, Any]
) -> None:
    """Schedule a job in the caller's transaction; the same key is scheduled once."""
    existing = await session.scalar(select(ScheduledJob).where(ScheduledJob.key == key))
    if existing is not None:
        existing.run_at, existing.payload, existing.status = run_at, payload, "pending"
        return
    session.add(ScheduledJob(kind=kind, key=key, run_at=run_at, payload=payload))


async def cancel(session: AsyncSession, key: str) -> None:
    await session.execute(
        update(ScheduledJob)
        .where(ScheduledJob.key == key, ScheduledJob.status == "pending")
        .values(status="cancelled")
    )


class JobRunner:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.handlers: dict[str, JobHandler] = {}
        self.recurring: dict[str, int] = {}

    def register(self, kind: str, handler: JobHandler, every_seconds: int | None = None) -> None:
        self.handlers[kind] = handler
        if every_seconds:
            self.recurring[kind] = every_seconds

    async def ensure_recurring(self) -> None:
        async with self.db.write() as session:
            for kind, seconds in self.recurring.items():
                exists = await session.scalar(
                    select(ScheduledJob.id).where(ScheduledJob.key == f"recurring:{kind}")
                )
                if exists is None:
                    session.add(
                        ScheduledJob(
                            kind=kind,
                            key=f"recurring:{kind}",
                            run_at=self.clock.now(),
                            payload={},
                            interval_seconds=seconds,
                        )
                    )

    async def run_due(self, batch: int = 50) -> int:
        """Run the jobs that are due now; returns how many succeeded."""
        now = self.clock.now()
        due = (
            ScheduledJob.status == "pending",
            ScheduledJob.run_at <= now,
            or_(ScheduledJob.locked_until.is_(None), ScheduledJob.locked_until < now),
        )
        # look before taking the write lock: idle polling must not queue behind checkouts
        async with self.db.read() as session:
            if await session.scalar(select(ScheduledJob.id).where(*due).limit(1)) is None:
                return 0
        async with self.db.write() as session:
            query = select(ScheduledJob).where(*due).order_by(ScheduledJob.run_at).limit(batch)
            if not self.db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            jobs = list((await session.scalars(query)).all())
            for job in jobs:
                job.locked_until = now + LEASE
        done = 0
        for job in jobs:
            handler = self.handlers.get(job.kind)
            error = None
            if handler is None:
                error = f"no handler for {job.kind}"
            else:
                try:
                    await handler(job.payload)
                except Exception as exc:
                    log.exception("job failed", extra={"kind": job.kind})
                    error = f"{type(exc).__name__}: {exc}"[:1000]
            async with self.db.write() as session:
                values: dict[str, Any] = {
                    "attempts": job.attempts + 1,
                    "locked_until": None,
                    "last_error": error,
                }
                finished = self.clock.now()
                if error is not None:
                    values["run_at"] = finished + timedelta(
                        seconds=min(3600, 2 ** min(job.attempts, 11))
                    )
                elif job.interval_seconds:
                    values["run_at"] = max(
                        job.run_at + timedelta(seconds=job.interval_seconds), finished
                    )
                else:
                    values.update(status="done", finished_at=finished)
                    done += 1
                if error is None and job.interval_seconds:
                    done += 1
                await session.execute(
                    update(ScheduledJob).where(ScheduledJob.id == job.id).values(**values)
                )
        return done
