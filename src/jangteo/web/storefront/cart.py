"""Cart and checkout pages: add, change, remove, then address, coupon, points and payment."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from jangteo.web.client import ApiProblem
from jangteo.web.forms import FormErrors
from jangteo.web.page import CheckedWeb, Web, WebDep
from jangteo.web.storefront.catalog import render_product
from jangteo.web.storefront.common import (
    adopt_cart_after_login,
    cart_headers,
    current_cart,
    is_uuid,
    notice,
    open_cart,
)
from jangteo.web.storefront.rewards import link_visitor_later

router = APIRouter()


def _error_status(web: Web, status: int) -> int:
    # htmx swaps only 2xx answers; the page with the errors is the answer either way
    return 200 if web.is_htmx else status


def _cart_page(
    web: Web,
    cart: dict[str, Any] | None,
    *,
    errors: FormErrors | None = None,
    line_errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    settings = web.settings
    subtotal = int(cart["subtotal"]) if cart else 0
    threshold = int(settings.free_shipping_threshold)
    shipping = 0 if subtotal == 0 or subtotal >= threshold else int(settings.shipping_fee)
    return web.render(
        "shop/cart.html",
        status_code=status_code,
        cart=cart,
        lines=cart["lines"] if cart else [],
        subtotal=subtotal,
        shipping_fee=shipping,
        free_shipping_threshold=threshold,
        free_shipping_gap=max(threshold - subtotal, 0),
        total=subtotal + shipping,
        cart_count=int(cart["item_count"]) if cart else None,
        errors=errors or FormErrors(),
        line_errors=line_errors or {},
        typed=typed or {},
        notice=notice(web),
    )


@router.get("/cart", include_in_schema=False)
async def cart_page(web: WebDep) -> Response:
    return _cart_page(web, await current_cart(web))


async def _post_line(web: Web, body: dict[str, Any]) -> dict[str, Any]:
    return await web.api.call(  # type: ignore[no-any-return]
        "POST",
        f"/api/v1/carts/{web.session.cart_id}/lines",
        json=body,
        headers=cart_headers(web),
    )


async def _add_line(web: Web, variant_id: str, quantity: str) -> dict[str, Any]:
    """Add to the visitor's cart, opening one when there is none (or the cookie's is gone)."""
    body = {"variant_id": variant_id, "quantity": quantity}
    if not web.session.cart_id:
        await open_cart(web)
    try:
        return await _post_line(web, body)
    except ApiProblem as problem:
        if problem.code not in {"not-found", "cart-closed"} or problem.errors:
            raise
        cart = await current_cart(web)
        if cart is not None and cart["status"] == "active":
            raise  # the cart is fine: it was the product that could not be found
    web.session.clear_cart()
    await open_cart(web)
    return await _post_line(web, body)


@router.post("/cart/lines", include_in_schema=False)
async def add_to_cart(web: CheckedWeb) -> Response:
    variant_id = await web.field("variant_id")
    quantity = await web.field("quantity")
    product_id = await web.field("product_id")
    try:
        cart = await _add_line(web, variant_id, quantity)
    except ApiProblem as problem:
        if problem.status >= 500:
            raise
        errors = FormErrors.from_problem(
            problem,
            web.locale,
            {"variant_id": variant_id, "quantity": quantity},
            code_fields={
                "quantity-limit-exceeded": "quantity",
                "out-of-stock": "quantity",
                "product-unavailable": "variant_id",
            },
        )
        if web.is_htmx:
            return web.render("shop/_add_result.html", errors=errors)
        if not is_uuid(product_id):
            return web.render_problem(problem)
        detail = await web.api.call("GET", f"/api/v1/products/{product_id}", auth=False)
        return render_product(
            web,
            detail,
            cart_count=None,
            errors=errors,
            chosen={"variant_id": variant_id, "quantity": quantity},
            status_code=422 if problem.status == 422 else problem.status,
        )
    if web.is_htmx:
        return web.render("shop/_add_result.html", cart_count=cart["item_count"], added=True)
    return web.redirect("/cart?notice=cart-added")


async def _change_line(web: Web, line_id: str, method: str, body: Any) -> Response:
    if not web.session.cart_id or not is_uuid(line_id):
        return web.redirect("/cart")
    try:
        cart = await web.api.call(
            method,
            f"/api/v1/carts/{web.session.cart_id}/lines/{line_id}",
            json=body,
            headers=cart_headers(web),
        )
    except ApiProblem as problem:
        if problem.status >= 500:
            raise
        errors = FormErrors.from_problem(
            problem,
            web.locale,
            body,
            code_fields={"quantity-limit-exceeded": "quantity", "out-of-stock": "quantity"},
        )
        message = errors.get("quantity") or (errors.general or [web._(problem.title)])[0]
        return _cart_page(
            web,
            await current_cart(web),
            line_errors={line_id: message},
            typed={line_id: str(body["quantity"])} if body else None,
            status_code=_error_status(web, problem.status),
        )
    if web.is_htmx:
        return _cart_page(web, cart)
    return web.redirect("/cart")


@router.post("/cart/lines/{line_id}", include_in_schema=False)
async def change_quantity(line_id: str, web: CheckedWeb) -> Response:
    return await _change_line(web, line_id, "PATCH", {"quantity": await web.field("quantity")})


@router.post("/cart/lines/{line_id}/remove", include_in_schema=False)
async def remove_line(line_id: str, web: CheckedWeb) -> Response:
    return await _change_line(web, line_id, "DELETE", None)


# ---- checkout --------------------------------------------------------------------------------

CHECKOUT_CODE_FIELDS = {
    "coupon-not-found": "coupon",
    "coupon-disabled": "coupon",
    "coupon-not-started": "coupon",
    "coupon-expired": "coupon",
    "coupon-minimum-not-met": "coupon",
    "coupon-not-applicable": "coupon",
    "coupon-already-used": "coupon",
    "coupon-exhausted": "coupon",
    "coupon-limit-reached": "coupon",
    "insufficient-points": "points",
    "points-over-limit": "points",
}
CHECKOUT_RENAME = {"coupon_code": "coupon", "member_coupon_id": "coupon"}
ADDRESS_FIELDS = ("recipient", "phone", "postal_code", "line1", "line2")


async def _checkout_form(web: Web) -> dict[str, str]:
    form = await web.form()
    names = (
        "address_id",
        "coupon_choice",
        "coupon_code",
        "points",
        "payment_method",
        "memo",
        "idem",
        "expected_total",
        *(f"address.{name}" for name in ADDRESS_FIELDS),
    )
    values = {}
    for name in names:
        value = form.get(name)
        values[name] = value.strip() if isinstance(value, str) else ""
    return values


def _checkout_body(cart_id: str, values: dict[str, str], *, with_address: bool) -> dict[str, Any]:
    """The API request for what the form says; raw strings go as they are so that the API
    (not the page) judges them and names the field that is wrong."""
    body: dict[str, Any] = {"cart_id": cart_id, "points": values.get("points") or 0}
    if values.get("coupon_code"):
        body["coupon_code"] = values["coupon_code"]
    elif values.get("coupon_choice"):
        body["member_coupon_id"] = values["coupon_choice"]
    if values.get("memo"):
        body["memo"] = values["memo"]
    if with_address:
        body["payment_method"] = values.get("payment_method") or "card"
        if values.get("expected_total"):
            # what the Pay button showed: the API refuses to charge anything else
            body["expected_total"] = values["expected_total"]
        if values.get("address_id") and values["address_id"] != "new":
            body["address_id"] = values["address_id"]
        else:
            body["address"] = {name: values.get(f"address.{name}", "") for name in ADDRESS_FIELDS}
    return body


async def _checkout_page(
    web: Web,
    cart: dict[str, Any],
    values: dict[str, str],
    *,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    errors = errors or FormErrors()
    addresses = (await web.api.get("/api/v1/me/addresses", limit=20))["items"]
    coupons = (await web.api.get("/api/v1/coupons", status="available", limit=50))["items"]
    if not values.get("address_id"):
        default = next((a for a in addresses if a["is_default"]), None)
        chosen = default or (addresses[0] if addresses else None)
        values["address_id"] = str(chosen["id"]) if chosen else "new"
    try:
        preview = await web.api.post(
            "/api/v1/checkout/preview", json=_checkout_body(cart["id"], values, with_address=False)
        )
    except ApiProblem as problem:
        if problem.status >= 500:
            raise
        if not errors:
            errors = FormErrors.from_problem(
                problem,
                web.locale,
                values,
                code_fields=CHECKOUT_CODE_FIELDS,
                rename=CHECKOUT_RENAME,
            )
        # the summary without the discount that was refused
        preview = await web.api.post("/api/v1/checkout/preview", json={"cart_id": cart["id"]})
    return web.render(
        "shop/checkout.html",
        status_code=status_code,
        cart=cart,
        preview=preview,
        addresses=addresses,
        coupons=coupons,
        values=values,
        errors=errors,
        cart_count=cart["item_count"],
        notice=notice(web),
    )


async def _checkout_cart(web: Web) -> dict[str, Any] | None:
    web.require_member()
    cart = await current_cart(web)
    if cart is not None and cart.get("is_guest"):
        # a member's page with a guest cart: log-in happened elsewhere; take the cart along
        await adopt_cart_after_login(web)
        cart = await current_cart(web)
    if cart is None:
        cart = await open_cart(web)
    return cart if cart and cart["lines"] else None


@router.get("/checkout", include_in_schema=False)
async def checkout(web: WebDep) -> Response:
    cart = await _checkout_cart(web)
    if cart is None:
        return web.redirect("/cart")
    values = {"idem": web.new_idempotency_key(), "payment_method": "card", "points": "0"}
    link_visitor_later(web)
    return await _checkout_page(web, cart, values)


@router.post("/checkout", include_in_schema=False)
async def place_order(web: CheckedWeb) -> Response:
    cart = await _checkout_cart(web)
    if cart is None:
        return web.redirect("/cart")
    values = await _checkout_form(web)
    if not is_uuid(values.get("idem", "")):
        values["idem"] = web.new_idempotency_key()
    if await web.field("action") != "pay":
        return await _checkout_page(web, cart, values)
    try:
        order = await web.api.post(
            "/api/v1/orders",
            json=_checkout_body(cart["id"], values, with_address=True),
            headers={"Idempotency-Key": values["idem"]},
        )
    except ApiProblem as problem:
        if problem.status >= 500:
            raise
        errors = FormErrors.from_problem(
            problem, web.locale, values, code_fields=CHECKOUT_CODE_FIELDS, rename=CHECKOUT_RENAME
        )
        return await _checkout_page(
            web, cart, values, errors=errors, status_code=_error_status(web, problem.status)
        )
    return await pay_and_finish(web, order, idempotency_key=values["idem"] + ":pay")


async def pay_and_finish(web: Web, order: dict[str, Any], *, idempotency_key: str) -> Response:
    """Pay an unpaid order with the shop's provider (the dummy one in the embedded mode)."""
    order_id = order["id"]
    if order["status"] == "pending_payment":
        try:
            await web.api.post(
                f"/api/v1/orders/{order_id}/payments",
                json={"amount": order["total"]},
                headers={"Idempotency-Key": idempotency_key},
            )
        except ApiProblem as problem:
            if problem.status not in {402, 409, 503}:
                raise
            return web.redirect(f"/my/orders/{order_id}?notice=payment-failed")
    return web.redirect(f"/my/orders/{order_id}/complete")
