"""Checkout preview and order placement: the amounts, the re-checks, bad input, idempotency."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from tests.factories.accounts import grant_points, signup_member
from tests.factories.catalog import make_product
from tests.factories.coupons import make_coupon
from tests.factories.orders import (
    ADDRESS,
    my_orders,
    order_body,
    place_order,
    points_of,
    post_order,
    stock_of,
)

from jangteo.catalog import service as catalog
from jangteo.core.platform import Platform


async def _preview(client: httpx.AsyncClient, member, body: dict) -> httpx.Response:
    return await client.post("/api/v1/checkout/preview", json=body, headers=member.headers)


async def test_preview_charges_shipping_below_the_threshold_and_not_above(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    product = await make_product(platform, price=20000, stock=10)
    variant = product.variant_ids[0]

    below = await _preview(client, member, order_body(variant, quantity=2))
    assert below.status_code == 200, below.text
    body = below.json()
    assert (body["subtotal"], body["discount"], body["shipping_fee"], body["total"]) == (
        40000,
        0,
        3000,
        43000,
    )
    assert body["lines"][0]["product_name"] == "캐시미어 블렌드 니트"
    assert body["lines"][0]["line_total"] == 40000

    above = (await _preview(client, member, order_body(variant, quantity=3))).json()
    assert (above["subtotal"], above["shipping_fee"], above["total"]) == (60000, 0, 60000)


async def test_preview_applies_coupon_before_the_shipping_threshold_and_points_after(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    await grant_points(platform, member.id, 7000)
    product = await make_product(platform, price=20000, stock=10)
    coupon = await make_coupon(platform, value=15000)
    body = order_body(product.variant_ids[0], quantity=3, coupon_code=coupon.code, points=5000)

    preview = (await _preview(client, member, body)).json()

    # 60,000 − 15,000 = 45,000 is below 50,000: shipping is charged again; points pay goods only
    assert preview["subtotal"] == 60000
    assert preview["discount"] == 15000
    assert preview["coupon"]["code"] == coupon.code
    assert preview["shipping_fee"] == 3000
    assert preview["points_used"] == 5000
    assert preview["points_balance"] == 7000
    assert preview["points_max"] == 7000
    assert preview["total"] == 60000 - 15000 - 5000 + 3000


async def test_preview_refuses_points_beyond_balance_or_beyond_the_goods(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    start = await points_of(client, member)
    await grant_points(platform, member.id, 100000)
    product = await make_product(platform, price=10000, stock=10)
    variant = product.variant_ids[0]

    too_many = await _preview(client, member, order_body(variant, points=start + 100001))
    assert too_many.status_code == 409
    assert too_many.json()["code"] == "insufficient-points"

    over_goods = await _preview(client, member, order_body(variant, points=10001))
    assert over_goods.status_code == 409
    assert over_goods.json()["code"] == "points-over-limit"
    assert over_goods.json()["max_points"] == 10000

    exact = (await _preview(client, member, order_body(variant, points=10000))).json()
    assert exact["total"] == 3000  # the goods paid with points, shipping still due


async def test_preview_writes_nothing(client: httpx.AsyncClient, platform: Platform) -> None:
    member = await signup_member(client)
    await grant_points(platform, member.id, 5000)
    before_points = await points_of(client, member)
    product = await make_product(platform, price=20000, stock=5)
    coupon = await make_coupon(platform, value=1000, total_limit=1)
    body = order_body(product.variant_ids[0], quantity=2, coupon_code=coupon.code, points=3000)

    assert (await _preview(client, member, body)).status_code == 200

    assert await stock_of(client, product.product_id, product.variant_ids[0]) == 5
    assert await points_of(client, member) == before_points
    assert await my_orders(client, member) == []
    wallet = await client.get("/api/v1/coupons", headers=member.headers)
    assert wallet.json()["items"] == []  # the code was quoted, not claimed


async def test_place_order_reserves_stock_and_answers_the_order(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    product = await make_product(
        platform,
        name="무신사스냅 후기 추천 와이드 데님",
        price=45000,
        variants=[
            {"options": {"사이즈": "M"}, "stock": 4},
            {"options": {"사이즈": "L"}, "stock": 4},
        ],
    )
    medium = product.variant_ids[0]

    order = await place_order(client, member, medium, quantity=2, memo="문 앞에 놔주세요 🙏")

    assert re.fullmatch(r"\d{6}-[2-9A-HJ-NP-Z]{6}", order["number"])
    assert order["number"].startswith("261124-")  # the Seoul date of the frozen clock
    assert order["status"] == "pending_payment"
    assert order["subtotal"] == 90000
    assert order["shipping_fee"] == 0
    assert order["total"] == 90000
    assert order["lines"][0]["options"] == {"사이즈": "M"}
    assert order["lines"][0]["product_name"] == "무신사스냅 후기 추천 와이드 데님"
    assert order["address"] == ADDRESS
    assert order["memo"] == "문 앞에 놔주세요 🙏"
    assert [h["status"] for h in order["history"]] == ["pending_payment"]
    assert order["payment"] is None
    assert order["payment_due_at"] is not None

    assert await stock_of(client, product.product_id, medium) == 2
    assert await stock_of(client, product.product_id, product.variant_ids[1]) == 4
    again = await client.get(f"/api/v1/orders/{order['id']}", headers=member.headers)
    assert again.json() == order
    assert [o["id"] for o in await my_orders(client, member)] == [order["id"]]


async def test_place_order_from_the_cart_empties_it(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    first = await make_product(platform, price=12000, stock=5)
    second = await make_product(platform, name="오버핏 셔츠", price=33000, stock=5)
    cart = (await client.post("/api/v1/carts", headers=member.headers)).json()
    for variant, quantity in ((first.variant_ids[0], 2), (second.variant_ids[0], 1)):
        added = await client.post(
            f"/api/v1/carts/{cart['id']}/lines",
            json={"variant_id": variant, "quantity": quantity},
            headers=member.headers,
        )
        assert added.status_code == 200, added.text

    response = await post_order(
        client,
        member,
        {"cart_id": cart["id"], "payment_method": "transfer", "address": ADDRESS},
    )

    assert response.status_code == 201, response.text
    order = response.json()
    assert order["subtotal"] == 2 * 12000 + 33000
    assert order["shipping_fee"] == 0
    assert [line["quantity"] for line in order["lines"]] == [2, 1]
    emptied = (await client.get(f"/api/v1/carts/{cart['id']}", headers=member.headers)).json()
    assert emptied["lines"] == []
    assert emptied["subtotal"] == 0
    assert await stock_of(client, first.product_id, first.variant_ids[0]) == 3

    # an empty cart cannot be ordered again
    empty = await post_order(
        client, member, {"cart_id": cart["id"], "payment_method": "card", "address": ADDRESS}
    )
    assert empty.status_code == 409
    assert empty.json()["code"] == "cart-empty"


async def test_place_order_with_a_saved_address_and_not_someone_elses(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    other = await signup_member(client)
    product = await make_product(platform, stock=5)
    saved = await client.post(
        "/api/v1/me/addresses",
        json={
            "recipient": "홍길동",
            "phone": "010-9876-5432",
            "postal_code": "06236",
            "line1": "서울특별시 강남구 테헤란로 152",
            "line2": "",
        },
        headers=member.headers,
    )
    assert saved.status_code == 201, saved.text
    address_id = saved.json()["id"]

    order = await place_order(
        client, member, product.variant_ids[0], address_id=address_id, address=None
    )
    assert order["address"]["recipient"] == "홍길동"
    assert order["address"]["postal_code"] == "06236"

    stolen = await post_order(
        client, other, order_body(product.variant_ids[0], address_id=address_id, address=None)
    )
    assert stolen.status_code == 404
    assert await my_orders(client, other) == []
    assert await stock_of(client, product.product_id, product.variant_ids[0]) == 4


async def test_price_change_since_the_preview_is_refused(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    product = await make_product(platform, price=20000, stock=5)
    variant = product.variant_ids[0]
    preview = (await _preview(client, member, order_body(variant))).json()
    assert preview["total"] == 23000

    async with platform.db.write() as session:
        await catalog.update_variant(session, platform.clock, uuid.UUID(variant), {"price": 25000})

    stale = await post_order(client, member, order_body(variant, expected_total=preview["total"]))
    assert stale.status_code == 409
    assert stale.json()["code"] == "price-changed"
    assert stale.json()["total"] == 28000
    assert await stock_of(client, product.product_id, variant) == 5
    assert await my_orders(client, member) == []

    fresh = await post_order(client, member, order_body(variant, expected_total=28000))
    assert fresh.status_code == 201, fresh.text
    assert fresh.json()["lines"][0]["unit_price"] == 25000


async def test_unsellable_product_cannot_be_ordered(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    draft = await make_product(platform, status="draft", stock=5)

    response = await post_order(client, member, order_body(draft.variant_ids[0]))

    assert response.status_code == 409
    assert response.json()["code"] == "product-unavailable"
    assert await my_orders(client, member) == []


BAD_LINES = [
    pytest.param([{"variant_id": "V", "quantity": 0}], 422, "validation-error", id="qty-0"),
    pytest.param([{"variant_id": "V", "quantity": -1}], 422, "validation-error", id="qty-neg"),
    pytest.param(
        [{"variant_id": "V", "quantity": 10_000}], 422, "quantity-limit-exceeded", id="qty-10k"
    ),
    pytest.param([{"variant_id": "V", "quantity": 2**63}], 422, "validation-error", id="qty-2^63"),
    pytest.param([{"variant_id": "V", "quantity": "two"}], 422, "validation-error", id="qty-str"),
    pytest.param([{"variant_id": "V", "quantity": 1.5}], 422, "validation-error", id="qty-float"),
    pytest.param([{"variant_id": "not-a-uuid", "quantity": 1}], 422, "validation-error", id="uuid"),
    pytest.param([{"variant_id": "UNKNOWN", "quantity": 1}], 404, "not-found", id="unknown"),
    pytest.param([], 422, "validation-error", id="no-lines"),
    pytest.param(
        [{"variant_id": "V", "quantity": 1}, {"variant_id": "V", "quantity": 2}],
        422,
        "validation-error",
        id="same-variant-twice",
    ),
]


async def test_bad_input_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    await grant_points(platform, member.id, 5000)
    points_before = await points_of(client, member)
    product = await make_product(platform, stock=5)
    variant = product.variant_ids[0]

    def lines_with(lines: list[dict]) -> list[dict]:
        swap = {"V": variant, "UNKNOWN": str(uuid.uuid4())}
        return [
            {**line, "variant_id": swap.get(line["variant_id"], line["variant_id"])}
            for line in lines
        ]

    for param in BAD_LINES:
        lines, status, code = param.values
        response = await post_order(
            client, member, {**order_body(variant), "lines": lines_with(lines)}
        )
        assert (response.status_code, response.json()["code"]) == (status, code), param.id

    others = [
        ({"lines": [{"variant_id": str(uuid.uuid4()), "quantity": 1}] * 51}, 422),
        ({"points": -1}, 422),
        ({"points": 10_000_001}, 422),
        ({"points": "many"}, 422),
        ({"address": None}, 422),
        ({"address": {**ADDRESS, "postal_code": "1234"}}, 422),
        ({"address": {**ADDRESS, "recipient": "x" * 51}}, 422),
        ({"cart_id": str(uuid.uuid4())}, 422),  # cart and lines together
        ({"payment_method": "bitcoin"}, 422),
        ({"coupon_code": "X" * 41}, 422),
        ({"memo": "가" * 201}, 422),
        ({"expected_total": -1}, 422),
        ({"surprise": True}, 422),
        ({"coupon_code": "NO-SUCH-CODE"}, 404),
    ]
    for extra, status in others:
        response = await post_order(client, member, order_body(variant, **extra))
        assert response.status_code == status, (extra, response.text)

    malformed = await client.post(
        "/api/v1/orders",
        content=b'{"lines": [',
        headers={**member.headers, "Content-Type": "application/json"},
    )
    assert malformed.status_code == 400
    assert malformed.json()["code"] == "malformed-json"
    anonymous = await client.post("/api/v1/orders", json=order_body(variant))
    assert anonymous.status_code == 401

    assert await stock_of(client, product.product_id, variant) == 5
    assert await points_of(client, member) == points_before
    assert await my_orders(client, member) == []


async def test_sql_and_html_in_text_are_stored_verbatim(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    product = await make_product(platform, stock=5)
    memo = "'; DROP TABLE orders; -- <script>alert(1)</script>"
    address = {**ADDRESS, "line2": "<b>101동</b> ' OR 1=1 --"}

    order = await place_order(client, member, product.variant_ids[0], memo=memo, address=address)

    read = (await client.get(f"/api/v1/orders/{order['id']}", headers=member.headers)).json()
    assert read["memo"] == memo
    assert read["address"]["line2"] == address["line2"]


async def test_same_idempotency_key_places_one_order(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    product = await make_product(platform, stock=5)
    variant = product.variant_ids[0]
    body = order_body(variant, quantity=2)

    first = await post_order(client, member, body, key="checkout-1")
    second = await post_order(client, member, body, key="checkout-1")

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert len(await my_orders(client, member)) == 1
    assert await stock_of(client, product.product_id, variant) == 3

    reused = await post_order(client, member, order_body(variant, quantity=1), key="checkout-1")
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency-key-reused"

    # another member may use the same key string for their own order
    other = await signup_member(client)
    theirs = await post_order(client, other, body, key="checkout-1")
    assert theirs.status_code == 201
    assert theirs.json()["id"] != first.json()["id"]


async def test_concurrent_retries_with_one_key_place_one_order(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    import asyncio

    member = await signup_member(client)
    product = await make_product(platform, stock=20)
    body = order_body(product.variant_ids[0])

    answers = await asyncio.gather(
        *(post_order(client, member, body, key="double-click") for _ in range(8))
    )

    assert {a.status_code for a in answers} <= {201, 409}
    placed = {a.json()["id"] for a in answers if a.status_code == 201}
    assert len(placed) == 1
    # a retry that arrives while the first is still running may be told so (409 in-progress)
    assert all(
        a.json()["code"] == "idempotency-in-progress" for a in answers if a.status_code == 409
    )
    assert len(await my_orders(client, member)) == 1
    assert await stock_of(client, product.product_id, product.variant_ids[0]) == 19
