"""The community's rules in the console: points for activity and their daily cap, posting
limits per trust level, and what earns trust; changed at once, audited by the API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from jangteo.web.client import ApiProblem
from jangteo.web.console.common import problem_errors, render, require_staff, whole_number
from jangteo.web.forms import FormErrors
from jangteo.web.i18n import N_
from jangteo.web.page import CheckedWeb, Web, WebDep

router = APIRouter()

# the form's groups and fields, in the order the page shows them
GROUPS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        N_("Points for activity"),
        [
            ("post_points", N_("Post")),
            ("snap_points", N_("Styling snap")),
            ("review_points", N_("Review")),
            ("photo_review_points", N_("Review with photos")),
            ("answer_bonus_points", N_("Accepted answer (bonus on top of the bounty)")),
            ("daily_points_cap", N_("Activity points a member may earn a day")),
        ],
    ),
    (
        N_("Posts and comments a day per trust level"),
        [
            ("new_posts_per_day", N_("Posts: new members")),
            ("posts_per_day", N_("Posts: basic members")),
            ("trusted_posts_per_day", N_("Posts: members and leaders")),
            ("new_comments_per_day", N_("Comments: new members")),
            ("comments_per_day", N_("Comments: basic members")),
            ("trusted_comments_per_day", N_("Comments: members and leaders")),
        ],
    ),
    (
        N_("What earns trust"),
        [
            ("trust_basic_reads", N_("Basic: posts read")),
            ("trust_basic_days", N_("Basic: days visited")),
            ("trust_member_reads", N_("Member: posts read")),
            ("trust_member_days", N_("Member: days visited")),
            ("trust_member_likes", N_("Member: likes received from others")),
        ],
    ),
]
ORDER_MESSAGE = N_("These values must not decrease from one trust level to the next.")
FIELDS = [name for _title, fields in GROUPS for name, _label in fields]


async def _page(
    web: Web,
    staff: Any,
    *,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    rules = await web.api.get("/api/v1/community/rules")
    return render(
        web,
        "console/community_rules.html",
        staff,
        status_code=status_code,
        groups=GROUPS,
        values=values or {name: str(rules[name]) for name in FIELDS},
        errors=errors or FormErrors(),
    )


@router.get("/console/community-rules")
async def rules_page(web: WebDep) -> Response:
    return await _page(web, await require_staff(web))


@router.post("/console/community-rules")
async def save_rules(web: CheckedWeb) -> Response:
    staff = await require_staff(web)
    current = await web.api.get("/api/v1/community/rules")
    values = {name: await web.field(name) for name in FIELDS}
    changes = {
        name: whole_number(value)
        for name, value in values.items()
        if value.strip() and whole_number(value) != current[name]
    }
    if changes:
        try:
            await web.api.patch("/api/v1/admin/community/rules", json=changes)
        except ApiProblem as problem:
            errors = problem_errors(web, problem, values)
            out_of_order = problem.body.get("fields") or []
            if out_of_order:  # limits or thresholds that fall from one level to the next
                errors.general = [web._(ORDER_MESSAGE)]
                for name in out_of_order:
                    errors.add(name, web._(ORDER_MESSAGE))
            return await _page(web, staff, values=values, errors=errors, status_code=problem.status)
    return web.redirect("/console/community-rules?notice=saved")
