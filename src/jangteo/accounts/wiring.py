"""Adds the accounts domain's adapters, scheduled jobs and event subscribers to a platform."""

from __future__ import annotations

from typing import Any

from jangteo.accounts import service
from jangteo.core.platform import Platform

EXPIRE_POINTS_EVERY_SECONDS = 3600


def register(platform: Platform) -> None:
    async def expire_points(_payload: dict[str, Any]) -> None:
        # one batch per transaction, so a large backlog never holds the writer for long
        while True:
            async with platform.db.write() as session:
                expired = await service.expire_points(session, platform.clock)
            if not expired:
                return

    platform.jobs.register(
        "accounts.expire_points", expire_points, every_seconds=EXPIRE_POINTS_EVERY_SECONDS
    )
