"""Paid subscriptions to creators: monthly plans, a card registered with the payment provider and
charged each month, and a members-only space where subscribers read what the creator posts for
them.

Charging happens outside any transaction (the provider may take seconds); its outcome is then
written in one transaction with the period, the creator's earnings (less the platform's fee)
and the member's access to the space. The provider's idempotency key names the subscription,
the period and the attempt: a run that dies after the card was charged and before the charge
was written charges the same key again and gets the first approval back, so a period is paid
once. A declined renewal starts a grace period (access stays, a retry a day); when it ends
unpaid the subscription lapses and access goes. A cancelled subscription runs to the end of
the period paid for.
"""

from __future__ import annotations

import calendar
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.accounts import service as accounts
from jangteo.community import service as community
from jangteo.core import rules as rules_store
from jangteo.core.clock import Clock
from jangteo.core.db import Database
from jangteo.core.errors import Conflict, Forbidden, InvalidInput, NotFound, define
from jangteo.orders.payments import PaymentDeclined, PaymentUnavailable
from jangteo.rewards import creators, earnings
from jangteo.rewards.models import Subscription, SubscriptionCharge, SubscriptionPlan

RENEW_JOB = "rewards.renew-subscriptions"
RENEW_EVERY_SECONDS = 3600
MIN_PRICE, MAX_PRICE = 1_000, 1_000_000
PLANS_PER_CREATOR = 5

AlreadySubscribed = define("already-subscribed", 409, "You already subscribe to this creator.")


@dataclass(frozen=True)
class SubscriptionRules:
    fee_bp: int = 1_500
    grace_days: int = 3

    @classmethod
    def defaults(cls, settings: Any) -> SubscriptionRules:
        return rules_store.from_settings(cls, settings, "subscriptions_")


def add_month(moment: datetime) -> datetime:
    """The same day and time a month later (the month's last day when it is shorter)."""
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


# ---- plans ------------------------------------------------------------------------------------


async def create_plan(
    session: AsyncSession,
    clock: Clock,
    creator_id: uuid.UUID,
    *,
    name: str,
    price: int,
    benefits: str,
) -> SubscriptionPlan:
    """A monthly plan of a creator; the first one also makes the subscribers' space."""
    if await creators.tier_of(session, creator_id) == "none":
        raise Forbidden("Only creators offer subscriptions.")
    if not MIN_PRICE <= price <= MAX_PRICE:
        raise InvalidInput(
            f"A plan costs between {MIN_PRICE:,} and {MAX_PRICE:,} won a month.", fields=["price"]
        )
    plans = list(
        (
            await session.scalars(
                select(SubscriptionPlan).where(SubscriptionPlan.creator_id == creator_id)
            )
        ).all()
    )
    if sum(p.status == "active" for p in plans) >= PLANS_PER_CREATOR:
        raise InvalidInput(f"A creator offers at most {PLANS_PER_CREATOR} plans.")
    if plans:
        space_id = plans[0].space_id
    else:
        brief = await accounts.get_member_brief(session, creator_id)
        space = await community.create_space(
            session,
            clock,
            owner_id=creator_id,
            slug=f"subscribers-{creator_id.hex[-12:]}",
            name=f"{brief.nickname if brief else ''} 구독자 공간"[:80],
            description="구독자만 읽을 수 있는 공간입니다.",
            visibility="members_only",
            join_policy="verified",
            verification="staff_approval",
        )
        space_id = space.id
    plan = SubscriptionPlan(
        creator_id=creator_id,
        name=name,
        price=price,
        benefits=benefits,
        space_id=space_id,
        created_at=clock.now(),
    )
    session.add(plan)
    await session.flush()
    return plan


async def retire_plan(session: AsyncSession, creator_id: uuid.UUID, plan_id: uuid.UUID) -> None:
    """No new subscribers; those subscribed keep renewing at their price."""
    plan = await session.get(SubscriptionPlan, plan_id, with_for_update=True)
    if plan is None or plan.creator_id != creator_id:
        raise NotFound("There is no such plan.")
    plan.status = "retired"


async def plans_of(session: AsyncSession, creator_id: uuid.UUID) -> list[SubscriptionPlan]:
    query = (
        select(SubscriptionPlan)
        .where(SubscriptionPlan.creator_id == creator_id, SubscriptionPlan.status == "active")
        .order_by(SubscriptionPlan.price)
    )
    return list((await session.scalars(query)).all())


# ---- subscribing ------------------------------------------------------------------------------


def _charge_key(subscription_id: uuid.UUID, period_start: datetime, attempt: int) -> str:
    return f"sub-{subscription_id.hex}-{period_start:%Y%m%d}-{attempt}"


