"""The moderation queue in the console: reported posts, comments, members and messages, with the
decision (dismiss, or remove the content with the reason shown in its place)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from jangteo.web.client import ApiProblem
from jangteo.web.console.common import query, render, require_staff
from jangteo.web.forms import FormErrors
from jangteo.web.i18n import N_
from jangteo.web.page import CheckedWeb, WebDep, cursor

router = APIRouter()

STATUS_LABELS = {"open": N_("Open"), "dismissed": N_("Dismissed"), "actioned": N_("Removed")}
REASON_LABELS = {
    "spam": N_("Spam or advertising"),
    "abuse": N_("Abuse"),
    "phishing": N_("Phishing link"),
    "fake_review": N_("Fake review"),
    "privacy": N_("Personal information"),
    "other": N_("Other"),
}
TARGET_LABELS = {
    "post": N_("Post"),
    "comment": N_("Comment"),
    "member": N_("Member"),
    "chat_message": N_("Chat message"),
    "review": N_("Review"),
}


async def _queue(
    web: WebDep, staff: object, *, errors: FormErrors | None = None, status_code: int = 200
) -> Response:
    filters = {
        "status": query(web, "status", allowed=STATUS_LABELS) or "open",
        "target_type": query(web, "target_type", allowed=TARGET_LABELS),
    }
    page = await web.api.get("/api/v1/admin/reports", **filters, cursor=cursor(web), limit=25)
    return render(
        web,
        "console/reports.html",
        staff,
        status_code=status_code,
        reports=page["items"],
        next_cursor=page["next_cursor"],
        filters=filters,
        status_labels=STATUS_LABELS,
        reason_labels=REASON_LABELS,
        target_labels=TARGET_LABELS,
        errors=errors or FormErrors(),
    )


@router.get("/console/reports")
async def reports(web: WebDep) -> Response:
    return await _queue(web, await require_staff(web))


@router.post("/console/reports/{report_id}/resolve")
async def resolve(report_id: str, web: CheckedWeb) -> Response:
    staff = await require_staff(web)
    action = await web.field("action")
    note = await web.field("note")
    try:
        await web.api.post(
            f"/api/v1/admin/reports/{report_id[:40]}/resolve",
            json={"action": action, "note": note or None},
        )
    except ApiProblem as problem:
        if problem.status >= 500 or problem.status in (401, 403):
            raise
        errors = FormErrors.from_problem(problem, web.locale, {"note": note})
        return await _queue(web, staff, errors=errors, status_code=problem.status)
    return web.redirect("/console/reports?notice=report-resolved")
