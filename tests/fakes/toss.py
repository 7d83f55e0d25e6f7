"""A fake Toss Payments API v1 (confirm, fetch, cancel) served over real HTTP for adapter tests.

Scenarios are chosen by the paymentKey's prefix, as a tester would with test cards:
`decline-` → 400 REJECT_CARD_PAYMENT, `expired-` → 400 INVALID_CARD_EXPIRATION,
`provider-` → 400 PROVIDER_ERROR, `error-` → 500 FAILED_INTERNAL_SYSTEM_PROCESSING,
`slow-` → answers after `slow_seconds` (and still approves, like a response lost to a timeout),
`garbled-` → 200 with a body that is no Payment object (a misbehaving proxy).
Like Toss, a POST repeated with the same Idempotency-Key answers the first response again.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SEOUL = ZoneInfo("Asia/Seoul")
FAKE_SECRET_KEY = "test_sk_fakeTossSecretKey0000000000"

_MESSAGES = {
    "UNAUTHORIZED_KEY": "인증되지 않은 시크릿 키 혹은 클라이언트 키 입니다.",
    "REJECT_CARD_PAYMENT": "한도초과 혹은 잔액부족으로 결제에 실패했습니다.",
    "INVALID_CARD_EXPIRATION": "카드 정보를 다시 확인해주세요. (유효기간)",
    "PROVIDER_ERROR": "일시적인 오류가 발생했습니다. 잠시 후 다시 시도해주세요.",
    "FAILED_INTERNAL_SYSTEM_PROCESSING": "내부 시스템 처리 작업이 실패했습니다.",
    "ALREADY_PROCESSED_PAYMENT": "이미 처리된 결제 입니다.",
    "NOT_FOUND_PAYMENT": "존재하지 않는 결제 정보 입니다.",
    "ALREADY_CANCELED_PAYMENT": "이미 취소된 결제 입니다.",
    "NOT_CANCELABLE_AMOUNT": "취소 할 수 없는 금액 입니다.",
    "INVALID_REQUEST": "잘못된 요청입니다.",
    "IDEMPOTENT_REQUEST_PROCESSING": "이전 멱등 요청이 처리 중입니다.",
    "INVALID_CARD_NUMBER": "카드번호를 다시 확인해주세요.",
    "NOT_FOUND_BILLING": "존재하지 않는 빌링 정보입니다.",
}


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None


@dataclass
class FakeToss:
    """The fake's state: payments by key, every request received, idempotent answers."""

    secret_key: str = FAKE_SECRET_KEY
    slow_seconds: float = 1.0
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    # billing key → customer key; billing keys whose card stops working
    billing_keys: dict[str, str] = field(default_factory=dict)
    declining: set[str] = field(default_factory=set)
    base_url: str = ""
    _answers: dict[tuple[str, str, str], tuple[int, dict[str, Any]] | None] = field(
        default_factory=dict
    )
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def requests_to(self, path_suffix: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.endswith(path_suffix)]

    def reset(self) -> None:
        with self._lock:
            self.payments.clear()
            self.requests.clear()
            self._answers.clear()

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/payments/confirm", self._confirm, methods=["POST"]),
                Route("/v1/payments/{payment_key}", self._get, methods=["GET"]),
                Route("/v1/payments/{payment_key}/cancel", self._cancel, methods=["POST"]),
                Route("/v1/billing/authorizations/issue", self._issue, methods=["POST"]),
                Route("/v1/billing/{billing_key}", self._bill, methods=["POST"]),
            ]
        )

    # -- plumbing ------------------------------------------------------------------------

    async def _receive(self, request: Request) -> tuple[dict[str, Any] | None, JSONResponse | None]:
        """Record the request and check its credentials; a response means "answer this"."""
        body: dict[str, Any] | None = None
        if request.method == "POST":
            try:
                parsed = await request.json()
            except ValueError:
                parsed = None
            body = parsed if isinstance(parsed, dict) else None
        with self._lock:
            self.requests.append(
                RecordedRequest(request.method, request.url.path, dict(request.headers), body)
            )
        expected = "Basic " + base64.b64encode(f"{self.secret_key}:".encode()).decode()
        if request.headers.get("authorization") != expected:
            return body, _error(401, "UNAUTHORIZED_KEY")
        if request.method == "POST" and body is None:
            return body, _error(400, "INVALID_REQUEST")
        return body, None

    async def _idempotent(self, request: Request, handler: Any, *args: Any) -> JSONResponse:
        # Toss keys idempotency by (key, API key, URL, method) and replays the first answer
        key = request.headers.get("idempotency-key")
        if not key:
            status, payload = await handler(*args)
            return JSONResponse(payload, status_code=status)
        slot = (key, request.method, request.url.path)
        with self._lock:
            if slot in self._answers:
                answer = self._answers[slot]
                if answer is None:
                    return _error(409, "IDEMPOTENT_REQUEST_PROCESSING")
                return JSONResponse(answer[1], status_code=answer[0])
            self._answers[slot] = None
        try:
            status, payload = await handler(*args)
        except BaseException:
            with self._lock:
                self._answers.pop(slot, None)
            raise
        with self._lock:
            self._answers[slot] = (status, payload)
        return JSONResponse(payload, status_code=status)

    # -- endpoints -----------------------------------------------------------------------

    async def _confirm(self, request: Request) -> JSONResponse:
        body, refused = await self._receive(request)
        if refused is not None:
            return refused
        assert body is not None
        return await self._idempotent(request, self._approve, body)

    async def _approve(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        payment_key, order_id, amount = (
            body.get("paymentKey"),
            body.get("orderId"),
            body.get("amount"),
        )
        if not isinstance(payment_key, str) or not isinstance(order_id, str):
            return _problem(400, "INVALID_REQUEST")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            return _problem(400, "INVALID_REQUEST")
        if payment_key.startswith("slow-"):
            await asyncio.sleep(self.slow_seconds)
        if payment_key.startswith("garbled-"):
            return 200, {"error": "<html>502 Bad Gateway</html>"}
        for prefix, status, code in (
            ("decline-", 400, "REJECT_CARD_PAYMENT"),
            ("expired-", 400, "INVALID_CARD_EXPIRATION"),
            ("provider-", 400, "PROVIDER_ERROR"),
            ("error-", 500, "FAILED_INTERNAL_SYSTEM_PROCESSING"),
        ):
            if payment_key.startswith(prefix):
                return _problem(status, code)
        with self._lock:
            if payment_key in self.payments:
                return _problem(400, "ALREADY_PROCESSED_PAYMENT")
            now = datetime.now(SEOUL).replace(microsecond=0).isoformat()
            payment = {
                "mId": "tosspayments",
                "version": "2022-11-16",
                "paymentKey": payment_key,
                "orderId": order_id,
                "orderName": "jangteo order",
                "currency": "KRW",
                "method": "카드",
                "status": "DONE",
                "totalAmount": amount,
                "balanceAmount": amount,
                "requestedAt": now,
                "approvedAt": now,
                "cancels": None,
            }
            self.payments[payment_key] = payment
            return 200, dict(payment)

    async def _get(self, request: Request) -> JSONResponse:
        _, refused = await self._receive(request)
        if refused is not None:
            return refused
        with self._lock:
            payment = self.payments.get(request.path_params["payment_key"])
            if payment is None:
                return _error(404, "NOT_FOUND_PAYMENT")
            return JSONResponse(dict(payment))

    async def _cancel(self, request: Request) -> JSONResponse:
        body, refused = await self._receive(request)
        if refused is not None:
            return refused
        assert body is not None
        return await self._idempotent(
            request, self._refund, request.path_params["payment_key"], body
        )

    async def _refund(self, payment_key: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        reason, amount = body.get("cancelReason"), body.get("cancelAmount")
        if not isinstance(reason, str) or not reason:
            return _problem(400, "INVALID_REQUEST")
        with self._lock:
            payment = self.payments.get(payment_key)
            if payment is None:
                return _problem(404, "NOT_FOUND_PAYMENT")
            if payment["status"] == "CANCELED":
                return _problem(400, "ALREADY_CANCELED_PAYMENT")
            balance = payment["balanceAmount"]
            amount = balance if amount is None else amount
            if not isinstance(amount, int) or amount <= 0 or amount > balance:
                return _problem(400, "NOT_CANCELABLE_AMOUNT")
            payment["balanceAmount"] = balance - amount
            payment["status"] = "CANCELED" if amount == balance else "PARTIAL_CANCELED"
            payment["cancels"] = [
                *(payment["cancels"] or []),
                {
                    "cancelReason": reason,
                    "cancelAmount": amount,
                    "canceledAt": datetime.now(SEOUL).replace(microsecond=0).isoformat(),
                    "refundableAmount": payment["balanceAmount"],
                },
            ]
            return 200, dict(payment)

    # -- billing (recurring charges) -----------------------------------------------------

    async def _issue(self, request: Request) -> JSONResponse:
        body, refused = await self._receive(request)
        if refused is not None:
            return refused
        assert body is not None
        auth_key, customer_key = body.get("authKey"), body.get("customerKey")
        if not isinstance(auth_key, str) or not isinstance(customer_key, str):
            return _error(400, "INVALID_REQUEST")
        if auth_key.startswith("decline-"):
            return _error(400, "INVALID_CARD_NUMBER")
        billing_key = f"bk-{customer_key}-{auth_key}"
        with self._lock:
            self.billing_keys[billing_key] = customer_key
        return JSONResponse(
            {"mId": "tosspayments", "customerKey": customer_key, "billingKey": billing_key}
        )

    async def _bill(self, request: Request) -> JSONResponse:
        body, refused = await self._receive(request)
        if refused is not None:
            return refused
        assert body is not None
        return await self._idempotent(
            request, self._charge, request.path_params["billing_key"], body
        )

    async def _charge(self, billing_key: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            customer = self.billing_keys.get(billing_key)
        if customer is None or body.get("customerKey") != customer:
            return _problem(404, "NOT_FOUND_BILLING")
        if billing_key in self.declining:
            return _problem(400, "REJECT_CARD_PAYMENT")
        amount, order_id = body.get("amount"), body.get("orderId")
        if not isinstance(amount, int) or amount <= 0 or not isinstance(order_id, str):
            return _problem(400, "INVALID_REQUEST")
        return await self._approve(
            {"paymentKey": f"pk-{order_id}", "orderId": order_id, "amount": amount}
        )


def _problem(status: int, code: str) -> tuple[int, dict[str, Any]]:
    return status, {"code": code, "message": _MESSAGES[code]}


def _error(status: int, code: str) -> JSONResponse:
    return JSONResponse(_problem(status, code)[1], status_code=status)


def _answers(base_url: str) -> bool:
    try:
        # an unrouted path: answered with 404 and not recorded as a request
        return httpx.get(base_url + "/health", timeout=0.5).status_code == 404
    except httpx.HTTPError:
        return False


@contextmanager
def serve_fake_toss(
    fake: FakeToss | None = None, *, startup_timeout: float = 10.0
) -> Iterator[FakeToss]:
    """Run the fake on 127.0.0.1 with a free port in a background thread, as a real server."""
    fake = fake or FakeToss()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        fake.app(),
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    fake.base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + startup_timeout
    while not _answers(fake.base_url):
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the fake Toss server did not start")
        time.sleep(0.02)
    try:
        yield fake
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
