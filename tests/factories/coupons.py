"""Coupons for tests: created through the coupon service, claimed through the API."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta
from typing import Any

import httpx

from jangteo.core.platform import Platform
from jangteo.orders import coupons
from jangteo.orders.coupon_schemas import CouponView, MemberCouponView

_sequence = itertools.count(1)


def unique_code(prefix: str = "TEST") -> str:
    return f"{prefix}-{next(_sequence)}-{uuid.uuid4().hex[:6].upper()}"


async def make_coupon(platform: Platform, **overrides: Any) -> CouponView:
    """A live fixed 3,000 KRW coupon with a unique code, unless `overrides` say otherwise."""
    now = platform.clock.now()
    values: dict[str, Any] = {
        "code": unique_code(),
        "name": "테스트 쿠폰",
        "kind": "fixed",
        "value": 3000,
        "starts_at": now - timedelta(hours=1),
        "ends_at": now + timedelta(days=7),
    }
    values.update(overrides)
    async with platform.db.write() as session:
        return await coupons.create_coupon(session, platform.clock, values)


async def issue_to(platform: Platform, coupon_id: uuid.UUID, *member_ids: uuid.UUID) -> int:
    """Staff issue (members must exist: sign them up first)."""
    async with platform.db.write() as session:
        return await coupons.issue_coupon(
            session, platform.clock, coupon_id=coupon_id, member_ids=member_ids, issued_by=None
        )


async def claim_for(platform: Platform, member_id: uuid.UUID, code: str) -> MemberCouponView:
    """Claim by code through the service, for any member id (no account needed)."""
    async with platform.db.write() as session:
        return await coupons.claim_coupon(session, platform.clock, member_id=member_id, code=code)


async def claim(
    client: httpx.AsyncClient, headers: dict[str, str], code: str, **extra_headers: str
) -> httpx.Response:
    return await client.post(
        "/api/v1/coupons/claim", json={"code": code}, headers={**headers, **extra_headers}
    )
