"""Community spaces in the console: the list, a new space, each space's rules, its boards and its
members (join requests, roles, mutes and bans). The API audits rule and membership changes."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter
from starlette.responses import Response

from jangteo.web.client import ApiProblem
from jangteo.web.console.common import (
    Staff,
    is_uuid,
    notice,
    problem_errors,
    query,
    render,
    require_staff,
    whole_number,
)
from jangteo.web.forms import FormErrors
from jangteo.web.i18n import N_
from jangteo.web.page import CheckedWeb, Web, WebDep, cursor

router = APIRouter()

# the API's pattern of space and board addresses (a space's UUID fits it too): any other path
# segment names no space, and is never passed on to the API
_SLUG = re.compile(r"[0-9a-z\uac00-\ud7a3]+(-[0-9a-z\uac00-\ud7a3]+)*")

VISIBILITY_LABELS = {
    "public": N_("Public: any member writes"),
    "members_write": N_("Members write, everyone reads"),
    "members_only": N_("Members only"),
}
JOIN_POLICY_LABELS = {
    "open": N_("Anyone joins"),
    "invite": N_("With an invite code"),
    "verified": N_("Verified members only"),
}
VERIFICATION_LABELS = {
    "delivered_order": N_("A delivered order"),
    "staff_approval": N_("Approval by staff or a moderator"),
}
SPACE_ROLE_LABELS = {"owner": N_("Owner"), "moderator": N_("Moderator"), "member": N_("Member")}
MEMBER_LISTS = {"active": N_("Members"), "pending": N_("Join requests"), "banned": N_("Banned")}
TABS = {"rules": N_("Rules"), "boards": N_("Boards"), "members": N_("Members")}
MUTE_LENGTHS = {
    "60": N_("1 hour"),
    "1440": N_("1 day"),
    "10080": N_("7 days"),
    "43200": N_("30 days"),
}
MEMBER_ACTIONS = ("approve", "reject", "ban", "unban", "mute", "unmute", "set_role")
NEEDS_VERIFICATION = N_("Choose how members are verified.")
NEEDS_BAN_REASON = N_("Say why the member is banned.")
NOTICES = {
    "space-created": N_("The space has been created."),
    "rules-saved": N_("The space's rules have been saved."),
    "board-created": N_("The board has been added."),
    "board-saved": N_("The board has been saved."),
    "board-archived": N_("The board has been archived."),
    "member-approve": N_("The join request has been approved."),
    "member-reject": N_("The join request has been rejected; the member may ask again."),
    "member-ban": N_("The member is banned from this space."),
    "member-unban": N_("The ban has been lifted."),
    "member-mute": N_("The member is muted."),
    "member-unmute": N_("The mute has been lifted."),
    "member-set_role": N_("The role has been changed."),
}
SPACE_FIELDS = ("slug", "name", "description", "visibility", "join_policy", "verification")
NEW_SPACE = {"visibility": "public", "join_policy": "open"}


def _is_slug(value: str) -> bool:
    return len(value) <= 80 and _SLUG.fullmatch(value) is not None


def _api_path(slug: str, *rest: str) -> str:
    return "/".join(("/api/v1/spaces", quote(slug, safe=""), *rest))


def space_url(slug: str, **params: str) -> str:
    """The space's console page, with a tab, a member list or a one-time notice."""
    query_string = urlencode({k: v for k, v in params.items() if v})
    return f"/console/spaces/{quote(slug, safe='')}" + (f"?{query_string}" if query_string else "")


def _notice(web: Web) -> str | None:
    key = web.request.query_params.get("notice", "")
    return web._(NOTICES[key]) if key in NOTICES else notice(web)


def _not_found(web: Web) -> Response:
    return web.render("errors/404.html", status_code=404)


def _choices(web: Web, labels: dict[str, str]) -> list[tuple[str, str]]:
    return [(key, web._(label)) for key, label in labels.items()]


def _labels(web: Web) -> dict[str, Any]:
    return {
        "visibility_labels": VISIBILITY_LABELS,
        "join_policy_labels": JOIN_POLICY_LABELS,
        "verification_labels": VERIFICATION_LABELS,
        "visibility_choices": _choices(web, VISIBILITY_LABELS),
        "join_policy_choices": _choices(web, JOIN_POLICY_LABELS),
        "verification_choices": _choices(web, VERIFICATION_LABELS),
    }


