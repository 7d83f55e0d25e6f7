"""HTTP plumbing shared by every router: request ids, JSON logs, body limits, locale, headers."""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jangteo.core.errors import PayloadTooLarge, problem
from jangteo.core.i18n import negotiate_locale, translate

access_log = logging.getLogger("jangteo.access")


def json_response(body: Any, status_code: int = 200) -> Response:
    """JSON straight from plain values, for hot reads that shape their answer themselves.

    Written the way the response models write it: UUIDs as text, UTC times with a `Z`.
    """
    return Response(
        orjson.dumps(body, option=orjson.OPT_UTC_Z),
        status_code=status_code,
        media_type="application/json",
    )


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; "
        b"script-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'self'; "
        b"form-action 'self'",
    ),
]


class JsonLogFormatter(logging.Formatter):
    _skip = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in self._skip})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(json_logs: bool) -> None:
    handler = logging.StreamHandler()
    if json_logs:
        handler.setFormatter(JsonLogFormatter())
    root = logging.getLogger("jangteo")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False


class RequestContextMiddleware:
    """Tags each request with an id (kept from X-Request-ID when sane) and a locale, refuses
    bodies over the size limit before reading them, adds security headers, and logs one line."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        given = headers.get("x-request-id", "")
        request_id = given if 0 < len(given) <= 64 and given.isprintable() else uuid.uuid4().hex
        query_lang = None
        for part in scope.get("query_string", b"").decode("latin-1").split("&"):
            if part.startswith("lang="):
                query_lang = part[5:]
        locale = negotiate_locale(headers.get("accept-language"), query_lang)
        state = scope.setdefault("state", {})
        state["request_id"], state["locale"] = request_id, locale
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                extra = [
                    (b"x-request-id", request_id.encode()),
                    (b"content-language", locale.encode()),
                ]
                existing = {k.lower() for k, _ in message.get("headers", [])}
                extra += [h for h in SECURITY_HEADERS if h[0] not in existing]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        limit = (
            self.max_upload_bytes
            if headers.get("content-type", "").startswith("multipart/")
            else self.max_body_bytes
        )
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._too_large(scope, send_wrapper, locale, request_id, limit)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge(max_bytes=limit)
            return message

        try:
            await self.app(scope, limited_receive, send_wrapper)
        finally:
            access_log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status_holder["status"],
                    "ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )

    @staticmethod
    async def _too_large(
        scope: Scope, send: Send, locale: str, request_id: str, limit: int
    ) -> None:
        body = problem(
            "payload-too-large",
            413,
            translate("The request body is too large.", locale),
            max_bytes=limit,
            instance=scope["path"],
            request_id=request_id,
        )
        payload = json.dumps(body, ensure_ascii=False).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
