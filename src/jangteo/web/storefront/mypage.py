"""A member's own pages: orders (list, detail with timeline, cancel, pay), wallet, coupons."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from jangteo.web.client import ApiProblem
from jangteo.web.forms import FormErrors
from jangteo.web.page import CheckedWeb, Web, WebDep, cursor
from jangteo.web.storefront.cart import pay_and_finish
from jangteo.web.storefront.common import (
    ACTOR_LABELS,
    CANCELLABLE,
    ORDER_STATUS_LABELS,
    POINTS_REASONS,
    cart_count,
    is_uuid,
    notice,
)
from jangteo.web.storefront.community_reviews import reviewed_lines

router = APIRouter()
COUPON_TABS = ("available", "used", "expired")


@router.get("/my", include_in_schema=False)
async def my_page(web: WebDep) -> Response:
    web.require_member()
    return web.redirect("/my/orders")


@router.get("/my/orders", include_in_schema=False)
async def my_orders(web: WebDep) -> Response:
    web.require_member()
    status = web.request.query_params.get("status", "")
    status = status if status in ORDER_STATUS_LABELS else ""
    page = await web.api.get("/api/v1/orders", status=status, cursor=cursor(web), limit=20)
    return web.render(
        "my/orders.html",
        orders=page["items"],
        next_cursor=page["next_cursor"],
        status=status,
        status_labels=ORDER_STATUS_LABELS,
        cart_count=await cart_count(web),
        notice=notice(web),
    )


async def _order(web: Web, order_id: str) -> dict[str, Any] | None:
    if not is_uuid(order_id):
        return None
    return await web.api.get(f"/api/v1/orders/{order_id}")  # type: ignore[no-any-return]


def _order_page(
    web: Web,
    order: dict[str, Any],
    *,
    template: str = "my/order.html",
    errors: FormErrors | None = None,
    status_code: int = 200,
    count: int | None = None,
    reviewed: dict[str, str] | None = None,
) -> Response:
    return web.render(
        template,
        status_code=status_code,
        order=order,
        status_labels=ORDER_STATUS_LABELS,
        actor_labels=ACTOR_LABELS,
        can_cancel=order["status"] in CANCELLABLE,
        can_pay=order["status"] == "pending_payment",
        pay_key=web.new_idempotency_key(),
        errors=errors or FormErrors(),
        cart_count=count,
        notice=notice(web),
        reviewed_lines=reviewed,
    )


@router.get("/my/orders/{order_id}", include_in_schema=False)
async def order_detail(order_id: str, web: WebDep) -> Response:
    web.require_member()
    order = await _order(web, order_id)
    if order is None:
        return web.render("errors/404.html", status_code=404)
    reviewed = await reviewed_lines(web, order)
    return _order_page(web, order, count=await cart_count(web), reviewed=reviewed)


@router.get("/my/orders/{order_id}/complete", include_in_schema=False)
async def order_complete(order_id: str, web: WebDep) -> Response:
    web.require_member()
    order = await _order(web, order_id)
    if order is None:
        return web.render("errors/404.html", status_code=404)
    return _order_page(web, order, template="my/complete.html", count=await cart_count(web))


@router.post("/my/orders/{order_id}/cancel", include_in_schema=False)
async def cancel_order(order_id: str, web: CheckedWeb) -> Response:
    web.require_member()
    if not is_uuid(order_id):
        return web.render("errors/404.html", status_code=404)
    reason = await web.field("reason")
    try:
        await web.api.post(
            f"/api/v1/orders/{order_id}/cancel", json={"reason": reason} if reason else None
        )
    except ApiProblem as problem:
        if problem.status in {404} or problem.status >= 500:
            raise
        order = await _order(web, order_id)
        assert order is not None
        errors = FormErrors.from_problem(problem, web.locale, {"reason": reason})
        return _order_page(web, order, errors=errors, status_code=problem.status)
    return web.redirect(f"/my/orders/{order_id}?notice=order-cancelled")


@router.post("/my/orders/{order_id}/pay", include_in_schema=False)
async def pay_order(order_id: str, web: CheckedWeb) -> Response:
    web.require_member()
    order = await _order(web, order_id)
    if order is None:
        return web.render("errors/404.html", status_code=404)
    key = await web.field("pay_key")
    if not is_uuid(key):
        key = web.new_idempotency_key()
    return await pay_and_finish(web, order, idempotency_key=key)


# ---- points wallet ---------------------------------------------------------------------------


@router.get("/my/wallet", include_in_schema=False)
async def wallet(web: WebDep) -> Response:
    web.require_member()
    summary = await web.api.get("/api/v1/me/wallet")
    entries = await web.api.get("/api/v1/me/wallet/entries", cursor=cursor(web), limit=20)
    return web.render(
        "my/wallet.html",
        wallet=summary,
        entries=entries["items"],
        next_cursor=entries["next_cursor"],
        reasons=POINTS_REASONS,
        cart_count=await cart_count(web),
    )


# ---- coupons ---------------------------------------------------------------------------------


async def _coupons_page(
    web: Web,
    *,
    tab: str = "available",
    code: str = "",
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    page = await web.api.get("/api/v1/coupons", status=tab, cursor=cursor(web), limit=20)
    return web.render(
        "my/coupons.html",
        status_code=status_code,
        coupons=page["items"],
        next_cursor=page["next_cursor"],
        tab=tab,
        tabs=COUPON_TABS,
        code=code,
        errors=errors or FormErrors(),
        cart_count=await cart_count(web),
        notice=notice(web),
    )


@router.get("/my/coupons", include_in_schema=False)
async def coupons(web: WebDep) -> Response:
    web.require_member()
    tab = web.request.query_params.get("status", "available")
    return await _coupons_page(web, tab=tab if tab in COUPON_TABS else "available")


@router.post("/my/coupons/claim", include_in_schema=False)
async def claim_coupon(web: CheckedWeb) -> Response:
    web.require_member()
    code = await web.field("code")
    try:
        await web.api.post("/api/v1/coupons/claim", json={"code": code})
    except ApiProblem as problem:
        if problem.status >= 500 or problem.status == 401:
            raise
        errors = FormErrors.from_problem(
            problem,
            web.locale,
            {"code": code},
            code_fields={
                "coupon-not-found": "code",
                "coupon-exhausted": "code",
                "coupon-limit-reached": "code",
                "coupon-expired": "code",
                "coupon-not-started": "code",
                "coupon-disabled": "code",
                "rate-limited": "code",
            },
        )
        return await _coupons_page(web, code=code, errors=errors, status_code=problem.status)
    return web.redirect("/my/coupons?notice=coupon-claimed")
