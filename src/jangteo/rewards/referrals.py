"""The referral program: every member has an invite code; a new member may enter one within 7
days of signing up and before their first order, and when that member's first order is
delivered both get points, unless the two accounts look like one person.

Abuse rules, checked at the delivery (the first that matches is the refusal's reason, shown to
staff): `self` (one mailbox under two aliases: `+tag`, or dots in a Gmail address),
`same_device` (both were signed in on one browser, by its visitor id), `same_address` (an
address of the invitee, saved or shipped to, is one of the inviter's) and `same_payment_method`
(both paid with one card, as far as the payment provider identifies cards).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.accounts import service as accounts
from jangteo.core.clock import Clock
from jangteo.core.db import insert_if_new
from jangteo.core.errors import define
from jangteo.core.ids import short_code
from jangteo.core.korean import normalize
from jangteo.core.pagination import id_after, id_cursor
from jangteo.orders import service as orders
from jangteo.rewards.models import InviteCode, Referral, VisitorLink, VisitorSighting

ACCEPT_WITHIN = timedelta(days=7)
CODE_LENGTH = 8
STATUSES = ("pending", "rewarded", "refused")
REASONS = ("self", "same_device", "same_address", "same_payment_method")

UnknownInviteCode = define("invite-code-not-found", 404, "There is no such invite code.")
OwnInviteCode = define("own-invite-code", 422, "You cannot enter your own invite code.")
InviteTooLate = define(
    "invite-too-late",
    409,
    "An invite code can be entered only within 7 days of signing up, before your first order.",
)
AlreadyReferred = define("already-referred", 409, "You have already entered an invite code.")


@dataclass(frozen=True)
class ReferralRules:
    """The points the inviter and the invitee get, and how long they last."""

    inviter_points: int = 3_000
    invitee_points: int = 3_000
    expiry_days: int = 365

    @classmethod
    def defaults(cls, settings: Any) -> ReferralRules:
        return cls(
            inviter_points=settings.referral_inviter_points,
            invitee_points=settings.referral_invitee_points,
            expiry_days=settings.points_expiry_days,
        )


# ---- codes and accepting ----------------------------------------------------------------------


async def invite_code(session: AsyncSession, clock: Clock, member_id: uuid.UUID) -> str:
    """The member's invite code, made on first ask and the same ever after."""
    row = await session.get(InviteCode, member_id)
    if row is not None:
        return row.code
    for _attempt in range(5):
        made = InviteCode(member_id=member_id, code=short_code(CODE_LENGTH), created_at=clock.now())
        if await insert_if_new(session, made):
            return made.code
        row = await session.get(InviteCode, member_id, populate_existing=True)
        if row is not None:  # the same ask at the same moment
            return row.code
    raise RuntimeError("no free invite code after 5 tries")


def clean_code(code: str) -> str:
    """Codes are shown in capitals without 0/O and 1/I; typed in any case, with spaces."""
    return "".join(code.split()).upper()


async def accept_invite(
    session: AsyncSession, clock: Clock, invitee_id: uuid.UUID, code: str
) -> Referral:
    """The invitee enters an inviter's code: once, within 7 days of signing up and before
    their first order, never their own."""
    code = clean_code(code)
    owner = await session.scalar(select(InviteCode.member_id).where(InviteCode.code == code))
    if owner is None:
        raise UnknownInviteCode()
    if owner == invitee_id:
        raise OwnInviteCode()
    if await _referral_of(session, invitee_id) is not None:
        raise AlreadyReferred()
    now = clock.now()
    signed_up = (await accounts.get_profile(session, invitee_id)).created_at
    if now - signed_up > ACCEPT_WITHIN:
        raise InviteTooLate("You signed up more than 7 days ago.", reason="signup-window-passed")
    if await orders.count_orders(session, invitee_id):
        raise InviteTooLate("You have already placed an order.", reason="already-ordered")
    referral = Referral(
        inviter_id=owner, invitee_id=invitee_id, code=code, status="pending", created_at=now
    )
    if not await insert_if_new(session, referral):  # entered at the same moment elsewhere
        raise AlreadyReferred()
    return referral


async def _referral_of(
    session: AsyncSession, invitee_id: uuid.UUID, *, lock: bool = False
) -> Referral | None:
    query = select(Referral).where(Referral.invitee_id == invitee_id)
    return await session.scalar(query.with_for_update() if lock else query)


# ---- the first delivery -----------------------------------------------------------------------


async def note_visitor(
    session: AsyncSession, clock: Clock, member_id: uuid.UUID, visitor_id: str
) -> None:
    """The member was signed in on the browser `visitor_id` (kept for the device rule)."""
    if await session.get(VisitorSighting, (visitor_id, member_id)) is None:
        await insert_if_new(
            session,
            VisitorSighting(visitor_id=visitor_id, member_id=member_id, first_seen_at=clock.now()),
        )


async def _visitor_ids(session: AsyncSession, member_id: uuid.UUID) -> set[str]:
    seen = select(VisitorSighting.visitor_id).where(VisitorSighting.member_id == member_id)
    linked = select(VisitorLink.visitor_id).where(VisitorLink.member_id == member_id)
    return set((await session.scalars(union(seen, linked))).all())


def _mailbox(email: str) -> str:
    local, _, domain = email.lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


_ADDRESS_NOISE = re.compile(r"[\s,.]+")


def address_key(postal_code: str, line1: str) -> tuple[str, str]:
    """An address as the same-address rule compares it: the postal code's digits and the first
    line without spaces, commas or dots (`세종대로 110` = `세종대로110`)."""
    digits = "".join(c for c in postal_code if c.isdigit())
    return digits, _ADDRESS_NOISE.sub("", normalize(line1))


