"""Community pages: home, spaces and their boards, posts with comments, the composer, hashtags,
member profiles and notifications. Every read and write goes through /api/v1 like any client."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from starlette.datastructures import UploadFile
from starlette.responses import Response

from jangteo.web.client import ApiProblem
from jangteo.web.forms import FormErrors
from jangteo.web.i18n import N_
from jangteo.web.page import CheckedWeb, Web, WebDep, cursor, safe_next
from jangteo.web.storefront.common import TRUST_LEVELS, cart_count, is_uuid, notice
from jangteo.web.storefront.community_content import upload_photos
from jangteo.web.storefront.creators import creator_or_none
from jangteo.web.storefront.rewards import post_open_graph, touch_later
from jangteo.web.storefront.tips import send_tip, tip_panel

router = APIRouter()

ACCEPTED_IMAGES = "image/jpeg,image/png,image/webp,image/gif"
REACTION_LABELS = {"like": "👍", "heart": "❤️", "fire": "🔥", "clap": "👏", "sad": "😢"}
NOTIFICATION_TEXTS = {
    "comment": N_("commented on your post."),
    "reply": N_("replied to your comment."),
    "mention": N_("mentioned you."),
    "follow": N_("started following you."),
    "answer_accepted": N_("accepted your answer."),
    "reaction_digest": N_("Your posts got new reactions."),
    "order": N_("Your order has an update."),
    "trust_level": N_("Your trust level went up: you may post more each day."),
    "creator_tier": N_("Your creator tier has changed."),
    "creator_notice": N_("posted a notice."),
}


def _not_found(web: Web) -> Response:
    return web.render("errors/404.html", status_code=404)


async def _feed_page(web: Web, path: str, **params: Any) -> dict[str, Any]:
    return await web.api.get(path, cursor=cursor(web), limit=20, **params)


@router.get("/community", include_in_schema=False)
async def community_home(web: WebDep) -> Response:
    tab = web.request.query_params.get("tab", "latest")
    if tab not in ("latest", "following", "trending") or (
        tab == "following" and not web.session.logged_in
    ):
        tab = "latest"
    spaces, feed, trending, count = await asyncio.gather(
        web.api.get("/api/v1/spaces", limit=50),
        _feed_page(web, "/api/v1/feed", mode=tab),
        web.api.get("/api/v1/hashtags/trending"),
        cart_count(web),
    )
    return web.render(
        "community/home.html" if not web.is_htmx else "community/_feed.html",
        spaces=spaces["items"],
        posts=feed["items"],
        next_cursor=feed["next_cursor"],
        trending=trending["items"],
        tab=tab,
        cart_count=count,
        notice=notice(web),
    )


async def _space_or_none(web: Web, slug: str) -> dict[str, Any] | None:
    try:
        return await web.api.get(f"/api/v1/spaces/{slug}")
    except ApiProblem as problem:
        if problem.status == 404:
            return None
        raise


@router.get("/community/s/{slug}", include_in_schema=False)
async def space_page(slug: str, web: WebDep) -> Response:
    space = await _space_or_none(web, slug[:80])
    if space is None:
        return _not_found(web)
    board = web.request.query_params.get("board", "")[:80]
    boards: list[dict[str, Any]] = []
    posts: dict[str, Any] = {"items": [], "next_cursor": None}
    if space["can_read"]:
        boards_page, posts = await asyncio.gather(
            web.api.get(f"/api/v1/spaces/{slug}/boards"),
            _feed_page(web, f"/api/v1/spaces/{slug}/posts", board=board),
        )
        boards = boards_page["items"]
    return web.render(
        "community/space.html" if not web.is_htmx else "community/_feed.html",
        space=space,
        boards=boards,
        board=board,
        posts=posts["items"],
        next_cursor=posts["next_cursor"],
        cart_count=await cart_count(web),
        notice=notice(web),
        errors=FormErrors(),
    )


@router.post("/community/s/{slug}/join", include_in_schema=False)
async def join_space(slug: str, web: CheckedWeb) -> Response:
    web.require_member()
    code = await web.field("invite_code")
    try:
        await web.api.post(f"/api/v1/spaces/{slug[:80]}/join", json={"invite_code": code or None})
    except ApiProblem as problem:
        if problem.status >= 500 or problem.status in (401, 404):
            raise
        space = await web.api.get(f"/api/v1/spaces/{slug[:80]}")
        errors = FormErrors.from_problem(
            problem,
            web.locale,
            {"invite_code": code},
            code_fields={"invite-code-required": "invite_code"},
        )
        return web.render(
            "community/space.html",
            status_code=problem.status,
            space=space,
            boards=[],
            board="",
            posts=[],
            next_cursor=None,
            errors=errors,
        )
    return web.redirect(f"/community/s/{slug[:80]}")


@router.post("/community/s/{slug}/leave", include_in_schema=False)
async def leave_space(slug: str, web: CheckedWeb) -> Response:
    web.require_member()
    await web.api.post(f"/api/v1/spaces/{slug[:80]}/leave")
    return web.redirect(f"/community/s/{slug[:80]}")


def _max_photos(web: Web) -> int:
    return int(web.settings.community_max_post_images)


async def _composer(
    web: Web,
    slug: str,
    *,
    values: dict[str, str],
    photos: list[dict[str, str]] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    space = await _space_or_none(web, slug)
    if space is None:
        return _not_found(web)
    boards = (await web.api.get(f"/api/v1/spaces/{slug}/boards"))["items"]
    return web.render(
        "community/write.html",
        status_code=status_code,
        space=space,
        boards=boards,
        values=values,
        photos=photos or [],
        max_photos=_max_photos(web),
        accepted_images=ACCEPTED_IMAGES,
        errors=errors or FormErrors(),
    )


@router.get("/community/s/{slug}/write", include_in_schema=False)
async def write_page(slug: str, web: WebDep) -> Response:
    web.require_member()
    board = web.request.query_params.get("board", "free")[:80]
    return await _composer(web, slug[:80], values={"board": board, "title": "", "body": ""})


async def _carried_photos(web: Web) -> list[dict[str, str]]:
    """Photos uploaded by an earlier attempt of the form, carried in its hidden fields."""
    form = await web.form()
    tokens = [t.strip() for t in form.getlist("image_token") if isinstance(t, str) and t.strip()]
    urls = [u for u in form.getlist("image_url") if isinstance(u, str)]
    # only paths of this site are shown back as photos
    return [
        {"token": token, "url": url if url.startswith("/") and not url.startswith("//") else ""}
        for token, url in zip(tokens[: _max_photos(web)], urls, strict=False)
    ]


@router.post("/community/s/{slug}/write", include_in_schema=False)
async def write_post(slug: str, web: CheckedWeb) -> Response:
    """Uploads the chosen photos through the API, then writes the post with their tokens;
    photos already uploaded by a refused attempt are carried over, not uploaded again."""
    web.require_member()
    slug = slug[:80]
    values = {name: await web.field(name) for name in ("board", "title", "body")}
    photos = await _carried_photos(web)
    chosen = (await web.form()).getlist("photos")
    files = [f for f in chosen if isinstance(f, UploadFile) and f.filename]
    errors = FormErrors()
    if len(photos) + len(files) > _max_photos(web):
        errors.add("photos", web._("Up to %(n)s photos.", n=_max_photos(web)))
    else:
        await upload_photos(web, files, photos, errors)
    if errors:
        return await _composer(
            web, slug, values=values, photos=photos, errors=errors, status_code=422
        )
    try:
        post = await web.api.post(
            f"/api/v1/spaces/{slug}/boards/{values['board'][:80] or 'free'}/posts",
            json={
                "title": values["title"],
                "body": values["body"],
                "images": [p["token"] for p in photos],
            },
        )
    except ApiProblem as problem:
        if problem.status >= 500 or problem.status == 401:
            raise
        if problem.code == "invalid-image-token":
            photos = []  # expired or foreign: they have to be chosen again
        errors = FormErrors.from_problem(
            problem,
            web.locale,
            values,
            code_fields={
                "posting-limit-reached": "body",
                "muted-in-space": "body",
                "invalid-image-token": "photos",
            },
            rename={"images": "photos"},
        )
        return await _composer(
            web, slug, values=values, photos=photos, errors=errors, status_code=problem.status
        )
    return web.redirect(f"/community/p/{post['id']}")


async def _post_page(
    web: Web,
    post_id: str,
    *,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    tip_form: tuple[dict[str, str], FormErrors] | None = None,
    status_code: int = 200,
) -> Response:
    post, comments = await asyncio.gather(
        web.api.get(f"/api/v1/posts/{post_id}"),
        web.api.get(f"/api/v1/posts/{post_id}/comments", cursor=cursor(web), limit=50),
    )
    tip = await tip_panel(web, post, action=f"/community/p/{post_id}/tip", form=tip_form)
    threads: list[dict[str, Any]] = []
    replies: dict[str, list[dict[str, Any]]] = {}
    for comment in comments["items"]:
        if comment["parent_id"]:
            replies.setdefault(comment["parent_id"], []).append(comment)
        else:
            threads.append(comment)
    return web.render(
        "community/post.html",
        status_code=status_code,
        post=post,
        threads=threads,
        replies=replies,
        next_cursor=comments["next_cursor"],
        reactions=REACTION_LABELS,
        values=values or {"body": ""},
        errors=errors or FormErrors(),
        cart_count=await cart_count(web),
        notice=notice(web),
        og=post_open_graph(web, post),
        tip=tip,
    )


@router.get("/community/p/{post_id}", include_in_schema=False)
async def post_page(post_id: str, web: WebDep) -> Response:
    if not is_uuid(post_id):
        return _not_found(web)
    touch_later(web, post_id)
    page = await _post_page(web, post_id)
    if web.session.logged_in:  # a post opened counts toward the member's trust level
        await web.api.post(f"/api/v1/posts/{post_id}/read")
    return page


@router.post("/community/p/{post_id}/comments", include_in_schema=False)
async def comment(post_id: str, web: CheckedWeb) -> Response:
    web.require_member()
    if not is_uuid(post_id):
        return _not_found(web)
    body = await web.field("body")
    parent = await web.field("parent_id")
    try:
        await web.api.post(
            f"/api/v1/posts/{post_id}/comments",
            json={"body": body, "parent_id": parent if is_uuid(parent) else None},
        )
    except ApiProblem as problem:
        if problem.status >= 500 or problem.status in (401, 404):
            raise
        errors = FormErrors.from_problem(
            problem,
            web.locale,
            {"body": body},
            code_fields={
                "blocked-by-member": "body",
                "posting-limit-reached": "body",
                "muted-in-space": "body",
                "not-space-member": "body",
            },
        )
        return await _post_page(
            web, post_id, values={"body": body}, errors=errors, status_code=problem.status
        )
    return web.redirect(f"/community/p/{post_id}#comments")


@router.post("/community/p/{post_id}/tip", include_in_schema=False)
async def tip_post(post_id: str, web: CheckedWeb) -> Response:
    """A tip to the post's creator: in points at once, by card through the payment page."""
    web.require_member()
    if not is_uuid(post_id):
        return _not_found(web)
    sent = await send_tip(web, post_id, back=f"/community/p/{post_id}")
    if isinstance(sent, Response):
        return sent
    values, errors, status_code = sent
    return await _post_page(web, post_id, tip_form=(values, errors), status_code=status_code)


