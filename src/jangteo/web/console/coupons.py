"""Coupons in the console: list with usage, create, disable or enable, issue to members."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from jangteo.web.client import ApiProblem
from jangteo.web.console.common import (
    COUPON_KIND_LABELS,
    COUPON_STATUS_LABELS,
    Staff,
    default_window,
    from_seoul_input,
    is_uuid,
    optional_number,
    problem_errors,
    query,
    render,
    require_staff,
    seoul_input,
    whole_number,
)
from jangteo.web.forms import FormErrors
from jangteo.web.i18n import N_
from jangteo.web.page import CheckedWeb, Web, WebDep, cursor

router = APIRouter()

COUPON_FIELDS = (
    "code",
    "name",
    "kind",
    "value",
    "min_order_amount",
    "max_discount",
    "starts_at",
    "ends_at",
    "per_member_limit",
    "total_limit",
)
NO_MEMBERS = N_("Choose at least one member.")
NOT_MEMBER_IDS = N_("Member ids are UUIDs, one per line.")
ISSUED = N_("Issued to %(issued)s of %(requested)s members.")
_SPLIT = re.compile(r"[\s,]+")


def _not_found(web: Web) -> Response:
    return web.render("errors/404.html", status_code=404)


@router.get("/console/coupons")
async def coupons(web: WebDep) -> Response:
    staff = await require_staff(web)
    status = query(web, "status", allowed=COUPON_STATUS_LABELS)
    page = await web.api.get("/api/v1/admin/coupons", status=status, cursor=cursor(web), limit=20)
    return render(
        web,
        "console/coupons.html",
        staff,
        coupons=page["items"],
        next_cursor=page["next_cursor"],
        status=status,
        status_labels=COUPON_STATUS_LABELS,
        kind_labels=COUPON_KIND_LABELS,
        paged=bool(cursor(web)),
    )


def _coupon_form(
    web: Web,
    staff: Staff,
    values: dict[str, Any],
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        web,
        "console/coupon_new.html",
        staff,
        status_code=status_code,
        values=values,
        errors=errors or FormErrors(),
        kind_labels=COUPON_KIND_LABELS,
    )


@router.get("/console/coupons/new")
async def new_coupon_form(web: WebDep) -> Response:
    staff = await require_staff(web)
    starts, ends = default_window(datetime.now(UTC))
    values = {
        "kind": "fixed",
        "starts_at": starts,
        "ends_at": ends,
        "per_member_limit": "1",
        "min_order_amount": "0",
    }
    return _coupon_form(web, staff, values)


@router.post("/console/coupons/new")
async def create_coupon(web: CheckedWeb) -> Response:
    staff = await require_staff(web)
    values = {name: await web.field(name) for name in COUPON_FIELDS}
    body = {
        "code": values["code"] or None,
        "name": values["name"],
        "kind": values["kind"],
        "value": whole_number(values["value"]),
        "min_order_amount": whole_number(values["min_order_amount"] or "0"),
        "max_discount": optional_number(values["max_discount"]),
        "starts_at": from_seoul_input(values["starts_at"]),
        "ends_at": from_seoul_input(values["ends_at"]),
        "per_member_limit": whole_number(values["per_member_limit"] or "1"),
        "total_limit": optional_number(values["total_limit"]),
    }
    try:
        coupon = await web.api.post("/api/v1/admin/coupons", json=body)
    except ApiProblem as problem:
        errors = problem_errors(web, problem, values, code_fields={"coupon-code-taken": "code"})
        return _coupon_form(web, staff, values, errors, status_code=problem.status)
    return web.redirect(f"/console/coupons/{coupon['id']}?notice=created")


async def _coupon_page(
    web: Web,
    staff: Staff,
    coupon_id: str,
    *,
    errors: FormErrors | None = None,
    values: dict[str, Any] | None = None,
    issued: str | None = None,
    status_code: int = 200,
) -> Response:
    coupon = await web.api.get(f"/api/v1/admin/coupons/{coupon_id}")
    q = query(web, "q")
    found: list[dict[str, Any]] = []
    if q:
        found = (await web.api.get("/api/v1/admin/members", q=q, status="active", limit=20))[
            "items"
        ]
    return render(
        web,
        "console/coupon.html",
        staff,
        status_code=status_code,
        coupon=coupon,
        q=q,
        found=found,
        errors=errors or FormErrors(),
        values=values or {},
        issued=issued,
        issue_key=web.new_idempotency_key(),
        kind_labels=COUPON_KIND_LABELS,
        status_labels=COUPON_STATUS_LABELS,
        seoul_input=seoul_input,
    )


@router.get("/console/coupons/{coupon_id}")
async def coupon(coupon_id: str, web: WebDep) -> Response:
    staff = await require_staff(web)
    if not is_uuid(coupon_id):
        return _not_found(web)
    return await _coupon_page(web, staff, coupon_id)


@router.post("/console/coupons/{coupon_id}/status")
async def change_status(coupon_id: str, web: CheckedWeb) -> Response:
    staff = await require_staff(web)
    status = await web.field("status")
    if not is_uuid(coupon_id) or status not in COUPON_STATUS_LABELS:
        return _not_found(web)
    try:
        await web.api.patch(f"/api/v1/admin/coupons/{coupon_id}", json={"status": status})
    except ApiProblem as problem:
        errors = problem_errors(web, problem)
        return await _coupon_page(web, staff, coupon_id, errors=errors, status_code=problem.status)
    notice = "coupon-disabled" if status == "disabled" else "coupon-enabled"
    return web.redirect(f"/console/coupons/{coupon_id}?notice={notice}")


@router.post("/console/coupons/{coupon_id}/issue")
async def issue(coupon_id: str, web: CheckedWeb) -> Response:
    staff = await require_staff(web)
    if not is_uuid(coupon_id):
        return _not_found(web)
    form = await web.form()
    typed = await web.field("member_ids")
    chosen = [str(v) for v in form.getlist("member_id") if isinstance(v, str)]
    ids = [*chosen, *(part for part in _SPLIT.split(typed) if part)]
    values = {"member_ids": typed}
    errors = FormErrors()
    if not ids:
        errors.add("member_ids", web._(NO_MEMBERS))
    elif not all(is_uuid(i) for i in ids):
        errors.add("member_ids", web._(NOT_MEMBER_IDS))
    if errors:
        return await _coupon_page(
            web, staff, coupon_id, errors=errors, values=values, status_code=422
        )
    key = await web.field("key")
    try:
        result = await web.api.post(
            f"/api/v1/admin/coupons/{coupon_id}/issue",
            json={"member_ids": list(dict.fromkeys(ids))},
            headers={"Idempotency-Key": key or web.new_idempotency_key()},
        )
    except ApiProblem as problem:
        errors = problem_errors(web, problem, values)
        return await _coupon_page(
            web, staff, coupon_id, errors=errors, values=values, status_code=problem.status
        )
    message = web._(ISSUED, issued=f"{result['issued']:,}", requested=f"{result['requested']:,}")
    return await _coupon_page(web, staff, coupon_id, issued=message)
