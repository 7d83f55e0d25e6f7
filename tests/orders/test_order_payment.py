"""Paying an order: the amount, the provider's answer, idempotency, and races with expiry."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from tests.factories.accounts import grant_points, signup_member
from tests.factories.catalog import make_product
from tests.factories.orders import (
    log_in_again,
    my_orders,
    pay_order,
    place_order,
    points_of,
    stock_of,
)

from jangteo.core.platform import Platform
from jangteo.orders.payments import PaymentApproval


async def _pay(
    client: httpx.AsyncClient, member, order: dict, *, key: str | None = None, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/api/v1/orders/{order['id']}/payments",
        json={"amount": order["total"], **body},
        headers={**member.headers, "Idempotency-Key": key or uuid.uuid4().hex},
    )


async def test_paying_the_total_marks_the_order_paid(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    product = await make_product(platform, price=20000, stock=5)
    order = await place_order(client, member, product.variant_ids[0])

    paid = await pay_order(client, member, order)

    assert paid["status"] == "paid"
    assert paid["paid_at"] is not None
    assert paid["payment"]["provider"] == "dummy"
    assert paid["payment"]["amount"] == order["total"] == 23000
    assert paid["payment"]["status"] == "approved"
    assert [(h["from_status"], h["status"]) for h in paid["history"]] == [
        (None, "pending_payment"),
        ("pending_payment", "paid"),
    ]
    listed = await my_orders(client, member, status="paid")
    assert [o["id"] for o in listed] == [order["id"]]
    assert await my_orders(client, member, status="pending_payment") == []


async def test_wrong_amount_is_refused_and_the_order_stays_payable(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    product = await make_product(platform, price=20000, stock=5)
    order = await place_order(client, member, product.variant_ids[0])

    for amount in (order["total"] - 1, order["total"] + 1, 0):
        response = await _pay(client, member, {**order, "total": amount})
        assert response.status_code == 409
        assert response.json()["code"] == "amount-mismatch"
        assert response.json()["total"] == order["total"]
    for amount in (-1, 2**63, "23000원"):
        response = await _pay(client, member, {**order, "total": amount})
        assert response.status_code == 422

    read = (await client.get(f"/api/v1/orders/{order['id']}", headers=member.headers)).json()
    assert read["status"] == "pending_payment"
    assert (await _pay(client, member, order)).status_code == 200


async def test_same_key_replays_and_a_second_payment_is_refused(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    product = await make_product(platform, price=20000, stock=5)
    order = await place_order(client, member, product.variant_ids[0])

    first = await _pay(client, member, order, key="pay-1")
    replay = await _pay(client, member, order, key="pay-1")

    assert first.status_code == replay.status_code == 200
    assert replay.json() == first.json()
    reused = await _pay(client, member, order, key="pay-1", payment_key="dummy_other")
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency-key-reused"
    twice = await _pay(client, member, order, key="pay-2")
    assert twice.status_code == 409
    assert twice.json()["code"] == "order-not-payable"
    gateway = platform.adapters["payments"]
    assert len(gateway.approvals) == 1
    assert gateway.cancellations == []


async def test_declined_payment_leaves_the_order_payable(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    product = await make_product(platform, price=20000, stock=5)
    order = await place_order(client, member, product.variant_ids[0])

    declined = await _pay(client, member, order, payment_key="dummy-decline-1")
    unavailable = await _pay(client, member, order, payment_key="dummy-unavailable-1")

    assert declined.status_code == 402
    assert declined.json()["code"] == "payment-declined"
    assert declined.json()["provider_code"] == "REJECT_CARD_PAYMENT"
    assert unavailable.status_code == 503
    assert unavailable.json()["code"] == "payment-provider-unavailable"
    read = (await client.get(f"/api/v1/orders/{order['id']}", headers=member.headers)).json()
    assert read["status"] == "pending_payment"
    assert read["payment"] is None
    assert (await _pay(client, member, order, payment_key="dummy-ok-1")).status_code == 200


async def test_a_cancelled_order_cannot_be_paid(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    product = await make_product(platform, stock=5)
    order = await place_order(client, member, product.variant_ids[0])
    cancel = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=member.headers)
    assert cancel.status_code == 200

    response = await _pay(client, member, order)

    assert response.status_code == 409
    assert response.json()["code"] == "order-not-payable"
    assert platform.adapters["payments"].approvals == {}


class ExpiresDuringConfirm:
    """A provider that approves, while the order's payment deadline passes meanwhile."""

    name = "dummy"

    def __init__(self, platform: Platform, inner: Any) -> None:
        self.platform = platform
        self.inner = inner
        self.cancelled: list[str] = []

    async def confirm(self, **kwargs: Any) -> PaymentApproval:
        approval = await self.inner.confirm(**kwargs)
        self.platform.clock.advance(minutes=31)
        await self.platform.jobs.run_due()
        return approval

    async def cancel(self, *, payment_key: str, **kwargs: Any) -> None:
        self.cancelled.append(payment_key)


