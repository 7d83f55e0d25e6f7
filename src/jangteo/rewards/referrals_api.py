"""HTTP API of the referral program: a member's invite code and invitees, entering a code, and
staff's list of referrals with the reason of each refusal."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, StringConstraints

from jangteo.accounts import service as accounts
from jangteo.core.deps import CurrentMember, PlatformDep, StaffMember
from jangteo.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from jangteo.rewards import referrals
from jangteo.rewards.schemas import Request as Body

router = APIRouter(prefix="/api/v1", tags=["referrals"])

Status = Literal["pending", "rewarded", "refused"]
Reason = Literal["self", "same_device", "same_address", "same_payment_method"]


class InviteeOut(BaseModel):
    nickname: str
    status: Status
    joined_at: datetime


class MyReferralOut(BaseModel):
    """Your invite code and the points it brings; how many you invited and how that went (the
    20 latest by nickname); who invited you, and whether you may still enter a code."""

    code: str
    inviter_points: int
    invitee_points: int
    invited: int
    rewarded: int
    pending: int
    refused: int
    recent: list[InviteeOut]
    invited_by: str | None
    can_enter_code: bool


class InviteAccept(Body):
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]


class AcceptedOut(BaseModel):
    inviter_nickname: str
    status: Status
    created_at: datetime


class ReferralRowOut(BaseModel):
    id: uuid.UUID
    inviter_id: uuid.UUID
    inviter_nickname: str | None
    invitee_id: uuid.UUID
    invitee_nickname: str | None
    code: str
    status: Status
    refusal_reason: Reason | None
    order_id: uuid.UUID | None
    created_at: datetime
    decided_at: datetime | None


class ReferralPage(BaseModel):
    items: list[ReferralRowOut]
    next_cursor: str | None


@router.get("/me/referral", response_model=MyReferralOut)
async def my_referral(platform: PlatformDep, member: CurrentMember) -> MyReferralOut:
    """Your invite code (made on first ask): when someone you invited has their first order
    delivered, you both get points."""
    rules = referrals.ReferralRules.defaults(platform.settings)
    async with platform.db.write() as session:
        mine = await referrals.summary(session, platform.clock, member.member_id)
    return MyReferralOut(
        code=mine.code,
        inviter_points=rules.inviter_points,
        invitee_points=rules.invitee_points,
        invited=sum(mine.counts.values()),
        rewarded=mine.counts["rewarded"],
        pending=mine.counts["pending"],
        refused=mine.counts["refused"],
        recent=[
            InviteeOut(nickname=i.nickname, status=i.status, joined_at=i.joined_at)  # type: ignore[arg-type]
            for i in mine.recent
        ],
        invited_by=mine.invited_by,
        can_enter_code=mine.can_enter_code,
    )


@router.post("/me/referral", response_model=AcceptedOut, status_code=status.HTTP_201_CREATED)
async def accept_invite(
    platform: PlatformDep, member: CurrentMember, body: InviteAccept
) -> AcceptedOut:
    """Enter the code of the member who invited you: once, within 7 days of signing up and
    before your first order. Refused with 404 `invite-code-not-found`, 422 `own-invite-code`,
    409 `already-referred`, or 409 `invite-too-late` (`reason`: `signup-window-passed` or
    `already-ordered`)."""
    async with platform.db.write() as session:
        referral = await referrals.accept_invite(
            session, platform.clock, member.member_id, body.code
        )
        names = await accounts.nicknames(session, [referral.inviter_id])
    return AcceptedOut(
        inviter_nickname=names.get(referral.inviter_id, ""),
        status=referral.status,  # type: ignore[arg-type]
        created_at=referral.created_at,
    )


@router.get("/admin/referrals", response_model=ReferralPage)
async def list_referrals(
    platform: PlatformDep,
    _staff: StaffMember,
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> ReferralPage:
    """Referrals, newest first: both members, the status and, when refused, the rule matched."""
    async with platform.db.read() as session:
        rows, next_cursor = await referrals.list_referrals(
            session, status=status, limit=limit, cursor=cursor
        )
    return ReferralPage(
        items=[
            ReferralRowOut(
                id=row.referral.id,
                inviter_id=row.referral.inviter_id,
                inviter_nickname=row.inviter_nickname,
                invitee_id=row.referral.invitee_id,
                invitee_nickname=row.invitee_nickname,
                code=row.referral.code,
                status=row.referral.status,  # type: ignore[arg-type]
                refusal_reason=row.referral.refusal_reason,  # type: ignore[arg-type]
                order_id=row.referral.order_id,
                created_at=row.referral.created_at,
                decided_at=row.referral.decided_at,
            )
            for row in rows
        ],
        next_cursor=next_cursor,
    )