async def _record_charge(
    session: AsyncSession,
    clock: Clock,
    subscription: Subscription,
    plan: SubscriptionPlan,
    *,
    period_start: datetime,
    attempt: int,
    payment_key: str,
    rules: SubscriptionRules,
) -> None:
    """A paid period: the charge, the creator's earnings less the fee, the next period."""
    fee = plan.price * rules.fee_bp // 10_000
    charge = SubscriptionCharge(
        subscription_id=subscription.id,
        period_start=period_start,
        attempt=attempt,
        amount=plan.price,
        fee=fee,
        status="paid",
        payment_key=payment_key,
        created_at=clock.now(),
    )
    session.add(charge)
    await session.flush()
    await earnings.post(
        session,
        clock,
        subscription.creator_id,
        kind="subscription",
        available=plan.price - fee,
        reference=f"subscription-charge:{charge.id}",
    )
    subscription.current_period_start = period_start
    subscription.current_period_end = add_month(period_start)
    subscription.status, subscription.grace_until, subscription.failed_attempts = "active", None, 0
    subscription.updated_at = clock.now()
    await community.grant_membership(session, clock, plan.space_id, subscription.member_id, on=True)


async def subscribe(
    db: Database,
    clock: Clock,
    gateway: Any,
    member_id: uuid.UUID,
    *,
    plan_id: uuid.UUID,
    auth_key: str,
    rules: SubscriptionRules,
) -> Subscription:
    """Register the member's card for the plan and charge the first month."""
    async with db.read() as session:
        plan = await session.get(SubscriptionPlan, plan_id)
        if plan is None or plan.status != "active":
            raise NotFound("There is no such plan.")
        if plan.creator_id == member_id:
            raise InvalidInput("You cannot subscribe to yourself.")
        existing = await session.scalar(
            select(Subscription).where(
                Subscription.member_id == member_id, Subscription.creator_id == plan.creator_id
            )
        )
        if existing is not None and existing.status in ("active", "grace"):
            raise AlreadySubscribed()
    customer_key = f"member-{member_id.hex}"
    billing_key = await gateway.issue_billing_key(auth_key=auth_key, customer_key=customer_key)
    # one id per member and creator: a retry after a crash between the charge and its record
    # charges the same provider key again (the same day) and gets the first approval back
    subscription_id = (
        existing.id
        if existing is not None
        else uuid.uuid5(uuid.NAMESPACE_URL, f"jangteo:subscription:{member_id}:{plan.creator_id}")
    )
    period_start = clock.now()
    approval = await gateway.charge_billing(
        billing_key=billing_key,
        customer_key=customer_key,
        order_id=f"sub-{subscription_id.hex[:20]}-{period_start:%Y%m%d}",
        amount=plan.price,
        order_name=f"{plan.name} 구독",
        idempotency_key=_charge_key(subscription_id, period_start, 0),
    )
    async with db.write() as session:
        subscription = await session.get(Subscription, subscription_id, with_for_update=True)
        if subscription is None:
            subscription = Subscription(
                id=subscription_id,
                member_id=member_id,
                creator_id=plan.creator_id,
                plan_id=plan.id,
                status="active",
                billing_key=billing_key,
                customer_key=customer_key,
                current_period_start=period_start,
                current_period_end=add_month(period_start),
                created_at=clock.now(),
                updated_at=clock.now(),
            )
            session.add(subscription)
            await session.flush()
        elif subscription.status in ("active", "grace"):
            raise AlreadySubscribed()  # subscribed through another request meanwhile
        subscription.plan_id, subscription.billing_key = plan.id, billing_key
        subscription.cancel_at_period_end = False
        await _record_charge(
            session,
            clock,
            subscription,
            plan,
            period_start=period_start,
            attempt=0,
            payment_key=approval.payment_key,
            rules=rules,
        )
        return subscription


async def cancel(
    session: AsyncSession, clock: Clock, member_id: uuid.UUID, subscription_id: uuid.UUID
) -> Subscription:
    """Stop renewing; access stays to the end of the period paid for."""
    subscription = await session.get(Subscription, subscription_id, with_for_update=True)
    if subscription is None or subscription.member_id != member_id:
        raise NotFound("There is no such subscription.")
    if subscription.status not in ("active", "grace"):
        raise Conflict("This subscription has ended.")
    subscription.cancel_at_period_end, subscription.updated_at = True, clock.now()
    return subscription


# ---- renewals ---------------------------------------------------------------------------------


async def _end(
    session: AsyncSession, clock: Clock, subscription: Subscription, status: str
) -> None:
    plan = await session.get(SubscriptionPlan, subscription.plan_id)
    subscription.status, subscription.updated_at = status, clock.now()
    if plan is not None:
        await community.grant_membership(
            session, clock, plan.space_id, subscription.member_id, on=False
        )


