"""The Toss Payments adapter against a fake Toss API served over real HTTP (no database)."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from tests.fakes.toss import FAKE_SECRET_KEY, FakeToss, serve_fake_toss

from jangteo.core.clock import FrozenClock
from jangteo.core.errors import install_error_handlers
from jangteo.orders.payments import (
    DummyGateway,
    PaymentDeclined,
    PaymentUnavailable,
    TossPaymentsGateway,
    make_gateway,
)
from jangteo.settings import Settings


@pytest.fixture(scope="module")
def toss_server() -> Iterator[FakeToss]:
    with serve_fake_toss(FakeToss(slow_seconds=1.0)) as fake:
        yield fake


@pytest.fixture
def toss(toss_server: FakeToss) -> FakeToss:
    toss_server.reset()
    return toss_server


def gateway_for(toss: FakeToss, *, timeout: float = 5.0, secret_key: str = FAKE_SECRET_KEY):
    settings = Settings(
        env="test",
        payment_provider="toss",
        toss_secret_key=secret_key,
        toss_api_base=toss.base_url,
        toss_timeout_seconds=timeout,
    )
    return make_gateway(settings, FrozenClock())


def wait_for_payment(toss: FakeToss, payment_key: str, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while payment_key not in toss.payments:
        assert time.monotonic() < deadline, f"{payment_key} was never approved by the fake"
        time.sleep(0.02)


async def test_confirm_approves_with_basic_auth_and_idempotency_key(toss: FakeToss) -> None:
    gateway = gateway_for(toss)
    assert isinstance(gateway, TossPaymentsGateway)

    approval = await gateway.confirm(
        payment_key="pk-ok-1", order_id="order-2026-0001", amount=15000, idempotency_key="idem-1"
    )

    assert approval.provider == "toss"
    assert approval.payment_key == "pk-ok-1"
    assert approval.amount == 15000
    assert approval.method == "카드"
    assert approval.raw["orderId"] == "order-2026-0001"
    assert approval.raw["status"] == "DONE"
    # Toss answers +09:00; the approval is the same instant in UTC
    seoul = datetime.fromisoformat(toss.payments["pk-ok-1"]["approvedAt"])
    assert approval.approved_at == seoul
    assert approval.approved_at.utcoffset() == UTC.utcoffset(None)

    [sent] = toss.requests_to("/v1/payments/confirm")
    expected_auth = "Basic " + base64.b64encode(f"{FAKE_SECRET_KEY}:".encode()).decode()
    assert sent.headers["authorization"] == expected_auth
    assert sent.headers["idempotency-key"] == "idem-1"
    assert sent.headers["content-type"].startswith("application/json")
    assert sent.body == {"paymentKey": "pk-ok-1", "orderId": "order-2026-0001", "amount": 15000}


async def test_a_wrong_secret_key_is_refused_and_the_order_stays_payable(toss: FakeToss) -> None:
    gateway = gateway_for(toss, secret_key="test_sk_not-the-right-key")

    with pytest.raises(PaymentUnavailable) as caught:
        await gateway.confirm(
            payment_key="pk-auth", order_id="o-auth", amount=1000, idempotency_key="idem-auth"
        )

    assert caught.value.status == 503
    assert caught.value.extra["provider_code"] == "UNAUTHORIZED_KEY"
    assert "pk-auth" not in toss.payments


@pytest.mark.parametrize(
    ("payment_key", "provider_code"),
    [("decline-card", "REJECT_CARD_PAYMENT"), ("expired-card", "INVALID_CARD_EXPIRATION")],
)
async def test_a_declined_card_is_payment_declined_with_the_provider_code(
    toss: FakeToss, payment_key: str, provider_code: str
) -> None:
    gateway = gateway_for(toss)

    with pytest.raises(PaymentDeclined) as caught:
        await gateway.confirm(
            payment_key=payment_key, order_id="o-1", amount=5000, idempotency_key=payment_key
        )

    assert caught.value.status == 402
    assert caught.value.extra["provider_code"] == provider_code
    assert caught.value.extra["provider_message"]
    assert payment_key not in toss.payments


async def test_declined_renders_as_a_402_problem_with_the_provider_code(toss: FakeToss) -> None:
    gateway = gateway_for(toss)
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/pay")
    async def pay() -> dict[str, str]:
        await gateway.confirm(
            payment_key="decline-render", order_id="o-r", amount=900, idempotency_key="idem-r"
        )
        return {"status": "paid"}

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        response = await client.post("/pay", headers={"Accept-Language": "en"})

    assert response.status_code == 402
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "/problems/payment-declined"
    assert body["code"] == "payment-declined"
    assert body["provider_code"] == "REJECT_CARD_PAYMENT"
    assert body["provider_message"] == "한도초과 혹은 잔액부족으로 결제에 실패했습니다."


async def test_a_timeout_is_unavailable_and_the_retry_gets_the_approval(toss: FakeToss) -> None:
    gateway = gateway_for(toss, timeout=0.2)

    with pytest.raises(PaymentUnavailable) as caught:
        await gateway.confirm(
            payment_key="slow-1", order_id="o-slow", amount=7000, idempotency_key="idem-slow"
        )
    assert caught.value.status == 503
    assert caught.value.extra["provider_code"] == "TIMEOUT"

    # Toss went on and approved the payment whose answer we lost
    wait_for_payment(toss, "slow-1")
    patient = gateway_for(toss, timeout=5.0)
    same_key = await patient.confirm(
        payment_key="slow-1", order_id="o-slow", amount=7000, idempotency_key="idem-slow"
    )
    new_key = await patient.confirm(
        payment_key="slow-1", order_id="o-slow", amount=7000, idempotency_key="idem-slow-2"
    )
    assert same_key.amount == new_key.amount == 7000
    assert same_key.approved_at == new_key.approved_at
    assert toss.payments["slow-1"]["status"] == "DONE"


async def test_a_duplicate_confirm_returns_the_same_approval(toss: FakeToss) -> None:
    gateway = gateway_for(toss)
    first = await gateway.confirm(
        payment_key="pk-dup", order_id="o-dup", amount=32000, idempotency_key="idem-dup-1"
    )

    # with another key Toss says ALREADY_PROCESSED_PAYMENT; the adapter reads the payment back
    second = await gateway.confirm(
        payment_key="pk-dup", order_id="o-dup", amount=32000, idempotency_key="idem-dup-2"
    )
    # with the same key Toss replays its first answer
    third = await gateway.confirm(
        payment_key="pk-dup", order_id="o-dup", amount=32000, idempotency_key="idem-dup-1"
    )

    assert (second.payment_key, second.amount, second.approved_at) == (
        first.payment_key,
        first.amount,
        first.approved_at,
    )
    assert third.approved_at == first.approved_at
    assert len(toss.requests_to("/v1/payments/pk-dup")) == 1  # one GET, for the second confirm
    assert len(toss.payments) == 1


@pytest.mark.parametrize(("order_id", "amount"), [("o-other", 32000), ("o-dup", 1)])
async def test_a_duplicate_confirm_for_another_order_or_amount_is_declined(
    toss: FakeToss, order_id: str, amount: int
) -> None:
    gateway = gateway_for(toss)
    await gateway.confirm(
        payment_key="pk-dup", order_id="o-dup", amount=32000, idempotency_key="idem-a"
    )

    with pytest.raises(PaymentDeclined) as caught:
        await gateway.confirm(
            payment_key="pk-dup", order_id=order_id, amount=amount, idempotency_key="idem-b"
        )

    assert caught.value.extra["provider_code"] == "ALREADY_PROCESSED_PAYMENT"


@pytest.mark.parametrize(
    ("payment_key", "provider_code"),
    [
        ("error-500", "FAILED_INTERNAL_SYSTEM_PROCESSING"),
        ("provider-hiccup", "PROVIDER_ERROR"),
        ("garbled-proxy", "INVALID_RESPONSE"),
    ],
)
async def test_provider_errors_are_unavailable(
    toss: FakeToss, payment_key: str, provider_code: str
) -> None:
    gateway = gateway_for(toss)

    with pytest.raises(PaymentUnavailable) as caught:
        await gateway.confirm(
            payment_key=payment_key, order_id="o-e", amount=100, idempotency_key=payment_key
        )

    assert caught.value.extra["provider_code"] == provider_code


async def test_an_unreachable_provider_is_unavailable() -> None:
    closed = FakeToss(base_url="http://127.0.0.1:9")  # discard port: nothing listens
    gateway = gateway_for(closed, timeout=1.0)

    with pytest.raises(PaymentUnavailable) as caught:
        await gateway.confirm(payment_key="pk", order_id="o", amount=100, idempotency_key="k")

    assert caught.value.extra["provider_code"] in {"CONNECTION_ERROR", "TIMEOUT"}


async def test_full_cancel_refunds_everything_once(toss: FakeToss) -> None:
    gateway = gateway_for(toss)
    await gateway.confirm(
        payment_key="pk-cancel", order_id="o-c", amount=10000, idempotency_key="idem-c"
    )

    await gateway.cancel(
        payment_key="pk-cancel", reason="고객 변심 <b>취소</b>", amount=None, idempotency_key="cx-1"
    )
    # a retried full refund with a new key is still a success, not an error
    await gateway.cancel(
        payment_key="pk-cancel", reason="고객 변심", amount=None, idempotency_key="cx-2"
    )

    payment = toss.payments["pk-cancel"]
    assert payment["status"] == "CANCELED"
    assert payment["balanceAmount"] == 0
    assert [c["cancelAmount"] for c in payment["cancels"]] == [10000]
    sent = toss.requests_to("/v1/payments/pk-cancel/cancel")
    assert sent[0].body == {"cancelReason": "고객 변심 <b>취소</b>"}
    assert [r.headers["idempotency-key"] for r in sent] == ["cx-1", "cx-2"]


async def test_partial_cancel_refunds_the_amount_once_per_idempotency_key(toss: FakeToss) -> None:
    gateway = gateway_for(toss)
    await gateway.confirm(
        payment_key="pk-part", order_id="o-p", amount=10000, idempotency_key="idem-p"
    )

    await gateway.cancel(
        payment_key="pk-part", reason="부분 반품", amount=3000, idempotency_key="part-1"
    )
    await gateway.cancel(
        payment_key="pk-part", reason="부분 반품", amount=3000, idempotency_key="part-1"
    )

    payment = toss.payments["pk-part"]
    assert payment["status"] == "PARTIAL_CANCELED"
    assert payment["balanceAmount"] == 7000
    assert toss.requests_to("/v1/payments/pk-part/cancel")[0].body == {
        "cancelReason": "부분 반품",
        "cancelAmount": 3000,
    }

    with pytest.raises(PaymentDeclined) as caught:
        await gateway.cancel(
            payment_key="pk-part", reason="too much", amount=7001, idempotency_key="part-2"
        )
    assert caught.value.extra["provider_code"] == "NOT_CANCELABLE_AMOUNT"

    await gateway.cancel(
        payment_key="pk-part", reason="나머지", amount=7000, idempotency_key="part-3"
    )
    assert toss.payments["pk-part"]["status"] == "CANCELED"
    assert toss.payments["pk-part"]["balanceAmount"] == 0


async def test_cancelling_an_unknown_payment_is_declined(toss: FakeToss) -> None:
    gateway = gateway_for(toss)

    with pytest.raises(PaymentDeclined) as caught:
        await gateway.cancel(
            payment_key="pk-nobody", reason="x", amount=None, idempotency_key="cx-nobody"
        )

    assert caught.value.extra["provider_code"] == "NOT_FOUND_PAYMENT"


async def test_get_payment_reads_the_payment_back(toss: FakeToss) -> None:
    gateway = gateway_for(toss)
    assert isinstance(gateway, TossPaymentsGateway)
    assert await gateway.get_payment("pk-unknown") is None

    await gateway.confirm(
        payment_key="pk-read", order_id="o-read", amount=4200, idempotency_key="r"
    )

    payment = await gateway.get_payment("pk-read")
    assert payment is not None
    assert (payment["orderId"], payment["totalAmount"], payment["status"]) == (
        "o-read",
        4200,
        "DONE",
    )


def test_make_gateway_chooses_by_settings() -> None:
    assert isinstance(make_gateway(Settings(env="test")), DummyGateway)
    toss = make_gateway(Settings(env="test", payment_provider="toss", toss_secret_key="test_sk_x"))
    assert isinstance(toss, TossPaymentsGateway)
    assert toss.name == "toss"
    with pytest.raises(ValueError, match="TOSS_SECRET_KEY"):
        make_gateway(Settings(env="test", payment_provider="toss", toss_secret_key=""))
