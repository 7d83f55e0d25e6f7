"""HTTP API of paid subscriptions: creators' plans, subscribing with a registered card,
cancelling, and a member's or a creator's view of them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field, StringConstraints

from jangteo.core.deps import CreatorMember, CurrentMember, PlatformDep
from jangteo.rewards import subscriptions
from jangteo.rewards.models import Subscription, SubscriptionPlan
from jangteo.rewards.schemas import Request as Body

router = APIRouter(prefix="/api/v1", tags=["subscriptions"])


class PlanIn(Body):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    price: Annotated[int, Field(ge=subscriptions.MIN_PRICE, le=subscriptions.MAX_PRICE)]
    benefits: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] = ""


class PlanOut(BaseModel):
    """A monthly plan; subscribers read the creator's posts in the space `space_id`."""

    id: uuid.UUID
    creator_id: uuid.UUID
    name: str
    price: int
    benefits: str
    space_id: uuid.UUID


class SubscribeIn(Body):
    plan_id: uuid.UUID
    auth_key: Annotated[str, StringConstraints(min_length=1, max_length=300)] = Field(
        description="the card registration's authKey from the payment provider's widget"
    )


class SubscriptionOut(BaseModel):
    id: uuid.UUID
    creator_id: uuid.UUID
    plan_id: uuid.UUID
    status: Literal["active", "grace", "lapsed", "ended"]
    cancel_at_period_end: bool
    current_period_start: datetime
    current_period_end: datetime
    grace_until: datetime | None


class SubscriberCount(BaseModel):
    subscribers: int


def _plan_out(plan: SubscriptionPlan) -> PlanOut:
    return PlanOut(
        id=plan.id,
        creator_id=plan.creator_id,
        name=plan.name,
        price=plan.price,
        benefits=plan.benefits,
        space_id=plan.space_id,
    )


def _subscription_out(sub: Subscription) -> SubscriptionOut:
    return SubscriptionOut(
        id=sub.id,
        creator_id=sub.creator_id,
        plan_id=sub.plan_id,
        status=sub.status,  # type: ignore[arg-type]
        cancel_at_period_end=sub.cancel_at_period_end,
        current_period_start=sub.current_period_start,
        current_period_end=sub.current_period_end,
        grace_until=sub.grace_until,
    )


def _rules(platform: Any) -> subscriptions.SubscriptionRules:
    return subscriptions.SubscriptionRules.defaults(platform.settings)


@router.post("/me/subscription-plans", response_model=PlanOut, status_code=status.HTTP_201_CREATED)
async def create_plan(platform: PlatformDep, member: CreatorMember, body: PlanIn) -> PlanOut:
    """Offer a monthly plan (at most 5). The first one opens your subscribers' space: post there
    for subscribers only."""
    async with platform.db.write() as session:
        plan = await subscriptions.create_plan(
            session,
            platform.clock,
            member.member_id,
            name=body.name,
            price=body.price,
            benefits=body.benefits,
        )
        return _plan_out(plan)


@router.delete("/me/subscription-plans/{plan_id}", status_code=status.HTTP_204_NO_CONTENT)
async def retire_plan(platform: PlatformDep, member: CreatorMember, plan_id: uuid.UUID) -> Response:
    """Close a plan to new subscribers (those subscribed keep it)."""
    async with platform.db.write() as session:
        await subscriptions.retire_plan(session, member.member_id, plan_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/creators/{member_id}/plans", response_model=list[PlanOut])
async def creator_plans(platform: PlatformDep, member_id: uuid.UUID) -> list[PlanOut]:
    async with platform.db.read() as session:
        return [_plan_out(p) for p in await subscriptions.plans_of(session, member_id)]


@router.post("/subscriptions", response_model=SubscriptionOut, status_code=status.HTTP_201_CREATED)
async def subscribe(
    platform: PlatformDep, member: CurrentMember, body: SubscribeIn
) -> SubscriptionOut:
    """Subscribe with a card registered through the provider's widget: the first month is
    charged now, then each month until you cancel. Asking again while subscribed is 409 and
    charges nothing; a retry after a lost answer the same day is charged once."""
    sub = await subscriptions.subscribe(
        platform.db,
        platform.clock,
        platform.adapters["payments"],
        member.member_id,
        plan_id=body.plan_id,
        auth_key=body.auth_key,
        rules=_rules(platform),
    )
    return _subscription_out(sub)


@router.post("/subscriptions/{subscription_id}/cancel", response_model=SubscriptionOut)
async def cancel(
    platform: PlatformDep, member: CurrentMember, subscription_id: uuid.UUID
) -> SubscriptionOut:
    """Stop renewing: the subscription stays until the end of the month paid for."""
    async with platform.db.write() as session:
        sub = await subscriptions.cancel(session, platform.clock, member.member_id, subscription_id)
        return _subscription_out(sub)


@router.get("/me/subscriptions", response_model=list[SubscriptionOut])
async def my_subscriptions(platform: PlatformDep, member: CurrentMember) -> list[SubscriptionOut]:
    async with platform.db.read() as session:
        return [
            _subscription_out(s)
            for s in await subscriptions.my_subscriptions(session, member.member_id)
        ]


@router.get("/me/subscribers", response_model=SubscriberCount)
async def my_subscribers(platform: PlatformDep, member: CreatorMember) -> SubscriberCount:
    async with platform.db.read() as session:
        return SubscriberCount(
            subscribers=await subscriptions.subscriber_count(session, member.member_id)
        )
