"""Settlements in the console: the monthly runs, running a month, a month's statements with their
totals and CSV export, and marking each statement paid with the bank's reference."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from jangteo.core.clock import SEOUL
from jangteo.web.client import ApiProblem
from jangteo.web.console.common import (
    Staff,
    is_uuid,
    notice,
    problem_errors,
    render,
    require_staff,
)
from jangteo.web.forms import FormErrors
from jangteo.web.i18n import N_
from jangteo.web.page import CheckedWeb, Web, WebDep, cursor

router = APIRouter()

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
RUN_STATUSES = {"running": N_("Running"), "done": N_("Settled")}
STATEMENT_STATUSES = {"open": N_("To be paid"), "paid": N_("Paid out")}
# the statement's amounts in the table's (and the totals') order
AMOUNTS = (
    ("rewards", N_("Rewards")),
    ("reversals", N_("Rewards taken back")),
    ("tips", N_("Tips")),
    ("tip_fees", N_("Tip fees")),
    ("subscriptions", N_("Subscriptions")),
    ("subtotal", N_("Subtotal")),
    ("withholding", N_("Tax withheld")),
    ("payable", N_("Payable")),
)
NOT_A_MONTH = N_("Write the month as YYYY-MM, e.g. 2026-11.")
MONTH_NOT_ENDED = N_("A month can be settled once it has ended.")
NEEDS_REFERENCE = N_("Enter the bank transfer's reference.")
CREATOR_WITHOUT_MFA = N_(
    "Not paid: the creator has not turned on two-factor authentication yet. Ask them to, then "
    "mark the payout again."
)
NOTICES = {
    "month-run": N_("The month has been settled."),
    "paid": N_("The statement is marked as paid out."),
}


def _notice(web: Web) -> str | None:
    key = web.request.query_params.get("notice", "")
    return web._(NOTICES[key]) if key in NOTICES else notice(web)


def _not_found(web: Web) -> Response:
    return web.render("errors/404.html", status_code=404)


def is_month(value: str) -> bool:
    return _MONTH.fullmatch(value) is not None


def last_month(now: datetime) -> str:
    first_of_this = now.astimezone(SEOUL).replace(day=1)
    return (first_of_this - timedelta(days=1)).strftime("%Y-%m")


# ---- the runs ------------------------------------------------------------------------------------


async def _runs_page(
    web: Web,
    staff: Staff,
    *,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    runs = await web.api.get("/api/v1/admin/settlements")
    return render(
        web,
        "console/rewards_settlements.html",
        staff,
        status_code=status_code,
        notice=_notice(web),
        runs=runs,
        run_statuses=RUN_STATUSES,
        values=values or {"month": last_month(datetime.now(UTC))},
        errors=errors or FormErrors(),
    )


@router.get("/console/settlements")
async def settlements(web: WebDep) -> Response:
    return await _runs_page(web, await require_staff(web))


@router.post("/console/settlements/run")
async def run_month(web: CheckedWeb) -> Response:
    """Settle an ended month now (safe to repeat: nobody is settled twice)."""
    staff = await require_staff(web)
    values = {"month": await web.field("month")}
    errors = FormErrors()
    status_code = 422
    if not is_month(values["month"]):
        errors.add("month", web._(NOT_A_MONTH))
    else:
        try:
            await web.api.post(f"/api/v1/admin/settlements/{values['month']}/run")
        except ApiProblem as problem:
            status_code = problem.status
            if problem.code == "conflict":  # the only refusal of a well-formed month
                errors.add("month", web._(MONTH_NOT_ENDED))
            else:
                errors = problem_errors(web, problem, values)
        else:
            return web.redirect(f"/console/settlements/{values['month']}?notice=month-run")
    return await _runs_page(web, staff, values=values, errors=errors, status_code=status_code)


# ---- a month's statements ------------------------------------------------------------------------


async def _month_page(
    web: Web,
    staff: Staff,
    month: str,
    *,
    failed_form: str | None = None,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    runs, page = await asyncio.gather(
        web.api.get("/api/v1/admin/settlements"),
        web.api.get(f"/api/v1/admin/settlements/{month}/statements", cursor=cursor(web), limit=50),
    )
    statements: list[dict[str, Any]] = page["items"]
    return render(
        web,
        "console/rewards_statements.html",
        staff,
        status_code=status_code,
        notice=_notice(web),
        month=month,
        run=next((r for r in runs if r["month"] == month), None),
        run_statuses=RUN_STATUSES,
        statements=statements,
        statuses=STATEMENT_STATUSES,
        amounts=AMOUNTS,
        totals={name: sum(s[name] for s in statements) for name, _label in AMOUNTS},
        whole_month=not cursor(web) and not page["next_cursor"],
        next_cursor=page["next_cursor"],
        paged=bool(cursor(web)),
        failed_form=failed_form,
        values=values or {},
        errors=errors or FormErrors(),
    )


@router.get("/console/settlements/{month}")
async def month_statements(month: str, web: WebDep) -> Response:
    staff = await require_staff(web)
    if not is_month(month):
        return _not_found(web)
    return await _month_page(web, staff, month)


@router.get("/console/settlements/{month}/statements.csv")
async def month_csv(month: str, web: WebDep) -> Response:
    """Every statement of the month as the API exports it (UTF-8 with a BOM for spreadsheets)."""
    await require_staff(web)
    if not is_month(month):
        return _not_found(web)
    body = await web.api.get(f"/api/v1/admin/settlements/{month}/statements.csv")
    response = Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="statements-{month}.csv"',
            "Cache-Control": "no-store",
        },
    )
    return web.finish(response)


@router.post("/console/settlements/statements/{statement_id}/payout")
async def mark_paid(statement_id: str, web: CheckedWeb) -> Response:
    """Record the bank transfer of one statement; refused while its creator has no TOTP."""
    staff = await require_staff(web)
    month = await web.field("month")
    if not is_uuid(statement_id) or not is_month(month):
        return _not_found(web)
    values = {"reference": await web.field("reference")}
    errors = FormErrors()
    status_code = 422
    if not values["reference"]:
        errors.add("reference", web._(NEEDS_REFERENCE))
    else:
        try:
            await web.api.post(
                f"/api/v1/admin/settlements/statements/{statement_id}/payout",
                json={"reference": values["reference"]},
            )
        except ApiProblem as problem:
            status_code = problem.status
            if problem.code == "creator-mfa-required":
                errors.add("reference", web._(CREATOR_WITHOUT_MFA))
            else:
                errors = problem_errors(web, problem, values, code_fields={"conflict": "reference"})
        else:
            return web.redirect(
                f"/console/settlements/{month}?notice=paid#statement-{statement_id}"
            )
    return await _month_page(
        web,
        staff,
        month,
        failed_form=f"payout-{statement_id}",
        values=values,
        errors=errors,
        status_code=status_code,
    )
