"""Helpers the storefront pages share: the visitor's cart, labels, highlighted names."""

from __future__ import annotations

import uuid
from typing import Any

from markupsafe import Markup, escape

from jangteo.web.client import ApiProblem
from jangteo.web.i18n import N_
from jangteo.web.page import Web

ORDER_STATUS_LABELS = {
    "pending_payment": N_("Awaiting payment"),
    "paid": N_("Paid"),
    "preparing": N_("Preparing"),
    "shipped": N_("Shipped"),
    "delivered": N_("Delivered"),
    "cancelled": N_("Cancelled"),
    "refunding": N_("Refund in progress"),
    "refunded": N_("Refunded"),
}
CANCELLABLE = {"pending_payment", "paid", "preparing"}
ACTOR_LABELS = {"member": N_("You"), "staff": N_("Shop"), "system": N_("System")}
# reasons of points entries written by the accounts and orders domains
POINTS_REASONS = {
    "order.use": N_("Used for an order"),
    "order.refund": N_("Returned from a cancelled order"),
    "order.reward": N_("Purchase reward"),
    "expired": N_("Expired"),
    "signup.bonus": N_("Welcome bonus"),
    "signup": N_("Welcome bonus"),
    "tip.sent": N_("Tip to a creator"),
    "referral.inviter": N_("A friend you invited made their first order"),
    "referral.invitee": N_("Welcome gift for joining by invitation"),
}
# community trust levels, as the API numbers them
TRUST_LEVELS = {
    0: N_("New member"),
    1: N_("Basic member"),
    2: N_("Member"),
    3: N_("Leader"),
}
SORTS = {
    "new": N_("Newest"),
    "popular": N_("Popular"),
    "price_asc": N_("Price: low to high"),
    "price_desc": N_("Price: high to low"),
}
PAGE_SIZE = 24
# notices shown after a redirect (`?notice=`); only these keys, never free text from the URL
NOTICES = {
    "cart-added": N_("Added to your cart."),
    "order-cancelled": N_("The order has been cancelled."),
    "payment-failed": N_("The payment did not go through. You can try again."),
    "signed-up": N_("Welcome! Your account is ready."),
    "logged-out": N_("You have logged out."),
    "session-revoked": N_("The session has been ended."),
    "mfa-disabled": N_("Two-factor authentication is off."),
    "coupon-claimed": N_("The coupon is in your wallet."),
    "tip-sent": N_("Thank you! Your tip has been sent."),
    "creator-saved": N_("Your creator page is saved."),
    "shelved": N_("The product is on your shelf."),
    "unshelved": N_("The product is off your shelf."),
    "subscribed": N_("You are subscribed. Posts for subscribers are open to you."),
    "subscription-cancelled": N_("Your subscription will end when the month you paid for is over."),
    "plan-added": N_("The plan is open to subscribers."),
    "plan-closed": N_("The plan is closed to new subscribers."),
}


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def notice(web: Web) -> str | None:
    key = web.request.query_params.get("notice", "")
    return web._(NOTICES[key]) if key in NOTICES else None


def highlighted(text: str, spans: list[dict[str, int]] | None) -> Markup:
    """`text` with the matched spans in <mark>, everything escaped."""
    result = Markup("")
    position = 0
    for span in sorted(spans or [], key=lambda s: s["start"]):
        start, end = max(span["start"], position), min(span["end"], len(text))
        if start >= end:
            continue
        result += escape(text[position:start])
        result += Markup("<mark>{}</mark>").format(text[start:end])
        position = end
    return result + escape(text[position:])


def variant_label(options: dict[str, Any], option_types: list[dict[str, Any]]) -> str:
    order = [t["name"] for t in option_types] or list(options)
    values = [str(options[name]) for name in order if name in options]
    return " / ".join(values)


# ---- the visitor's cart --------------------------------------------------------------------


def cart_headers(web: Web) -> dict[str, str]:
    return {"X-Cart-Token": web.session.cart_token} if web.session.cart_token else {}


async def current_cart(web: Web) -> dict[str, Any] | None:
    """The visitor's cart, or None (a cart cookie that no longer opens a cart is dropped)."""
    if not web.session.cart_id:
        return None
    try:
        return await web.api.call(  # type: ignore[no-any-return]
            "GET", f"/api/v1/carts/{web.session.cart_id}", headers=cart_headers(web)
        )
    except ApiProblem as problem:
        if problem.status in {404, 409, 422}:
            web.session.clear_cart()
            return None
        raise


async def open_cart(web: Web) -> dict[str, Any]:
    """A new guest cart, or the member's one cart; remembered in the cart cookie."""
    cart = await web.api.post("/api/v1/carts")
    web.session.set_cart(str(cart["id"]), cart.get("token"))
    return cart  # type: ignore[no-any-return]


async def adopt_cart_after_login(web: Web) -> None:
    """After log-in or sign-up: the guest cart's lines move into the member's cart."""
    guest_id, guest_token = web.session.cart_id, web.session.cart_token
    member_cart = await web.api.post("/api/v1/carts")
    member_cart_id = str(member_cart["id"])
    if guest_id and guest_token and guest_id != member_cart_id:
        try:
            await web.api.post(
                f"/api/v1/carts/{member_cart_id}/merge",
                json={"guest_cart_id": guest_id, "guest_cart_token": guest_token},
            )
        except ApiProblem as problem:
            if problem.status >= 500:
                raise
            # the guest cart is gone, closed or empty: there is nothing to bring along
    web.session.set_cart(member_cart_id)


async def cart_count(web: Web) -> int | None:
    cart = await current_cart(web)
    return int(cart["item_count"]) if cart else None
