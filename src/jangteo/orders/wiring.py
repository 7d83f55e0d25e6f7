"""Adds the orders domain's adapters, scheduled jobs and event subscribers to a platform."""

from __future__ import annotations

import uuid
from typing import Any

from jangteo.core.events import Event
from jangteo.core.platform import Platform
from jangteo.orders import service
from jangteo.orders.payments import make_gateway


def register(platform: Platform) -> None:
    platform.adapters["payments"] = make_gateway(platform.settings, platform.clock)

    async def expire_unpaid(payload: dict[str, Any]) -> None:
        async with platform.db.write() as session:
            await service.expire_unpaid_order(
                session, platform.clock, order_id=uuid.UUID(payload["order_id"])
            )

    async def finish_refund(payload: dict[str, Any]) -> None:
        await service.finish_refund(
            platform.db,
            platform.clock,
            platform.adapters["payments"],
            order_id=uuid.UUID(payload["order_id"]),
            reason=payload.get("reason"),
        )

    async def reward_delivered(event: Event) -> None:
        # events arrive at least once; the reward's reference makes a repeat a no-op
        async with platform.db.write() as session:
            await service.credit_purchase_reward(
                session,
                platform.clock,
                order_id=uuid.UUID(event.payload["order_id"]),
                percent=platform.settings.purchase_reward_percent,
                expiry_days=platform.settings.points_expiry_days,
            )

    platform.jobs.register(service.EXPIRE_UNPAID_JOB, expire_unpaid)
    platform.jobs.register(service.FINISH_REFUND_JOB, finish_refund)
    platform.bus.subscribe("order.delivered", reward_delivered)
