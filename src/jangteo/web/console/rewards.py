"""Rewards in the console: the reward, tip and creator rules with each category's own rate, the
creators with their tiers (overrides, the review, the business flag) and the referrals with the
reason of each refusal. The API audits every change."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from dataclasses import dataclass
from decimal import Decimal

from fastapi import APIRouter
from starlette.responses import Response

from jangteo.web.client import ApiProblem
from jangteo.web.console.common import (
    Staff,
    category_rows_as_tree,
    is_uuid,
    notice,
    problem_errors,
    query,
    render,
    require_staff,
    whole_number,
)
from jangteo.web.forms import FormErrors, pointer_field
from jangteo.web.i18n import N_
from jangteo.web.page import CheckedWeb, Web, WebDep, cursor

router = APIRouter()


@dataclass(frozen=True)
class RuleForm:
    """One group of rules: where the API reads and changes them, and the form's fields (a name
    ending in `_bp` is a rate in basis points, typed in percent)."""

    title: str
    read: str
    change: str
    fields: tuple[tuple[str, str, str | None], ...]
    # what the API's refusal of a combination (its `fields` list) means, in the page's words
    combination: str | None = None


RULE_FORMS = {
    "rewards": RuleForm(
        title=N_("Rewards for sales through members' content"),
        read="/api/v1/rewards/rules",
        change="/api/v1/admin/rewards/rules",
        fields=(
            (
                "window_minutes",
                N_("Attribution window (minutes)"),
                N_("A sale is credited to the content the buyer last saw within this time."),
            ),
            (
                "default_rate_bp",
                N_("Default reward rate (%)"),
                N_("Between 1 and 5, e.g. 3 or 3.5; a category may have its own rate below."),
            ),
            ("cap_per_order", N_("Most rewarded per order (KRW)"), None),
            (
                "return_window_days",
                N_("Days after delivery before a reward is available"),
                None,
            ),
        ),
    ),
    "tips": RuleForm(
        title=N_("Tips"),
        read="/api/v1/tips-rules",
        change="/api/v1/admin/tips/rules",
        fields=(
            ("min_amount", N_("Least tip (KRW or points)"), None),
            ("max_amount", N_("Most tip (KRW or points)"), None),
            ("fee_bp", N_("Platform fee on tips (%)"), None),
        ),
        combination=N_("The least tip may not be more than the most."),
    ),
    "creators": RuleForm(
        title=N_("Creator tiers"),
        read="/api/v1/creators-rules",
        change="/api/v1/admin/creators/rules",
        fields=(
            ("neighbor_score", N_("Neighbor: score needed"), None),
            ("pro_score", N_("Pro: score needed"), None),
            ("neighbor_rate_bp", N_("Neighbor: reward rate (%)"), None),
            ("pro_rate_bp", N_("Pro: reward rate (%)"), None),
        ),
        combination=N_("The pro tier needs a higher score than the neighbor tier."),
    ),
}
NOT_A_PERCENTAGE = N_("Enter a percentage such as 3 or 3.5.")
# the API's limits of a basis-point field, said again in percent
_LIMIT_TYPES = {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}

TIER_LABELS = {"none": N_("No tier"), "neighbor": N_("Neighbor"), "pro": N_("Pro")}
BY_SCORE = "auto"
TIER_CHOICES = {BY_SCORE: N_("By score (unlock)"), **TIER_LABELS}
NEEDS_TIER_REASON = N_("Say why the tier is changed.")
NO_SUCH_MEMBER = N_("No member has this email or nickname.")

REFERRAL_STATUSES = {
    "pending": N_("Waiting for the first delivery"),
    "rewarded": N_("Points given"),
    "refused": N_("Refused as abuse"),
}
REFUSAL_REASONS = {
    "self": N_("One mailbox: the invitee's email is an alias of the inviter's"),
    "same_device": N_("Both signed in on the same browser"),
    "same_address": N_("The invitee uses an address of the inviter"),
    "same_payment_method": N_("Both paid with the same card"),
}

NOTICES = {
    "rules-saved": N_("The rules have been saved."),
    "rate-set": N_("The category's reward rate has been set."),
    "rate-cleared": N_("The category uses the default rate again."),
    "review-done": N_("The review has run: tiers not fixed by staff follow the scores."),
    "tier-saved": N_("The creator's tier has been saved."),
    "business-saved": N_("The creator's tax status has been saved."),
}


def _notice(web: Web) -> str | None:
    key = web.request.query_params.get("notice", "")
    return web._(NOTICES[key]) if key in NOTICES else notice(web)


def _not_found(web: Web) -> Response:
    return web.render("errors/404.html", status_code=404)


def percent(rate_bp: int) -> str:
    """Basis points as the percentage the form shows (350 → "3.5", 1000 → "10")."""
    shown = f"{Decimal(rate_bp) / 100:f}"
    return shown.rstrip("0").rstrip(".") if "." in shown else shown


def basis_points(value: str) -> int | None:
    """A typed percentage in basis points ("3.5" → 350); None when it is not one."""
    try:
        rate = Decimal(value.replace("%", "").replace(",", "").strip()) * 100
    except ArithmeticError:  # not a number, or one too large to be a rate
        return None
    return int(rate) if rate.is_finite() and rate == rate.to_integral_value() else None


def _shown(name: str, value: int) -> str:
    return percent(value) if name.endswith("_bp") else str(value)


def _in_percent(problem: ApiProblem) -> ApiProblem:
    """The API's limits of basis-point fields (`≥ 100`) as the percentages the form takes."""
    errors = []
    for error in problem.errors:
        name = pointer_field(str(error.get("pointer", ""))) or ""
        found = re.search(r"\d+", str(error.get("detail", "")))
        if name.endswith("_bp") and error.get("type") in _LIMIT_TYPES and found:
            error = {**error, "detail": percent(int(found.group()))}
        errors.append(error)
    return dataclasses.replace(problem, errors=errors)