async def _address_keys(session: AsyncSession, member_id: uuid.UUID) -> set[tuple[str, str]]:
    saved, _next = await accounts.list_addresses(
        session, member_id, limit=accounts.MAX_ADDRESSES, cursor=None
    )
    keys = {address_key(a.postal_code, a.line1) for a in saved}
    for shipped in await orders.shipping_addresses(session, member_id):
        keys.add(address_key(str(shipped.get("postal_code", "")), str(shipped.get("line1", ""))))
    return keys


async def refusal_reason(
    session: AsyncSession, inviter_id: uuid.UUID, invitee_id: uuid.UUID
) -> str | None:
    """The first abuse rule the pair breaks, or None."""
    inviter = await accounts.get_profile(session, inviter_id)
    invitee = await accounts.get_profile(session, invitee_id)
    if _mailbox(inviter.email) == _mailbox(invitee.email):
        return "self"
    if await _visitor_ids(session, inviter_id) & await _visitor_ids(session, invitee_id):
        return "same_device"
    if await _address_keys(session, inviter_id) & await _address_keys(session, invitee_id):
        return "same_address"
    inviter_cards = await orders.payment_fingerprints(session, inviter_id)
    if inviter_cards & await orders.payment_fingerprints(session, invitee_id):
        return "same_payment_method"
    return None


def _points_reference(referral_id: uuid.UUID, side: str) -> str:
    return f"referral:{referral_id}:{side}"


async def on_delivered(
    session: AsyncSession, clock: Clock, payload: dict[str, Any], rules: ReferralRules
) -> Referral | None:
    """An order was delivered: if it is the first of a referred member, the referral is decided
    (refused with a reason, or points to both). Delivered again, or a later order: nothing."""
    referral = await _referral_of(session, uuid.UUID(payload["member_id"]), lock=True)
    if referral is None or referral.status != "pending":
        return referral
    reason = await refusal_reason(session, referral.inviter_id, referral.invitee_id)
    referral.order_id = uuid.UUID(payload["order_id"])
    referral.decided_at = clock.now()
    if reason is not None:
        referral.status, referral.refusal_reason = "refused", reason
        await session.flush()
        return referral
    for member_id, side, amount in (
        (referral.inviter_id, "inviter", rules.inviter_points),
        (referral.invitee_id, "invitee", rules.invitee_points),
    ):
        if amount > 0:
            await accounts.credit_points(
                session,
                clock,
                member_id=member_id,
                amount=amount,
                reason=f"referral.{side}",
                reference=_points_reference(referral.id, side),
                expiry_days=rules.expiry_days,
            )
    referral.status = "rewarded"
    await session.flush()
    return referral


# ---- what members and staff see ---------------------------------------------------------------


@dataclass(frozen=True)
class Invitee:
    nickname: str
    status: str
    joined_at: datetime


@dataclass(frozen=True)
class ReferralSummary:
    """A member's side of the program: their code, whom they invited (by nickname only) and
    who invited them."""

    code: str
    counts: dict[str, int]
    recent: list[Invitee]
    invited_by: str | None
    can_enter_code: bool


async def summary(
    session: AsyncSession, clock: Clock, member_id: uuid.UUID, *, recent: int = 20
) -> ReferralSummary:
    code = await invite_code(session, clock, member_id)
    counted = await session.execute(
        select(Referral.status, func.count())
        .where(Referral.inviter_id == member_id)
        .group_by(Referral.status)
    )
    counts = dict.fromkeys(STATUSES, 0) | {status: int(n) for status, n in counted}
    rows = list(
        (
            await session.scalars(
                select(Referral)
                .where(Referral.inviter_id == member_id)
                .order_by(Referral.id.desc())
                .limit(recent)
            )
        ).all()
    )
    mine = await _referral_of(session, member_id)
    names = await accounts.nicknames(
        session, [r.invitee_id for r in rows] + ([mine.inviter_id] if mine else [])
    )
    can_enter = mine is None
    if can_enter:
        signed_up = (await accounts.get_profile(session, member_id)).created_at
        can_enter = clock.now() - signed_up <= ACCEPT_WITHIN and not await orders.count_orders(
            session, member_id
        )
    return ReferralSummary(
        code=code,
        counts=counts,
        recent=[Invitee(names.get(r.invitee_id, ""), r.status, r.created_at) for r in rows],
        invited_by=names.get(mine.inviter_id) if mine else None,
        can_enter_code=can_enter,
    )


@dataclass(frozen=True)
class ReferralRow:
    referral: Referral
    inviter_nickname: str | None
    invitee_nickname: str | None


async def list_referrals(
    session: AsyncSession, *, status: str | None, limit: int, cursor: str | None
) -> tuple[list[ReferralRow], str | None]:
    """Referrals for staff, newest first, with both members' nicknames."""
    query = select(Referral)
    if status is not None:
        query = query.where(Referral.status == status)
    after = id_after(cursor)
    if after is not None:
        query = query.where(Referral.id < after)
    rows = list((await session.scalars(query.order_by(Referral.id.desc()).limit(limit + 1))).all())
    next_cursor = id_cursor(rows[limit - 1].id) if len(rows) > limit else None
    rows = rows[:limit]
    names = await accounts.nicknames(
        session, [r.inviter_id for r in rows] + [r.invitee_id for r in rows]
    )
    return [
        ReferralRow(r, names.get(r.inviter_id), names.get(r.invitee_id)) for r in rows
    ], next_cursor
