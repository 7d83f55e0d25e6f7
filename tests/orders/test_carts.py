"""Carts of guests and members: lines, isolation, and merging a guest cart after log-in."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from tests.factories.accounts import signup_member
from tests.factories.catalog import make_product
from tests.factories.orders import open_guest_cart

from jangteo.core.platform import Platform


async def _add(
    client: httpx.AsyncClient, cart_id: str, headers: dict, variant_id: str, quantity: int
) -> httpx.Response:
    return await client.post(
        f"/api/v1/carts/{cart_id}/lines",
        json={"variant_id": variant_id, "quantity": quantity},
        headers=headers,
    )


async def test_guest_cart_is_reached_only_with_its_token(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/v1/carts")
    assert created.status_code == 201
    cart = created.json()
    assert cart["is_guest"] is True
    assert cart["lines"] == [] and cart["subtotal"] == 0
    assert len(cart["token"]) >= 32

    mine = await client.get(f"/api/v1/carts/{cart['id']}", headers={"X-Cart-Token": cart["token"]})
    assert mine.status_code == 200
    assert mine.json()["token"] is None  # the secret is shown once, when the cart is made

    for headers in ({}, {"X-Cart-Token": "wrong"}, {"X-Cart-Token": cart["token"] + "x"}):
        assert (await client.get(f"/api/v1/carts/{cart['id']}", headers=headers)).status_code == 404
    unknown = await client.get(f"/api/v1/carts/{uuid.uuid4()}", headers={"X-Cart-Token": "x"})
    assert unknown.status_code == 404
    other_guest_id, other_headers = await open_guest_cart(client)
    crossed = await client.get(f"/api/v1/carts/{cart['id']}", headers=other_headers)
    assert crossed.status_code == 404
    assert other_guest_id != cart["id"]


async def test_lines_show_current_price_stock_and_totals(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    product = await make_product(
        platform,
        name="캐시미어 블렌드 니트 🧶",
        price=39000,
        list_price=59000,
        variants=[{"options": {"색상": "블랙"}, "stock": 3}],
    )
    variant = product.variant_ids[0]
    cart_id, headers = await open_guest_cart(client)

    first = await _add(client, cart_id, headers, variant, 1)
    assert first.status_code == 200, first.text
    again = await _add(client, cart_id, headers, variant, 1)
    body = again.json()

    [line] = body["lines"]
    assert line["product_name"] == "캐시미어 블렌드 니트 🧶"
    assert line["options"] == {"색상": "블랙"}
    assert (line["unit_price"], line["list_price"]) == (39000, 59000)
    assert (line["quantity"], line["line_total"]) == (2, 78000)
    assert line["in_stock"] is True and line["available_quantity"] == 3
    assert (body["subtotal"], body["item_count"]) == (78000, 2)

    changed = await client.patch(
        f"/api/v1/carts/{cart_id}/lines/{line['id']}", json={"quantity": 3}, headers=headers
    )
    assert changed.json()["subtotal"] == 117000

    too_many = await client.patch(
        f"/api/v1/carts/{cart_id}/lines/{line['id']}", json={"quantity": 4}, headers=headers
    )
    assert too_many.status_code == 409
    assert too_many.json()["code"] == "out-of-stock"

    removed = await client.delete(f"/api/v1/carts/{cart_id}/lines/{line['id']}", headers=headers)
    assert removed.status_code == 200
    assert removed.json()["lines"] == []
    gone = await client.delete(f"/api/v1/carts/{cart_id}/lines/{line['id']}", headers=headers)
    assert gone.status_code == 404


async def test_bad_lines_are_refused_and_leave_the_cart_alone(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    product = await make_product(platform, stock=5)
    draft = await make_product(platform, name="준비 중 상품", status="draft", stock=5)
    variant = product.variant_ids[0]
    cart_id, headers = await open_guest_cart(client)
    assert (await _add(client, cart_id, headers, variant, 1)).status_code == 200

    cases = [
        ({"variant_id": variant, "quantity": 0}, 422, "validation-error"),
        ({"variant_id": variant, "quantity": -1}, 422, "validation-error"),
        ({"variant_id": variant, "quantity": 10_000}, 422, "quantity-limit-exceeded"),
        ({"variant_id": variant, "quantity": 2**63}, 422, "validation-error"),
        ({"variant_id": variant, "quantity": "1개"}, 422, "validation-error"),
        ({"variant_id": variant, "quantity": 5}, 409, "out-of-stock"),  # 1 + 5 > 5
        ({"variant_id": "'; DROP TABLE carts; --", "quantity": 1}, 422, "validation-error"),
        ({"variant_id": str(uuid.uuid4()), "quantity": 1}, 404, "not-found"),
        ({"variant_id": draft.variant_ids[0], "quantity": 1}, 409, "product-unavailable"),
        ({"variant_id": variant, "quantity": 1, "price": 1}, 422, "validation-error"),
    ]
    for body, status, code in cases:
        response = await client.post(f"/api/v1/carts/{cart_id}/lines", json=body, headers=headers)
        assert (response.status_code, response.json()["code"]) == (status, code), body

    malformed = await client.post(
        f"/api/v1/carts/{cart_id}/lines",
        content=b"{quantity: 1",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert malformed.status_code == 400

    cart = (await client.get(f"/api/v1/carts/{cart_id}", headers=headers)).json()
    assert [(line["variant_id"], line["quantity"]) for line in cart["lines"]] == [(variant, 1)]


async def test_a_member_has_one_cart_others_cannot_touch(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    alice = await signup_member(client)
    bob = await signup_member(client)
    product = await make_product(platform, stock=5)

    created = await client.post("/api/v1/carts", headers=alice.headers)
    assert created.status_code == 201
    assert created.json()["token"] is None and created.json()["is_guest"] is False
    again = await client.post("/api/v1/carts", headers=alice.headers)
    assert again.status_code == 200
    assert again.json()["id"] == created.json()["id"]
    cart_id = created.json()["id"]
    added = await _add(client, cart_id, alice.headers, product.variant_ids[0], 2)
    assert added.status_code == 200
    line_id = added.json()["lines"][0]["id"]

    for response in (
        await client.get(f"/api/v1/carts/{cart_id}", headers=bob.headers),
        await client.get(f"/api/v1/carts/{cart_id}"),
        await _add(client, cart_id, bob.headers, product.variant_ids[0], 1),
        await client.patch(
            f"/api/v1/carts/{cart_id}/lines/{line_id}", json={"quantity": 1}, headers=bob.headers
        ),
        await client.delete(f"/api/v1/carts/{cart_id}/lines/{line_id}", headers=bob.headers),
    ):
        assert response.status_code == 404

    bobs = (await client.post("/api/v1/carts", headers=bob.headers)).json()
    assert bobs["id"] != cart_id
    # a line of Alice's cart cannot be reached through Bob's cart either
    crossed = await client.patch(
        f"/api/v1/carts/{bobs['id']}/lines/{line_id}", json={"quantity": 1}, headers=bob.headers
    )
    assert crossed.status_code == 404
    alices = (await client.get(f"/api/v1/carts/{cart_id}", headers=alice.headers)).json()
    assert alices["lines"][0]["quantity"] == 2


async def test_concurrent_opens_give_a_member_one_cart(client: httpx.AsyncClient) -> None:
    member = await signup_member(client)

    answers = await asyncio.gather(
        *(client.post("/api/v1/carts", headers=member.headers) for _ in range(10))
    )

    assert {a.status_code for a in answers} <= {200, 201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(a.status_code == 201 for a in answers) == 1


async def test_concurrent_adds_of_one_product_all_count(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    product = await make_product(platform, stock=100)
    cart_id = (await client.post("/api/v1/carts", headers=member.headers)).json()["id"]

    answers = await asyncio.gather(
        *(_add(client, cart_id, member.headers, product.variant_ids[0], 1) for _ in range(10))
    )

    assert [a.status_code for a in answers] == [200] * 10
    cart = (await client.get(f"/api/v1/carts/{cart_id}", headers=member.headers)).json()
    assert [line["quantity"] for line in cart["lines"]] == [10]


async def test_guest_cart_merges_into_the_member_cart_after_log_in(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    shared = await make_product(platform, name="데일리 맨투맨", price=29000, stock=2000)
    guest_only = await make_product(platform, name="린넨 와이드 팬츠", price=45000, stock=10)
    guest_id, guest_headers = await open_guest_cart(client)
    await _add(client, guest_id, guest_headers, shared.variant_ids[0], 600)
    await _add(client, guest_id, guest_headers, guest_only.variant_ids[0], 2)
    member = await signup_member(client)
    cart_id = (await client.post("/api/v1/carts", headers=member.headers)).json()["id"]
    await _add(client, cart_id, member.headers, shared.variant_ids[0], 600)
    token = guest_headers["X-Cart-Token"]

    merged = await client.post(
        f"/api/v1/carts/{cart_id}/merge",
        json={"guest_cart_id": guest_id, "guest_cart_token": token},
        headers=member.headers,
    )

    assert merged.status_code == 200, merged.text
    quantities = {line["variant_id"]: line["quantity"] for line in merged.json()["lines"]}
    # 600 + 600 is capped at the per-line limit (999)
    assert quantities == {shared.variant_ids[0]: 999, guest_only.variant_ids[0]: 2}

    closed = (await client.get(f"/api/v1/carts/{guest_id}", headers=guest_headers)).json()
    assert closed["status"] == "merged"
    refused = await _add(client, guest_id, guest_headers, guest_only.variant_ids[0], 1)
    assert refused.status_code == 409
    assert refused.json()["code"] == "cart-closed"

    # a retried merge answers the same cart, without adding the lines twice
    retried = await client.post(
        f"/api/v1/carts/{cart_id}/merge",
        json={"guest_cart_id": guest_id, "guest_cart_token": token},
        headers=member.headers,
    )
    assert retried.status_code == 200
    assert {line["variant_id"]: line["quantity"] for line in retried.json()["lines"]} == quantities


async def test_merge_needs_the_guest_token_and_the_members_own_cart(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    product = await make_product(platform, stock=10)
    guest_id, guest_headers = await open_guest_cart(client)
    await _add(client, guest_id, guest_headers, product.variant_ids[0], 1)
    alice = await signup_member(client)
    bob = await signup_member(client)
    alice_cart = (await client.post("/api/v1/carts", headers=alice.headers)).json()["id"]
    bob_cart = (await client.post("/api/v1/carts", headers=bob.headers)).json()["id"]

    wrong_token = await client.post(
        f"/api/v1/carts/{alice_cart}/merge",
        json={"guest_cart_id": guest_id, "guest_cart_token": "guessed-token"},
        headers=alice.headers,
    )
    into_someone_else = await client.post(
        f"/api/v1/carts/{alice_cart}/merge",
        json={"guest_cart_id": guest_id, "guest_cart_token": guest_headers["X-Cart-Token"]},
        headers=bob.headers,
    )
    member_cart_as_guest = await client.post(
        f"/api/v1/carts/{alice_cart}/merge",
        json={"guest_cart_id": bob_cart, "guest_cart_token": "anything"},
        headers=alice.headers,
    )
    anonymous = await client.post(
        f"/api/v1/carts/{alice_cart}/merge",
        json={"guest_cart_id": guest_id, "guest_cart_token": guest_headers["X-Cart-Token"]},
    )

    assert wrong_token.status_code == 404
    assert into_someone_else.status_code == 404
    assert member_cart_as_guest.status_code == 404
    assert anonymous.status_code == 401
    guest = (await client.get(f"/api/v1/carts/{guest_id}", headers=guest_headers)).json()
    assert guest["status"] == "active" and len(guest["lines"]) == 1
    alice_view = (await client.get(f"/api/v1/carts/{alice_cart}", headers=alice.headers)).json()
    assert alice_view["lines"] == []


async def test_cart_holds_at_most_fifty_products(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    product = await make_product(
        platform,
        variants=[{"options": {"번호": str(n)}, "stock": 5} for n in range(51)],
    )
    cart_id, headers = await open_guest_cart(client)
    for variant in product.variant_ids[:50]:
        assert (await _add(client, cart_id, headers, variant, 1)).status_code == 200

    full = await _add(client, cart_id, headers, product.variant_ids[50], 1)

    assert full.status_code == 409
    assert full.json()["code"] == "cart-full"
