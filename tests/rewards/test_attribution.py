"""Share links and the 24-hour reward: a sale within the window after a member's link or content
is credited to them (last touch wins, never one's own), pending until delivered and past the
return window, taken back when the order is cancelled or refunded."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tests.factories.accounts import Member, make_staff, signup_member
from tests.factories.catalog import ProductRef, make_product
from tests.factories.orders import deliver_order, log_in_again, pay_order, place_order
from tests.factories.rewards import credited_to, earnings_of, settle

from jangteo.core.clock import FrozenClock
from jangteo.core.platform import Platform
from jangteo.rewards.models import ShareVisit

PRICE = 39_000


async def _share(
    client: httpx.AsyncClient, member: Member, target_type: str, target_id: str, **extra: Any
) -> httpx.Response:
    return await client.post(
        "/api/v1/share-links",
        json={"target_type": target_type, "target_id": target_id, **extra},
        headers=member.headers,
    )


async def _visit(
    client: httpx.AsyncClient,
    platform: Platform,
    code: str,
    visitor: str | None = None,
    **query: str,
) -> httpx.Response:
    """Follow a share link as a browser (with its own visitor cookie, not the test client's)."""
    client.cookies.clear()
    headers = {"Referer": "https://open.kakao.com/o/abc"}
    if visitor:
        headers["Cookie"] = f"jt_vid={visitor}"
    response = await client.get(f"/s/{code}", params=query, headers=headers)
    client.cookies.clear()
    await platform.intake.drain()
    return response


async def _buy(
    client: httpx.AsyncClient, platform: Platform, buyer: Member, product: ProductRef
) -> dict[str, Any]:
    order = await place_order(client, buyer, product.variant_ids[0])
    paid = await pay_order(client, buyer, order)
    await settle(platform)
    return paid


async def _visitor_of(client: httpx.AsyncClient, platform: Platform, code: str) -> str:
    first = await _visit(client, platform, code)
    assert first.status_code == 302
    cookie = first.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    return cookie.split(";")[0].split("=", 1)[1]


@pytest.mark.parametrize(("minutes", "rewarded"), [(23 * 60 + 59, True), (24 * 60 + 1, False)])
async def test_a_sale_within_24_hours_of_a_share_link_visit_rewards_the_sharer(
    client: httpx.AsyncClient,
    platform: Platform,
    clock: FrozenClock,
    minutes: int,
    rewarded: bool,
) -> None:
    product = await make_product(platform, price=PRICE)
    sharer, buyer = await signup_member(client), await signup_member(client)
    made = await _share(client, sharer, "product", product.product_id, channel="kakaotalk")
    assert made.status_code == 201, made.text
    code = made.json()["code"]
    assert made.json()["url"].endswith(f"/s/{code}")
    again = await _share(client, sharer, "product", product.product_id, channel="kakaotalk")
    assert (again.status_code, again.json()["code"]) == (200, code)

    visit = await _visit(client, platform, code, utm_source="kakao", utm_campaign="winter")
    assert visit.status_code == 302
    assert visit.headers["location"] == f"/p/{product.product_id}"
    visitor = visit.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    linked = await client.put(f"/api/v1/me/visitors/{visitor}", headers=buyer.headers)
    assert linked.status_code == 204
    async with platform.db.read() as session:
        stored = (await session.scalars(select(ShareVisit))).all()
    assert [(v.channel, v.utm_source, v.utm_campaign, v.visitor_id) for v in stored] == [
        ("kakaotalk", "kakao", "winter", visitor)
    ]
    assert stored[0].referrer == "https://open.kakao.com/o/abc"

    clock.advance(minutes=minutes)
    await log_in_again(client, buyer)
    order = await _buy(client, platform, buyer, product)
    await log_in_again(client, sharer)
    if not rewarded:
        assert await credited_to(client, sharer) == []
        assert (await earnings_of(client, sharer))["pending"] == 0
        return
    reward = PRICE * 300 // 10_000
    credited = await credited_to(client, sharer)
    assert [(c["order_number"], c["amount"], c["status"], c["source_type"]) for c in credited] == [
        (order["number"], reward, "pending", "share_link")
    ]
    assert credited[0]["product_name"] == "캐시미어 블렌드 니트"
    assert "buyer_id" not in credited[0]
    assert (await earnings_of(client, sharer))["pending"] == reward

    staff = await make_staff(platform, client)
    await deliver_order(client, staff, order)
    await settle(platform)
    clock.advance(days=6, hours=23)
    await settle(platform)
    await log_in_again(client, sharer)
    assert (await earnings_of(client, sharer))["available"] == 0  # the return window is open
    clock.advance(hours=2)
    await settle(platform)
    await log_in_again(client, sharer)
    money = await earnings_of(client, sharer)
    assert (money["pending"], money["available"]) == (0, reward)
    assert sum(day["amount"] for day in money["daily"]) == reward
    assert len(money["daily"]) == 30
    assert (await credited_to(client, sharer))[0]["status"] == "available"


async def test_the_last_touch_wins_and_ones_own_content_earns_nothing(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    product = await make_product(platform, price=PRICE)
    sharer, stylist, buyer = [await signup_member(client) for _ in range(3)]
    code = (await _share(client, sharer, "product", product.product_id)).json()["code"]
    visitor = await _visitor_of(client, platform, code)
    await client.put(f"/api/v1/me/visitors/{visitor}", headers=buyer.headers)

    image = await client.post(
        "/api/v1/community/images",
        files={"file": ("a.png", _png(), "image/png")},
        headers=stylist.headers,
    )
    snap = await client.post(
        "/api/v1/snaps",
        json={
            "body": "겨울 니트 코디",
            "images": [image.json()["token"]],
            "tags": [{"image": 0, "product_id": product.product_id, "x": 0.4, "y": 0.6}],
        },
        headers=stylist.headers,
    )
    assert snap.status_code == 201, snap.text
    post_id = snap.json()["post"]["id"]
    clock.advance(hours=1)
    await log_in_again(client, buyer)
    await log_in_again(client, stylist)
    touched = await client.post(f"/api/v1/posts/{post_id}/touch", headers=buyer.headers)
    assert touched.json() == {"touches": 1}
    own = await client.post(f"/api/v1/posts/{post_id}/touch", headers=stylist.headers)
    assert own.json() == {"touches": 0}  # the author looking at their own snap

    clock.advance(hours=1)
    await log_in_again(client, buyer)
    await _buy(client, platform, buyer, product)
    for member in (sharer, stylist):
        await log_in_again(client, member)
    assert await credited_to(client, sharer) == []
    credited = await credited_to(client, stylist)
    assert [(c["source_type"], c["source_id"]) for c in credited] == [("post", post_id)]

    # the stylist buys after their own link: nobody is credited, not even the earlier sharer
    own_code = (await _share(client, stylist, "product", product.product_id)).json()["code"]
    await _visit(client, platform, code, visitor="stylistbrowser01")
    await client.put("/api/v1/me/visitors/stylistbrowser01", headers=stylist.headers)
    clock.advance(minutes=5)
    await _visit(client, platform, own_code, visitor="stylistbrowser01")
    await log_in_again(client, stylist)
    await _buy(client, platform, stylist, product)
    await log_in_again(client, sharer)
    assert await credited_to(client, sharer) == []
    assert len(await credited_to(client, stylist)) == 1


async def test_cancelled_and_refunded_orders_take_the_reward_back(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    product = await make_product(platform, price=PRICE, stock=20)
    sharer, buyer = await signup_member(client), await signup_member(client)
    code = (await _share(client, sharer, "product", product.product_id)).json()["code"]
    visitor = await _visitor_of(client, platform, code)
    await client.put(f"/api/v1/me/visitors/{visitor}", headers=buyer.headers)
    reward = PRICE * 300 // 10_000

    # cancelled before payment: credited, never earned
    unpaid = await place_order(client, buyer, product.variant_ids[0])
    await client.post(
        f"/api/v1/orders/{unpaid['id']}/cancel", json={"reason": "변심"}, headers=buyer.headers
    )
    # cancelled after payment: pending, then gone
    paid = await _buy(client, platform, buyer, product)
    assert (await earnings_of(client, sharer))["pending"] == reward
    cancelled = await client.post(
        f"/api/v1/orders/{paid['id']}/cancel", json={"reason": "변심"}, headers=buyer.headers
    )
    assert cancelled.status_code == 200, cancelled.text
    await settle(platform)
    assert (await earnings_of(client, sharer))["pending"] == 0
    statuses = sorted(c["status"] for c in await credited_to(client, sharer))
    assert statuses == ["cancelled", "cancelled"]

    # refunded after the reward became available: taken back
    kept = await _buy(client, platform, buyer, product)
    staff = await make_staff(platform, client)
    await deliver_order(client, staff, kept)
    await settle(platform)
    clock.advance(days=8)
    await settle(platform)
    for member in (sharer, buyer):
        await log_in_again(client, member)
    assert (await earnings_of(client, sharer))["available"] == reward
    staff = await make_staff(platform, client)
    refund = await client.post(
        f"/api/v1/admin/orders/{kept['id']}/refund",
        json={"reason": "반품"},
        headers=staff.headers,
    )
    assert refund.status_code == 200, refund.text
    await settle(platform)
    await settle(platform)  # a repeated event changes nothing
    money = await earnings_of(client, sharer)
    assert (money["pending"], money["available"], money["owed"]) == (0, 0, 0)
    assert (await credited_to(client, sharer))[0]["status"] == "reversed"


async def test_reward_rules_rates_and_caps_are_set_by_staff(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    expensive = await make_product(
        platform, name="다운 패딩", price=2_000_000, category_name="아우터"
    )
    sharer, buyer = await signup_member(client), await signup_member(client)
    assert (await client.get("/api/v1/rewards/rules")).json() == {
        "window_minutes": 1440,
        "default_rate_bp": 300,
        "cap_per_order": 30_000,
        "return_window_days": 7,
    }
    refused = await client.patch(
        "/api/v1/admin/rewards/rules", json={"cap_per_order": 1}, headers=sharer.headers
    )
    assert refused.status_code == 403
    for bad in ({"default_rate_bp": 600}, {"default_rate_bp": 50}, {}, {"other": 1}):
        response = await client.patch(
            "/api/v1/admin/rewards/rules", json=bad, headers=staff.headers
        )
        assert response.status_code == 422, bad
    rate = await client.put(
        f"/api/v1/admin/rewards/category-rates/{expensive.category_id}",
        json={"rate_bp": 500},
        headers=staff.headers,
    )
    assert rate.status_code == 200
    too_high = await client.put(
        f"/api/v1/admin/rewards/category-rates/{expensive.category_id}",
        json={"rate_bp": 501},
        headers=staff.headers,
    )
    assert too_high.status_code == 422
    changed = await client.patch(
        "/api/v1/admin/rewards/rules", json={"cap_per_order": 50_000}, headers=staff.headers
    )
    assert changed.json()["cap_per_order"] == 50_000

    code = (await _share(client, sharer, "product", expensive.product_id)).json()["code"]
    visitor = await _visitor_of(client, platform, code)
    await client.put(f"/api/v1/me/visitors/{visitor}", headers=buyer.headers)
    await _buy(client, platform, buyer, expensive)
    credited = await credited_to(client, sharer)
    # 5 % of 2,000,000 is 100,000: the cap per order holds it at 50,000
    assert [(c["rate_bp"], c["amount"]) for c in credited] == [(500, 50_000)]
    audit = await client.get(
        "/api/v1/admin/audit", params={"action": "rewards.category_rate.set"}, headers=staff.headers
    )
    assert audit.json()["items"][0]["after"] == {"rate_bp": 500}


async def test_share_links_refuse_what_cannot_be_shared(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    missing = str(uuid.uuid4())
    for target_type in ("product", "post", "profile"):
        response = await _share(client, member, target_type, missing)
        assert response.status_code == 404, target_type
    assert (await _share(client, member, "product", missing, channel="fax")).status_code == 422
    assert (await _share(client, member, "order", missing)).status_code == 422
    anonymous = await client.post(
        "/api/v1/share-links", json={"target_type": "profile", "target_id": member.id}
    )
    assert anonymous.status_code == 401
    profile = await _share(client, member, "profile", member.id, channel="instagram")
    assert profile.status_code == 201
    followed = await _visit(client, platform, profile.json()["code"], visitor="knownbrowser01")
    assert followed.headers["location"] == f"/community/u/{member.id}"
    assert "set-cookie" not in followed.headers  # the browser already has its id
    assert (await client.get("/s/nothing1")).status_code == 404
    mine = await client.get("/api/v1/me/share-links", headers=member.headers)
    assert [(i["channel"], i["visit_count"]) for i in mine.json()["items"]] == [("instagram", 1)]
    touch = await client.post(f"/api/v1/posts/{missing}/touch")
    assert touch.status_code == 422  # neither a member nor a browser id


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 120, 90)).save(buffer, format="PNG")
    return buffer.getvalue()
