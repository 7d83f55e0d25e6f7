"""Adds the rewards domain's intake store, scheduled jobs and order subscribers to a platform."""

from __future__ import annotations

import uuid
from typing import Any

from jangteo.core.events import Event
from jangteo.core.platform import Platform
from jangteo.rewards import creators, notices, referrals, service, settlements, subscriptions


def register(platform: Platform) -> None:
    async def store(entries: Any) -> None:
        await service.store_visits(platform.db, entries)

    platform.intake.register(service.VISITS, store)
    platform.adapters["share_links"] = service.LinkCache()

    async def release(payload: dict[str, Any]) -> None:
        async with platform.db.write() as session:
            await service.release(session, platform.clock, uuid.UUID(payload["order_id"]))

    platform.jobs.register(service.RELEASE_JOB, release)

    async def review_tiers(_payload: dict[str, Any]) -> None:
        async with platform.db.write() as session:
            rules = await creators.creator_rules(session, platform.settings)
            await creators.review_tiers(session, platform.clock, rules)

    platform.jobs.register(
        creators.REVIEW_JOB, review_tiers, every_seconds=creators.REVIEW_EVERY_SECONDS
    )

    async def fan_out(payload: dict[str, Any]) -> None:
        after = uuid.UUID(payload["after"]) if payload.get("after") else None
        async with platform.db.write() as session:
            await notices.fan_out(session, platform.clock, uuid.UUID(payload["notice_id"]), after)

    platform.jobs.register(notices.FANOUT_JOB, fan_out)

    async def renew(_payload: dict[str, Any]) -> None:
        await subscriptions.renew_due(
            platform.db,
            platform.clock,
            platform.adapters["payments"],
            subscriptions.SubscriptionRules.defaults(platform.settings),
        )

    platform.jobs.register(
        subscriptions.RENEW_JOB, renew, every_seconds=subscriptions.RENEW_EVERY_SECONDS
    )

    async def settle(_payload: dict[str, Any]) -> None:
        await settlements.settle_due(
            platform.db,
            platform.clock,
            withholding_bp=platform.settings.settlement_withholding_bp,
        )

    platform.jobs.register(
        settlements.SETTLE_JOB, settle, every_seconds=settlements.SETTLE_EVERY_SECONDS
    )

    # order events arrive at least once and in any order: every step is keyed to happen once
    async def placed(event: Event) -> None:
        async with platform.db.write() as session:
            rules = await service.rules_now(session, platform.settings)
            await service.attribute_order(session, platform.clock, event.payload, rules)

    async def paid(event: Event) -> None:
        async with platform.db.write() as session:
            rules = await service.rules_now(session, platform.settings)
            await service.order_paid(session, platform.clock, event.payload, rules)

    async def delivered(event: Event) -> None:
        async with platform.db.write() as session:
            rules = await service.rules_now(session, platform.settings)
            await service.order_delivered(session, platform.clock, event.payload, rules)

    async def referral_delivered(event: Event) -> None:
        async with platform.db.write() as session:
            rules = referrals.ReferralRules.defaults(platform.settings)
            await referrals.on_delivered(session, platform.clock, event.payload, rules)

    async def withdrawn(event: Event) -> None:
        async with platform.db.write() as session:
            await service.order_withdrawn(session, platform.clock, event.payload)

    platform.bus.subscribe("order.placed", placed)
    platform.bus.subscribe("order.paid", paid)
    platform.bus.subscribe("order.delivered", delivered)
    platform.bus.subscribe("order.delivered", referral_delivered)
    platform.bus.subscribe("order.cancelled", withdrawn)
    platform.bus.subscribe("order.refunded", withdrawn)
