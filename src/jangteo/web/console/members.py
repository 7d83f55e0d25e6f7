"""Members in the console: search, roles (admins only), suspension, points and their ledger."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from jangteo.web.client import ApiProblem
from jangteo.web.console.common import (
    MEMBER_STATUS_LABELS,
    ORDER_SORTS,
    ROLE_LABELS,
    ROLES,
    Staff,
    is_uuid,
    problem_errors,
    query,
    render,
    require_staff,
    whole_number,
)
from jangteo.web.forms import FormErrors
from jangteo.web.page import CheckedWeb, Web, WebDep, cursor
from jangteo.web.storefront.common import POINTS_REASONS, TRUST_LEVELS

router = APIRouter()


def _not_found(web: Web) -> Response:
    return web.render("errors/404.html", status_code=404)


@router.get("/console/members")
async def members(web: WebDep) -> Response:
    staff = await require_staff(web)
    filters = {
        "q": query(web, "q"),
        "role": query(web, "role", allowed=ROLE_LABELS),
        "status": query(web, "status", allowed=MEMBER_STATUS_LABELS),
        "sort": query(web, "sort", allowed=ORDER_SORTS),
    }
    page = await web.api.get("/api/v1/admin/members", **filters, cursor=cursor(web), limit=20)
    return render(
        web,
        "console/members.html",
        staff,
        members=page["items"],
        next_cursor=page["next_cursor"],
        filters=filters,
        role_labels=ROLE_LABELS,
        status_labels=MEMBER_STATUS_LABELS,
        sorts=ORDER_SORTS,
        paged=bool(cursor(web)),
    )


async def _member_page(
    web: Web,
    staff: Staff,
    member_id: str,
    *,
    errors: FormErrors | None = None,
    form: str | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    profile, wallet, ledger, trust = await asyncio.gather(
        web.api.get(f"/api/v1/admin/members/{member_id}"),
        web.api.get(f"/api/v1/admin/members/{member_id}/wallet"),
        web.api.get(
            f"/api/v1/admin/members/{member_id}/wallet/entries", cursor=cursor(web), limit=20
        ),
        web.api.get(f"/api/v1/admin/members/{member_id}/trust"),
    )
    return render(
        web,
        "console/member.html",
        staff,
        status_code=status_code,
        member=profile,
        wallet=wallet,
        entries=ledger["items"],
        trust=trust,
        trust_levels=TRUST_LEVELS,
        next_cursor=ledger["next_cursor"],
        reasons=POINTS_REASONS,
        roles=ROLES,
        role_labels=ROLE_LABELS,
        status_labels=MEMBER_STATUS_LABELS,
        errors=errors or FormErrors(),
        failed_form=form,
        values=values or {},
        adjust_key=web.new_idempotency_key(),
        paged=bool(cursor(web)),
    )


@router.get("/console/members/{member_id}")
async def member(member_id: str, web: WebDep) -> Response:
    staff = await require_staff(web)
    if not is_uuid(member_id):
        return _not_found(web)
    return await _member_page(web, staff, member_id)


@router.post("/console/members/{member_id}/roles")
async def set_roles(member_id: str, web: CheckedWeb) -> Response:
    staff = await require_staff(web)
    if not is_uuid(member_id):
        return _not_found(web)
    form = await web.form()
    roles = [r for r in form.getlist("roles") if isinstance(r, str) and r in ROLE_LABELS]
    try:
        await web.api.call("PUT", f"/api/v1/admin/members/{member_id}/roles", json={"roles": roles})
    except ApiProblem as problem:
        errors = problem_errors(web, problem)
        return await _member_page(
            web, staff, member_id, errors=errors, form="roles", status_code=problem.status
        )
    return web.redirect(f"/console/members/{member_id}?notice=roles-saved")


@router.post("/console/members/{member_id}/suspend")
async def suspend(member_id: str, web: CheckedWeb) -> Response:
    return await _change_status(web, member_id, "suspend")


@router.post("/console/members/{member_id}/unsuspend")
async def unsuspend(member_id: str, web: CheckedWeb) -> Response:
    return await _change_status(web, member_id, "unsuspend")


async def _change_status(web: Web, member_id: str, change: str) -> Response:
    staff = await require_staff(web)
    if not is_uuid(member_id):
        return _not_found(web)
    values = {"reason": await web.field("reason")}
    try:
        await web.api.post(
            f"/api/v1/admin/members/{member_id}/{change}",
            json={"reason": values["reason"] or None},
        )
    except ApiProblem as problem:
        errors = problem_errors(web, problem, values)
        return await _member_page(
            web,
            staff,
            member_id,
            errors=errors,
            form="status",
            values=values,
            status_code=problem.status,
        )
    notice = "suspended" if change == "suspend" else "unsuspended"
    return web.redirect(f"/console/members/{member_id}?notice={notice}")


@router.post("/console/members/{member_id}/points")
async def adjust_points(member_id: str, web: CheckedWeb) -> Response:
    staff = await require_staff(web)
    if not is_uuid(member_id):
        return _not_found(web)
    values = {name: await web.field(name) for name in ("amount", "reason", "key")}
    body = {"amount": whole_number(values["amount"]), "reason": values["reason"]}
    try:
        await web.api.post(
            f"/api/v1/admin/members/{member_id}/points",
            json=body,
            headers={"Idempotency-Key": values["key"] or web.new_idempotency_key()},
        )
    except ApiProblem as problem:
        errors = problem_errors(web, problem, values, code_fields={"insufficient-points": "amount"})
        return await _member_page(
            web,
            staff,
            member_id,
            errors=errors,
            form="points",
            values=values,
            status_code=problem.status,
        )
    return web.redirect(f"/console/members/{member_id}?notice=points-adjusted")


@router.post("/console/members/{member_id}/trust")
async def set_trust(member_id: str, web: CheckedWeb) -> Response:
    """Fix the member's community trust level with a reason, or hand it back to reading."""
    staff = await require_staff(web)
    if not is_uuid(member_id):
        return _not_found(web)
    values = {"level": await web.field("level"), "reason": await web.field("reason")}
    level = int(values["level"]) if values["level"] in ("0", "1", "2", "3") else None
    try:
        await web.api.call(
            "PUT",
            f"/api/v1/admin/members/{member_id}/trust",
            json={"level": level, "reason": values["reason"]},
        )
    except ApiProblem as problem:
        errors = problem_errors(web, problem, values)
        return await _member_page(
            web,
            staff,
            member_id,
            errors=errors,
            form="trust",
            values=values,
            status_code=problem.status,
        )
    return web.redirect(f"/console/members/{member_id}?notice=saved")
