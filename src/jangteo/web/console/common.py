"""What every console page shares: the staff gate, labels, forms' small parsers, pagination.

Every console page calls `require_staff(web)` first: a visitor without a session is sent to the
console's log-in, a member who is not staff gets the 403 page, and a staff member without
two-factor authentication is led through enrolment before anything else. The API checks all of
this again on every call (`StaffMember`); the gate only chooses the page to show.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from jangteo.core.clock import SEOUL
from jangteo.web.client import ApiProblem
from jangteo.web.forms import FormErrors
from jangteo.web.i18n import N_
from jangteo.web.page import Web

STAFF_ROLES = frozenset({"staff", "admin"})
ROLES = ("member", "creator", "staff", "admin")

ROLE_LABELS = {
    "member": N_("Member"),
    "creator": N_("Creator"),
    "staff": N_("Staff"),
    "admin": N_("Admin"),
}
MEMBER_STATUS_LABELS = {"active": N_("Active"), "suspended": N_("Suspended")}
PRODUCT_STATUS_LABELS = {"draft": N_("Draft"), "active": N_("On sale"), "archived": N_("Archived")}
VARIANT_STATUS_LABELS = {"active": N_("On sale"), "inactive": N_("Not on sale")}
CATALOG_STATUS_LABELS = {"active": N_("Active"), "archived": N_("Archived")}
COUPON_STATUS_LABELS = {"active": N_("Active"), "disabled": N_("Disabled")}
COUPON_KIND_LABELS = {"fixed": N_("Fixed amount (KRW)"), "percent": N_("Percent")}
PRODUCT_SORTS = {
    "new": N_("Newest"),
    "popular": N_("Best selling"),
    "price_asc": N_("Price: low to high"),
    "price_desc": N_("Price: high to low"),
}
ORDER_SORTS = {"newest": N_("Newest first"), "oldest": N_("Oldest first")}
# notices shown after a redirect (`?notice=`); only these keys, never free text from the URL
NOTICES = {
    "logged-out": N_("You have logged out."),
    "relogin": N_("Log in again with your authentication code to open the console."),
    "saved": N_("Saved."),
    "created": N_("Created."),
    "archived": N_("Archived."),
    "restored": N_("Restored."),
    "stock-adjusted": N_("The stock has been adjusted."),
    "image-added": N_("The image has been added."),
    "image-removed": N_("The image has been removed."),
    "variant-added": N_("The option has been added."),
    "order-updated": N_("The order has been updated."),
    "order-refunded": N_("The order has been refunded."),
    "coupon-disabled": N_("The coupon is disabled."),
    "coupon-enabled": N_("The coupon is active again."),
    "roles-saved": N_("The roles have been saved."),
    "suspended": N_("The member is suspended."),
    "unsuspended": N_("The member is active again."),
    "points-adjusted": N_("The points have been adjusted."),
    "report-resolved": N_("The report has been handled."),
}


class ConsoleRedirect(Exception):
    """Leave this console page for another (log-in, two-factor enrolment)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


class ConsoleForbidden(Exception):
    """The visitor is logged in but is not staff: the console's 403 page."""


@dataclass(frozen=True)
class Staff:
    id: str
    nickname: str
    email: str
    roles: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


def token_has_mfa(access_token: str | None) -> bool:
    """Whether the visitor's access token says the session passed a second factor.

    Read without checking the signature: it only picks the page to show, and the API verifies
    the token (and refuses a session without a second factor) on every call anyway.
    """
    if not access_token or access_token.count(".") != 2:
        return False
    payload = access_token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, binascii.Error):
        return False
    return isinstance(claims, dict) and claims.get("mfa") is True


def login_url(web: Web, notice: str | None = None) -> str:
    url = "/console/login?next=" + quote(web.current_path(), safe="/")
    return url + (f"&notice={notice}" if notice else "")


async def require_staff(web: Web) -> Staff:
    """The staff member using the console, or a redirect / 403 raised for the visitor."""
    if not web.session.logged_in:
        raise ConsoleRedirect(login_url(web))
    me = await web.api.get("/api/v1/me")
    roles = frozenset(me["roles"])
    if not roles & STAFF_ROLES:
        raise ConsoleForbidden()
    if not me["mfa_enabled"]:
        raise ConsoleRedirect("/console/mfa")
    if not token_has_mfa(web.session.access_token):
        # a session opened before two-factor authentication was turned on
        web.session.clear_tokens()
        raise ConsoleRedirect(login_url(web, "relogin"))
    return Staff(id=str(me["id"]), nickname=me["nickname"], email=me["email"], roles=roles)


