"""Community chat rooms and offline meetups: a space's rooms, a room's history with a send form
(live over the room's WebSocket when scripts run), meetups with their sessions and RSVPs, and
the member's own meetups. Every read and write goes through /api/v1 like any client."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from starlette.responses import JSONResponse, Response

from jangteo.web.client import ApiProblem
from jangteo.web.forms import FormErrors, problem_message
from jangteo.web.i18n import N_
from jangteo.web.page import CheckedWeb, Web, WebDep, cursor
from jangteo.web.storefront.common import cart_count, is_uuid

router = APIRouter()

# the space roles that may delete messages in its rooms (the API checks again)
MODERATOR_ROLES = ("owner", "moderator")
RSVP_NOTICES = {
    "confirmed": N_("You are going. See you there!"),
    "waitlisted": N_("This session is full: you are on the waitlist."),
    "cancelled": N_("Your RSVP has been cancelled."),
}
RSVP_LABELS = {
    "confirmed": N_("Going"),
    "checked_in": N_("Checked in"),
    "waitlisted": N_("On the waitlist"),
    "cancelled": N_("RSVP cancelled"),
}


def _not_found(web: Web) -> Response:
    return web.render("errors/404.html", status_code=404)


def _to_login(web: Web, back: str) -> Response:
    """Log-in first, then back to the page the form was on (not to the form's POST address)."""
    return web.redirect("/login?next=" + quote(back, safe="/"))


def _reraise(problem: ApiProblem) -> bool:
    """Problems the page cannot show next to its form: the error pages handle them."""
    return problem.status >= 500 or problem.status in (401, 404)


# ---- chat rooms -------------------------------------------------------------------------------


@router.get("/community/s/{slug}/rooms", include_in_schema=False)
async def space_rooms(slug: str, web: WebDep) -> Response:
    slug = slug[:80]
    try:
        space = await web.api.get(f"/api/v1/spaces/{slug}")
    except ApiProblem as problem:
        if problem.status == 404:
            return _not_found(web)
        raise
    rooms: dict[str, Any] = {"items": [], "next_cursor": None}
    if space["can_read"]:
        rooms = await web.api.get(f"/api/v1/spaces/{slug}/rooms", cursor=cursor(web), limit=30)
    return web.render(
        "community/room_list.html",
        space=space,
        rooms=rooms["items"],
        next_cursor=rooms["next_cursor"],
        cart_count=await cart_count(web),
    )


def _send_errors(problem: ApiProblem, web: Web, body: str) -> FormErrors:
    """Why a message was not sent (muted, banned, slow mode, rate limit, refused), under the
    message field, with the wait when the API tells it."""
    if problem.errors:
        return FormErrors.from_problem(problem, web.locale, {"body": body})
    errors = FormErrors()
    message = problem_message(problem, web.locale)
    wait = problem.body.get("retry_after")
    if isinstance(wait, int) and wait > 0:
        message = f"{message} {web._('You can send again in %(n)s s.', n=wait)}"
    errors.add("body", message)
    return errors


async def _room_page(
    web: Web,
    room_id: str,
    *,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    before = web.request.query_params.get("before", "")[:500]
    try:
        room = await web.api.get(f"/api/v1/rooms/{room_id}")
    except ApiProblem as problem:
        if problem.status != 403:
            raise
        # not a member of a members-only space, or banned: no room, no history
        return web.render(
            "community/room_denied.html",
            status_code=403,
            message=problem_message(problem, web.locale),
            cart_count=await cart_count(web),
        )
    space, history, count = await asyncio.gather(
        web.api.get(f"/api/v1/spaces/{room['space_id']}"),
        web.api.get(f"/api/v1/rooms/{room_id}/messages", before=before),
        cart_count(web),
    )
    return web.render(
        "community/room.html",
        status_code=status_code,
        room=room,
        space=space,
        messages=history["items"],
        older_cursor=history["next_cursor"],
        before=before,
        moderator=space["my_status"] == "active" and space["my_role"] in MODERATOR_ROLES,
        values=values or {"body": ""},
        errors=errors or FormErrors(),
        cart_count=count,
    )


@router.get("/community/rooms/{room_id}", include_in_schema=False)
async def room_page(room_id: str, web: WebDep) -> Response:
    if not is_uuid(room_id):
        return _not_found(web)
    return await _room_page(web, room_id)


@router.post("/community/rooms/{room_id}/messages", include_in_schema=False)
async def send_message(room_id: str, web: CheckedWeb) -> Response:
    if not is_uuid(room_id):
        return _not_found(web)
    back = f"/community/rooms/{room_id}"
    if not web.session.logged_in:
        return _to_login(web, back)
    body = await web.raw_field("body")
    try:
        await web.api.post(f"/api/v1/rooms/{room_id}/messages", json={"body": body})
    except ApiProblem as problem:
        if _reraise(problem):
            raise
        return await _room_page(
            web,
            room_id,
            values={"body": body},
            errors=_send_errors(problem, web, body),
            status_code=problem.status,
        )
    return web.redirect(f"{back}#chat-form")


@router.post("/community/rooms/{room_id}/messages/{message_id}/delete", include_in_schema=False)
async def delete_message(room_id: str, message_id: str, web: CheckedWeb) -> Response:
    if not is_uuid(room_id) or not is_uuid(message_id):
        return _not_found(web)
    back = f"/community/rooms/{room_id}"
    if not web.session.logged_in:
        return _to_login(web, back)
    await web.api.delete(f"/api/v1/rooms/{room_id}/messages/{message_id}")
    return web.redirect(f"{back}#chat-log")


@router.post("/community/rooms/{room_id}/socket-token", include_in_schema=False)
async def socket_token(room_id: str, web: CheckedWeb) -> Response:
    """The access token for the room's WebSocket (a browser's socket cannot send the HttpOnly
    cookie's token as a header): a POST with the page's CSRF token, so that only this site's
    own pages obtain it, after the API confirms the member may enter the room."""
    headers = {"Cache-Control": "no-store"}
    if not is_uuid(room_id) or not web.session.logged_in:
        return JSONResponse({"access_token": None}, status_code=401, headers=headers)
    try:
        # also renews an expired access token from the refresh cookie
        await web.api.get(f"/api/v1/rooms/{room_id}")
    except ApiProblem as problem:
        status = problem.status if 400 <= problem.status < 600 else 500
        return web.finish(JSONResponse({"access_token": None}, status_code=status, headers=headers))
    token = web.session.access_token
    return web.finish(
        JSONResponse({"access_token": token}, status_code=200 if token else 401, headers=headers)
    )


# ---- meetups ----------------------------------------------------------------------------------


def _rsvp_notice(web: Web) -> str | None:
    key = web.request.query_params.get("rsvp", "")
    return web._(RSVP_NOTICES[key]) if key in RSVP_NOTICES else None


@router.get("/community/meetups", include_in_schema=False)
async def meetups_page(web: WebDep) -> Response:
    page, count = await asyncio.gather(
        web.api.get("/api/v1/meetups", upcoming="true", cursor=cursor(web), limit=20),
        cart_count(web),
    )
    return web.render(
        "community/meetup_list.html",
        meetups=page["items"],
        next_cursor=page["next_cursor"],
        first_page=not cursor(web),
        labels=RSVP_LABELS,
        cart_count=count,
    )


async def _waitlist_positions(web: Web) -> dict[str, int]:
    """The member's place in each session's queue (the session answer has only the status)."""
    if not web.session.logged_in:
        return {}
    mine = await web.api.get("/api/v1/me/meetups", limit=100)
    return {
        str(item["session"]["id"]): int(item["waitlist_position"])
        for item in mine["items"]
        if item["status"] == "waitlisted" and item["waitlist_position"] is not None
    }


async def _meetup_page(
    web: Web,
    meetup_id: str,
    *,
    session_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    meetup, positions, count = await asyncio.gather(
        web.api.get(f"/api/v1/meetups/{meetup_id}"), _waitlist_positions(web), cart_count(web)
    )
    return web.render(
        "community/meetup.html",
        status_code=status_code,
        meetup=meetup,
        positions=positions,
        session_errors=session_errors or {},
        labels=RSVP_LABELS,
        notice=_rsvp_notice(web),
        cart_count=count,
    )


@router.get("/community/meetups/{meetup_id}", include_in_schema=False)
async def meetup_page(meetup_id: str, web: WebDep) -> Response:
    if not is_uuid(meetup_id):
        return _not_found(web)
    return await _meetup_page(web, meetup_id)


@router.post(
    "/community/meetups/{meetup_id}/sessions/{session_id}/{action}", include_in_schema=False
)
async def change_rsvp(meetup_id: str, session_id: str, action: str, web: CheckedWeb) -> Response:
    """rsvp (a seat, or a place on the waitlist) / cancel (give it up)."""
    methods = {"rsvp": "PUT", "cancel": "DELETE"}
    if not is_uuid(meetup_id) or not is_uuid(session_id) or action not in methods:
        return _not_found(web)
    back = f"/community/meetups/{meetup_id}"
    if not web.session.logged_in:
        return _to_login(web, back)
    try:
        answer = await web.api.call(methods[action], f"/api/v1/meetups/sessions/{session_id}/rsvp")
    except ApiProblem as problem:
        if _reraise(problem):
            raise
        return await _meetup_page(
            web,
            meetup_id,
            session_errors={session_id: problem_message(problem, web.locale)},
            status_code=problem.status,
        )
    return web.redirect(f"{back}?rsvp={answer['status']}#s-{session_id}")


@router.get("/community/me/meetups", include_in_schema=False)
async def my_meetups_page(web: WebDep) -> Response:
    web.require_member()
    page, count = await asyncio.gather(
        web.api.get("/api/v1/me/meetups", cursor=cursor(web), limit=20), cart_count(web)
    )
    return web.render(
        "community/meetup_mine.html",
        items=page["items"],
        next_cursor=page["next_cursor"],
        labels=RSVP_LABELS,
        cart_count=count,
    )
