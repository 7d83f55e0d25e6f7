"""Creator pages: a creator's tier, bio, links, followers, subscription plans, product shelf and
posts (a view of it credits the shelf's sales to them), and the creator's own edits of their page,
plans and shelf."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from jangteo.web.client import ApiProblem
from jangteo.web.forms import FormErrors
from jangteo.web.i18n import N_
from jangteo.web.page import CheckedWeb, LoginRequired, Web, WebDep, cursor
from jangteo.web.storefront.common import cart_count, is_uuid, notice

router = APIRouter()

LINK_SLOTS = 5  # the API takes at most five links
LINK_ERROR = N_("Enter a web address that starts with https://.")
POSTS_PAGE = 20
PLAN_FIELDS = ("name", "price", "benefits")
LIVE_SUBSCRIPTION = ("active", "grace")


# ---- what other pages ask about creators ---------------------------------------------------------


async def creator_or_none(web: Web, member_id: str | None) -> dict[str, Any] | None:
    """The member's public creator page, or None when they are not a creator."""
    if not member_id or not is_uuid(str(member_id)):
        return None
    try:
        return await web.api.call("GET", f"/api/v1/creators/{member_id}", auth=False)  # type: ignore[no-any-return]
    except ApiProblem as problem:
        if problem.status in (404, 422):
            return None
        raise


async def my_account(web: Web) -> dict[str, Any] | None:
    """The signed-in member (id, roles); None for a visitor, without calling the API."""
    if not web.session.logged_in:
        return None
    try:
        return await web.api.get("/api/v1/me")  # type: ignore[no-any-return]
    except ApiProblem as problem:
        if problem.status in (401, 403):
            return None
        raise


def is_creator(account: dict[str, Any] | None) -> bool:
    return bool(account and "creator" in account.get("roles", []))


def touch_shelf_later(web: Web, member_id: str) -> None:
    """The viewer (member by token, visitor by X-Visitor-Id) has seen the creator's shelf: its
    products are credited to the creator if bought soon. Made after the page is sent."""
    web.after_response(
        lambda: web.api.call("POST", f"/api/v1/creators/{member_id}/touch", refresh=False)
    )


# ---- the creator page ------------------------------------------------------------------------


async def _profile(web: Web, member_id: str) -> dict[str, Any] | None:
    """Whether the viewer follows the creator (the community profile says so)."""
    if not web.session.logged_in:
        return None
    try:
        return await web.api.get(f"/api/v1/members/{member_id}/profile")  # type: ignore[no-any-return]
    except ApiProblem as problem:
        if problem.status in (403, 404):
            return None
        raise


async def _plans(
    web: Web,
    member_id: str,
    *,
    own: bool,
    form: tuple[dict[str, str], FormErrors] | None = None,
) -> dict[str, Any]:
    """The creator's plans; for the creator, their subscriber count and the new-plan form; for
    a member, whether they subscribe already. Subscribers and the creator get the link to the
    subscribers' space."""
    plans = await web.api.call("GET", f"/api/v1/creators/{member_id}/plans", auth=False)
    panel: dict[str, Any] = {"plans": plans, "subscribed": None, "space": None}
    if own:
        try:
            panel["subscribers"] = (await web.api.get("/api/v1/me/subscribers"))["subscribers"]
        except ApiProblem as problem:
            if problem.status != 403:
                raise
            # plans are managed from a session that passed a second factor (and that knows
            # the member is a creator: a session older than the tier does not)
            panel["mfa_required"] = True
        values, errors = form or ({name: "" for name in PLAN_FIELDS}, FormErrors())
        panel["typed"], panel["errors"] = values, errors
    elif web.session.logged_in:
        mine = await web.api.get("/api/v1/me/subscriptions")
        panel["subscribed"] = next(
            (
                s
                for s in mine
                if str(s["creator_id"]) == member_id and s["status"] in LIVE_SUBSCRIPTION
            ),
            None,
        )
    if plans and (own or panel["subscribed"]):
        panel["space"] = await web.api.get(f"/api/v1/spaces/{plans[0]['space_id']}")
    return panel


def _edit_values(creator: dict[str, Any]) -> dict[str, str]:
    values = {"bio": creator["bio"]}
    for n in range(LINK_SLOTS):
        values[f"links.{n}"] = creator["links"][n] if n < len(creator["links"]) else ""
    return values


