"""Tips to creators from their posts and snaps: the tip form and the highlighted tips under a
post, sending a tip in points, and the payment page of a tip by card (the dummy provider)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from starlette.responses import Response

from jangteo.web.client import ApiProblem
from jangteo.web.forms import FormErrors, problem_message
from jangteo.web.i18n import N_
from jangteo.web.page import CheckedWeb, Web, WebDep, safe_next
from jangteo.web.storefront.common import cart_count, is_uuid
from jangteo.web.storefront.creators import creator_or_none, my_account

router = APIRouter()

PRESETS = (1_000, 5_000, 10_000)
METHODS = {"points": N_("Points"), "money": N_("Card")}
MESSAGE_LIMIT = 200
TIPS_SHOWN = 20
# problems of a tip the form shows, by the API's code: (field or None for the whole form, text)
TIP_PROBLEMS = {
    "insufficient-points": ("amount", N_("You do not have enough points for this tip.")),
    "own-content": (None, N_("You cannot tip your own post.")),
    "not-a-creator": (None, N_("Only creators receive tips.")),
}
TIP_BOUNDS = N_("A tip is between %(min)s and %(max)s.")


def _fresh_values(web: Web) -> dict[str, str]:
    return {
        "preset": str(PRESETS[0]),
        "amount": "",
        "method": "points",
        "message": "",
        "idem": web.new_idempotency_key(),
    }


async def _tips(web: Web, post_id: str) -> list[dict[str, Any]]:
    try:
        page = await web.api.get(f"/api/v1/posts/{post_id}/tips", limit=TIPS_SHOWN)
    except ApiProblem as problem:
        if problem.status >= 500:
            raise
        return []
    return page["items"]  # type: ignore[no-any-return]


async def _nothing() -> None:
    return None


async def tip_panel(
    web: Web,
    post: dict[str, Any],
    *,
    action: str,
    form: tuple[dict[str, str], FormErrors] | None = None,
) -> dict[str, Any]:
    """What the post's tip section shows: its tips, and the form when its author is a creator
    the viewer may tip (not their own post)."""
    author = post["author"]
    author_id = None if author.get("anonymous") else author.get("id")
    creator, tips = await asyncio.gather(
        creator_or_none(web, author_id) if author_id else _nothing(),
        _tips(web, str(post["id"])),
    )
    own, rules, balance = False, None, None
    if creator is not None and web.session.logged_in:
        account, rules, wallet = await asyncio.gather(
            my_account(web),
            web.api.call("GET", "/api/v1/tips-rules", auth=False),
            web.api.get("/api/v1/me/wallet"),
        )
        own = bool(account and str(account["id"]) == str(author_id))
        balance = wallet["balance"]
    values, errors = form if form is not None else (_fresh_values(web), FormErrors())
    return {
        "creator": creator,
        "tips": tips,
        "can_tip": creator is not None and post["status"] == "published" and not own,
        "action": action,
        "values": values,
        "errors": errors,
        "presets": PRESETS,
        "methods": METHODS,
        "message_limit": MESSAGE_LIMIT,
        "rules": rules,
        "balance": balance,
    }


def with_notice(path: str, key: str, anchor: str = "") -> str:
    return f"{path}{'&' if '?' in path else '?'}notice={key}{anchor}"


async def _tip_errors(web: Web, problem: ApiProblem, values: dict[str, str]) -> FormErrors:
    known = TIP_PROBLEMS.get(problem.code)
    if known is not None:
        errors = FormErrors()
        errors.add(known[0], web._(known[1]))
        return errors
    if problem.code == "invalid-input" and "amount" in (problem.body.get("fields") or []):
        rules = await web.api.call("GET", "/api/v1/tips-rules", auth=False)
        errors = FormErrors()
        bounds = web._(
            TIP_BOUNDS, min=web._.krw(rules["min_amount"]), max=web._.krw(rules["max_amount"])
        )
        errors.add("amount", bounds)
        return errors
    return FormErrors.from_problem(problem, web.locale, values)


async def send_tip(
    web: Web, post_id: str, *, back: str
) -> Response | tuple[dict[str, str], FormErrors, int]:
    """Send the posted tip on a post. Points are paid at once (back to the post with a notice);
    a card tip goes on to its payment page. Refused: the form's values, errors and status."""
    web.require_member()
    values = {name: await web.field(name) for name in ("preset", "amount", "method", "message")}
    key = await web.field("idem")
    amount = (values["amount"] or values["preset"]).replace(",", "")
    body: dict[str, Any] = {
        "target_type": "post",
        "target_id": post_id,
        "amount": amount,
        "method": values["method"] or "points",
    }
    if values["message"]:
        body["message"] = values["message"]
    try:
        tip = await web.api.post(
            "/api/v1/tips",
            json=body,
            headers={"Idempotency-Key": key if is_uuid(key) else web.new_idempotency_key()},
        )
    except ApiProblem as problem:
        if problem.status >= 500 or problem.status in (401, 404):
            raise
        errors = await _tip_errors(web, problem, values)
        # nothing was sent: the corrected form is a new request
        values["idem"] = web.new_idempotency_key()
        return values, errors, problem.status
    if tip["method"] == "money" and tip["status"] == "pending":
        return web.redirect(f"/tips/{tip['id']}/pay?back={quote(back, safe='/')}")
    return web.redirect(with_notice(back, "tip-sent", "#tips"))


