"""RFC 9457 problem details: one error class with a stable slug, and the handlers."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from jangteo.core.i18n import translate

PROBLEM_BASE = "/problems/"
log = logging.getLogger("jangteo.errors")


class DomainError(Exception):
    """A rule of the domain said no. `slug` is stable and documented; `title` is translated."""

    status = 400
    slug = "bad-request"
    title = "The request cannot be processed."

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.extra = extra


def problem(slug: str, status: int, title: str, **more: Any) -> dict[str, Any]:
    return {"type": PROBLEM_BASE + slug, "code": slug, "title": title, "status": status, **more}


def define(slug: str, status: int, title: str) -> type[DomainError]:
    """A DomainError subclass for one problem type, e.g. OutOfStock = define("out-of-stock", …)."""
    name = "".join(part.capitalize() for part in slug.split("-")) + "Error"
    return type(name, (DomainError,), {"slug": slug, "status": status, "title": title})


NotFound = define("not-found", 404, "The resource does not exist.")
Conflict = define("conflict", 409, "The request conflicts with the current state.")
Unauthenticated = define("unauthenticated", 401, "Authentication is required.")
Forbidden = define("forbidden", 403, "You are not allowed to do this.")
MfaRequired = define("mfa-required", 403, "Two-factor authentication must be enabled first.")
RateLimited = define("rate-limited", 429, "Too many attempts. Try again later.")
InvalidInput = define("invalid-input", 422, "The input is not valid.")
PayloadTooLarge = define("payload-too-large", 413, "The request body is too large.")
IdempotencyConflict = define(
    "idempotency-key-reused", 422, "This Idempotency-Key was used for a different request."
)
IdempotencyInProgress = define(
    "idempotency-in-progress", 409, "A request with this Idempotency-Key is still in progress."
)


def _locale(request: Request) -> str:
    return getattr(request.state, "locale", "ko")


def problem_response(
    request: Request, body: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    body.setdefault("instance", request.url.path)
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body.setdefault("request_id", request_id)
    return JSONResponse(
        body, status_code=body["status"], headers=headers, media_type="application/problem+json"
    )


def _pointer(loc: tuple[Any, ...] | list[Any]) -> str:
    return "/" + "/".join(str(part) for part in loc)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        locale = _locale(request)
        body = problem(exc.slug, exc.status, translate(exc.title, locale))
        if exc.detail:
            body["detail"] = translate(exc.detail, locale)
        body.update(exc.extra)
        headers = None
        if "retry_after" in exc.extra:
            headers = {"Retry-After": str(exc.extra["retry_after"])}
        if exc.status == 401:
            headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
        return problem_response(request, body, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        locale = _locale(request)
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            body = problem("malformed-json", 400, translate("The body is not valid JSON.", locale))
            return problem_response(request, body)
        body = problem("validation-error", 422, translate("The input is not valid.", locale))
        body["errors"] = [
            {
                "pointer": _pointer(e.get("loc", ())),
                "detail": e.get("msg", ""),
                "type": e.get("type", ""),
            }
            for e in errors
        ]
        return problem_response(request, body)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.__cause__, DomainError):  # raised while the body was being read
            return await _domain(request, exc.__cause__)
        slugs = {
            404: "not-found",
            405: "method-not-allowed",
            413: "payload-too-large",
            401: "unauthenticated",
            403: "forbidden",
            415: "unsupported-media-type",
        }
        slug = slugs.get(exc.status_code, f"http-{exc.status_code}")
        title = exc.detail if isinstance(exc.detail, str) else "Error"
        body = problem(slug, exc.status_code, translate(title, _locale(request)))
        return problem_response(request, body, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        body = problem(
            "internal-error", 500, translate("Something went wrong on our side.", _locale(request))
        )
        return problem_response(request, body)
