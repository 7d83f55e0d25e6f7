"""The payment provider port and its adapters: an in-memory dummy and Toss Payments (API v1)."""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from jangteo.core.clock import Clock, SystemClock
from jangteo.core.errors import define
from jangteo.settings import Settings

log = logging.getLogger("jangteo.payments")

PaymentDeclined = define("payment-declined", 402, "The payment was declined.")
PaymentUnavailable = define(
    "payment-provider-unavailable",
    503,
    "The payment service is not answering. Please try again shortly.",
)

# Toss answers these with 4xx, yet they say "try again later", not "this card said no"
_RETRYABLE_CODES = frozenset(
    {
        "PROVIDER_ERROR",
        "FAILED_INTERNAL_SYSTEM_PROCESSING",
        "FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING",
        "UNKNOWN_PAYMENT_ERROR",
        "IDEMPOTENT_REQUEST_PROCESSING",
        "UNAUTHORIZED_KEY",
    }
)


@dataclass
class PaymentApproval:
    provider: str
    payment_key: str
    amount: int
    method: str | None
    approved_at: datetime
    raw: dict[str, Any] = field(default_factory=dict)


class PaymentGateway(Protocol):
    name: str

    async def confirm(
        self, *, payment_key: str, order_id: str, amount: int, idempotency_key: str
    ) -> PaymentApproval:
        """Approve a payment the buyer authorised; raises PaymentDeclined/PaymentUnavailable."""
        ...

    async def cancel(
        self, *, payment_key: str, reason: str, amount: int | None, idempotency_key: str
    ) -> None:
        """Refund all (amount None) or part of an approved payment."""
        ...

    async def issue_billing_key(self, *, auth_key: str, customer_key: str) -> str:
        """Turn the buyer's card registration (auth key) into a key for recurring charges."""
        ...

    async def charge_billing(
        self,
        *,
        billing_key: str,
        customer_key: str,
        order_id: str,
        amount: int,
        order_name: str,
        idempotency_key: str,
    ) -> PaymentApproval:
        """Charge a registered card without the buyer (a subscription's renewal)."""
        ...


class DummyGateway:
    """Approves every payment key, for `make run` and tests.

    Keys starting with "dummy-decline" are declined and keys starting with "dummy-unavailable"
    behave like a provider outage. Approvals are kept in memory only so that a repeated confirm
    answers the same approval, as the real provider does.
    """

    name = "dummy"

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()
        self.approvals: dict[str, tuple[str, PaymentApproval]] = {}
        self.cancellations: list[dict[str, Any]] = []
        # billing keys whose card stops working (tests: a renewal that fails)
        self.declining: set[str] = set()
        self.charges: dict[str, PaymentApproval] = {}

    async def confirm(
        self, *, payment_key: str, order_id: str, amount: int, idempotency_key: str
    ) -> PaymentApproval:
        if payment_key.startswith("dummy-decline"):
            raise PaymentDeclined(
                provider_code="REJECT_CARD_PAYMENT",
                provider_message="The dummy provider declines keys starting with dummy-decline.",
            )
        if payment_key.startswith("dummy-unavailable"):
            raise PaymentUnavailable(provider_code="DUMMY_UNAVAILABLE")
        known = self.approvals.get(payment_key)
        if known is not None:
            known_order, approval = known
            if known_order != order_id or approval.amount != amount:
                raise PaymentDeclined(
                    provider_code="ALREADY_PROCESSED_PAYMENT",
                    provider_message="The payment key was approved for another order or amount.",
                )
            return approval
        approval = PaymentApproval(
            provider=self.name,
            payment_key=payment_key,
            amount=amount,
            method="CARD",
            approved_at=self.clock.now(),
            raw={"paymentKey": payment_key, "orderId": order_id, "totalAmount": amount},
        )
        self.approvals[payment_key] = (order_id, approval)
        return approval

    async def cancel(
        self, *, payment_key: str, reason: str, amount: int | None, idempotency_key: str
    ) -> None:
        if any(c["idempotency_key"] == idempotency_key for c in self.cancellations):
            return
        self.cancellations.append(
            {
                "payment_key": payment_key,
                "reason": reason,
                "amount": amount,
                "idempotency_key": idempotency_key,
            }
        )

    async def issue_billing_key(self, *, auth_key: str, customer_key: str) -> str:
        if auth_key.startswith("dummy-decline"):
            raise PaymentDeclined(provider_code="INVALID_CARD_NUMBER")
        return f"billing-{customer_key}-{auth_key}"

    async def charge_billing(
        self,
        *,
        billing_key: str,
        customer_key: str,
        order_id: str,
        amount: int,
        order_name: str,
        idempotency_key: str,
    ) -> PaymentApproval:
        if billing_key in self.declining:
            raise PaymentDeclined(provider_code="REJECT_CARD_PAYMENT")
        if idempotency_key in self.charges:
            return self.charges[idempotency_key]
        approval = PaymentApproval(
            provider=self.name,
            payment_key=f"dummy-billing-{order_id}",
            amount=amount,
            method="CARD",
            approved_at=self.clock.now(),
            raw={"orderId": order_id, "totalAmount": amount, "orderName": order_name},
        )
        self.charges[idempotency_key] = approval
        return approval


