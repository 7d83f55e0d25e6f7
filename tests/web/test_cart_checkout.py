"""Cart and checkout pages: guest cart, merge at sign-up, quantities, coupon, points, payment."""

from __future__ import annotations

import asyncio
import re

import httpx
from tests.factories.accounts import grant_points
from tests.factories.catalog import make_product, variant_stock
from tests.factories.coupons import make_coupon
from tests.web._support import member_headers, member_id, sign_up, submit, text_of

from jangteo.core.platform import Platform

ADDRESS = {
    "address_id": "new",
    "address.recipient": "김장터",
    "address.phone": "010-1234-5678",
    "address.postal_code": "04524",
    "address.line1": "서울특별시 중구 세종대로 110",
    "address.line2": "3층",
}


async def _add(client: httpx.AsyncClient, variant_id: str, quantity: str = "1") -> httpx.Response:
    return await submit(client, "/cart/lines", {"variant_id": variant_id, "quantity": quantity})


def _line_id(html: str) -> str:
    found = re.search(r'action="/cart/lines/([0-9a-f-]{36})"', html)
    assert found
    return found.group(1)


async def test_a_guest_adds_to_the_cart_and_sees_totals_and_the_free_shipping_hint(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    product = await make_product(platform, name="울 머플러", price=21000)

    added = await _add(client, product.variant_ids[0], "2")

    assert added.status_code == 303 and added.headers["location"] == "/cart?notice=cart-added"
    cart = await client.get("/cart?notice=cart-added")
    page = text_of(cart.text)
    assert "장바구니에 담았습니다." in page
    assert "울 머플러" in page and "42,000원" in page
    assert "3,000원" in page and "45,000원" in page  # shipping and total
    assert "8,000원 더 담으면 무료배송!" in page
    assert 'id="cart-count"' in cart.text and ">2</span>" in cart.text


async def test_htmx_add_to_cart_answers_a_fragment_with_the_new_count(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    product = await make_product(platform)
    response = await client.post(
        "/cart/lines",
        data={"variant_id": product.variant_ids[0], "quantity": "3", "product_id": "x"},
        headers={"HX-Request": "true", "X-CSRF-Token": await _token(client)},
    )
    assert response.status_code == 200
    assert "<header" not in response.text
    assert 'hx-swap-oob="true"' in response.text and "3</span>" in response.text


async def _token(client: httpx.AsyncClient) -> str:
    await client.get("/cart")
    return client.cookies["jt_csrf"]


async def test_bad_quantities_show_the_apis_errors_in_korean(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    product = await make_product(platform, stock=20)
    variant = product.variant_ids[0]

    for quantity, message in [
        ("0", "1 이상의 숫자를 입력해 주세요."),
        ("10000", "수량을 넘었습니다."),
        ("-1", "1 이상의 숫자를 입력해 주세요."),
        ("abc", "정수를 입력해 주세요."),
        ("", "필수 입력 항목입니다."),
    ]:
        response = await submit(
            client,
            "/cart/lines",
            {"variant_id": variant, "quantity": quantity, "product_id": product.product_id},
        )
        assert response.status_code == 422, quantity
        assert message in text_of(response.text), quantity
        assert 'aria-invalid="true"' in response.text

    too_many = await _add(client, variant, "21")
    assert too_many.status_code == 409
    assert "재고가 부족합니다." in text_of(too_many.text)
    assert await variant_stock(platform, variant) == 20


async def test_changing_and_removing_cart_lines(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    product = await make_product(platform, price=10000, stock=50)
    await _add(client, product.variant_ids[0])
    line_id = _line_id((await client.get("/cart")).text)

    changed = await submit(client, f"/cart/lines/{line_id}", {"quantity": "6"})
    assert changed.status_code == 303
    page = text_of((await client.get("/cart")).text)
    assert "60,000원" in page and "무료배송 주문입니다." in page

    for quantity, message in [
        ("0", "1 이상의 숫자를 입력해 주세요."),
        ("10000", "수량을 넘었습니다."),
    ]:
        refused = await submit(client, f"/cart/lines/{line_id}", {"quantity": quantity})
        assert refused.status_code == 422
        assert message in text_of(refused.text)

    htmx = await client.post(
        f"/cart/lines/{line_id}",
        data={"quantity": "2"},
        headers={"HX-Request": "true", "X-CSRF-Token": client.cookies["jt_csrf"]},
    )
    assert htmx.status_code == 200 and "20,000원" in text_of(htmx.text)

    removed = await submit(client, f"/cart/lines/{line_id}/remove")
    assert removed.status_code == 303
    assert "장바구니가 비어 있습니다." in (await client.get("/cart")).text


async def test_a_stale_cart_cookie_is_replaced_by_a_new_cart(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    product = await make_product(platform)
    client.cookies.set("jt_cart", "01900000-0000-7000-8000-000000000000.bogus")

    assert "장바구니가 비어 있습니다." in (await client.get("/cart")).text
    client.cookies.set("jt_cart", "01900000-0000-7000-8000-000000000000.bogus")
    added = await _add(client, product.variant_ids[0])
    assert added.status_code == 303
    assert "캐시미어 블렌드 니트" in (await client.get("/cart")).text


async def test_the_guest_cart_follows_the_visitor_into_their_new_account(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    product = await make_product(platform, name="리넨 셔츠", price=45000)
    await _add(client, product.variant_ids[0], "2")
    guest_cart = client.cookies["jt_cart"]

    checkout = await client.get("/checkout")
    assert checkout.status_code == 303
    assert checkout.headers["location"] == "/login?next=/checkout"

    await sign_up(client, next_path="/checkout")

    assert client.cookies["jt_cart"] != guest_cart and "." not in client.cookies["jt_cart"]
    page = text_of((await client.get("/cart")).text)
    assert "리넨 셔츠" in page and "90,000원" in page


async def test_checkout_with_coupon_and_points_places_and_pays_the_order(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    product = await make_product(platform, name="캐시미어 니트", price=39000, stock=5)
    coupon = await make_coupon(platform, name="가입 축하 3,000원", value=3000)
    await sign_up(client)
    await grant_points(platform, await member_id(client), 2000)
    claimed = await submit(client, "/my/coupons/claim", {"code": coupon.code})
    assert claimed.status_code == 303
    await _add(client, product.variant_ids[0])

    page = await client.get("/checkout")
    assert page.status_code == 200
    assert "가입 축하 3,000원" in page.text
    assert "보유 2,000포인트" in text_of(page.text)
    member_coupon_id = re.search(
        r'<option value="([0-9a-f-]{36})"\s*>\s*가입 축하', page.text
    ).group(1)  # type: ignore[union-attr]
    idem = re.search(r'name="idem" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    form = {
        **ADDRESS,
        "coupon_choice": member_coupon_id,
        "points": "1500",
        "payment_method": "card",
        "idem": idem,
    }

    preview = await submit(client, "/checkout", {**form, "action": "preview"})
    assert preview.status_code == 200
    summary = text_of(preview.text)
    # 39,000 − 3,000 coupon − 1,500 points + 3,000 shipping
    assert "37,500원 결제하기" in summary

    paid = await submit(client, "/checkout", {**form, "action": "pay"})
    assert paid.status_code == 303
    complete_url = paid.headers["location"]
    assert re.fullmatch(r"/my/orders/[0-9a-f-]{36}/complete", complete_url)
    complete = text_of((await client.get(complete_url)).text)
    assert "주문이 완료되었습니다" in complete and "결제 완료" in complete
    assert "37,500원" in complete

    again = await submit(client, "/checkout", {**form, "action": "pay"})
    assert again.status_code == 303 and again.headers["location"] == "/cart"  # cart emptied

    orders = (await client.get("/api/v1/orders", headers=member_headers(client))).json()
    assert len(orders["items"]) == 1 and orders["items"][0]["status"] == "paid"
    assert await variant_stock(platform, product.variant_ids[0]) == 4
    wallet = text_of((await client.get("/my/wallet")).text)
    assert "500 P" in wallet and "-1,500" in wallet and "주문 시 사용" in wallet


async def test_checkout_shows_field_errors_for_a_bad_address_and_too_many_points(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    product = await make_product(platform, price=39000)
    await sign_up(client)
    await _add(client, product.variant_ids[0])
    page = await client.get("/checkout")
    idem = re.search(r'name="idem" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]

    bad = {
        **ADDRESS,
        "address.recipient": "",
        "address.postal_code": "12",
        "address.line1": "가" * 201,
        "idem": idem,
        "action": "pay",
    }
    response = await submit(client, "/checkout", bad)
    assert response.status_code == 422
    page_text = text_of(response.text)
    assert "필수 입력 항목입니다." in page_text
    assert "형식이 올바르지 않습니다." in page_text
    assert "200자 이하로 입력해 주세요." in page_text

    points = await submit(
        client, "/checkout", {**ADDRESS, "points": "5000", "idem": idem, "action": "pay"}
    )
    assert points.status_code == 409
    assert "포인트가 부족합니다." in text_of(points.text)

    orders = (await client.get("/api/v1/orders", headers=member_headers(client))).json()
    assert orders["items"] == []


async def test_double_submitted_pay_creates_one_order(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    product = await make_product(platform, price=10000, stock=10)
    await sign_up(client)
    await _add(client, product.variant_ids[0])
    page = await client.get("/checkout")
    idem = re.search(r'name="idem" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    form = {**ADDRESS, "idem": idem, "action": "pay", "csrf_token": client.cookies["jt_csrf"]}

    answers = await asyncio.gather(*(client.post("/checkout", data=form) for _ in range(3)))

    assert all(a.status_code == 303 for a in answers)
    orders = (await client.get("/api/v1/orders", headers=member_headers(client))).json()
    assert len(orders["items"]) == 1
    assert await variant_stock(platform, product.variant_ids[0]) == 9


async def test_adding_an_unknown_product_keeps_the_cart(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    product = await make_product(platform, name="울 양말")
    await _add(client, product.variant_ids[0])
    cart_cookie = client.cookies["jt_cart"]

    unknown = await _add(client, "01900000-0000-7000-8000-000000000000")
    malformed = await _add(client, "not-a-variant")

    assert unknown.status_code == 404 and "페이지를 찾을 수 없습니다" in unknown.text
    assert malformed.status_code == 422
    assert client.cookies["jt_cart"] == cart_cookie
    assert "울 양말" in (await client.get("/cart")).text
