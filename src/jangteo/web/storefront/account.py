"""Sign-up, log-in (with the second step when the account has TOTP), log-out, account security."""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from jangteo.web.client import ApiProblem
from jangteo.web.forms import FormErrors
from jangteo.web.i18n import N_
from jangteo.web.login import attempt_login
from jangteo.web.page import CheckedWeb, Web, WebDep, safe_next
from jangteo.web.storefront.common import adopt_cart_after_login, cart_count, notice
from jangteo.web.storefront.rewards import link_visitor_later

router = APIRouter()

PASSWORDS_DIFFER = N_("The two passwords are not the same.")
QR_PREFIX = "data:image/svg+xml;base64,"


async def _logged_in(web: Web, grant: dict[str, Any]) -> None:
    web.session.set_tokens(grant)
    # a new session gets a new CSRF token, so a token planted before log-in is worthless
    web.session.rotate_csrf()
    await adopt_cart_after_login(web)
    link_visitor_later(web)


# ---- log-in ----------------------------------------------------------------------------------


def _login_page(
    web: Web,
    *,
    values: dict[str, str],
    errors: FormErrors | None = None,
    second_step: bool = False,
    status_code: int = 200,
) -> Response:
    return web.render(
        "account/login.html",
        status_code=status_code,
        values=values,
        errors=errors or FormErrors(),
        second_step=second_step,
        next=safe_next(values.get("next")),
        notice=notice(web),
    )


@router.get("/login", include_in_schema=False)
async def login_form(web: WebDep) -> Response:
    next_path = safe_next(web.request.query_params.get("next"))
    if web.session.logged_in:
        return web.redirect(next_path)
    return _login_page(web, values={"next": next_path})


@router.post("/login", include_in_schema=False)
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
    await _logged_in(web, grant)
    return web.redirect(safe_next(values["next"]))


@router.post("/logout", include_in_schema=False)
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
    return web.redirect("/?notice=logged-out")


# ---- sign-up ---------------------------------------------------------------------------------


@router.get("/signup", include_in_schema=False)
async def signup_form(web: WebDep) -> Response:
    next_path = safe_next(web.request.query_params.get("next"))
    return web.render("account/signup.html", values={"next": next_path}, errors=FormErrors())


@router.post("/signup", include_in_schema=False)
async def sign_up(web: CheckedWeb) -> Response:
    values = {
        name: await web.field(name)
        for name in ("email", "password", "password_confirm", "nickname", "next")
    }
    password = await web.raw_field("password")
    confirm = await web.raw_field("password_confirm")
    body = {"email": values["email"], "password": password, "nickname": values["nickname"]}
    safe_values = {k: v for k, v in values.items() if not k.startswith("password")}
    if password and confirm != password:
        errors = FormErrors()
        errors.add("password_confirm", web._(PASSWORDS_DIFFER))
        return web.render("account/signup.html", status_code=422, values=safe_values, errors=errors)
    try:
        await web.api.call("POST", "/api/v1/auth/signup", json=body, auth=False)
    except ApiProblem as problem:
        if problem.status >= 500:
            raise
        errors = FormErrors.from_problem(
            problem,
            web.locale,
            values,
            code_fields={
                "email-taken": "email",
                "nickname-taken": "nickname",
            },
        )
        return web.render(
            "account/signup.html", status_code=problem.status, values=safe_values, errors=errors
        )
    grant = await web.api.call(
        "POST",
        "/api/v1/auth/token",
        json={"email": values["email"], "password": password},
        auth=False,
    )
    await _logged_in(web, grant)
    target = safe_next(values["next"], default="/")
    joiner = "&" if "?" in target else "?"
    return web.redirect(f"{target}{joiner}notice=signed-up")


# ---- account security: sessions and two-factor authentication --------------------------------


async def _security_page(
    web: Web,
    *,
    enrolment: dict[str, str] | None = None,
    recovery_codes: list[str] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    profile = await web.api.get("/api/v1/me")
    sessions = await web.api.get("/api/v1/me/sessions", limit=50)
    return web.render(
        "account/security.html",
        status_code=status_code,
        profile=profile,
        sessions=sessions["items"],
        enrolment=enrolment,
        recovery_codes=recovery_codes,
        errors=errors or FormErrors(),
        cart_count=await cart_count(web),
        notice=notice(web),
    )


@router.get("/my/security", include_in_schema=False)
async def security(web: WebDep) -> Response:
    web.require_member()
    return await _security_page(web)


@router.post("/my/security/sessions/{session_id}/revoke", include_in_schema=False)
async def revoke_session(session_id: str, web: CheckedWeb) -> Response:
    web.require_member()
    sessions = (await web.api.get("/api/v1/me/sessions", limit=50))["items"]
    mine = next((s for s in sessions if str(s["id"]) == session_id), None)
    if mine is None:
        return web.render("errors/404.html", status_code=404)
    await web.api.delete(f"/api/v1/me/sessions/{session_id}")
    if mine["current"]:
        web.session.clear_tokens()
        web.session.clear_cart()
        return web.redirect("/login?notice=session-revoked")
    return web.redirect("/my/security?notice=session-revoked")


def enrolment_view(answer: dict[str, Any]) -> dict[str, str]:
    """What the enrolment page shows: the secret, its URI and the QR code as a data URL."""
    qr = base64.b64encode(str(answer["qr_svg"]).encode()).decode()
    return {"secret": answer["secret"], "otpauth_uri": answer["otpauth_uri"], "qr": QR_PREFIX + qr}


@router.post("/my/security/mfa/start", include_in_schema=False)
async def start_mfa(web: CheckedWeb) -> Response:
    web.require_member()
    try:
        answer = await web.api.post("/api/v1/me/mfa/totp")
    except ApiProblem as problem:
        if problem.status != 409:
            raise
        return await _security_page(
            web, errors=FormErrors.from_problem(problem, web.locale), status_code=409
        )
    return await _security_page(web, enrolment=enrolment_view(answer))


@router.post("/my/security/mfa/confirm", include_in_schema=False)
async def confirm_mfa(web: CheckedWeb) -> Response:
    web.require_member()
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
        return await _security_page(
            web, enrolment=enrolment, errors=errors, status_code=problem.status
        )
    web.session.set_tokens(answer)
    return await _security_page(web, recovery_codes=list(answer["recovery_codes"]))


@router.post("/my/security/mfa/disable", include_in_schema=False)
async def disable_mfa(web: CheckedWeb) -> Response:
    web.require_member()
    code = (await web.field("code")).replace(" ", "")
    try:
        await web.api.delete("/api/v1/me/mfa/totp", json={"code": code})
    except ApiProblem as problem:
        if problem.status >= 500 or problem.status == 401:
            raise
        errors = FormErrors.from_problem(
            problem,
            web.locale,
            {"code": code},
            code_fields={"wrong-mfa-code": "disable_code", "invalid-mfa-code": "disable_code"},
            rename={"code": "disable_code"},
        )
        return await _security_page(web, errors=errors, status_code=problem.status)
    return web.redirect("/my/security?notice=mfa-disabled")