@router.post("/community/p/{post_id}/react", include_in_schema=False)
async def react(post_id: str, web: CheckedWeb) -> Response:
    web.require_member()
    kind = await web.field("kind")
    if not is_uuid(post_id) or kind not in REACTION_LABELS:
        return _not_found(web)
    on = await web.field("on") == "1"
    path = f"/api/v1/posts/{post_id}/reactions/{kind}"
    await (web.api.call("PUT", path) if on else web.api.delete(path))
    return web.redirect(f"/community/p/{post_id}")


@router.post("/community/p/{post_id}/bookmark", include_in_schema=False)
async def bookmark(post_id: str, web: CheckedWeb) -> Response:
    web.require_member()
    if not is_uuid(post_id):
        return _not_found(web)
    path = f"/api/v1/posts/{post_id}/bookmark"
    await (web.api.call("PUT", path) if await web.field("on") == "1" else web.api.delete(path))
    return web.redirect(f"/community/p/{post_id}")


@router.get("/community/tags/{tag}", include_in_schema=False)
async def hashtag_page(tag: str, web: WebDep) -> Response:
    tag = tag.lstrip("#")[:30]
    page = await _feed_page(web, f"/api/v1/hashtags/{tag}/posts")
    return web.render(
        "community/tag.html" if not web.is_htmx else "community/_feed.html",
        tag=tag,
        posts=page["items"],
        next_cursor=page["next_cursor"],
        cart_count=await cart_count(web),
    )


