"""The audit log in the console: who did what, to which object, when; filtered and paged."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from jangteo.web.client import ApiProblem
from jangteo.web.console.common import (
    ORDER_SORTS,
    problem_errors,
    query,
    render,
    require_staff,
)
from jangteo.web.forms import FormErrors
from jangteo.web.i18n import N_
from jangteo.web.page import WebDep, cursor

router = APIRouter()

TARGET_TYPES = {
    "member": N_("Member"),
    "order": N_("Order"),
    "product": N_("Product"),
    "variant": N_("Option"),
    "brand": N_("Brand"),
    "category": N_("Category"),
    "coupon": N_("Coupon"),
    "stock_import": N_("Stock import"),
}
ACTION_LABELS = {
    "catalog.brand.create": N_("Brand created"),
    "catalog.brand.update": N_("Brand changed"),
    "catalog.category.create": N_("Category created"),
    "catalog.category.update": N_("Category changed"),
    "catalog.product.create": N_("Product created"),
    "catalog.product.update": N_("Product changed"),
    "catalog.variant.create": N_("Option added"),
    "catalog.variant.update": N_("Option changed"),
    "catalog.stock.adjust": N_("Stock adjusted"),
    "catalog.image.add": N_("Image added"),
    "catalog.image.remove": N_("Image removed"),
    "catalog.stock_import.create": N_("Stock import uploaded"),
    "catalog.stock_import.finish": N_("Stock import finished"),
    "coupon.create": N_("Coupon created"),
    "coupon.update": N_("Coupon changed"),
    "coupon.issue": N_("Coupon issued"),
    "order.preparing": N_("Order being prepared"),
    "order.shipped": N_("Order shipped"),
    "order.delivered": N_("Order delivered"),
    "order.cancelled": N_("Order cancelled"),
    "order.refund": N_("Order refunded"),
    "member.roles_changed": N_("Roles changed"),
    "member.suspended": N_("Member suspended"),
    "member.reinstated": N_("Member reinstated"),
    "member.viewed": N_("Member profile viewed"),
    "members.searched": N_("Members searched"),
    "member.password_changed": N_("Password changed"),
    "member.mfa_enabled": N_("Two-factor authentication on"),
    "member.mfa_disabled": N_("Two-factor authentication off"),
    "points.adjusted": N_("Points adjusted"),
}


def pretty_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)


@router.get("/console/audit")
async def audit_log(web: WebDep) -> Response:
    staff = await require_staff(web)
    filters = {
        "actor_id": query(web, "actor_id", max_length=40),
        "action": query(web, "action", max_length=100),
        "target_type": query(web, "target_type", allowed=TARGET_TYPES),
        "target_id": query(web, "target_id", max_length=100),
        "sort": query(web, "sort", allowed=ORDER_SORTS),
    }
    actions = (await web.api.get("/api/v1/admin/audit/actions"))["items"]
    errors = FormErrors()
    try:
        page = await web.api.get("/api/v1/admin/audit", **filters, cursor=cursor(web), limit=25)
    except ApiProblem as problem:
        # answered 200: htmx swaps only successful answers, and the filters show the mistake
        errors = problem_errors(web, problem, filters)
        page = {"items": [], "next_cursor": None}
    return render(
        web,
        "console/audit.html",
        staff,
        entries=page["items"],
        next_cursor=page["next_cursor"],
        filters=filters,
        actions=actions,
        action_groups=sorted({a.rsplit(".", 1)[0] + "." for a in actions if "." in a}),
        action_labels=ACTION_LABELS,
        target_types=TARGET_TYPES,
        sorts=ORDER_SORTS,
        errors=errors,
        pretty_json=pretty_json,
        paged=bool(cursor(web)),
    )