# ---- paying a card tip -----------------------------------------------------------------------


def _back(tip: dict[str, Any], given: str | None) -> str:
    """Where the tip was sent from (a same-site path), else the post."""
    return safe_next(given, f"/community/p/{tip['post_id']}")


async def _pay_page(
    web: Web,
    tip: dict[str, Any],
    back: str,
    *,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    creator, count = await asyncio.gather(
        creator_or_none(web, str(tip["creator_id"])), cart_count(web)
    )
    return web.render(
        "community/tip_pay.html",
        status_code=status_code,
        tip=tip,
        creator=creator,
        back=back,
        # what the provider's payment window hands back once the buyer approves (dummy provider)
        payment_key=f"dummy_{uuid.uuid4().hex}",
        errors=errors or FormErrors(),
        cart_count=count,
    )


async def _own_tip(web: Web, tip_id: str) -> dict[str, Any] | None:
    if not is_uuid(tip_id):
        return None
    try:
        return await web.api.get(f"/api/v1/tips/{tip_id}")  # type: ignore[no-any-return]
    except ApiProblem as problem:
        if problem.status in (404, 422):
            return None
        raise


@router.get("/tips/{tip_id}/pay", include_in_schema=False)
async def pay_page(tip_id: str, web: WebDep) -> Response:
    web.require_member()
    tip = await _own_tip(web, tip_id)
    if tip is None:
        return web.render("errors/404.html", status_code=404)
    back = _back(tip, web.request.query_params.get("back"))
    if tip["status"] == "paid":
        return web.redirect(with_notice(back, "tip-sent", "#tips"))
    if tip["status"] != "pending" or tip["method"] != "money":
        return web.redirect(with_notice(back, "payment-failed"))
    return await _pay_page(web, tip, back)


@router.post("/tips/{tip_id}/pay", include_in_schema=False)
async def pay(tip_id: str, web: CheckedWeb) -> Response:
    web.require_member()
    tip = await _own_tip(web, tip_id)
    if tip is None:
        return web.render("errors/404.html", status_code=404)
    back = _back(tip, await web.field("back"))
    try:
        await web.api.post(
            f"/api/v1/tips/{tip_id}/payment",
            json={"payment_key": await web.field("payment_key"), "amount": tip["amount"]},
        )
    except ApiProblem as problem:
        if problem.status in (402, 409):  # declined, or no longer payable: the tip is over
            return web.redirect(with_notice(back, "payment-failed"))
        if (problem.status >= 500 and problem.status != 503) or problem.status in (401, 404):
            raise
        # the provider unreachable (503) or a malformed key: the same tip can be paid again
        errors = FormErrors()
        errors.add(None, problem_message(problem, web.locale))
        return await _pay_page(web, tip, back, errors=errors, status_code=problem.status)
    return web.redirect(with_notice(back, "tip-sent", "#tips"))
