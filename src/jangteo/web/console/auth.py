"""Console log-in (password, then the authenticator code), two-factor enrolment, log-out.

Staff share the storefront's session cookies; what the console adds is that it opens only to a
session that passed a second factor, and leads staff without one through enrolment first.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from jangteo.web.client import ApiProblem
from jangteo.web.console.common import STAFF_ROLES, ConsoleForbidden, notice, token_has_mfa
from jangteo.web.forms import FormErrors
from jangteo.web.login import attempt_login
from jangteo.web.page import CheckedWeb, Web, WebDep, safe_next
from jangteo.web.storefront.account import QR_PREFIX, enrolment_view

router = APIRouter()


def _next(value: str | None) -> str:
    target = safe_next(value, default="/console")
    return target if target.startswith("/console") else "/console"


def _login_page(
    web: Web,
    *,
    values: dict[str, str],
    errors: FormErrors | None = None,
    second_step: bool = False,
    status_code: int = 200,
) -> Response:
    return web.render(
        "console/login.html",
        status_code=status_code,
        values=values,
        errors=errors or FormErrors(),
        second_step=second_step,
        next=_next(values.get("next")),
        notice=notice(web),
        staff=None,
    )


@router.get("/console/login")
async def login_form(web: WebDep) -> Response:
    next_path = _next(web.request.query_params.get("next"))
    if web.session.logged_in and token_has_mfa(web.session.access_token):
        return web.redirect(next_path)
    return _login_page(web, values={"next": next_path})


@router.post("/console/login")
async def log_in(web: CheckedWeb) -> Response:
    attempt = await attempt_login(web)
    values, grant = attempt.values, attempt.grant
    if grant is None:
        return _login_page(
            web,
            values=values,
            errors=attempt.errors,
            second_step=attempt.second_step,
            status_code=attempt.status_code,
        )
    web.session.set_tokens(grant)
    # a new session gets a new CSRF token, so a token planted before log-in is worthless
    web.session.rotate_csrf()
    if not set(grant["member"]["roles"]) & STAFF_ROLES:
        raise ConsoleForbidden()
    if not grant["member"]["mfa_enabled"]:
        return web.redirect("/console/mfa")
    return web.redirect(_next(values["next"]))


@router.post("/console/logout")
async def log_out(web: CheckedWeb) -> Response:
    if web.session.logged_in:
        try:
            await web.api.post("/api/v1/auth/logout")
        except ApiProblem as problem:
            if problem.status >= 500:
                raise
            # an expired or revoked session is logged out already
    web.session.clear_tokens()
    web.session.clear_cart()
    web.session.rotate_csrf()
    return web.redirect("/console/login?notice=logged-out")


# ---- two-factor enrolment: required before any other console page ----------------------------


async def _enrolling_staff(web: Web) -> dict[str, Any] | None:
    """The visitor's profile when they are staff still without two-factor authentication;
    None when they have it already (the console is open to them)."""
    if not web.session.logged_in:
        raise ApiProblem(401, "unauthenticated", "Authentication is required.")
    me = await web.api.get("/api/v1/me")
    if not set(me["roles"]) & STAFF_ROLES:
        raise ConsoleForbidden()
    return None if me["mfa_enabled"] else me  # type: ignore[no-any-return]


def _mfa_page(
    web: Web,
    profile: dict[str, Any] | None,
    *,
    enrolment: dict[str, str] | None = None,
    recovery_codes: list[str] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    return web.render(
        "console/mfa.html",
        status_code=status_code,
        profile=profile,
        enrolment=enrolment,
        recovery_codes=recovery_codes,
        errors=errors or FormErrors(),
        staff=None,
    )


@router.get("/console/mfa")
async def mfa_intro(web: WebDep) -> Response:
    profile = await _enrolling_staff(web)
    if profile is None:
        return web.redirect("/console")
    return _mfa_page(web, profile)


@router.post("/console/mfa/start")
async def mfa_start(web: CheckedWeb) -> Response:
    profile = await _enrolling_staff(web)
    if profile is None:
        return web.redirect("/console")
    answer = await web.api.post("/api/v1/me/mfa/totp")
    return _mfa_page(web, profile, enrolment=enrolment_view(answer))


@router.post("/console/mfa/confirm")
async def mfa_confirm(web: CheckedWeb) -> Response:
    profile = await _enrolling_staff(web)
    if profile is None:
        return web.redirect("/console")
    code = (await web.field("code")).replace(" ", "")
    enrolment = {name: await web.field(name) for name in ("secret", "otpauth_uri", "qr")}
    if not enrolment["qr"].startswith(QR_PREFIX):
        enrolment["qr"] = ""
    try:
        answer = await web.api.post("/api/v1/me/mfa/totp/confirm", json={"code": code})
    except ApiProblem as problem:
        if problem.status >= 500 or problem.status == 401:
            raise
        errors = FormErrors.from_problem(
            problem,
            web.locale,
            {"code": code},
            code_fields={"wrong-mfa-code": "code", "invalid-mfa-code": "code"},
        )
        return _mfa_page(
            web, profile, enrolment=enrolment, errors=errors, status_code=problem.status
        )
    web.session.set_tokens(answer)
    return _mfa_page(web, profile, recovery_codes=list(answer["recovery_codes"]))