async def _creator_page(
    web: Web,
    member_id: str,
    *,
    edit: tuple[dict[str, str], FormErrors] | None = None,
    plan_form: tuple[dict[str, str], FormErrors] | None = None,
    status_code: int = 200,
) -> Response:
    creator, account, profile, posts, count = await asyncio.gather(
        creator_or_none(web, member_id),
        my_account(web),
        _profile(web, member_id),
        web.api.get(f"/api/v1/members/{member_id}/posts", cursor=cursor(web), limit=POSTS_PAGE),
        cart_count(web),
    )
    if creator is None:
        return web.render("errors/404.html", status_code=404)
    if web.is_htmx:  # the next page of the creator's posts
        return web.render(
            "community/_feed.html", posts=posts["items"], next_cursor=posts["next_cursor"]
        )
    own = bool(account and str(account["id"]) == member_id)
    if not own:
        touch_shelf_later(web, member_id)
    values, errors = edit if edit is not None else (_edit_values(creator), FormErrors())
    plans = await _plans(web, member_id, own=own, form=plan_form)
    return web.render(
        "creators/creator.html",
        status_code=status_code,
        creator=creator,
        own=own,
        i_follow=bool(profile and profile["i_follow"]),
        posts=posts["items"],
        next_cursor=posts["next_cursor"],
        values=values,
        errors=errors,
        link_slots=LINK_SLOTS,
        plans=plans,
        cart_count=count,
        notice=notice(web),
    )


@router.get("/creators/{member_id}", include_in_schema=False)
async def creator_page(member_id: str, web: WebDep) -> Response:
    if not is_uuid(member_id):
        return web.render("errors/404.html", status_code=404)
    return await _creator_page(web, member_id.lower())


# ---- the creator's own edits -------------------------------------------------------------------


async def _own_id(web: Web) -> str:
    """The signed-in member's id; log in again when the session has ended."""
    web.require_member()
    account = await my_account(web)
    if account is None:
        raise LoginRequired("/")
    return str(account["id"])


@router.post("/creators/me/profile", include_in_schema=False)
async def edit_profile(web: CheckedWeb) -> Response:
    """The bio and up to five links; blank link fields are left out."""
    me = await _own_id(web)
    values = {"bio": await web.field("bio")}
    for n in range(LINK_SLOTS):
        values[f"links.{n}"] = await web.field(f"links.{n}")
    filled = [n for n in range(LINK_SLOTS) if values[f"links.{n}"]]
    body = {"bio": values["bio"], "links": [values[f"links.{n}"] for n in filled]}
    try:
        await web.api.patch("/api/v1/me/creator", json=body)
    except ApiProblem as problem:
        if problem.status >= 500 or problem.status == 401:
            raise
        # the API numbers the links it was sent; the form numbers its fields
        rename = {f"links.{i}": f"links.{n}" for i, n in enumerate(filled)}
        errors = FormErrors.from_problem(problem, web.locale, values, rename=rename)
        for name in list(errors.fields):
            if name.startswith("links.") and values.get(name):
                errors.fields[name] = web._(LINK_ERROR)
        return await _creator_page(web, me, edit=(values, errors), status_code=problem.status)
    return web.redirect(f"/creators/{me}?notice=creator-saved")


@router.post("/creators/me/plans", include_in_schema=False)
async def add_plan(web: CheckedWeb) -> Response:
    """A new monthly plan; the first one opens the subscribers' space."""
    me = await _own_id(web)
    values = {name: await web.field(name) for name in PLAN_FIELDS}
    body = {**values, "price": values["price"].replace(",", "")}
    try:
        await web.api.post("/api/v1/me/subscription-plans", json=body)
    except ApiProblem as problem:
        if problem.status >= 500 or problem.status in (401, 403):
            raise
        errors = FormErrors.from_problem(problem, web.locale, values)
        return await _creator_page(web, me, plan_form=(values, errors), status_code=problem.status)
    return web.redirect(f"/creators/{me}?notice=plan-added#plans")


@router.post("/creators/me/plans/{plan_id}/close", include_in_schema=False)
async def close_plan(plan_id: str, web: CheckedWeb) -> Response:
    """No new subscribers to the plan; those subscribed keep it."""
    me = await _own_id(web)
    if not is_uuid(plan_id):
        return web.render("errors/404.html", status_code=404)
    await web.api.delete(f"/api/v1/me/subscription-plans/{plan_id}")
    return web.redirect(f"/creators/{me}?notice=plan-closed#plans")


@router.post("/creators/me/shelf/{product_id}/remove", include_in_schema=False)
async def take_off_shelf(product_id: str, web: CheckedWeb) -> Response:
    me = await _own_id(web)
    if not is_uuid(product_id):
        return web.render("errors/404.html", status_code=404)
    await web.api.delete(f"/api/v1/me/shelf/{product_id}")
    return web.redirect(f"/creators/{me}?notice=unshelved#shelf")


async def put_on_shelf(web: Web, product_id: str, note: str) -> tuple[FormErrors, int] | None:
    """The product on the signed-in creator's shelf with a note; if refused, the form's errors
    and the status to answer."""
    try:
        await web.api.call("PUT", f"/api/v1/me/shelf/{product_id}", json={"note": note})
    except ApiProblem as problem:
        if problem.status >= 500 or problem.status in (401, 404):
            raise
        return FormErrors.from_problem(problem, web.locale, {"note": note}), problem.status
    return None
