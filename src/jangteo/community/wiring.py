"""Adds the community domain's scheduled jobs and event subscribers to a platform."""

from __future__ import annotations

import uuid
from typing import Any

from jangteo.community import notifications, questions
from jangteo.core.events import Event
from jangteo.core.platform import Platform

# the order changes a member hears about
ORDER_TOPICS = (
    "order.paid",
    "order.shipped",
    "order.delivered",
    "order.cancelled",
    "order.refunded",
)


def register(platform: Platform) -> None:
    """Job handlers and subscribers of the community domain."""

    async def push_notification(event: Event) -> None:
        # a nudge to the member's open streams, which read the new rows themselves
        member_id = event.payload["member_id"]
        await platform.pubsub.publish(notifications.channel(member_id), b"new")

    platform.bus.subscribe(notifications.NOTIFIED, push_notification)

    async def notify_order(event: Event) -> None:
        # the event's id makes the notification once, however often the event is delivered
        payload = event.payload
        async with platform.db.write() as session:
            await notifications.notify(
                session,
                platform.clock,
                member_id=uuid.UUID(payload["member_id"]),
                kind="order",
                data={
                    "order_id": payload["order_id"],
                    "number": payload["number"],
                    "status": event.topic.removeprefix("order."),
                },
                notification_id=event.id,
            )

    for topic in ORDER_TOPICS:
        platform.bus.subscribe(topic, notify_order)

    async def reaction_digest(_payload: dict[str, Any]) -> None:
        async with platform.db.write() as session:
            await notifications.reaction_digest(session, platform.clock)

    platform.jobs.register(
        notifications.DIGEST_JOB,
        reaction_digest,
        every_seconds=notifications.DIGEST_EVERY_SECONDS,
    )

    async def expire_question(payload: dict[str, Any]) -> None:
        async with platform.db.write() as session:
            await questions.expire(
                session,
                platform.clock,
                uuid.UUID(payload["post_id"]),
                rules=questions.QuestionRules.of(platform.settings),
            )

    platform.jobs.register(questions.EXPIRE_JOB, expire_question)
