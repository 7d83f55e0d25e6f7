"""Paid subscriptions: the first month charged through the payment port, subscribers reading the
creator's members-only space, monthly renewal once per period, a failed renewal's grace period
and lapse, cancelling to the end of the period; and Toss's billing API against the fake."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from tests.factories.accounts import Member, make_staff, signup_member
from tests.factories.community import make_post
from tests.factories.orders import log_in_again
from tests.fakes.toss import FAKE_SECRET_KEY, FakeToss, serve_fake_toss

from jangteo.core.clock import FrozenClock
from jangteo.core.platform import Platform
from jangteo.orders.payments import PaymentDeclined, TossPaymentsGateway
from jangteo.rewards import earnings, subscriptions
from jangteo.rewards.models import Subscription, SubscriptionCharge

PRICE = 5_900
NET = PRICE - PRICE * 1_500 // 10_000


async def _creator_with_plan(
    client: httpx.AsyncClient, platform: Platform
) -> tuple[Member, dict[str, Any], dict[str, Any]]:
    """A creator (with TOTP, neighbor tier), their plan, and a post for subscribers only."""
    staff = await make_staff(platform, client)
    creator = await make_staff(platform, client, roles=("creator",))
    not_yet = await client.post(
        "/api/v1/me/subscription-plans",
        json={"name": "니트 클럽", "price": PRICE},
        headers=creator.headers,
    )
    assert not_yet.status_code == 403  # a creator role without a tier offers nothing yet
    await client.put(
        f"/api/v1/admin/creators/{creator.id}/tier",
        json={"tier": "neighbor", "reason": "구독 테스트"},
        headers=staff.headers,
    )
    made = await client.post(
        "/api/v1/me/subscription-plans",
        json={"name": "니트 클럽", "price": PRICE, "benefits": "구독자 전용 도안"},
        headers=creator.headers,
    )
    assert made.status_code == 201, made.text
    plan = made.json()
    space = await client.get(f"/api/v1/spaces/{plan['space_id']}", headers=creator.headers)
    post = await make_post(client, creator, space.json()["slug"], body="이번 달 구독자 도안")
    return creator, plan, post


async def _subscribe(
    client: httpx.AsyncClient, member: Member, plan: dict[str, Any], auth_key: str = "card-1"
) -> httpx.Response:
    return await client.post(
        "/api/v1/subscriptions",
        json={"plan_id": plan["id"], "auth_key": auth_key},
        headers=member.headers,
    )


async def _reads(client: httpx.AsyncClient, member: Member, post: dict[str, Any]) -> int:
    return (await client.get(f"/api/v1/posts/{post['id']}", headers=member.headers)).status_code


async def _available(platform: Platform, creator: Member) -> int:
    async with platform.db.read() as session:
        return (await earnings.balance(session, uuid.UUID(creator.id))).available


async def _renew(platform: Platform) -> dict[str, int]:
    return await subscriptions.renew_due(
        platform.db,
        platform.clock,
        platform.adapters["payments"],
        subscriptions.SubscriptionRules.defaults(platform.settings),
    )


async def test_subscribers_read_the_creators_space_and_renew_monthly(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    creator, plan, post = await _creator_with_plan(client, platform)
    fan = await signup_member(client)
    assert await _reads(client, fan, post) == 403
    subscribed = await _subscribe(client, fan, plan)
    assert subscribed.status_code == 201, subscribed.text
    sub = subscribed.json()
    assert (sub["status"], sub["cancel_at_period_end"]) == ("active", False)
    assert sub["current_period_end"].startswith("2026-12-24")
    assert await _reads(client, fan, post) == 200
    assert await _available(platform, creator) == NET
    again = await _subscribe(client, fan, plan)
    assert again.status_code == 409 and again.json()["code"] == "already-subscribed"
    own = await _subscribe(client, creator, plan)
    assert own.status_code == 422
    plans = await client.get(f"/api/v1/creators/{creator.id}/plans")
    assert [(p["name"], p["price"]) for p in plans.json()] == [("니트 클럽", PRICE)]

    assert await _renew(platform) == {}  # nothing is due yet
    clock.advance(days=30, minutes=1)
    assert await _renew(platform) == {"renewed": 1}
    assert await _renew(platform) == {}  # the new period is paid: not due again
    assert await _available(platform, creator) == 2 * NET
    await log_in_again(client, fan)
    mine = (await client.get("/api/v1/me/subscriptions", headers=fan.headers)).json()
    assert mine[0]["current_period_end"].startswith("2027-01-24")


async def test_a_renewal_is_charged_once_even_when_two_runs_race(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    creator, plan, _post = await _creator_with_plan(client, platform)
    fan = await signup_member(client)
    sub = (await _subscribe(client, fan, plan)).json()
    clock.advance(days=31)
    rules = subscriptions.SubscriptionRules.defaults(platform.settings)
    gateway = platform.adapters["payments"]
    outcomes = await asyncio.gather(
        *[
            subscriptions.renew(platform.db, clock, gateway, uuid.UUID(sub["id"]), rules)
            for _ in range(3)
        ]
    )
    assert outcomes.count("renewed") == 1
    async with platform.db.read() as session:
        paid = await session.scalar(
            select(func.count()).where(
                SubscriptionCharge.subscription_id == uuid.UUID(sub["id"]),
                SubscriptionCharge.status == "paid",
            )
        )
    assert paid == 2  # the first month and one renewal
    assert await _available(platform, creator) == 2 * NET


async def test_a_declined_renewal_gets_a_grace_period_then_lapses(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    creator, plan, post = await _creator_with_plan(client, platform)
    fan = await signup_member(client)
    sub = (await _subscribe(client, fan, plan)).json()
    async with platform.db.read() as session:
        row = await session.get(Subscription, uuid.UUID(sub["id"]))
        assert row is not None
        platform.adapters["payments"].declining.add(row.billing_key)
    clock.advance(days=30, minutes=1)
    assert await _renew(platform) == {"declined": 1}
    await log_in_again(client, fan)
    state = (await client.get("/api/v1/me/subscriptions", headers=fan.headers)).json()[0]
    assert state["status"] == "grace" and state["grace_until"] is not None
    assert await _reads(client, fan, post) == 200  # access stays during the grace period
    assert await _renew(platform) == {}  # one retry a day
    clock.advance(days=1)
    assert await _renew(platform) == {"declined": 1}
    clock.advance(days=2)
    assert await _renew(platform) == {"lapsed": 1}
    await log_in_again(client, fan)
    assert await _reads(client, fan, post) == 403
    assert (await client.get("/api/v1/me/subscriptions", headers=fan.headers)).json()[0][
        "status"
    ] == "lapsed"
    assert await _available(platform, creator) == NET  # only the first month

    # the card works again: subscribing anew charges and lets them back in
    platform.adapters["payments"].declining.clear()
    back = await _subscribe(client, fan, plan, auth_key="card-2")
    assert back.status_code == 201 and back.json()["id"] == sub["id"]
    assert await _reads(client, fan, post) == 200


async def test_a_cancelled_subscription_runs_to_the_end_of_the_period(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    creator, plan, post = await _creator_with_plan(client, platform)
    fan, other = await signup_member(client), await signup_member(client)
    sub = (await _subscribe(client, fan, plan)).json()
    theirs = await client.post(f"/api/v1/subscriptions/{sub['id']}/cancel", headers=other.headers)
    assert theirs.status_code == 404
    cancelled = await client.post(f"/api/v1/subscriptions/{sub['id']}/cancel", headers=fan.headers)
    assert cancelled.json()["cancel_at_period_end"] is True
    clock.advance(days=29)
    await log_in_again(client, fan)
    assert await _reads(client, fan, post) == 200
    clock.advance(days=2)
    assert await _renew(platform) == {"ended": 1}
    await log_in_again(client, fan)
    assert await _reads(client, fan, post) == 403
    assert await _available(platform, creator) == NET


async def test_tosss_billing_api_through_the_adapter() -> None:
    with serve_fake_toss(FakeToss()) as fake:
        gateway = TossPaymentsGateway(FAKE_SECRET_KEY, api_base=fake.base_url)
        billing_key = await gateway.issue_billing_key(auth_key="auth-1", customer_key="member-1")
        charge: dict[str, Any] = {
            "billing_key": billing_key,
            "customer_key": "member-1",
            "order_id": "sub-1-20261224",
            "amount": PRICE,
            "order_name": "니트 클럽 구독",
            "idempotency_key": "sub-1-20261224-0",
        }
        first = await gateway.charge_billing(**charge)
        again = await gateway.charge_billing(**charge)  # a retry replays the first approval
        assert (first.amount, again.payment_key) == (PRICE, first.payment_key)
        assert len(fake.payments) == 1
        fake.declining.add(billing_key)
        with pytest.raises(PaymentDeclined):
            await gateway.charge_billing(**{**charge, "idempotency_key": "sub-1-20261224-1"})
        with pytest.raises(PaymentDeclined):
            await gateway.issue_billing_key(auth_key="decline-1", customer_key="member-1")