async def renew(
    db: Database, clock: Clock, gateway: Any, subscription_id: uuid.UUID, rules: SubscriptionRules
) -> str:
    """Renew one subscription whose period has ended; what happened."""
    async with db.write() as session:
        sub = await session.get(Subscription, subscription_id, with_for_update=True)
        if sub is None or sub.status not in ("active", "grace"):
            return "skipped"
        now = clock.now()
        if sub.current_period_end > now:
            return "skipped"
        if sub.cancel_at_period_end:
            await _end(session, clock, sub, "ended")
            return "ended"
        if sub.status == "grace" and sub.grace_until is not None and sub.grace_until <= now:
            await _end(session, clock, sub, "lapsed")
            return "lapsed"
        plan = await session.get(SubscriptionPlan, sub.plan_id)
        assert plan is not None
        period_start, attempt = sub.current_period_end, sub.failed_attempts
        billing_key, customer_key, price = sub.billing_key, sub.customer_key, plan.price
        order_name = f"{plan.name} 구독"
    try:
        approval = await gateway.charge_billing(
            billing_key=billing_key,
            customer_key=customer_key,
            order_id=f"sub-{subscription_id.hex[:20]}-{period_start:%Y%m%d}",
            amount=price,
            order_name=order_name,
            idempotency_key=_charge_key(subscription_id, period_start, attempt),
        )
    except PaymentUnavailable:
        return "retry"  # the provider is down: the next run tries the same attempt again
    except PaymentDeclined as declined:
        async with db.write() as session:
            sub = await session.get(Subscription, subscription_id, with_for_update=True)
            assert sub is not None
            if sub.current_period_end != period_start or sub.failed_attempts != attempt:
                return "skipped"  # another run recorded this attempt
            session.add(
                SubscriptionCharge(
                    subscription_id=sub.id,
                    period_start=period_start,
                    attempt=attempt,
                    amount=price,
                    fee=0,
                    status="failed",
                    failure_code=str(declined.extra.get("provider_code") or "declined")[:60],
                    created_at=clock.now(),
                )
            )
            sub.failed_attempts += 1
            if sub.status == "active":
                sub.status = "grace"
                sub.grace_until = period_start + timedelta(days=rules.grace_days)
            sub.updated_at = clock.now()
        return "declined"
    async with db.write() as session:
        sub = await session.get(Subscription, subscription_id, with_for_update=True)
        assert sub is not None
        if sub.current_period_end != period_start:
            return "skipped"  # recorded by another run: the provider answered it the same
        plan = await session.get(SubscriptionPlan, sub.plan_id)
        assert plan is not None
        await _record_charge(
            session,
            clock,
            sub,
            plan,
            period_start=period_start,
            attempt=attempt,
            payment_key=approval.payment_key,
            rules=rules,
        )
    return "renewed"


async def renew_due(
    db: Database, clock: Clock, gateway: Any, rules: SubscriptionRules
) -> dict[str, int]:
    """The recurring job: every subscription whose period ended; one in grace at most once a
    day."""
    now = clock.now()
    async with db.read() as session:
        due = list(
            (
                await session.scalars(
                    select(Subscription.id).where(
                        Subscription.current_period_end <= now,
                        or_(
                            Subscription.status == "active",
                            (Subscription.status == "grace")
                            & (
                                (Subscription.updated_at <= now - timedelta(days=1))
                                | (Subscription.grace_until <= now)
                            ),
                        ),
                    )
                )
            ).all()
        )
    outcomes: dict[str, int] = {}
    for subscription_id in due:
        outcome = await renew(db, clock, gateway, subscription_id, rules)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


async def my_subscriptions(session: AsyncSession, member_id: uuid.UUID) -> list[Subscription]:
    query = (
        select(Subscription)
        .where(Subscription.member_id == member_id)
        .order_by(Subscription.created_at.desc())
    )
    return list((await session.scalars(query)).all())


async def subscriber_count(session: AsyncSession, creator_id: uuid.UUID) -> int:
    query = select(func.count()).where(
        Subscription.creator_id == creator_id, Subscription.status.in_(("active", "grace"))
    )
    return await session.scalar(query) or 0


async def charges_of(session: AsyncSession, charge_ids: list[uuid.UUID]) -> tuple[int, int]:
    """Gross and fees of some paid charges (for statements)."""
    if not charge_ids:
        return 0, 0
    gross, fees = (
        await session.execute(
            select(
                func.coalesce(func.sum(SubscriptionCharge.amount), 0),
                func.coalesce(func.sum(SubscriptionCharge.fee), 0),
            ).where(SubscriptionCharge.id.in_(charge_ids))
        )
    ).one()
    return int(gross), int(fees)
