"""The dummy payment gateway that `make run` and the order tests use."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from jangteo.core.clock import FrozenClock
from jangteo.orders.payments import DummyGateway, PaymentDeclined, PaymentUnavailable


async def test_dummy_approves_any_key_at_the_clock_time() -> None:
    clock = FrozenClock(datetime(2026, 3, 1, 9, 30, tzinfo=UTC))
    gateway = DummyGateway(clock)

    approval = await gateway.confirm(
        payment_key="tok_결제-🙂", order_id="o-1", amount=12345, idempotency_key="k1"
    )

    assert (approval.provider, approval.payment_key, approval.amount) == (
        "dummy",
        "tok_결제-🙂",
        12345,
    )
    assert approval.approved_at == clock.now()


async def test_dummy_repeat_confirm_returns_the_same_approval() -> None:
    clock = FrozenClock()
    gateway = DummyGateway(clock)
    first = await gateway.confirm(payment_key="pk", order_id="o", amount=500, idempotency_key="a")
    clock.advance(minutes=5)

    again = await gateway.confirm(payment_key="pk", order_id="o", amount=500, idempotency_key="b")

    assert again == first
    with pytest.raises(PaymentDeclined) as caught:
        await gateway.confirm(payment_key="pk", order_id="o", amount=501, idempotency_key="c")
    assert caught.value.extra["provider_code"] == "ALREADY_PROCESSED_PAYMENT"


async def test_dummy_declines_and_fails_on_request() -> None:
    gateway = DummyGateway(FrozenClock())

    with pytest.raises(PaymentDeclined) as declined:
        await gateway.confirm(
            payment_key="dummy-decline-1", order_id="o", amount=1, idempotency_key="k"
        )
    assert declined.value.status == 402
    assert declined.value.extra["provider_code"] == "REJECT_CARD_PAYMENT"

    with pytest.raises(PaymentUnavailable) as unavailable:
        await gateway.confirm(
            payment_key="dummy-unavailable-1", order_id="o", amount=1, idempotency_key="k"
        )
    assert unavailable.value.status == 503
    assert gateway.approvals == {}


async def test_dummy_cancel_happens_once_per_idempotency_key() -> None:
    gateway = DummyGateway(FrozenClock())
    await gateway.confirm(payment_key="pk", order_id="o", amount=900, idempotency_key="a")

    await gateway.cancel(payment_key="pk", reason="반품", amount=300, idempotency_key="c1")
    await gateway.cancel(payment_key="pk", reason="반품", amount=300, idempotency_key="c1")
    await gateway.cancel(payment_key="pk", reason="전액", amount=None, idempotency_key="c2")

    assert [(c["amount"], c["idempotency_key"]) for c in gateway.cancellations] == [
        (300, "c1"),
        (None, "c2"),
    ]
