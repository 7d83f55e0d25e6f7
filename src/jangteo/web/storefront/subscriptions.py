"""Paid subscriptions to creators: the subscribe page (a plan, its price and the card
registration, with the dummy provider), and the member's subscriptions on /my with cancelling."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from jangteo.web.client import ApiProblem
from jangteo.web.forms import FormErrors, problem_message
from jangteo.web.i18n import N_
from jangteo.web.page import CheckedWeb, Web, WebDep
from jangteo.web.storefront.common import cart_count, is_uuid, notice
from jangteo.web.storefront.creators import LIVE_SUBSCRIPTION, creator_or_none

router = APIRouter()

STATUS_LABELS = {
    "active": N_("In use"),
    "grace": N_("Payment failed (grace period)"),
    "lapsed": N_("Lapsed"),
    "ended": N_("Ended"),
}
# refusals of a subscription the page explains, by the API's code
SUBSCRIBE_PROBLEMS = {
    "payment-declined": N_("The card was declined. Register another card and try again."),
    "already-subscribed": N_("You already subscribe to this creator."),
    "invalid-input": N_("You cannot subscribe to your own plan."),
}


def _not_found(web: Web) -> Response:
    return web.render("errors/404.html", status_code=404)


# ---- subscribing -----------------------------------------------------------------------------


async def _plan_of(
    web: Web, member_id: str, plan_id: str
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The creator and their plan open to new subscribers, or None."""
    if not is_uuid(plan_id):
        return None
    creator = await creator_or_none(web, member_id)
    if creator is None:
        return None
    plans = await web.api.call("GET", f"/api/v1/creators/{member_id}/plans", auth=False)
    plan = next((p for p in plans if str(p["id"]) == plan_id.lower()), None)
    return (creator, plan) if plan is not None else None


async def _subscribe_page(
    web: Web,
    creator: dict[str, Any],
    plan: dict[str, Any],
    *,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    return web.render(
        "creators/subscribe.html",
        status_code=status_code,
        creator=creator,
        plan=plan,
        # what the provider's card widget hands back once the card is registered (dummy provider)
        auth_key=f"dummy_{uuid.uuid4().hex}",
        errors=errors or FormErrors(),
        cart_count=await cart_count(web),
    )


@router.get("/creators/{member_id}/subscribe/{plan_id}", include_in_schema=False)
async def subscribe_page(member_id: str, plan_id: str, web: WebDep) -> Response:
    web.require_member()
    found = await _plan_of(web, member_id.lower(), plan_id)
    if found is None:
        return _not_found(web)
    return await _subscribe_page(web, *found)


@router.post("/creators/{member_id}/subscribe/{plan_id}", include_in_schema=False)
async def subscribe(member_id: str, plan_id: str, web: CheckedWeb) -> Response:
    """Registers the card and charges the first month; back to the creator page."""
    web.require_member()
    member_id = member_id.lower()
    found = await _plan_of(web, member_id, plan_id)
    if found is None:
        return _not_found(web)
    creator, plan = found
    try:
        await web.api.post(
            "/api/v1/subscriptions",
            json={"plan_id": str(plan["id"]), "auth_key": await web.field("auth_key")},
        )
    except ApiProblem as problem:
        if (problem.status >= 500 and problem.status != 503) or problem.status in (401, 404):
            raise
        errors = FormErrors()
        known = SUBSCRIBE_PROBLEMS.get(problem.code)
        # a provider outage (503) or a malformed key: the same card can be registered again
        errors.add(None, web._(known) if known else problem_message(problem, web.locale))
        return await _subscribe_page(web, creator, plan, errors=errors, status_code=problem.status)
    return web.redirect(f"/creators/{member_id}?notice=subscribed#plans")


# ---- the member's subscriptions --------------------------------------------------------------


async def _creator_plans(web: Web, creator_id: str) -> list[dict[str, Any]]:
    return await web.api.call("GET", f"/api/v1/creators/{creator_id}/plans", auth=False)  # type: ignore[no-any-return]


async def _space(web: Web, plans: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The subscribers' space (all of a creator's plans share one)."""
    if not plans:
        return None
    return await web.api.get(f"/api/v1/spaces/{plans[0]['space_id']}")  # type: ignore[no-any-return]


async def _my_subscriptions_page(
    web: Web, *, errors: FormErrors | None = None, status_code: int = 200
) -> Response:
    subscriptions = await web.api.get("/api/v1/me/subscriptions")
    creator_ids = list(dict.fromkeys(str(s["creator_id"]) for s in subscriptions))
    creators, plans = await asyncio.gather(
        asyncio.gather(*(creator_or_none(web, c) for c in creator_ids)),
        asyncio.gather(*(_creator_plans(web, c) for c in creator_ids)),
    )
    spaces = await asyncio.gather(*(_space(web, p) for p in plans))
    by_creator = dict(zip(creator_ids, zip(creators, plans, spaces, strict=True), strict=True))
    rows = []
    for sub in subscriptions:
        creator, offered, space = by_creator[str(sub["creator_id"])]
        rows.append(
            {
                "sub": sub,
                "creator": creator,
                # a plan closed to new subscribers is no longer listed: its name is not known
                "plan": next((p for p in offered if p["id"] == sub["plan_id"]), None),
                "space": space if sub["status"] in LIVE_SUBSCRIPTION else None,
            }
        )
    return web.render(
        "my/subscriptions.html",
        status_code=status_code,
        rows=rows,
        status_labels=STATUS_LABELS,
        errors=errors or FormErrors(),
        cart_count=await cart_count(web),
        notice=notice(web),
    )


@router.get("/my/subscriptions", include_in_schema=False)
async def my_subscriptions(web: WebDep) -> Response:
    web.require_member()
    return await _my_subscriptions_page(web)


@router.post("/my/subscriptions/{subscription_id}/cancel", include_in_schema=False)
async def cancel_subscription(subscription_id: str, web: CheckedWeb) -> Response:
    """Stops renewing; the subscription runs to the end of the month paid for."""
    web.require_member()
    if not is_uuid(subscription_id):
        return _not_found(web)
    try:
        await web.api.post(f"/api/v1/subscriptions/{subscription_id}/cancel")
    except ApiProblem as problem:
        if problem.status >= 500 or problem.status in (401, 404):
            raise
        errors = FormErrors()
        errors.add(None, problem_message(problem, web.locale))  # e.g. it has already ended
        return await _my_subscriptions_page(web, errors=errors, status_code=problem.status)
    return web.redirect("/my/subscriptions?notice=subscription-cancelled")
