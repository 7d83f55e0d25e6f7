"""Helpers the accounts tests share: token claims, an app with its own settings, audit reads."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
from sqlalchemy import func, select
from tests.conftest import Backend, make_settings

from jangteo.accounts.models import PointsEntry, PointsLot, PointsWallet
from jangteo.app import create_app
from jangteo.bootstrap import build_platform
from jangteo.core.clock import FrozenClock
from jangteo.core.models import AuditEntry
from jangteo.core.platform import Platform


def claims(access_token: str) -> dict[str, Any]:
    """What an access token says, read without checking the signature (the API checks it)."""
    return jwt.decode(access_token, options={"verify_signature": False})


@asynccontextmanager
async def own_app(
    backend: Backend,
    tmp_path: Path,
    clock: FrozenClock,
    *,
    client_ip: str = "203.0.113.7",
    **overrides: object,
) -> AsyncIterator[tuple[Platform, httpx.AsyncClient]]:
    """A platform and client on the test's database with settings of the test's choosing."""
    platform = build_platform(make_settings(backend, tmp_path, **overrides), clock)
    transport = httpx.ASGITransport(
        app=create_app(platform.settings, platform=platform), client=(client_ip, 40000)
    )
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield platform, client
    finally:
        await platform.cache.close()
        await platform.db.dispose()


async def audit_actions(platform: Platform, target_id: object) -> list[str]:
    async with platform.db.read() as session:
        rows = await session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.target_id == str(target_id))
            .order_by(AuditEntry.created_at, AuditEntry.id)
        )
        return list(rows)


async def ledger_state(platform: Platform, member_id: uuid.UUID) -> dict[str, int]:
    """The member's balance three ways, and how many points transactions do not sum to zero."""
    async with platform.db.read() as session:
        balance = await session.scalar(
            select(PointsWallet.balance).where(PointsWallet.member_id == member_id)
        )
        legs = await session.scalar(
            select(func.coalesce(func.sum(PointsEntry.amount), 0)).where(
                PointsEntry.member_id == member_id
            )
        )
        lots = await session.scalar(
            select(func.coalesce(func.sum(PointsLot.remaining), 0)).where(
                PointsLot.member_id == member_id
            )
        )
        unbalanced = await session.scalar(
            select(func.count()).select_from(
                select(PointsEntry.txn_id)
                .group_by(PointsEntry.txn_id)
                .having(func.sum(PointsEntry.amount) != 0)
                .subquery()
            )
        )
    return {
        "balance": int(balance or 0),
        "legs": int(legs or 0),
        "lots": int(lots or 0),
        "unbalanced_txns": int(unbalanced or 0),
    }
