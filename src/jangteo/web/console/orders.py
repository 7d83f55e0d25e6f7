"""Orders in the console: search and filter, the detail, moving an order along, refunds."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from jangteo.web.client import ApiProblem
from jangteo.web.console.common import (
    ORDER_SORTS,
    Staff,
    is_uuid,
    problem_errors,
    query,
    render,
    require_staff,
)
from jangteo.web.forms import FormErrors
from jangteo.web.i18n import N_
from jangteo.web.page import CheckedWeb, Web, WebDep, cursor
from jangteo.web.storefront.common import ORDER_STATUS_LABELS

router = APIRouter()

# the next step staff can take from each status (the API decides whether it is allowed)
NEXT_STEP = {
    "paid": ("preparing", N_("Start preparing")),
    "preparing": ("shipped", N_("Ship")),
    "shipped": ("delivered", N_("Mark as delivered")),
}
REFUNDABLE = {"paid", "preparing", "shipped", "delivered"}
ACTOR_LABELS = {"member": N_("Buyer"), "staff": N_("Staff"), "system": N_("System")}
TRANSITION_FIELDS = {"tracking-number-required": "tracking_number"}


@router.get("/console/orders")
async def orders(web: WebDep) -> Response:
    staff = await require_staff(web)
    filters = {
        "q": query(web, "q", max_length=320),
        "status": query(web, "status", allowed=ORDER_STATUS_LABELS),
        "sort": query(web, "sort", allowed=ORDER_SORTS),
    }
    page = await web.api.get("/api/v1/admin/orders", **filters, cursor=cursor(web), limit=20)
    return render(
        web,
        "console/orders.html",
        staff,
        orders=page["items"],
        next_cursor=page["next_cursor"],
        filters=filters,
        status_labels=ORDER_STATUS_LABELS,
        sorts=ORDER_SORTS,
        paged=bool(cursor(web)),
    )


async def _order_page(
    web: Web,
    staff: Staff,
    order_id: str,
    *,
    errors: FormErrors | None = None,
    form: str | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    order = await web.api.get(f"/api/v1/admin/orders/{order_id}")
    # the buyer, as the order desk lists them (the order itself carries no personal data)
    listed = await web.api.get("/api/v1/admin/orders", q=order["number"], limit=1)
    buyer = next((o for o in listed["items"] if o["id"] == order["id"]), None)
    return render(
        web,
        "console/order.html",
        staff,
        status_code=status_code,
        order=order,
        buyer=buyer,
        status_labels=ORDER_STATUS_LABELS,
        actor_labels=ACTOR_LABELS,
        next_step=NEXT_STEP.get(order["status"]),
        can_cancel=order["status"] == "pending_payment",
        can_refund=order["status"] in REFUNDABLE,
        errors=errors or FormErrors(),
        failed_form=form,
        values=values or {},
    )


@router.get("/console/orders/{order_id}")
async def order(order_id: str, web: WebDep) -> Response:
    staff = await require_staff(web)
    if not is_uuid(order_id):
        return web.render("errors/404.html", status_code=404)
    return await _order_page(web, staff, order_id)


@router.post("/console/orders/{order_id}/transition")
async def transition(order_id: str, web: CheckedWeb) -> Response:
    staff = await require_staff(web)
    if not is_uuid(order_id):
        return web.render("errors/404.html", status_code=404)
    values = {name: await web.field(name) for name in ("to", "tracking_number", "note")}
    body: dict[str, Any] = {"to": values["to"], "note": values["note"] or None}
    if values["to"] == "shipped":
        body["tracking_number"] = values["tracking_number"] or None
    try:
        await web.api.post(f"/api/v1/admin/orders/{order_id}/transitions", json=body)
    except ApiProblem as problem:
        errors = problem_errors(web, problem, values, code_fields=TRANSITION_FIELDS)
        return await _order_page(
            web,
            staff,
            order_id,
            errors=errors,
            form="transition",
            values=values,
            status_code=problem.status,
        )
    return web.redirect(f"/console/orders/{order_id}?notice=order-updated")


@router.post("/console/orders/{order_id}/refund")
async def refund(order_id: str, web: CheckedWeb) -> Response:
    staff = await require_staff(web)
    if not is_uuid(order_id):
        return web.render("errors/404.html", status_code=404)
    values = {"reason": await web.field("reason")}
    try:
        await web.api.post(f"/api/v1/admin/orders/{order_id}/refund", json=values)
    except ApiProblem as problem:
        errors = problem_errors(web, problem, values)
        return await _order_page(
            web,
            staff,
            order_id,
            errors=errors,
            form="refund",
            values=values,
            status_code=problem.status,
        )
    return web.redirect(f"/console/orders/{order_id}?notice=order-refunded")
