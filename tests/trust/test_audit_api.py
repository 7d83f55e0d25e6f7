"""The audit log API: staff only, filters by actor/action/target, keyset pagination."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from tests.factories.accounts import Member, grant_points, make_staff, signup_member
from tests.factories.catalog import make_product
from tests.factories.orders import pay_order, place_order

from jangteo.core.clock import FrozenClock
from jangteo.core.platform import Platform


async def _audit(client: httpx.AsyncClient, staff: Member, **params: Any) -> httpx.Response:
    return await client.get("/api/v1/admin/audit", params=params, headers=staff.headers)


async def _all_pages(client: httpx.AsyncClient, staff: Member, **params: Any) -> list[dict]:
    items: list[dict] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await _audit(client, staff, **query)
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if not cursor:
            return items


async def _staff_actions(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> tuple[Member, Member, Member]:
    """Two staff members acting on one member: points, a suspension, a brand, an order."""
    alice = await make_staff(platform, client)
    bob = await make_staff(platform, client)
    member = await signup_member(client)
    await grant_points(platform, member.id, 1000)
    clock.advance(seconds=1)
    adjusted = await client.post(
        f"/api/v1/admin/members/{member.id}/points",
        json={"amount": -300, "reason": "중복 적립 회수"},
        headers=alice.headers,
    )
    assert adjusted.status_code == 200, adjusted.text
    clock.advance(seconds=1)
    brand = await client.post(
        "/api/v1/admin/brands", json={"name": "<b>감사</b> 브랜드"}, headers=bob.headers
    )
    assert brand.status_code == 201, brand.text
    clock.advance(seconds=1)
    product = await make_product(platform, name="감사 로그 니트", price=20000)
    order = await pay_order(
        client, member, await place_order(client, member, product.variant_ids[0])
    )
    shipped = await client.post(
        f"/api/v1/admin/orders/{order['id']}/transitions",
        json={"to": "preparing"},
        headers=alice.headers,
    )
    assert shipped.status_code == 200, shipped.text
    clock.advance(seconds=1)
    suspended = await client.post(
        f"/api/v1/admin/members/{member.id}/suspend",
        json={"reason": "스팸"},
        headers=bob.headers,
    )
    assert suspended.status_code == 200, suspended.text
    return alice, bob, member


async def test_entries_show_who_did_what_to_which_object_with_before_and_after(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    alice, bob, member = await _staff_actions(client, platform, clock)

    response = await _audit(client, alice, target_type="member", target_id=member.id)

    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [e["action"] for e in items] == ["member.suspended", "points.adjusted"]
    suspension, points = items
    assert suspension["actor"] == {"id": bob.id, "nickname": bob.nickname, "email": bob.email}
    assert suspension["before"] == {"status": "active"}
    assert suspension["after"] == {"status": "suspended", "reason": "스팸"}
    assert points["actor_id"] == alice.id
    assert points["before"] == {"balance": 1000}
    assert points["after"]["balance"] == 700 and points["after"]["amount"] == -300
    assert points["created_at"] < suspension["created_at"]


async def test_filters_by_actor_action_and_action_prefix(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    alice, bob, _ = await _staff_actions(client, platform, clock)

    by_bob = (await _audit(client, alice, actor_id=bob.id)).json()["items"]
    assert {e["action"] for e in by_bob} == {
        "member.suspended",
        "catalog.brand.create",
        "member.mfa_enabled",
    }
    assert all(e["actor_id"] == bob.id for e in by_bob)

    exact = (await _audit(client, alice, action="order.preparing")).json()["items"]
    assert len(exact) == 1 and exact[0]["after"]["status"] == "preparing"
    assert exact[0]["before"] == {"status": "paid"}

    catalog = (await _audit(client, alice, action="catalog.")).json()["items"]
    assert {e["action"] for e in catalog} >= {"catalog.brand.create", "catalog.product.create"}
    assert all(e["action"].startswith("catalog.") for e in catalog)
    brand = next(e for e in by_bob if e["action"] == "catalog.brand.create")
    assert brand["after"]["name"] == "<b>감사</b> 브랜드"

    nothing = await _audit(client, alice, action="'; DROP TABLE audit_log; --")
    assert nothing.status_code == 200 and nothing.json()["items"] == []
    actions = await client.get("/api/v1/admin/audit/actions", headers=alice.headers)
    assert {"points.adjusted", "member.suspended", "order.preparing"} <= set(
        actions.json()["items"]
    )


async def test_pages_walk_every_entry_once_newest_or_oldest_first(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    alice, _, _ = await _staff_actions(client, platform, clock)
    everything = (await _audit(client, alice, limit=100)).json()["items"]
    assert len(everything) >= 8

    newest = await _all_pages(client, alice, limit=3)
    oldest = await _all_pages(client, alice, limit=3, sort="oldest")

    assert [e["id"] for e in newest] == [e["id"] for e in everything]
    assert [e["id"] for e in oldest] == [e["id"] for e in reversed(everything)]
    times = [e["created_at"] for e in newest]
    assert times == sorted(times, reverse=True)


async def test_only_staff_with_two_factor_authentication_read_the_log(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    no_mfa = await make_staff(platform, client, mfa=False)
    staff = await make_staff(platform, client)

    assert (await client.get("/api/v1/admin/audit")).status_code == 401
    as_member = await _audit(client, member)
    assert as_member.status_code == 403 and as_member.json()["code"] == "forbidden"
    without_mfa = await _audit(client, no_mfa)
    assert without_mfa.status_code == 403 and without_mfa.json()["code"] == "mfa-required"
    for bad in ({"limit": 0}, {"limit": 101}, {"actor_id": "not-a-uuid"}, {"sort": "up"}):
        assert (await _audit(client, staff, **bad)).status_code == 422, bad
    broken = await _audit(client, staff, cursor="not-a-cursor!")
    assert broken.status_code == 400 and broken.json()["code"] == "invalid-cursor"
    unknown = await _audit(client, staff, actor_id=str(uuid.uuid4()))
    assert unknown.status_code == 200 and unknown.json()["items"] == []


async def test_every_staff_action_of_the_console_leaves_an_entry_by_its_actor(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    admin = await make_staff(platform, client, roles=("admin",))
    member = await signup_member(client)
    product = await make_product(platform, name="감사 대상 니트", price=10000, stock=5)
    variant = product.variant_ids[0]
    staff_calls: list[tuple[str, str, dict[str, Any] | None]] = [
        (
            "POST",
            f"/api/v1/admin/variants/{variant}/stock-adjustments",
            {"delta": 3, "reason": "입고"},
        ),
        ("PATCH", f"/api/v1/admin/products/{product.product_id}", {"name": "감사 니트"}),
        ("POST", "/api/v1/admin/brands", {"name": "감사용 브랜드"}),
        ("POST", "/api/v1/admin/categories", {"name": "감사용 카테고리"}),
        ("PUT", f"/api/v1/admin/members/{member.id}/roles", {"roles": ["creator"]}),
        ("POST", f"/api/v1/admin/members/{member.id}/points", {"amount": 100, "reason": "보상"}),
    ]
    for method, url, body in staff_calls:
        response = await client.request(method, url, json=body, headers=admin.headers)
        assert response.status_code < 300, (url, response.text)
    coupon = await client.post(
        "/api/v1/admin/coupons",
        json={
            "name": "감사 쿠폰",
            "kind": "fixed",
            "value": 1000,
            "starts_at": "2026-11-24T00:00:00+09:00",
            "ends_at": "2026-12-24T00:00:00+09:00",
        },
        headers=admin.headers,
    )
    coupon_id = coupon.json()["id"]
    issued = await client.post(
        f"/api/v1/admin/coupons/{coupon_id}/issue",
        json={"member_ids": [member.id]},
        headers=admin.headers,
    )
    disabled = await client.patch(
        f"/api/v1/admin/coupons/{coupon_id}", json={"status": "disabled"}, headers=admin.headers
    )
    assert issued.status_code == 200 and disabled.status_code == 200
    order = await pay_order(client, member, await place_order(client, member, variant))
    refunded = await client.post(
        f"/api/v1/admin/orders/{order['id']}/refund",
        json={"reason": "재고 오류"},
        headers=admin.headers,
    )
    assert refunded.status_code == 200, refunded.text

    mine = await _all_pages(client, admin, actor_id=admin.id, limit=100)

    assert {e["action"] for e in mine} >= {
        "catalog.stock.adjust",
        "catalog.product.update",
        "catalog.brand.create",
        "catalog.category.create",
        "member.roles_changed",
        "points.adjusted",
        "coupon.create",
        "coupon.issue",
        "coupon.update",
        "order.refund",
    }
    stock = next(e for e in mine if e["action"] == "catalog.stock.adjust")
    assert (stock["before"], stock["after"]["stock"]) == ({"stock": 5}, 8)
    roles = next(e for e in mine if e["action"] == "member.roles_changed")
    assert roles["before"] == {"roles": ["member"]}
    assert roles["after"] == {"roles": ["creator", "member"]}
    assert all(e["ip"] for e in mine if e["action"] != "member.mfa_enabled")