def notice(web: Web) -> str | None:
    key = web.request.query_params.get("notice", "")
    return web._(NOTICES[key]) if key in NOTICES else None


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def query(web: Web, name: str, *, allowed: Any = None, max_length: int = 100) -> str:
    """A query parameter, trimmed and bounded; "" when not one of `allowed` (when given)."""
    value = web.request.query_params.get(name, "").strip()[:max_length]
    if allowed is not None and value not in allowed:
        return ""
    return value


def whole_number(value: str) -> int | str:
    """A form's number as an int when it is one, else as typed (the API names the mistake)."""
    cleaned = value.replace(",", "").strip()
    try:
        return int(cleaned)
    except ValueError:
        return value


def optional_number(value: str) -> int | str | None:
    return None if not value.strip() else whole_number(value)


def seoul_input(moment: datetime | str | None) -> str:
    """A timestamp as a `datetime-local` input shows it, in Seoul time."""
    if moment is None:
        return ""
    value = moment if isinstance(moment, datetime) else datetime.fromisoformat(moment)
    return value.astimezone(SEOUL).strftime("%Y-%m-%dT%H:%M")


def from_seoul_input(value: str) -> str:
    """A `datetime-local` value typed in Seoul time, as the API's ISO 8601 with offset
    (as typed when it is not a date and time: the API then names the field)."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SEOUL)
    return parsed.isoformat()


def default_window(now: datetime) -> tuple[str, str]:
    start = now.astimezone(SEOUL).replace(second=0, microsecond=0)
    return seoul_input(start), seoul_input(start + timedelta(days=30))


def problem_errors(
    web: Web,
    problem: ApiProblem,
    values: dict[str, Any] | None = None,
    *,
    prefixes: dict[str, str] | None = None,
    code_fields: dict[str, str] | None = None,
) -> FormErrors:
    """The API's problem as form errors; `prefixes` files nested pointers under one field
    (`option_types.0.values` → `options`)."""
    if problem.status >= 500 or problem.status == 401:
        raise problem
    errors = FormErrors.from_problem(problem, web.locale, values, code_fields=code_fields)
    if prefixes:
        moved = FormErrors()
        moved.general = list(errors.general)
        for name, message in errors.fields.items():
            target = next(
                (field for prefix, field in prefixes.items() if name.startswith(prefix)), name
            )
            moved.add(target, message)
        errors = moved
    return errors


def category_rows_as_tree(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flat categories (with `parent_id`) in tree order with depths, archived ones included."""
    children: dict[str | None, list[dict[str, Any]]] = {}
    for row in sorted(rows, key=lambda r: (r["position"], r["name"])):
        parent = str(row["parent_id"]) if row.get("parent_id") else None
        children.setdefault(parent, []).append(row)

    def walk(parent: str | None, depth: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for row in children.get(parent, []):
            out.append({**row, "depth": depth})
            out.extend(walk(str(row["id"]), depth + 1))
        return out

    return walk(None, 0)


def render(
    web: Web, template: str, staff: Staff, *, status_code: int = 200, **values: Any
) -> Response:
    """A console page, with the staff member (for the header) and the one-time notice."""
    values.setdefault("notice", notice(web))
    return web.render(
        template,
        status_code=status_code,
        staff=staff,
        category_choices=lambda rows: category_choices(web, rows),
        brand_choices=lambda rows: brand_choices(web, rows),
        **values,
    )


def brand_choices(web: Web, rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(id, label) of brands, archived ones marked."""
    archived = web._("Archived")
    return [
        (str(row["id"]), row["name"] + (f" ({archived})" if row["status"] == "archived" else ""))
        for row in rows
    ]


def category_choices(web: Web, rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(id, label) of categories in tree order, indented by depth, archived ones marked."""
    archived = web._("Archived")
    return [
        (
            str(row["id"]),
            "— " * row["depth"]
            + row["name"]
            + (f" ({archived})" if row.get("status") == "archived" else ""),
        )
        for row in rows
    ]