def _rules_body(values: dict[str, str]) -> dict[str, Any]:
    return {
        "name": values["name"],
        "description": values["description"],
        "visibility": values["visibility"],
        "join_policy": values["join_policy"],
        "verification": values["verification"] or None,
    }


def _rule_errors(web: Web, values: dict[str, str]) -> FormErrors:
    """What the page can tell before asking: a verified space needs its kind of verification."""
    errors = FormErrors()
    if values["join_policy"] == "verified" and values["verification"] not in VERIFICATION_LABELS:
        errors.add("verification", web._(NEEDS_VERIFICATION))
    return errors


# ---- the list and a new space -----------------------------------------------------------------


async def _spaces_page(
    web: Web,
    staff: Staff,
    *,
    values: dict[str, str],
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    mine = query(web, "mine", allowed=("1",))
    page = await web.api.get(
        "/api/v1/spaces", mine="true" if mine else None, cursor=cursor(web), limit=25
    )
    return render(
        web,
        "console/spaces.html",
        staff,
        status_code=status_code,
        notice=_notice(web),
        spaces=page["items"],
        next_cursor=page["next_cursor"],
        mine=mine,
        values=values,
        errors=errors or FormErrors(),
        paged=bool(cursor(web)),
        **_labels(web),
    )


@router.get("/console/spaces")
async def spaces(web: WebDep) -> Response:
    staff = await require_staff(web)
    return await _spaces_page(web, staff, values=dict(NEW_SPACE))


@router.post("/console/spaces")
async def create_space(web: CheckedWeb) -> Response:
    staff = await require_staff(web)
    values = {name: await web.field(name) for name in SPACE_FIELDS}
    errors = _rule_errors(web, values)
    status_code = 422
    if not errors:
        try:
            space = await web.api.post(
                "/api/v1/spaces", json={"slug": values["slug"], **_rules_body(values)}
            )
        except ApiProblem as problem:
            errors = problem_errors(web, problem, values, code_fields={"space-slug-taken": "slug"})
            status_code = problem.status
        else:
            return web.redirect(space_url(space["slug"], notice="space-created"))
    return await _spaces_page(web, staff, values=values, errors=errors, status_code=status_code)


# ---- one space: rules, boards, members --------------------------------------------------------


async def _space_page(
    web: Web,
    staff: Staff,
    slug: str,
    *,
    tab: str,
    member_list: str = "active",
    errors: FormErrors | None = None,
    failed_form: str | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    space = await web.api.get(_api_path(slug))
    boards: list[dict[str, Any]] = []
    members: dict[str, Any] = {"items": [], "next_cursor": None}
    if tab == "boards":
        boards = (await web.api.get(_api_path(slug, "boards")))["items"]
    elif tab == "members":
        members = await web.api.get(
            _api_path(slug, "members"), status=member_list, cursor=cursor(web), limit=25
        )
    return render(
        web,
        "console/space.html",
        staff,
        status_code=status_code,
        notice=_notice(web),
        space=space,
        space_url=space_url,
        tab=tab,
        tabs=TABS,
        boards=boards,
        members=members["items"],
        next_cursor=members["next_cursor"],
        member_list=member_list,
        member_lists=MEMBER_LISTS,
        role_labels=SPACE_ROLE_LABELS,
        role_choices=_choices(web, {k: SPACE_ROLE_LABELS[k] for k in ("member", "moderator")}),
        mute_choices=_choices(web, MUTE_LENGTHS),
        errors=errors or FormErrors(),
        failed_form=failed_form,
        values=values or {},
        paged=bool(cursor(web)),
        **_labels(web),
    )


@router.get("/console/spaces/{slug}")
async def space(slug: str, web: WebDep) -> Response:
    staff = await require_staff(web)
    if not _is_slug(slug):
        return _not_found(web)
    tab = query(web, "tab", allowed=TABS) or "rules"
    member_list = query(web, "list", allowed=MEMBER_LISTS) or "active"
    return await _space_page(web, staff, slug, tab=tab, member_list=member_list)


@router.post("/console/spaces/{slug}/rules")
async def change_rules(slug: str, web: CheckedWeb) -> Response:
    staff = await require_staff(web)
    if not _is_slug(slug):
        return _not_found(web)
    values = {name: await web.field(name) for name in SPACE_FIELDS[1:]}
    errors = _rule_errors(web, values)
    status_code = 422
    if not errors:
        body = {**_rules_body(values), "new_invite_code": await web.field("new_invite_code") == "1"}
        try:
            await web.api.patch(_api_path(slug), json=body)
        except ApiProblem as problem:
            errors = problem_errors(web, problem, values)
            status_code = problem.status
        else:
            return web.redirect(space_url(slug, notice="rules-saved"))
    return await _space_page(
        web,
        staff,
        slug,
        tab="rules",
        errors=errors,
        failed_form="rules",
        values=values,
        status_code=status_code,
    )


@router.post("/console/spaces/{slug}/boards")
async def create_board(slug: str, web: CheckedWeb) -> Response:
    staff = await require_staff(web)
    if not _is_slug(slug):
        return _not_found(web)
    values = {name: await web.field(name) for name in ("slug", "name", "description", "anonymous")}
    body = {
        "slug": values["slug"],
        "name": values["name"],
        "description": values["description"],
        "anonymous": values["anonymous"] == "1",
    }
    try:
        await web.api.post(_api_path(slug, "boards"), json=body)
    except ApiProblem as problem:
        errors = problem_errors(web, problem, values, code_fields={"board-slug-taken": "slug"})
        return await _space_page(
            web,
            staff,
            slug,
            tab="boards",
            errors=errors,
            failed_form="new-board",
            values=values,
            status_code=problem.status,
        )
    return web.redirect(space_url(slug, tab="boards", notice="board-created"))


@router.post("/console/spaces/{slug}/boards/{board}")
async def change_board(slug: str, board: str, web: CheckedWeb) -> Response:
    values = {"name": await web.field("name"), "anonymous": await web.field("anonymous")}
    body = {"name": values["name"], "anonymous": values["anonymous"] == "1"}
    return await _patch_board(web, slug, board, body, values, "board-saved")


@router.post("/console/spaces/{slug}/boards/{board}/archive")
async def archive_board(slug: str, board: str, web: CheckedWeb) -> Response:
    return await _patch_board(web, slug, board, {"status": "archived"}, {}, "board-archived")


async def _patch_board(
    web: Web,
    slug: str,
    board: str,
    body: dict[str, Any],
    values: dict[str, str],
    done: str,
) -> Response:
    staff = await require_staff(web)
    if not _is_slug(slug) or not _is_slug(board):
        return _not_found(web)
    try:
        await web.api.patch(_api_path(slug, "boards", quote(board, safe="")), json=body)
    except ApiProblem as problem:
        errors = problem_errors(web, problem, values)
        return await _space_page(
            web,
            staff,
            slug,
            tab="boards",
            errors=errors,
            failed_form=f"board-{board}",
            values=values,
            status_code=problem.status,
        )
    return web.redirect(space_url(slug, tab="boards", notice=done))


@router.post("/console/spaces/{slug}/members/{member_id}")
async def moderate_member(slug: str, member_id: str, web: CheckedWeb) -> Response:
    staff = await require_staff(web)
    action = await web.field("action")
    if not _is_slug(slug) or not is_uuid(member_id) or action not in MEMBER_ACTIONS:
        return _not_found(web)
    member_list = await web.field("list")
    member_list = member_list if member_list in MEMBER_LISTS else "active"
    values = {name: await web.field(name) for name in ("reason", "minutes", "role")}
    body: dict[str, Any] = {"action": action}
    if action in ("ban", "mute"):
        body["reason"] = values["reason"] or None
    if action == "mute":
        body["minutes"] = whole_number(values["minutes"])
    if action == "set_role":
        body["role"] = values["role"]
    errors = FormErrors()
    status_code = 422
    if action == "ban" and not values["reason"]:
        # whoever reviews the ban later reads its reason in the audit log
        errors.add("reason", web._(NEEDS_BAN_REASON))
    else:
        try:
            await web.api.post(_api_path(slug, "members", member_id, "moderation"), json=body)
        except ApiProblem as problem:
            errors = problem_errors(web, problem, values)
            status_code = problem.status
        else:
            return web.redirect(
                space_url(slug, tab="members", list=member_list, notice=f"member-{action}")
            )
    return await _space_page(
        web,
        staff,
        slug,
        tab="members",
        member_list=member_list,
        errors=errors,
        failed_form=f"{action}-{member_id}",
        values=values,
        status_code=status_code,
    )