# ---- rules and category rates ------------------------------------------------------------------


async def _rules_page(
    web: Web,
    staff: Staff,
    *,
    failed_form: str | None = None,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    answers = await asyncio.gather(
        *(web.api.get(form.read) for form in RULE_FORMS.values()),
        web.api.get("/api/v1/admin/rewards/category-rates"),
        web.api.get("/api/v1/admin/categories"),
    )
    current = dict(zip(RULE_FORMS, answers[: len(RULE_FORMS)], strict=True))
    rates, categories = answers[len(RULE_FORMS) :]
    shown = {
        key: {name: _shown(name, current[key][name]) for name, _label, _hint in form.fields}
        for key, form in RULE_FORMS.items()
    }
    if failed_form in shown and values is not None:
        shown[failed_form] = values
        values = None
    return render(
        web,
        "console/rewards_rules.html",
        staff,
        status_code=status_code,
        notice=_notice(web),
        tab="rules",
        forms=RULE_FORMS,
        rule_values=shown,
        values=values or {},
        failed_form=failed_form,
        errors=errors or FormErrors(),
        default_rate=percent(current["rewards"]["default_rate_bp"]),
        rates={str(r["category_id"]): percent(r["rate_bp"]) for r in rates},
        categories=category_rows_as_tree(categories["items"]),
    )


@router.get("/console/rewards")
async def rules_page(web: WebDep) -> Response:
    return await _rules_page(web, await require_staff(web))


@router.post("/console/rewards/rules/{key}")
async def save_rules(key: str, web: CheckedWeb) -> Response:
    staff = await require_staff(web)
    form = RULE_FORMS.get(key)
    if form is None:
        return _not_found(web)
    current = await web.api.get(form.read)
    values = {name: await web.field(name) for name, _label, _hint in form.fields}
    errors = FormErrors()
    changes: dict[str, int | str] = {}
    for name, value in values.items():
        if not value:
            continue  # left empty: stays as it is
        wanted = basis_points(value) if name.endswith("_bp") else whole_number(value)
        if wanted is None:
            errors.add(name, web._(NOT_A_PERCENTAGE))
        elif wanted != current[name]:
            changes[name] = wanted
    status_code = 422
    if not errors and changes:
        try:
            await web.api.patch(form.change, json=changes)
        except ApiProblem as problem:
            errors = problem_errors(web, _in_percent(problem), values)
            combination = problem.body.get("fields") or []
            if combination and form.combination:
                message = web._(form.combination)
                errors.general = [message]
                for name in combination:
                    errors.fields[name] = message
            status_code = problem.status
    if errors:
        return await _rules_page(
            web, staff, failed_form=key, values=values, errors=errors, status_code=status_code
        )
    return web.redirect(f"/console/rewards?notice=rules-saved#rules-{key}")


@router.post("/console/rewards/category-rates/{category_id}")
async def category_rate(category_id: str, web: CheckedWeb) -> Response:
    """Set a category's own reward rate, or clear it back to the default."""
    staff = await require_staff(web)
    if not is_uuid(category_id):
        return _not_found(web)
    path = f"/api/v1/admin/rewards/category-rates/{category_id}"
    values = {"rate_bp": await web.field("rate_bp")}
    errors = FormErrors()
    status_code = 422
    if await web.field("action") == "clear":
        try:
            await web.api.delete(path)
        except ApiProblem as problem:
            errors, status_code = problem_errors(web, problem, values), problem.status
        else:
            return web.redirect("/console/rewards?notice=rate-cleared#rates")
    else:
        rate = basis_points(values["rate_bp"])
        if rate is None:
            errors.add("rate_bp", web._(NOT_A_PERCENTAGE))
        else:
            try:
                await web.api.call("PUT", path, json={"rate_bp": rate})
            except ApiProblem as problem:
                errors = problem_errors(web, _in_percent(problem), values)
                status_code = problem.status
            else:
                return web.redirect("/console/rewards?notice=rate-set#rates")
    return await _rules_page(
        web,
        staff,
        failed_form=f"rate-{category_id}",
        values=values,
        errors=errors,
        status_code=status_code,
    )


# ---- creators ------------------------------------------------------------------------------------


async def _creators_page(
    web: Web,
    staff: Staff,
    *,
    failed_form: str | None = None,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    tier = query(web, "tier", allowed=TIER_LABELS)
    page, rules = await asyncio.gather(
        web.api.get("/api/v1/admin/creators", tier=tier, cursor=cursor(web), limit=25),
        web.api.get("/api/v1/creators-rules"),
    )
    return render(
        web,
        "console/rewards_creators.html",
        staff,
        status_code=status_code,
        notice=_notice(web),
        tab="creators",
        creators=page["items"],
        next_cursor=page["next_cursor"],
        paged=bool(cursor(web)),
        tier=tier,
        rules=rules,
        percent=percent,
        tier_labels=TIER_LABELS,
        tier_choices=[(key, web._(label)) for key, label in TIER_CHOICES.items()],
        failed_form=failed_form,
        values=values or {},
        errors=errors or FormErrors(),
    )


@router.get("/console/creators")
async def creators(web: WebDep) -> Response:
    return await _creators_page(web, await require_staff(web))


@router.post("/console/creators/review")
async def review_now(web: CheckedWeb) -> Response:
    staff = await require_staff(web)
    try:
        await web.api.post("/api/v1/admin/creators/review")
    except ApiProblem as problem:
        errors = problem_errors(web, problem)
        return await _creators_page(
            web, staff, failed_form="review", errors=errors, status_code=problem.status
        )
    return web.redirect("/console/creators?notice=review-done")


async def _member_by_email_or_nickname(web: Web, typed: str) -> str | None:
    """The id of the member with exactly this email or nickname."""
    page = await web.api.get("/api/v1/admin/members", q=typed[:100], limit=20)
    wanted = typed.casefold()
    return next(
        (
            str(m["id"])
            for m in page["items"]
            if wanted in (str(m["email"]).casefold(), str(m["nickname"]).casefold())
        ),
        None,
    )


@router.post("/console/creators/tier")
async def fix_a_members_tier(web: CheckedWeb) -> Response:
    """Fix the tier of a member not listed yet (the review has not scored them)."""
    staff = await require_staff(web)
    typed = await web.field("member")
    member_id = await _member_by_email_or_nickname(web, typed) if typed else None
    if member_id is None:
        errors = FormErrors()
        errors.add("member", web._(NO_SUCH_MEMBER if typed else "This field is required."))
        values = {name: await web.field(name) for name in ("member", "tier", "reason")}
        return await _creators_page(
            web, staff, failed_form="tier-new", values=values, errors=errors, status_code=422
        )
    return await _override_tier(web, staff, member_id, failed_form="tier-new")


@router.post("/console/creators/{member_id}/tier")
async def override_tier(member_id: str, web: CheckedWeb) -> Response:
    """Fix a listed member's tier with a reason (the daily review then leaves it), or unlock
    it."""
    staff = await require_staff(web)
    if not is_uuid(member_id):
        return _not_found(web)
    return await _override_tier(web, staff, member_id, failed_form=f"tier-{member_id}")


async def _override_tier(web: Web, staff: Staff, member_id: str, *, failed_form: str) -> Response:
    values = {name: await web.field(name) for name in ("member", "tier", "reason")}
    errors = FormErrors()
    status_code = 422
    if values["tier"] not in TIER_CHOICES:
        errors.add("tier", web._("Choose one of the options."))
    if not values["reason"]:
        # whoever reads the audit log later learns why from it
        errors.add("reason", web._(NEEDS_TIER_REASON))
    if not errors:
        tier = None if values["tier"] == BY_SCORE else values["tier"]
        try:
            await web.api.call(
                "PUT",
                f"/api/v1/admin/creators/{member_id}/tier",
                json={"tier": tier, "reason": values["reason"]},
            )
        except ApiProblem as problem:
            errors, status_code = problem_errors(web, problem, values), problem.status
        else:
            return web.redirect("/console/creators?notice=tier-saved")
    return await _creators_page(
        web,
        staff,
        failed_form=failed_form,
        values=values,
        errors=errors,
        status_code=status_code,
    )


@router.post("/console/creators/{member_id}/business")
async def set_business(member_id: str, web: CheckedWeb) -> Response:
    """Whether the creator is a business (invoices its own taxes, nothing withheld)."""
    staff = await require_staff(web)
    if not is_uuid(member_id):
        return _not_found(web)
    business = await web.field("business") == "1"
    try:
        await web.api.call(
            "PUT", f"/api/v1/admin/creators/{member_id}/business", json={"business": business}
        )
    except ApiProblem as problem:
        errors = problem_errors(web, problem)
        return await _creators_page(
            web,
            staff,
            failed_form=f"business-{member_id}",
            errors=errors,
            status_code=problem.status,
        )
    return web.redirect("/console/creators?notice=business-saved")


# ---- referrals -----------------------------------------------------------------------------------


@router.get("/console/referrals")
async def referrals(web: WebDep) -> Response:
    staff = await require_staff(web)
    status = query(web, "status", allowed=REFERRAL_STATUSES)
    page = await web.api.get("/api/v1/admin/referrals", status=status, cursor=cursor(web), limit=25)
    return render(
        web,
        "console/rewards_referrals.html",
        staff,
        tab="referrals",
        referrals=page["items"],
        next_cursor=page["next_cursor"],
        paged=bool(cursor(web)),
        status=status,
        status_labels=REFERRAL_STATUSES,
        reason_labels=REFUSAL_REASONS,
    )