async def test_payment_approved_after_expiry_is_cancelled_with_the_provider(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    product = await make_product(platform, stock=5)
    order = await place_order(client, member, product.variant_ids[0])
    racing = ExpiresDuringConfirm(platform, platform.adapters["payments"])
    platform.adapters["payments"] = racing

    response = await _pay(client, member, order, payment_key="dummy_late")

    assert response.status_code == 409
    assert response.json()["code"] == "order-not-payable"
    assert racing.cancelled == ["dummy_late"]
    await log_in_again(client, member)
    read = (await client.get(f"/api/v1/orders/{order['id']}", headers=member.headers)).json()
    assert read["status"] == "cancelled"
    assert read["cancel_reason"] == "expired"
    assert read["payment"] is None
    assert await stock_of(client, product.product_id, product.variant_ids[0]) == 5


async def test_an_order_paid_in_full_with_points_is_paid_at_once(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    await grant_points(platform, member.id, 60000)
    before = await points_of(client, member)
    product = await make_product(platform, price=50000, stock=5)

    order = await place_order(client, member, product.variant_ids[0], points=50000)

    assert order["total"] == 0
    assert order["shipping_fee"] == 0
    assert order["status"] == "paid"
    assert order["payment"] is None
    assert [h["status"] for h in order["history"]] == ["pending_payment", "paid"]
    assert await points_of(client, member) == before - 50000
    # nothing is due, so nothing expires
    platform.clock.advance(hours=2)
    await platform.jobs.run_due()
    await log_in_again(client, member)
    read = (await client.get(f"/api/v1/orders/{order['id']}", headers=member.headers)).json()
    assert read["status"] == "paid"
    refused = await _pay(client, member, order)
    assert refused.status_code == 409

    # cancelling refunds the points; there is no provider payment to cancel
    cancelled = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=member.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "refunded"
    assert await points_of(client, member) == before
    assert await stock_of(client, product.product_id, product.variant_ids[0]) == 5
    assert platform.adapters["payments"].cancellations == []


async def test_paid_units_count_toward_popularity_until_refunded(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    quiet = await make_product(platform, name="조용한 상품", price=10000, stock=10)
    hit = await make_product(platform, name="인기 상품", price=10000, stock=10)

    async def popular() -> list[str]:
        response = await client.get("/api/v1/products", params={"sort": "popular"})
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    quiet_order = await place_order(client, member, quiet.variant_ids[0], quantity=1)
    await pay_order(client, member, quiet_order)
    unpaid = await place_order(client, member, hit.variant_ids[0], quantity=5)
    assert await popular() == [quiet.product_id, hit.product_id]  # placing is not selling

    paid = await pay_order(client, member, unpaid)
    assert await popular() == [hit.product_id, quiet.product_id]

    refund = await client.post(f"/api/v1/orders/{paid['id']}/cancel", headers=member.headers)
    assert refund.json()["status"] == "refunded"
    assert await popular() == [quiet.product_id, hit.product_id]
