"""Rewards in the shop: the share sheet's page (and its JSON answer for share.js), Open Graph
tags of shared pages, the calls that let the API credit a sale (this browser's visitor id after
sign-in, views of posts that tag products), and the member's earnings and share links."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urljoin

from fastapi import APIRouter
from starlette.responses import JSONResponse, Response

from jangteo.web.client import ApiProblem
from jangteo.web.forms import FormErrors
from jangteo.web.i18n import N_
from jangteo.web.page import CheckedWeb, Web, WebDep, cursor
from jangteo.web.storefront.common import cart_count, is_uuid

router = APIRouter()

CHANNELS = {
    "kakaotalk": N_("KakaoTalk"),
    "instagram": N_("Instagram"),
    "facebook": N_("Facebook"),
    "x": N_("X (Twitter)"),
    "band": N_("Band"),
    "sms": N_("Text message"),
    "link": N_("Link"),
    "other": N_("Other apps"),
}
TARGETS = {"product": N_("Product"), "post": N_("Post"), "profile": N_("Profile")}
TARGET_PATHS = {"product": "/p/", "post": "/community/p/", "profile": "/community/u/"}
ATTRIBUTION_STATUSES = {
    "placed": N_("Awaiting payment"),
    "pending": N_("Pending"),
    "available": N_("Available to pay out"),
    "cancelled": N_("Reward cancelled"),
    "reversed": N_("Taken back"),
}
SOURCE_TYPES = {"share_link": N_("Share link"), "post": N_("Post"), "shelf": N_("Creator shelf")}
STATEMENT_STATUSES = {"open": N_("Awaiting payout"), "paid": N_("Paid out")}
STATEMENTS_SHOWN = 12
# the share page lists the member's links to the target among this many of their newest
RECENT_LINKS = 100
PAGE_SIZE = 20
DESCRIPTION_CHARS = 150


# ---- what the API needs to credit a sale ------------------------------------------------------


def link_visitor_later(web: Web) -> None:
    """After sign-in (or at checkout): this browser's visitor id is the member's, so what it
    touched before counts for their orders. Made after the page is sent; failures ignored."""
    if not web.session.logged_in:
        return
    web.after_response(
        lambda: web.api.call("PUT", f"/api/v1/me/visitors/{web.session.visitor_id}", refresh=False)
    )


def touch_later(web: Web, post_id: str) -> None:
    """The viewer (member by token, visitor by X-Visitor-Id) has seen the post: its tagged
    products are credited to its author if bought soon. Made after the page is sent."""
    web.after_response(
        lambda: web.api.call("POST", f"/api/v1/posts/{post_id}/touch", refresh=False)
    )


# ---- Open Graph ---------------------------------------------------------------------------------


def _excerpt(text: str, limit: int = DESCRIPTION_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def open_graph(
    web: Web, *, title: str, description: str, image: str | None, kind: str
) -> dict[str, Any]:
    """The tags a messenger or social site reads to preview the page; addresses absolute,
    from the address this page was asked for."""
    base = str(web.request.base_url)
    return {
        "title": title,
        "description": _excerpt(description),
        "image": urljoin(base, image) if image else None,
        "url": urljoin(base, web.request.url.path),
        "type": kind,
    }


def product_open_graph(web: Web, product: dict[str, Any]) -> dict[str, Any]:
    images = product.get("images") or []
    brand = (product.get("brand") or {}).get("name") or ""
    summary = f"{brand} · {web._.krw(product.get('price'))}" if brand else ""
    return open_graph(
        web,
        title=product["name"],
        description=product.get("description") or summary,
        image=images[0]["url"] if images else None,
        kind="product",
    )


def post_open_graph(
    web: Web, post: dict[str, Any], images: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    body = post.get("body") or ""
    title = post.get("title") or _excerpt(body, 60) or web._("Post")
    return open_graph(
        web,
        title=title,
        description=body or post["space"]["name"],
        image=images[0]["url"] if images else None,
        kind="article",
    )


# ---- the share page -----------------------------------------------------------------------------


async def _target(web: Web, target_type: str, target_id: str) -> dict[str, str] | None:
    """The shared thing's name and page as anyone may see them; None when there is none."""
    try:
        if target_type == "product":
            product = await web.api.get(f"/api/v1/products/{target_id}")
            name = product["name"]
        elif target_type == "post":
            post = await web.api.get(f"/api/v1/posts/{target_id}")
            name = post["title"] or _excerpt(post["body"], 60)
        else:
            profile = await web.api.get(f"/api/v1/members/{target_id}/profile")
            name = profile["nickname"]
    except ApiProblem as problem:
        if problem.status in (403, 404, 422):
            return None
        raise
    return {"name": name, "path": TARGET_PATHS[target_type] + target_id}


