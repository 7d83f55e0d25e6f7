"""Coupons: discount rules, windows, limits, claiming, staff management, and exactly-once use."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from tests.factories.accounts import make_staff, signup_member
from tests.factories.coupons import claim, claim_for, make_coupon, unique_code

from jangteo.core.clock import FrozenClock, to_seoul
from jangteo.core.errors import InvalidInput
from jangteo.core.ids import uuid7
from jangteo.core.models import AuditEntry
from jangteo.core.pagination import Page
from jangteo.core.platform import Platform
from jangteo.orders import coupons
from jangteo.orders.coupon_schemas import CouponUpdate, MemberCouponView
from jangteo.orders.coupons import CouponLine, describe_discount, discount_for, eligible_amount

KNIT, DENIM, MUG = uuid7(), uuid7(), uuid7()
FASHION, KITCHEN = uuid7(), uuid7()
LINES = [
    CouponLine(product_id=KNIT, category_id=FASHION, unit_price=39000, quantity=2),
    CouponLine(product_id=DENIM, category_id=FASHION, unit_price=59000, quantity=1),
    CouponLine(product_id=MUG, category_id=KITCHEN, unit_price=12000, quantity=3),
]
SUBTOTAL = 39000 * 2 + 59000 + 12000 * 3  # 173,000


# -- the discount rules, without a database --------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "cap", "eligible", "expected"),
    [
        ("fixed", 3000, None, 10000, 3000),
        ("fixed", 3000, None, 2500, 2500),  # never more than what it applies to
        ("percent", 10, None, 12345, 1234),  # rounded down to the won
        ("percent", 15, 5000, 100000, 5000),  # capped
        ("percent", 15, 5000, 20000, 3000),  # under the cap
        ("percent", 100, None, 7777, 7777),
        ("percent", 1, None, 99, 0),
        ("fixed", 3000, None, 0, 0),
    ],
)
def test_discount_for(kind: str, value: int, cap: int | None, eligible: int, expected: int) -> None:
    assert discount_for(kind, value, cap, eligible) == expected


@given(
    kind=st.sampled_from(["fixed", "percent"]),
    value=st.integers(1, 10_000_000),
    cap=st.none() | st.integers(1, 10_000_000),
    eligible=st.integers(0, 10_000_000_000),
)
def test_a_discount_never_exceeds_what_it_applies_to(
    kind: str, value: int, cap: int | None, eligible: int
) -> None:
    value = min(value, 100) if kind == "percent" else value
    discount = discount_for(kind, value, cap, eligible)
    assert 0 <= discount <= eligible
    if kind == "percent" and cap is not None:
        assert discount <= cap
    if kind == "fixed":
        assert discount == min(value, eligible)


def test_eligible_amount_counts_target_lines_only() -> None:
    everything = eligible_amount(LINES, SUBTOTAL, product_ids=set(), category_ids=set())
    assert everything == SUBTOTAL
    knit = eligible_amount(LINES, SUBTOTAL, product_ids={str(KNIT)}, category_ids=set())
    assert knit == 78000
    fashion = eligible_amount(LINES, SUBTOTAL, product_ids=set(), category_ids={str(FASHION)})
    assert fashion == 78000 + 59000
    # a line that matches by product and by category counts once
    both = eligible_amount(
        LINES, SUBTOTAL, product_ids={str(KNIT), str(MUG)}, category_ids={str(FASHION)}
    )
    assert both == SUBTOTAL
    nothing = eligible_amount(LINES, SUBTOTAL, product_ids={str(uuid7())}, category_ids=set())
    assert nothing == 0
    uncategorised = [CouponLine(product_id=MUG, category_id=None, unit_price=100, quantity=1)]
    assert eligible_amount(uncategorised, 100, product_ids=set(), category_ids={"x"}) == 0


def test_describe_discount_in_english() -> None:
    assert describe_discount("fixed", 3000, None, "en") == "3,000 won off"
    assert describe_discount("percent", 10, None, "en") == "10% off"
    assert describe_discount("percent", 15, 50000, "en") == "15% off, up to 50,000 won"


# -- quoting with the service ------------------------------------------------------------------


async def quote(platform: Platform, member_id: uuid.UUID, **kwargs: Any) -> coupons.CouponQuote:
    values: dict[str, Any] = {
        "member_coupon_id": None,
        "code": None,
        "lines": LINES,
        "subtotal": SUBTOTAL,
    }
    values.update(kwargs)
    async with platform.db.read() as session:
        return await coupons.quote_coupon(session, platform.clock, member_id=member_id, **values)


async def test_quote_by_code_and_by_wallet_copy(platform: Platform) -> None:
    member = uuid7()
    coupon = await make_coupon(platform, kind="percent", value=10, max_discount=15000)

    by_code = await quote(platform, member, code=coupon.code.lower() + "  ")
    assert by_code.discount == 15000  # 10% of 173,000 capped at 15,000
    assert (by_code.coupon_id, by_code.member_coupon_id, by_code.code) == (
        coupon.id,
        None,
        coupon.code,
    )

    await claim_for(platform, member, coupon.code)
    by_code_held = await quote(platform, member, code=coupon.code)
    assert by_code_held.member_coupon_id is not None
    by_copy = await quote(platform, member, member_coupon_id=by_code_held.member_coupon_id)
    assert by_copy == by_code_held

    # another member's copy is as good as missing
    with pytest.raises(coupons.CouponNotFound):
        await quote(platform, uuid7(), member_coupon_id=by_code_held.member_coupon_id)
    for bad_code in ("NO-SUCH-CODE", "쿠폰", "'; DROP TABLE coupons;--", "<b>"):
        with pytest.raises(coupons.CouponNotFound):
            await quote(platform, member, code=bad_code)


async def test_quote_respects_the_window(platform: Platform, clock: FrozenClock) -> None:
    member = uuid7()
    now = clock.now()
    coupon = await make_coupon(
        platform, starts_at=now + timedelta(hours=2), ends_at=now + timedelta(days=1)
    )

    with pytest.raises(coupons.CouponNotStarted):
        await quote(platform, member, code=coupon.code)
    clock.advance(hours=2)
    assert (await quote(platform, member, code=coupon.code)).discount == 3000
    clock.advance(hours=22, seconds=-1)
    assert (await quote(platform, member, code=coupon.code)).discount == 3000
    clock.advance(seconds=1)
    with pytest.raises(coupons.CouponExpired):
        await quote(platform, member, code=coupon.code)


async def test_quote_minimum_order_and_targets(platform: Platform) -> None:
    member = uuid7()
    minimum = await make_coupon(platform, min_order_amount=SUBTOTAL + 1)
    with pytest.raises(coupons.CouponMinimumNotMet) as caught:
        await quote(platform, member, code=minimum.code)
    assert caught.value.extra == {"min_order_amount": SUBTOTAL + 1}
    exact = await make_coupon(platform, min_order_amount=SUBTOTAL)
    assert (await quote(platform, member, code=exact.code)).discount == 3000

    knit_only = await make_coupon(
        platform, kind="percent", value=50, target_product_ids=[KNIT]
    )  # half of the knits (78,000), nothing off the rest
    assert (await quote(platform, member, code=knit_only.code)).discount == 39000

    kitchen = await make_coupon(
        platform, kind="fixed", value=50000, target_category_ids=[KITCHEN]
    )  # a fixed coupon is capped by what it applies to: the mugs (36,000)
    assert (await quote(platform, member, code=kitchen.code)).discount == 36000

    elsewhere = await make_coupon(platform, target_product_ids=[uuid7()])
    with pytest.raises(coupons.CouponNotApplicable):
        await quote(platform, member, code=elsewhere.code)


async def test_quote_refuses_disabled_used_and_exhausted(platform: Platform) -> None:
    member = uuid7()
    coupon = await make_coupon(platform, total_limit=1)
    await claim_for(platform, uuid7(), coupon.code)  # someone else took the only copy
    with pytest.raises(coupons.CouponExhausted):
        await quote(platform, member, code=coupon.code)

    once = await make_coupon(platform)
    await claim_for(platform, member, once.code)
    async with platform.db.write() as session:
        await coupons.redeem_coupon(
            session,
            platform.clock,
            member_id=member,
            member_coupon_id=None,
            code=once.code,
            lines=LINES,
            subtotal=SUBTOTAL,
            order_id=uuid7(),
        )
    with pytest.raises(coupons.CouponAlreadyUsed):
        await quote(platform, member, code=once.code)

    async with platform.db.write() as session:
        await coupons.update_coupon(
            session, platform.clock, once.id, CouponUpdate(status="disabled")
        )
    with pytest.raises(coupons.CouponDisabled):
        await quote(platform, member, code=once.code)

    with pytest.raises(InvalidInput):  # neither a code nor a wallet copy
        await quote(platform, member)


# -- redeeming and releasing -------------------------------------------------------------------


async def redeem(
    platform: Platform, member_id: uuid.UUID, order_id: uuid.UUID, **kwargs: Any
) -> coupons.CouponQuote:
    values: dict[str, Any] = {"member_coupon_id": None, "code": None}
    values.update(kwargs)
    async with platform.db.write() as session:
        return await coupons.redeem_coupon(
            session,
            platform.clock,
            member_id=member_id,
            lines=LINES,
            subtotal=SUBTOTAL,
            order_id=order_id,
            **values,
        )


async def test_concurrent_redeems_of_one_copy_succeed_once(platform: Platform) -> None:
    member = uuid7()
    coupon = await make_coupon(platform)
    await claim_for(platform, member, coupon.code)
    held = (await quote(platform, member, code=coupon.code)).member_coupon_id
    orders = [uuid7() for _ in range(10)]

    async def attempt(order_id: uuid.UUID) -> str:
        try:
            await redeem(platform, member, order_id, member_coupon_id=held)
        except coupons.CouponAlreadyUsed:
            return "already-used"
        return "redeemed"

    outcomes = await asyncio.gather(*(attempt(o) for o in orders))

    assert sorted(outcomes) == ["already-used"] * 9 + ["redeemed"]
    winner = orders[outcomes.index("redeemed")]
    # release: back to available exactly once, even when two releases race
    releases = await asyncio.gather(*(release(platform, winner) for _ in range(5)))
    assert sorted(releases) == [False] * 4 + [True]
    assert await release(platform, winner) is False
    again = await redeem(platform, member, uuid7(), member_coupon_id=held)
    assert again.member_coupon_id == held


async def release(platform: Platform, order_id: uuid.UUID) -> bool:
    async with platform.db.write() as session:
        return await coupons.release_coupon(session, platform.clock, order_id=order_id)


async def test_redeem_by_code_claims_a_copy_and_counts_it(platform: Platform) -> None:
    member = uuid7()
    coupon = await make_coupon(platform, total_limit=5, per_member_limit=1)

    used = await redeem(platform, member, uuid7(), code=coupon.code)

    assert used.member_coupon_id is not None
    assert used.discount == 3000
    async with platform.db.read() as session:
        assert (await coupons.get_coupon(session, coupon.id)).issued_count == 1
        assert (await coupons.get_coupon(session, coupon.id)).used_count == 1
    with pytest.raises(coupons.CouponAlreadyUsed):
        await redeem(platform, member, uuid7(), code=coupon.code)
    async with platform.db.read() as session:
        assert (await coupons.get_coupon(session, coupon.id)).issued_count == 1


async def test_a_failed_redeem_leaves_nothing_behind(platform: Platform) -> None:
    member = uuid7()
    coupon = await make_coupon(platform, total_limit=3)
    order_id = uuid7()

    class PlacementFailed(Exception):
        pass

    # the placement transaction fails after the coupon was redeemed (e.g. out of stock)
    with pytest.raises(PlacementFailed):
        async with platform.db.write() as session:
            await coupons.redeem_coupon(
                session,
                platform.clock,
                member_id=member,
                member_coupon_id=None,
                code=coupon.code,
                lines=LINES,
                subtotal=SUBTOTAL,
                order_id=order_id,
            )
            raise PlacementFailed()

    async with platform.db.read() as session:
        view = await coupons.get_coupon(session, coupon.id)
    assert (view.issued_count, view.used_count) == (0, 0)
    assert await release(platform, order_id) is False


# -- the API: members -----------------------------------------------------------------------------


async def test_claim_then_see_it_in_my_coupons(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    member = await signup_member(client)
    coupon = await make_coupon(
        platform,
        name="신규가입 🎉 <b>쿠폰</b>",
        kind="percent",
        value=10,
        max_discount=5000,
        min_order_amount=20000,
        ends_at=clock.now() + timedelta(minutes=10),  # within the access token's life
    )

    claimed = await claim(client, member.headers, f"  {coupon.code.lower()} ")

    assert claimed.status_code == 201, claimed.text
    body = claimed.json()
    assert body["coupon_id"] == str(coupon.id)
    assert body["status"] == "available"
    assert body["name"] == "신규가입 🎉 <b>쿠폰</b>"
    mine = await client.get("/api/v1/coupons", headers=member.headers)
    assert mine.status_code == 200
    [item] = mine.json()["items"]
    assert mine.json()["next_cursor"] is None
    assert item["id"] == body["id"]
    assert item["min_order_amount"] == 20000
    assert item["discount_label"] == describe_discount("percent", 10, 5000, "ko")
    assert datetime.fromisoformat(item["ends_at"]) == coupon.ends_at
    english = await client.get(
        "/api/v1/coupons", headers={**member.headers, "Accept-Language": "en"}
    )
    assert english.json()["items"][0]["discount_label"] == "10% off, up to 5,000 won"

    again = await claim(client, member.headers, coupon.code)
    assert again.status_code == 409
    assert again.json()["code"] == "coupon-limit-reached"

    # once its window is over it moves from available to expired
    clock.set(coupon.ends_at)
    available = await client.get("/api/v1/coupons", headers=member.headers)
    assert available.json()["items"] == []
    expired = await client.get("/api/v1/coupons?status=expired", headers=member.headers)
    assert [i["id"] for i in expired.json()["items"]] == [body["id"]]
    assert expired.json()["items"][0]["status"] == "expired"


async def test_used_coupons_are_listed_as_used(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    coupon = await make_coupon(platform)
    held = (await claim(client, member.headers, coupon.code)).json()["id"]
    order_id = uuid7()
    await redeem(platform, uuid.UUID(member.id), order_id, member_coupon_id=uuid.UUID(held))

    used = await client.get("/api/v1/coupons?status=used", headers=member.headers)
    [item] = used.json()["items"]
    assert (item["id"], item["status"], item["order_id"]) == (held, "used", str(order_id))
    available = await client.get("/api/v1/coupons", headers=member.headers)
    assert available.json()["items"] == []

    assert await release(platform, order_id) is True
    available = await client.get("/api/v1/coupons", headers=member.headers)
    assert [i["id"] for i in available.json()["items"]] == [held]


async def test_my_coupons_paginate_without_gaps_or_repeats(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    other = await signup_member(client)
    held: set[str] = set()
    for _ in range(7):
        coupon = await make_coupon(platform, per_member_limit=2)
        for _ in range(2):
            response = await claim(client, member.headers, coupon.code)
            held.add(response.json()["id"])
        await claim(client, other.headers, coupon.code)

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 5} | ({"cursor": cursor} if cursor else {})
        page = await client.get("/api/v1/coupons", params=params, headers=member.headers)
        assert page.status_code == 200
        seen += [item["id"] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break

    assert len(seen) == len(set(seen)) == 14
    assert set(seen) == held  # and none of the other member's


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("limit=0", 422, "validation-error"),
        ("limit=101", 422, "validation-error"),
        ("limit=abc", 422, "validation-error"),
        ("status=revoked", 422, "validation-error"),
        ("cursor=not-a-cursor!", 400, "invalid-cursor"),
        ("cursor=e30", 400, "invalid-cursor"),  # {} encoded
    ],
)
async def test_my_coupons_bad_query(
    client: httpx.AsyncClient, query: str, status: int, code: str
) -> None:
    member = await signup_member(client)
    response = await client.get(f"/api/v1/coupons?{query}", headers=member.headers)
    assert response.status_code == status
    assert response.json()["code"] == code


@pytest.mark.parametrize(
    "body",
    [
        {"code": 123},
        {"code": ""},
        {"code": "ab"},
        {"code": "쿠폰코드입니다"},
        {"code": "WELCOME 🎉"},
        {"code": "<script>alert(1)</script>"},
        {"code": "'; DROP TABLE coupons;--"},
        {"code": "X" * 61},
        {},
        {"code": "WELCOME", "extra": 1},
        [],
    ],
)
async def test_claim_bad_input_is_422(client: httpx.AsyncClient, body: Any) -> None:
    member = await signup_member(client)
    response = await client.post("/api/v1/coupons/claim", json=body, headers=member.headers)
    assert response.status_code == 422
    assert response.json()["code"] == "validation-error"


async def test_claim_unknown_malformed_and_anonymous(client: httpx.AsyncClient) -> None:
    member = await signup_member(client)
    unknown = await claim(client, member.headers, "NO-SUCH-COUPON")
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "coupon-not-found"
    malformed = await client.post(
        "/api/v1/coupons/claim",
        content=b'{"code": "WELCOME"',
        headers={**member.headers, "Content-Type": "application/json"},
    )
    assert malformed.status_code == 400
    assert malformed.json()["code"] == "malformed-json"
    anonymous = await client.post("/api/v1/coupons/claim", json={"code": "WELCOME"})
    assert anonymous.status_code == 401
    assert (await client.get("/api/v1/coupons")).status_code == 401


async def test_guessing_codes_is_rate_limited(client: httpx.AsyncClient) -> None:
    member = await signup_member(client)
    for n in range(20):
        response = await claim(client, member.headers, f"GUESS-{n:04d}")
        assert response.status_code == 404
    blocked = await claim(client, member.headers, "GUESS-9999")
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "rate-limited"
    assert int(blocked.headers["retry-after"]) >= 1


async def test_claim_refuses_disabled_expired_and_accepts_announced(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    member = await signup_member(client)
    now = clock.now()
    announced = await make_coupon(
        platform, starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=2)
    )
    ended = await make_coupon(
        platform, starts_at=now - timedelta(days=2), ends_at=now - timedelta(seconds=1)
    )

    assert (await claim(client, member.headers, announced.code)).status_code == 201
    response = await claim(client, member.headers, ended.code)
    assert (response.status_code, response.json()["code"]) == (409, "coupon-expired")


async def test_claim_with_an_idempotency_key_happens_once(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    coupon = await make_coupon(platform, per_member_limit=5)

    first = await claim(client, member.headers, coupon.code, **{"Idempotency-Key": "claim-1"})
    second = await claim(client, member.headers, coupon.code, **{"Idempotency-Key": "claim-1"})

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    async with platform.db.read() as session:
        assert (await coupons.get_coupon(session, coupon.id)).issued_count == 1


async def test_fifty_members_race_for_ten_coupons(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    coupon = await make_coupon(platform, total_limit=10, per_member_limit=1)
    members = [await signup_member(client) for _ in range(50)]

    responses = await asyncio.gather(*(claim(client, m.headers, coupon.code) for m in members))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 10 + [409] * 40
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"coupon-exhausted"}
    async with platform.db.read() as session:
        view = await coupons.get_coupon(session, coupon.id)
    assert view.issued_count == 10
    holders = 0
    for member in members:
        mine = await client.get("/api/v1/coupons", headers=member.headers)
        holders += len(mine.json()["items"])
    assert holders == 10


async def test_one_member_claiming_ten_times_at_once_gets_one(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    coupon = await make_coupon(platform, total_limit=100, per_member_limit=1)
    member = await signup_member(client)

    responses = await asyncio.gather(
        *(claim(client, member.headers, coupon.code) for _ in range(10))
    )

    assert sorted(r.status_code for r in responses) == [201] + [409] * 9
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"coupon-limit-reached"}
    mine = await client.get("/api/v1/coupons", headers=member.headers)
    assert len(mine.json()["items"]) == 1
    async with platform.db.read() as session:
        assert (await coupons.get_coupon(session, coupon.id)).issued_count == 1


# -- the API: staff -----------------------------------------------------------------------------


def coupon_body(clock: FrozenClock, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": unique_code("STAFF").lower(),
        "name": "가을 세일 10%",
        "kind": "percent",
        "value": 10,
        "max_discount": 10000,
        "min_order_amount": 30000,
        "starts_at": (clock.now() - timedelta(hours=1)).isoformat(),
        "ends_at": (clock.now() + timedelta(days=3)).isoformat(),
        "per_member_limit": 1,
        "total_limit": 100,
    }
    body.update(overrides)
    return body


async def test_staff_create_read_update_and_audit(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    staff = await make_staff(platform, client)
    seoul_start = to_seoul(clock.now() - timedelta(hours=1))  # 11:00+09:00
    body = coupon_body(clock, target_product_ids=[str(KNIT)], starts_at=seoul_start.isoformat())

    created = await client.post("/api/v1/admin/coupons", json=body, headers=staff.headers)

    assert created.status_code == 201, created.text
    coupon = created.json()
    assert coupon["code"] == body["code"].upper()
    assert (coupon["issued_count"], coupon["used_count"], coupon["status"]) == (0, 0, "active")
    assert coupon["target_product_ids"] == [str(KNIT)]
    assert datetime.fromisoformat(coupon["starts_at"]) == seoul_start
    assert coupon["starts_at"].endswith("Z")  # stored and answered in UTC
    fetched = await client.get(f"/api/v1/admin/coupons/{coupon['id']}", headers=staff.headers)
    assert fetched.json() == coupon
    duplicate = await client.post(
        "/api/v1/admin/coupons", json=coupon_body(clock, code=body["code"]), headers=staff.headers
    )
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "coupon-code-taken")

    member = await signup_member(client)
    disabled = await client.patch(
        f"/api/v1/admin/coupons/{coupon['id']}", json={"status": "disabled"}, headers=staff.headers
    )
    assert disabled.json()["status"] == "disabled"
    refused = await claim(client, member.headers, coupon["code"])
    assert (refused.status_code, refused.json()["code"]) == (409, "coupon-disabled")

    later = to_seoul(clock.now() + timedelta(days=30)).isoformat()
    enabled = await client.patch(
        f"/api/v1/admin/coupons/{coupon['id']}",
        json={"status": "active", "ends_at": later},
        headers=staff.headers,
    )
    assert enabled.status_code == 200
    assert enabled.json()["status"] == "active"
    assert datetime.fromisoformat(enabled.json()["ends_at"]) == datetime.fromisoformat(later)
    assert (
        enabled.json()
        == (await client.get(f"/api/v1/admin/coupons/{coupon['id']}", headers=staff.headers)).json()
    )
    assert (await claim(client, member.headers, coupon["code"])).status_code == 201

    listed = await client.get("/api/v1/admin/coupons", headers=staff.headers)
    [row] = [c for c in listed.json()["items"] if c["id"] == coupon["id"]]
    assert row["issued_count"] == 1

    async with platform.db.read() as session:
        actions = (
            await session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.target_id == coupon["id"])
                .order_by(AuditEntry.id)
            )
        ).all()
    assert list(actions) == ["coupon.create", "coupon.update", "coupon.update"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"kind": "percent", "value": 101},
        {"kind": "percent", "value": 0},
        {"kind": "fixed", "value": 0, "max_discount": None},
        {"kind": "fixed", "value": -3000, "max_discount": None},
        {"kind": "fixed", "value": 2**63, "max_discount": None},
        {"kind": "fixed", "value": 1000},  # a cap on a fixed coupon makes no sense
        {"kind": "bogus"},
        {"value": "ten"},
        {"ends_at": "2026-11-24T02:00:00+00:00"},  # before it starts
        {"starts_at": "2026-11-24T02:00:00"},  # no time zone
        {"per_member_limit": 0},
        {"total_limit": 0},
        {"total_limit": -1},
        {"code": "ab"},
        {"code": "쿠폰쿠폰"},
        {"code": "HELLO WORLD"},
        {"code": "<b>HTML</b>"},
        {"name": ""},
        {"name": "   "},
        {"name": "가" * 101},
        {"min_order_amount": -1},
        {"target_product_ids": ["not-a-uuid"]},
        {"unknown_field": True},
    ],
)
async def test_staff_create_rejects_bad_coupons(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock, overrides: dict[str, Any]
) -> None:
    staff = await make_staff(platform, client)
    response = await client.post(
        "/api/v1/admin/coupons", json=coupon_body(clock, **overrides), headers=staff.headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation-error"
    listed = await client.get("/api/v1/admin/coupons", headers=staff.headers)
    assert listed.json()["items"] == []


async def test_staff_update_rejects_bad_changes(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    staff = await make_staff(platform, client)
    coupon = await make_coupon(platform)
    url = f"/api/v1/admin/coupons/{coupon.id}"

    inverted = await client.patch(
        url,
        json={"ends_at": (coupon.starts_at - timedelta(hours=1)).isoformat()},
        headers=staff.headers,
    )
    assert (inverted.status_code, inverted.json()["code"]) == (422, "invalid-input")
    for body in ({}, {"status": "deleted"}, {"status": None}, {"issued_count": 0}):
        response = await client.patch(url, json=body, headers=staff.headers)
        assert response.status_code == 422, body
    missing = await client.patch(
        f"/api/v1/admin/coupons/{uuid7()}", json={"status": "disabled"}, headers=staff.headers
    )
    assert (missing.status_code, missing.json()["code"]) == (404, "coupon-not-found")
    not_uuid = await client.get("/api/v1/admin/coupons/123", headers=staff.headers)
    assert not_uuid.status_code == 422
    unchanged = await client.get(url, headers=staff.headers)
    assert datetime.fromisoformat(unchanged.json()["ends_at"]) == coupon.ends_at


async def test_staff_issue_respects_the_limits(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    members = [await signup_member(client) for _ in range(3)]
    coupon = await make_coupon(platform, code=None, total_limit=2, per_member_limit=1)
    url = f"/api/v1/admin/coupons/{coupon.id}/issue"
    ids = [m.id for m in members]

    nobody = str(uuid7())
    first = await client.post(
        url, json={"member_ids": [nobody, *ids, ids[0]]}, headers=staff.headers
    )

    assert first.status_code == 200, first.text
    # duplicates count once, nobody gets nothing, the total limit stops the third member
    assert first.json() == {"requested": 4, "issued": 2}
    second = await client.post(url, json={"member_ids": ids}, headers=staff.headers)
    assert second.json() == {"requested": 3, "issued": 0}
    async with platform.db.read() as session:
        assert await coupons.list_member_coupons(
            session, uuid.UUID(nobody), clock=platform.clock
        ) == Page[MemberCouponView](items=[])
    holders = [
        len((await client.get("/api/v1/coupons", headers=m.headers)).json()["items"])
        for m in members
    ]
    assert holders == [1, 1, 0]
    view = (await client.get(f"/api/v1/admin/coupons/{coupon.id}", headers=staff.headers)).json()
    assert view["issued_count"] == 2


async def test_staff_issue_with_an_idempotency_key_happens_once(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    member = await signup_member(client)
    coupon = await make_coupon(platform, per_member_limit=5)
    url = f"/api/v1/admin/coupons/{coupon.id}/issue"
    headers = {**staff.headers, "Idempotency-Key": "issue-1"}

    first = await client.post(url, json={"member_ids": [member.id]}, headers=headers)
    again = await client.post(url, json={"member_ids": [member.id]}, headers=headers)
    other = await client.post(url, json={"member_ids": [str(uuid7())]}, headers=headers)

    assert first.json() == again.json() == {"requested": 1, "issued": 1}
    assert (other.status_code, other.json()["code"]) == (422, "idempotency-key-reused")
    mine = await client.get("/api/v1/coupons", headers=member.headers)
    assert len(mine.json()["items"]) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"member_ids": []},
        {"member_ids": ["not-a-uuid"]},
        {"member_ids": [str(uuid.uuid4()) for _ in range(1001)]},
        {"member_ids": "everyone"},
        {},
    ],
)
async def test_staff_issue_bad_input(
    client: httpx.AsyncClient, platform: Platform, body: dict[str, Any]
) -> None:
    staff = await make_staff(platform, client)
    coupon = await make_coupon(platform)
    response = await client.post(
        f"/api/v1/admin/coupons/{coupon.id}/issue", json=body, headers=staff.headers
    )
    assert response.status_code == 422


async def test_staff_issue_of_unknown_or_expired_coupon(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    staff = await make_staff(platform, client)
    member = await signup_member(client)
    body = {"member_ids": [member.id]}
    unknown = await client.post(
        f"/api/v1/admin/coupons/{uuid7()}/issue", json=body, headers=staff.headers
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "coupon-not-found")
    coupon = await make_coupon(platform, ends_at=clock.now() + timedelta(minutes=5))
    clock.set(coupon.ends_at)
    expired = await client.post(
        f"/api/v1/admin/coupons/{coupon.id}/issue", json=body, headers=staff.headers
    )
    assert (expired.status_code, expired.json()["code"]) == (409, "coupon-expired")


async def test_staff_endpoints_need_staff_with_mfa(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    member = await signup_member(client)
    no_mfa = await make_staff(platform, client, mfa=False)
    coupon = await make_coupon(platform)
    calls = [
        ("POST", "/api/v1/admin/coupons", coupon_body(clock)),
        ("GET", "/api/v1/admin/coupons", None),
        ("GET", f"/api/v1/admin/coupons/{coupon.id}", None),
        ("PATCH", f"/api/v1/admin/coupons/{coupon.id}", {"status": "disabled"}),
        ("POST", f"/api/v1/admin/coupons/{coupon.id}/issue", {"member_ids": [member.id]}),
    ]
    for method, url, body in calls:
        anonymous = await client.request(method, url, json=body)
        assert anonymous.status_code == 401, url
        forbidden = await client.request(method, url, json=body, headers=member.headers)
        assert (forbidden.status_code, forbidden.json()["code"]) == (403, "forbidden"), url
        needs_mfa = await client.request(method, url, json=body, headers=no_mfa.headers)
        assert (needs_mfa.status_code, needs_mfa.json()["code"]) == (403, "mfa-required"), url
    async with platform.db.read() as session:
        view = await coupons.get_coupon(session, coupon.id)
    assert (view.status, view.issued_count) == ("active", 0)
