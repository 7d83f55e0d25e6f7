"""Rewards as members see them through the API, and the background work that moves them."""

from __future__ import annotations

from typing import Any

import httpx
from tests.factories.accounts import Member

from jangteo.core.events import dispatch_pending
from jangteo.core.platform import Platform


async def settle(platform: Platform) -> None:
    """Let order events reach their subscribers, and run the jobs that are due."""
    for _ in range(3):
        await dispatch_pending(platform.db, platform.bus, platform.clock)
        await platform.jobs.run_due()


async def earnings_of(client: httpx.AsyncClient, member: Member) -> dict[str, Any]:
    response = await client.get("/api/v1/me/earnings", headers=member.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def credited_to(client: httpx.AsyncClient, member: Member) -> list[dict[str, Any]]:
    """The orders credited to the member, newest first."""
    response = await client.get("/api/v1/me/earnings/attributions", headers=member.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]