async def _links_to(web: Web, target_type: str, target_id: str) -> dict[str, dict[str, Any]]:
    """The member's links to this target among their newest, by channel."""
    page = await web.api.get("/api/v1/me/share-links", limit=RECENT_LINKS)
    return {
        link["channel"]: link
        for link in page["items"]
        if link["target_type"] == target_type and str(link["target_id"]) == target_id
    }


async def _share_page(
    web: Web,
    target_type: str,
    target_id: str,
    *,
    made: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    target, links, count = await asyncio.gather(
        _target(web, target_type, target_id),
        _links_to(web, target_type, target_id),
        cart_count(web),
    )
    if target is None:
        return web.render("errors/404.html", status_code=404)
    if made is not None:
        links[made["channel"]] = made
    return web.render(
        "share/share.html",
        status_code=status_code,
        target_type=target_type,
        target_id=target_id,
        target=target,
        target_label=TARGETS[target_type],
        channels=CHANNELS,
        links=links,
        made=made,
        errors=errors or FormErrors(),
        cart_count=count,
    )


def _target_of(values: dict[str, str]) -> tuple[str, str] | None:
    target_type, target_id = values.get("target_type", ""), values.get("target_id", "")
    if target_type not in TARGETS or not is_uuid(target_id):
        return None
    return target_type, target_id.lower()


@router.get("/share", include_in_schema=False)
async def share_page(web: WebDep) -> Response:
    web.require_member()
    target = _target_of(dict(web.request.query_params))
    if target is None:
        return web.render("errors/404.html", status_code=404)
    return await _share_page(web, *target)


def _wants_json(web: Web) -> bool:
    return "application/json" in web.request.headers.get("accept", "")


@router.post("/share", include_in_schema=False)
async def share(web: CheckedWeb) -> Response:
    """A link for one channel (the same one when asked again): the page, or for share.js the
    link as JSON."""
    web.require_member()
    values = {name: await web.field(name) for name in ("target_type", "target_id", "channel")}
    target = _target_of(values)
    if target is None:
        return web.render("errors/404.html", status_code=404)
    try:
        link = await web.api.post(
            "/api/v1/share-links",
            json={"target_type": target[0], "target_id": target[1], "channel": values["channel"]},
        )
    except ApiProblem as problem:
        if problem.status >= 500 or problem.status == 401:
            raise
        if _wants_json(web):
            answer = {"title": problem.title, "code": problem.code}
            return web.finish(JSONResponse(answer, status_code=problem.status))
        errors = FormErrors.from_problem(problem, web.locale, values)
        if errors.fields:  # a refused channel is said once, for the whole form
            errors = FormErrors()
            errors.add(None, web._("Choose one of the options."))
        return await _share_page(web, *target, errors=errors, status_code=problem.status)
    if _wants_json(web):
        answer = {"url": link["url"], "code": link["code"], "channel": link["channel"]}
        return web.finish(JSONResponse(answer))
    return await _share_page(web, *target, made=link)


# ---- the member's earnings and share links ------------------------------------------------------


def _rate(rate_bp: int) -> str:
    """Basis points as a percentage: 300 → "3", 250 → "2.5"."""
    return f"{rate_bp / 100:.2f}".rstrip("0").rstrip(".")


def _chart(web: Web, daily: list[dict[str, Any]]) -> dict[str, Any]:
    """What earnings.js draws (and the table shows): one bar a day."""
    return {
        "labels": [f"{d['day'][5:7]}.{d['day'][8:10]}" for d in daily],
        "amounts": [d["amount"] for d in daily],
        "name": web._("Earned"),
        "locale": web.locale,
    }


@router.get("/my/earnings", include_in_schema=False)
async def earnings_page(web: WebDep) -> Response:
    web.require_member()
    money, page, statements, rules, count = await asyncio.gather(
        web.api.get("/api/v1/me/earnings"),
        web.api.get("/api/v1/me/earnings/attributions", cursor=cursor(web), limit=PAGE_SIZE),
        web.api.get("/api/v1/me/statements", limit=STATEMENTS_SHOWN),
        web.api.call("GET", "/api/v1/rewards/rules", auth=False),
        cart_count(web),
    )
    return web.render(
        "my/earnings.html",
        money=money,
        chart=_chart(web, money["daily"]),
        attributions=page["items"],
        next_cursor=page["next_cursor"],
        rules=rules,
        rate=_rate,
        statuses=ATTRIBUTION_STATUSES,
        sources=SOURCE_TYPES,
        statements=statements["items"],
        statement_statuses=STATEMENT_STATUSES,
        cart_count=count,
    )


@router.get("/my/share-links", include_in_schema=False)
async def share_links_page(web: WebDep) -> Response:
    web.require_member()
    page, count = await asyncio.gather(
        web.api.get("/api/v1/me/share-links", cursor=cursor(web), limit=PAGE_SIZE),
        cart_count(web),
    )
    return web.render(
        "my/share_links.html",
        links=page["items"],
        next_cursor=page["next_cursor"],
        channels=CHANNELS,
        targets=TARGETS,
        paths=TARGET_PATHS,
        cart_count=count,
    )
