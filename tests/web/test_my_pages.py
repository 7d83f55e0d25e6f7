"""A member's own pages: orders with timeline and cancel, another's order, wallet, coupons."""

from __future__ import annotations

from types import SimpleNamespace

import httpx
from tests.factories.accounts import grant_points, signup_member
from tests.factories.catalog import make_product, variant_stock
from tests.factories.coupons import make_coupon
from tests.factories.orders import pay_order, place_order
from tests.web._support import member_id, sign_up, submit, text_of

from jangteo.core.platform import Platform


async def _web_member_order(
    client: httpx.AsyncClient, platform: Platform, *, paid: bool
) -> tuple[dict, str]:
    """A member logged in on `client` and an order of theirs, made through the API."""
    product = await make_product(platform, name="코듀로이 팬츠", price=52000, stock=5)
    await sign_up(client)
    # the factories take anything with the API headers of a member
    caller = SimpleNamespace(headers={"Authorization": f"Bearer {client.cookies['jt_access']}"})
    order = await place_order(client, caller, product.variant_ids[0])
    if paid:
        order = await pay_order(client, caller, order)
    return order, product.variant_ids[0]


async def test_my_orders_lists_orders_and_the_detail_has_a_timeline(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    order, _ = await _web_member_order(client, platform, paid=True)

    listing = await client.get("/my/orders")
    assert listing.status_code == 200
    assert order["number"] in listing.text and "결제 완료" in listing.text

    detail = await client.get(f"/my/orders/{order['id']}")
    page = text_of(detail.text)
    assert detail.status_code == 200
    assert "진행 상황" in page and "결제 대기" in page and "결제 완료" in page
    assert "코듀로이 팬츠" in page and "52,000원" in page
    assert "주문 취소하기" in page

    filtered = await client.get("/my/orders?status=cancelled")
    assert "아직 주문이 없습니다." in filtered.text


async def test_cancelling_an_order_from_its_page_returns_the_stock(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    order, variant_id = await _web_member_order(client, platform, paid=True)
    assert await variant_stock(platform, variant_id) == 4

    response = await submit(client, f"/my/orders/{order['id']}/cancel", {"reason": "변심 😅"})

    assert response.status_code == 303
    page = text_of((await client.get(response.headers["location"])).text)
    assert "주문이 취소되었습니다." in page
    assert "환불 완료" in page
    assert await variant_stock(platform, variant_id) == 5

    again = await submit(client, f"/my/orders/{order['id']}/cancel")
    assert again.status_code == 409
    assert "주문 취소하기" not in text_of(again.text)


async def test_an_unpaid_order_can_be_paid_from_its_page(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    order, _ = await _web_member_order(client, platform, paid=False)
    detail = await client.get(f"/my/orders/{order['id']}")
    assert "결제를 기다리는 주문입니다." in detail.text

    response = await submit(
        client, f"/my/orders/{order['id']}/pay", {"pay_key": "01900000-0000-4000-8000-000000000001"}
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/my/orders/{order['id']}/complete"
    assert "결제 완료" in (await client.get(response.headers["location"])).text


async def test_another_members_order_is_the_404_page(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    order, variant_id = await _web_member_order(client, platform, paid=True)
    await submit(client, "/logout")
    await sign_up(client)  # a different member on the same browser

    for path in [f"/my/orders/{order['id']}", f"/my/orders/{order['id']}/complete"]:
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "페이지를 찾을 수 없습니다" in response.text
        assert order["number"] not in response.text

    cancel = await submit(client, f"/my/orders/{order['id']}/cancel")
    assert cancel.status_code == 404
    assert await variant_stock(platform, variant_id) == 4
    assert (await client.get("/my/orders/not-a-uuid")).status_code == 404


async def test_member_pages_send_visitors_to_the_log_in_page(client: httpx.AsyncClient) -> None:
    for path in [
        "/my/orders",
        "/my/wallet",
        "/my/coupons",
        "/my/security",
        "/checkout",
        "/notifications",
    ]:
        response = await client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")


async def test_wallet_shows_balance_and_history(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    await sign_up(client)
    empty = await client.get("/my/wallet")
    assert "포인트 내역이 없습니다." in empty.text

    await grant_points(platform, await member_id(client), 1200)
    page = text_of((await client.get("/my/wallet")).text)
    assert "1,200 P" in page and "+1,200" in page


async def test_coupons_claim_by_code_and_errors(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    coupon = await make_coupon(platform, name="봄맞이 5,000원", value=5000, min_order_amount=30000)
    limited = await make_coupon(platform, name="선착순", total_limit=1)
    await submit(client, "/logout")
    first = await signup_member(client)
    claim = await client.post(
        "/api/v1/coupons/claim", json={"code": limited.code}, headers=first.headers
    )
    assert claim.status_code == 201
    await sign_up(client)

    assert "쿠폰이 없습니다." in (await client.get("/my/coupons")).text

    added = await submit(client, "/my/coupons/claim", {"code": coupon.code.lower()})
    assert added.status_code == 303
    page = text_of((await client.get(added.headers["location"])).text)
    assert "쿠폰이 등록되었습니다." in page and "봄맞이 5,000원" in page
    assert "30,000원 이상 구매 시" in page

    unknown = await submit(client, "/my/coupons/claim", {"code": "NO-SUCH-CODE"})
    assert unknown.status_code == 404 and "존재하지 않는 쿠폰입니다." in unknown.text
    gone = await submit(client, "/my/coupons/claim", {"code": limited.code})
    assert gone.status_code == 409 and "소진" in gone.text
    malformed = await submit(client, "/my/coupons/claim", {"code": "<script>"})
    assert malformed.status_code == 422 and "<script>" not in malformed.text
    empty = await submit(client, "/my/coupons/claim", {"code": ""})
    assert empty.status_code == 422 and "필수 입력 항목입니다." in empty.text
