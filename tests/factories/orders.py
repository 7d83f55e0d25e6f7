"""Carts, orders and payments for tests, through the public API: explicit async functions."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from tests.factories.accounts import Member, log_in

ADDRESS = {
    "recipient": "김장터",
    "phone": "010-1234-5678",
    "postal_code": "04524",
    "line1": "서울특별시 중구 세종대로 110",
    "line2": "3층 301호",
}


def order_body(variant_id: str | uuid.UUID, *, quantity: int = 1, **extra: Any) -> dict[str, Any]:
    """A placement body for one line, shipped to ADDRESS, unless `extra` says otherwise."""
    body: dict[str, Any] = {
        "lines": [{"variant_id": str(variant_id), "quantity": quantity}],
        "payment_method": "card",
        "address": ADDRESS,
    }
    body.update(extra)
    return body


async def post_order(
    client: httpx.AsyncClient,
    member: Member,
    body: dict[str, Any],
    *,
    key: str | None = None,
) -> httpx.Response:
    """POST /orders with a fresh Idempotency-Key (or `key`); the raw answer."""
    headers = {**member.headers, "Idempotency-Key": key or uuid.uuid4().hex}
    return await client.post("/api/v1/orders", json=body, headers=headers)


async def place_order(
    client: httpx.AsyncClient,
    member: Member,
    variant_id: str | uuid.UUID,
    *,
    quantity: int = 1,
    **extra: Any,
) -> dict[str, Any]:
    """Place an order of one line through the API and return it (asserts 201)."""
    response = await post_order(client, member, order_body(variant_id, quantity=quantity, **extra))
    assert response.status_code == 201, response.text
    return response.json()


async def pay_order(
    client: httpx.AsyncClient, member: Member, order: dict[str, Any], *, key: str | None = None
) -> dict[str, Any]:
    """Pay the order's total with the dummy provider and return the paid order (asserts 200)."""
    response = await client.post(
        f"/api/v1/orders/{order['id']}/payments",
        json={"amount": order["total"]},
        headers={**member.headers, "Idempotency-Key": key or uuid.uuid4().hex},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def open_guest_cart(client: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
    """A new guest cart: its id and the headers that reach it."""
    response = await client.post("/api/v1/carts")
    assert response.status_code == 201, response.text
    body = response.json()
    return body["id"], {"X-Cart-Token": body["token"]}


async def log_in_again(client: httpx.AsyncClient, member: Member) -> Member:
    """Fresh tokens after the test clock moved past the access token's lifetime."""
    response = await log_in(client, member.email, member.password)
    assert response.status_code == 200, response.text
    member.use_tokens(response.json())
    return member


async def stock_of(client: httpx.AsyncClient, product_id: str, variant_id: str) -> int:
    """A variant's stock as the public product page shows it."""
    response = await client.get(f"/api/v1/products/{product_id}")
    assert response.status_code == 200, response.text
    for variant in response.json()["variants"]:
        if variant["id"] == str(variant_id):
            return int(variant["stock"])
    raise AssertionError(f"variant {variant_id} not on the product page")


async def points_of(client: httpx.AsyncClient, member: Member) -> int:
    response = await client.get("/api/v1/me/wallet", headers=member.headers)
    assert response.status_code == 200, response.text
    return int(response.json()["balance"])


async def my_orders(client: httpx.AsyncClient, member: Member, **params: Any) -> list[dict]:
    """Every order of the member, all pages walked."""
    items: list[dict] = []
    cursor = None
    while True:
        query = {**params, "limit": 100, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/api/v1/orders", params=query, headers=member.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if not cursor:
            return items


async def coupon_status(client: httpx.AsyncClient, member: Member, member_coupon_id: str) -> str:
    """The status of a copy in the member's coupon wallet (available | used | expired)."""
    for status in ("available", "used", "expired"):
        response = await client.get(
            "/api/v1/coupons", params={"status": status, "limit": 100}, headers=member.headers
        )
        assert response.status_code == 200, response.text
        if any(item["id"] == member_coupon_id for item in response.json()["items"]):
            return status
    raise AssertionError(f"coupon {member_coupon_id} not in the wallet")


async def deliver_order(
    client: httpx.AsyncClient, staff: Member, order: dict[str, Any]
) -> dict[str, Any]:
    """Move a paid order through preparing and shipped to delivered, as staff."""
    body: dict[str, Any] = {}
    for to in ("preparing", "shipped", "delivered"):
        extra = {"tracking_number": "CJ1234567890"} if to == "shipped" else {}
        response = await client.post(
            f"/api/v1/admin/orders/{order['id']}/transitions",
            json={"to": to, **extra},
            headers=staff.headers,
        )
        assert response.status_code == 200, response.text
        body = response.json()
    return body