def _basic_auth(secret_key: str) -> str:
    # Toss uses the secret key as the user name and no password, hence the trailing colon
    return "Basic " + base64.b64encode(f"{secret_key}:".encode()).decode()


def _error_of(response: httpx.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    return str(body.get("code") or f"HTTP_{response.status_code}"), str(body.get("message") or "")


def _payment_of(response: httpx.Response) -> dict[str, Any]:
    """The Payment object of a successful answer; anything else means Toss is not itself."""
    try:
        payment = response.json()
    except ValueError:
        payment = None
    if (
        not isinstance(payment, dict)
        or not isinstance(payment.get("paymentKey"), str)
        or not isinstance(payment.get("totalAmount"), int)
    ):
        log.error(
            "toss answered something that is not a payment", extra={"body": response.text[:500]}
        )
        raise PaymentUnavailable(provider_code="INVALID_RESPONSE")
    return payment


class TossPaymentsGateway:
    """Toss Payments core API v1 over HTTPS (https://docs.tosspayments.com/reference)."""

    name = "toss"

    def __init__(
        self,
        secret_key: str,
        api_base: str = "https://api.tosspayments.com",
        timeout: float = 10.0,
        clock: Clock | None = None,
    ) -> None:
        if not secret_key:
            raise ValueError("JANGTEO_TOSS_SECRET_KEY must be set to use Toss Payments")
        self._authorization = _basic_auth(secret_key)
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout
        self.clock = clock or SystemClock()

    def _client(self) -> httpx.AsyncClient:
        # one short-lived client per operation: no pool to close at shutdown, and payments
        # are rare enough that a fresh connection costs nothing that matters
        return httpx.AsyncClient(
            base_url=self.api_base,
            timeout=self.timeout,
            headers={"Authorization": self._authorization, "Accept": "application/json"},
        )

    async def _send(
        self,
        http: httpx.AsyncClient,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        try:
            response = await http.request(method, path, json=json, headers=headers)
        except httpx.TimeoutException as exc:
            log.warning("toss timed out", extra={"path": path})
            raise PaymentUnavailable(provider_code="TIMEOUT") from exc
        except httpx.HTTPError as exc:
            log.warning("toss unreachable", extra={"path": path, "error": type(exc).__name__})
            raise PaymentUnavailable(provider_code="CONNECTION_ERROR") from exc
        if response.status_code >= 500 or response.status_code in (401, 403, 429):
            code, message = _error_of(response)
            if response.status_code in (401, 403):
                # our key is wrong: the buyer did nothing wrong, so the order stays payable
                log.error("toss refused our credentials", extra={"code": code})
            raise PaymentUnavailable(provider_code=code, provider_message=message)
        return response

    def _approval(self, payment: dict[str, Any]) -> PaymentApproval:
        try:
            # Toss answers in Seoul time (+09:00); we keep UTC
            approved_at = datetime.fromisoformat(str(payment["approvedAt"])).astimezone(UTC)
        except (KeyError, ValueError):
            approved_at = self.clock.now()
        return PaymentApproval(
            provider=self.name,
            payment_key=str(payment["paymentKey"]),
            amount=int(payment["totalAmount"]),
            method=payment.get("method"),
            approved_at=approved_at,
            raw=payment,
        )

    async def confirm(
        self, *, payment_key: str, order_id: str, amount: int, idempotency_key: str
    ) -> PaymentApproval:
        async with self._client() as http:
            response = await self._send(
                http,
                "POST",
                "/v1/payments/confirm",
                json={"paymentKey": payment_key, "orderId": order_id, "amount": amount},
                idempotency_key=idempotency_key,
            )
            if response.is_success:
                payment = _payment_of(response)
            else:
                code, message = _error_of(response)
                if code in _RETRYABLE_CODES:
                    raise PaymentUnavailable(provider_code=code, provider_message=message)
                if code != "ALREADY_PROCESSED_PAYMENT":
                    raise PaymentDeclined(provider_code=code, provider_message=message)
                # a confirm whose answer was lost: the approval is there, read it back
                payment = await self._fetch(http, payment_key)
                if payment is None:
                    raise PaymentDeclined(provider_code=code, provider_message=message)
        if (
            payment.get("orderId") != order_id
            or payment.get("totalAmount") != amount
            or payment.get("status") != "DONE"
        ):
            raise PaymentDeclined(
                provider_code="ALREADY_PROCESSED_PAYMENT",
                provider_message="The payment belongs to another order or amount.",
            )
        return self._approval(payment)

    async def _fetch(self, http: httpx.AsyncClient, payment_key: str) -> dict[str, Any] | None:
        response = await self._send(http, "GET", f"/v1/payments/{quote(payment_key, safe='')}")
        if response.status_code == 404:
            return None
        if not response.is_success:
            code, message = _error_of(response)
            raise PaymentUnavailable(provider_code=code, provider_message=message)
        return _payment_of(response)

    async def get_payment(self, payment_key: str) -> dict[str, Any] | None:
        """The Payment object as Toss has it, or None if Toss does not know the key."""
        async with self._client() as http:
            return await self._fetch(http, payment_key)

    async def cancel(
        self, *, payment_key: str, reason: str, amount: int | None, idempotency_key: str
    ) -> None:
        body: dict[str, Any] = {"cancelReason": reason[:200]}
        if amount is not None:
            body["cancelAmount"] = amount
        async with self._client() as http:
            response = await self._send(
                http,
                "POST",
                f"/v1/payments/{quote(payment_key, safe='')}/cancel",
                json=body,
                idempotency_key=idempotency_key,
            )
        if response.is_success:
            return
        code, message = _error_of(response)
        if code == "ALREADY_CANCELED_PAYMENT" and amount is None:
            return  # a full refund that already happened is the outcome we wanted
        if code in _RETRYABLE_CODES:
            raise PaymentUnavailable(provider_code=code, provider_message=message)
        raise PaymentDeclined(provider_code=code, provider_message=message)

    async def issue_billing_key(self, *, auth_key: str, customer_key: str) -> str:
        async with self._client() as http:
            response = await self._send(
                http,
                "POST",
                "/v1/billing/authorizations/issue",
                json={"authKey": auth_key, "customerKey": customer_key},
            )
        if not response.is_success:
            code, message = _error_of(response)
            if code in _RETRYABLE_CODES:
                raise PaymentUnavailable(provider_code=code, provider_message=message)
            raise PaymentDeclined(provider_code=code, provider_message=message)
        billing_key = response.json().get("billingKey")
        if not isinstance(billing_key, str) or not billing_key:
            raise PaymentUnavailable(provider_code="INVALID_RESPONSE")
        return billing_key

    async def charge_billing(
        self,
        *,
        billing_key: str,
        customer_key: str,
        order_id: str,
        amount: int,
        order_name: str,
        idempotency_key: str,
    ) -> PaymentApproval:
        async with self._client() as http:
            response = await self._send(
                http,
                "POST",
                f"/v1/billing/{quote(billing_key, safe='')}",
                json={
                    "customerKey": customer_key,
                    "amount": amount,
                    "orderId": order_id,
                    "orderName": order_name[:100],
                },
                idempotency_key=idempotency_key,
            )
        if not response.is_success:
            code, message = _error_of(response)
            if code in _RETRYABLE_CODES:
                raise PaymentUnavailable(provider_code=code, provider_message=message)
            raise PaymentDeclined(provider_code=code, provider_message=message)
        payment = _payment_of(response)
        if payment.get("orderId") != order_id or payment.get("totalAmount") != amount:
            raise PaymentDeclined(
                provider_code="INVALID_RESPONSE",
                provider_message="The charge answered another order or amount.",
            )
        return self._approval(payment)


def make_gateway(settings: Settings, clock: Clock | None = None) -> PaymentGateway:
    """The payment gateway `settings.payment_provider` names ("dummy" or "toss")."""
    if settings.payment_provider == "toss":
        return TossPaymentsGateway(
            settings.toss_secret_key,
            settings.toss_api_base,
            settings.toss_timeout_seconds,
            clock,
        )
    if settings.payment_provider == "dummy":
        return DummyGateway(clock)
    raise ValueError(f"unknown payment provider {settings.payment_provider!r}")