async def _no_creator() -> None:
    return None


@router.get("/community/u/{member_id}", include_in_schema=False)
async def profile_page(member_id: str, web: WebDep) -> Response:
    if not is_uuid(member_id):
        return _not_found(web)
    profile, posts, creator = await asyncio.gather(
        web.api.get(f"/api/v1/members/{member_id}/profile"),
        _feed_page(web, f"/api/v1/members/{member_id}/posts"),
        creator_or_none(web, member_id) if not web.is_htmx else _no_creator(),
    )
    return web.render(
        "community/profile.html" if not web.is_htmx else "community/_feed.html",
        profile=profile,
        creator=creator,
        posts=posts["items"],
        next_cursor=posts["next_cursor"],
        cart_count=await cart_count(web),
        notice=notice(web),
    )


@router.post("/community/u/{member_id}/{action}", include_in_schema=False)
async def relate(member_id: str, action: str, web: CheckedWeb) -> Response:
    """follow / unfollow / block / unblock a member."""
    web.require_member()
    verbs = {"follow": ("PUT", "follow"), "unfollow": ("DELETE", "follow")}
    verbs |= {"block": ("PUT", "block"), "unblock": ("DELETE", "block")}
    if not is_uuid(member_id) or action not in verbs:
        return _not_found(web)
    method, what = verbs[action]
    await web.api.call(method, f"/api/v1/members/{member_id}/{what}")
    # the creator page follows through the same form and comes back to itself
    return web.redirect(safe_next(await web.field("next"), f"/community/u/{member_id}"))


@router.get("/community/me/trust", include_in_schema=False)
async def trust_page(web: WebDep) -> Response:
    """The member's trust level, what it allows a day and what the next one still needs."""
    web.require_member()
    trust, rules = await asyncio.gather(
        web.api.get("/api/v1/me/trust"), web.api.get("/api/v1/community/rules")
    )
    return web.render(
        "community/trust.html",
        trust=trust,
        rules=rules,
        levels=TRUST_LEVELS,
        cart_count=await cart_count(web),
    )


@router.get("/notifications", include_in_schema=False)
async def notifications_page(web: WebDep) -> Response:
    web.require_member()
    page = await web.api.get("/api/v1/me/notifications", cursor=cursor(web), limit=30)
    return web.render(
        "community/notifications.html",
        notifications=page["items"],
        unread_count=page["unread_count"],
        next_cursor=page["next_cursor"],
        texts=NOTIFICATION_TEXTS,
        cart_count=await cart_count(web),
    )


@router.post("/notifications/read", include_in_schema=False)
async def read_notifications(web: CheckedWeb) -> Response:
    web.require_member()
    await web.api.post("/api/v1/me/notifications/read", json={})
    return web.redirect("/notifications")
