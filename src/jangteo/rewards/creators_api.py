"""HTTP API of the creator program: public creator pages with their shelf, the creator's own
profile and shelf, the member's standing, and staff's tier overrides and rules."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, Response, status
from pydantic import AnyHttpUrl, BaseModel, Field, StringConstraints

from jangteo.core import rules as rules_store
from jangteo.core.deps import (
    CreatorMember,
    CurrentMember,
    OptionalMember,
    PlatformDep,
    StaffMember,
    client_ip,
)
from jangteo.core.errors import InvalidInput
from jangteo.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from jangteo.rewards import creators, notices, service
from jangteo.rewards.api import valid_visitor
from jangteo.rewards.models import Notice
from jangteo.rewards.schemas import Request as Body
from jangteo.rewards.schemas import TouchOut

router = APIRouter(prefix="/api/v1", tags=["creators"])

Tier = Literal["none", "neighbor", "pro"]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class ShelfItemOut(BaseModel):
    product_id: uuid.UUID
    name: str
    price: int
    image: str | None
    note: str


class CreatorOut(BaseModel):
    member_id: uuid.UUID
    nickname: str
    tier: Tier
    bio: str
    links: list[str]
    follower_count: int
    shelf: list[ShelfItemOut]


class ProfileChange(Body):
    bio: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = None
    links: Annotated[list[AnyHttpUrl], Field(max_length=5)] | None = None


class ShelfNote(Body):
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] = ""


class StandingOut(BaseModel):
    """The member's place in the creator program: the score of the last 90 days and what the
    next tier needs."""

    tier: Tier
    score: int
    locked: bool
    next_tier: Tier | None
    score_needed: int
    reward_rate_bp: int


class TierChange(Body):
    """A tier to fix (locked against the daily review), or null to let the score decide."""

    tier: Tier | None
    reason: Reason


class CreatorRulesOut(BaseModel):
    neighbor_score: int
    pro_score: int
    neighbor_rate_bp: int
    pro_rate_bp: int


class CreatorRulesChange(Body):
    neighbor_score: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    pro_score: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    neighbor_rate_bp: Annotated[int, Field(ge=100, le=500)] | None = None
    pro_rate_bp: Annotated[int, Field(ge=100, le=500)] | None = None


class ReviewOut(BaseModel):
    scored: int
    promoted: int
    demoted: int


def _creator_out(found: creators.CreatorProfile) -> CreatorOut:
    return CreatorOut(
        member_id=found.member_id,
        nickname=found.nickname,
        tier=found.tier,  # type: ignore[arg-type]
        bio=found.bio,
        links=found.links,
        follower_count=found.follower_count,
        shelf=[
            ShelfItemOut(
                product_id=card.id,
                name=card.name,
                price=card.price,
                image=card.image,
                note=item.note,
            )
            for item, card in found.shelf
        ],
    )


@router.get("/creators/{member_id}", response_model=CreatorOut)
async def creator_page(platform: PlatformDep, member_id: uuid.UUID) -> CreatorOut:
    """A creator's public page: tier, bio, links, followers and their product shelf."""
    async with platform.db.read() as session:
        return _creator_out(await creators.profile(session, member_id))


@router.post("/creators/{member_id}/touch", response_model=TouchOut)
async def touch_shelf(
    platform: PlatformDep,
    principal: OptionalMember,
    member_id: uuid.UUID,
    visitor_id: Annotated[str | None, Header(alias="X-Visitor-Id", max_length=40)] = None,
) -> TouchOut:
    """The viewer has seen the creator's shelf: a sale of a product on it within the reward
    window is credited to the creator."""
    visitor = valid_visitor(visitor_id)
    if principal is None and visitor is None:
        raise InvalidInput("Sign in, or send the browser's X-Visitor-Id.")
    async with platform.db.write() as session:
        await creators.profile(session, member_id)  # NotFound unless a creator
        touches = await service.touch_shelf(
            session,
            platform.clock,
            member_id,
            member_id=principal.member_id if principal else None,
            visitor_id=visitor,
        )
    return TouchOut(touches=touches)


@router.patch("/me/creator", response_model=CreatorOut)
async def edit_my_page(
    platform: PlatformDep, member: CreatorMember, body: ProfileChange
) -> CreatorOut:
    async with platform.db.write() as session:
        await creators.edit_profile(
            session,
            platform.clock,
            member.member_id,
            bio=body.bio,
            links=[str(link) for link in body.links] if body.links is not None else None,
        )
        return _creator_out(await creators.profile(session, member.member_id))


@router.put("/me/shelf/{product_id}", status_code=status.HTTP_204_NO_CONTENT)
async def shelve(
    platform: PlatformDep, member: CreatorMember, product_id: uuid.UUID, body: ShelfNote
) -> Response:
    """Put a product on your shelf with a note (at most 30 products)."""
    async with platform.db.write() as session:
        await creators.put_on_shelf(
            session, platform.clock, member.member_id, product_id, body.note
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/me/shelf/{product_id}", status_code=status.HTTP_204_NO_CONTENT)
async def unshelve(platform: PlatformDep, member: CreatorMember, product_id: uuid.UUID) -> Response:
    async with platform.db.write() as session:
        await creators.take_off_shelf(session, member.member_id, product_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me/creator/standing", response_model=StandingOut)
async def my_standing(platform: PlatformDep, member: CurrentMember) -> StandingOut:
    async with platform.db.read() as session:
        rules = await creators.creator_rules(session, platform.settings)
        tier = await creators.tier_of(session, member.member_id)
        locked = await creators.is_locked(session, member.member_id)
        score = (await creators.scores(session, platform.clock, [member.member_id]))[
            member.member_id
        ]
    next_tier = {"none": "neighbor", "neighbor": "pro"}.get(tier)
    needed = {"neighbor": rules.neighbor_score, "pro": rules.pro_score}.get(next_tier or "", 0)
    return StandingOut(
        tier=tier,  # type: ignore[arg-type]
        score=score,
        locked=locked,
        next_tier=next_tier,  # type: ignore[arg-type]
        score_needed=max(0, needed - score) if next_tier else 0,
        reward_rate_bp=rules.rate_of(tier),
    )


# ---- notice channel ----------------------------------------------------------------------------


class NoticeIn(Body):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class NoticeOut(BaseModel):
    id: uuid.UUID
    creator_id: uuid.UUID
    title: str
    body: str
    recipients: int
    created_at: datetime


class NoticePage(BaseModel):
    items: list[NoticeOut]
    next_cursor: str | None


def _notice_out(notice: Notice) -> NoticeOut:
    return NoticeOut(
        id=notice.id,
        creator_id=notice.creator_id,
        title=notice.title,
        body=notice.body,
        recipients=notice.recipients,
        created_at=notice.created_at,
    )


@router.post("/me/notices", response_model=NoticeOut, status_code=status.HTTP_201_CREATED)
async def post_notice(platform: PlatformDep, member: CreatorMember, body: NoticeIn) -> NoticeOut:
    """Send a notice to your followers (as notifications; those who muted you are skipped)."""
    async with platform.db.write() as session:
        notice = await notices.post_notice(
            session, platform.clock, member.member_id, title=body.title, body=body.body
        )
        return _notice_out(notice)


@router.get("/creators/{member_id}/notices", response_model=NoticePage)
async def creator_notices(
    platform: PlatformDep,
    member_id: uuid.UUID,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> NoticePage:
    async with platform.db.read() as session:
        rows, next_cursor = await notices.notices_of(session, member_id, limit=limit, cursor=cursor)
    return NoticePage(items=[_notice_out(n) for n in rows], next_cursor=next_cursor)


@router.put("/creators/{member_id}/notices/mute", status_code=status.HTTP_204_NO_CONTENT)
async def mute_notices(
    platform: PlatformDep, member: CurrentMember, member_id: uuid.UUID
) -> Response:
    """Stop this creator's notices reaching you (you still follow them)."""
    async with platform.db.write() as session:
        await creators.profile(session, member_id)  # NotFound unless a creator
        await notices.mute(session, platform.clock, member.member_id, member_id, on=True)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/creators/{member_id}/notices/mute", status_code=status.HTTP_204_NO_CONTENT)
async def unmute_notices(
    platform: PlatformDep, member: CurrentMember, member_id: uuid.UUID
) -> Response:
    async with platform.db.write() as session:
        await notices.mute(session, platform.clock, member.member_id, member_id, on=False)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---- staff -------------------------------------------------------------------------------------


@router.get("/creators-rules", response_model=CreatorRulesOut)
async def get_creator_rules(platform: PlatformDep) -> CreatorRulesOut:
    """The scores of the tiers and their reward rates (public)."""
    async with platform.db.read() as session:
        rules = await creators.creator_rules(session, platform.settings)
    return CreatorRulesOut(**dataclasses.asdict(rules))


@router.patch("/admin/creators/rules", response_model=CreatorRulesOut)
async def change_creator_rules(
    platform: PlatformDep, staff: StaffMember, body: CreatorRulesChange, request: Request
) -> CreatorRulesOut:
    changes = rules_store.requested(body)
    async with platform.db.write() as session:
        rules = await creators.change_creator_rules(
            session,
            platform.clock,
            platform.settings,
            changes,
            actor_id=staff.member_id,
            ip=client_ip(request),
        )
    return CreatorRulesOut(**dataclasses.asdict(rules))


class CreatorRow(BaseModel):
    member_id: uuid.UUID
    nickname: str
    tier: Tier
    score: int
    locked: bool
    lock_reason: str | None
    scored_at: datetime | None


class CreatorPage(BaseModel):
    items: list[CreatorRow]
    next_cursor: str | None


@router.get("/admin/creators", response_model=CreatorPage)
async def list_creators(
    platform: PlatformDep,
    _staff: StaffMember,
    tier: Tier | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> CreatorPage:
    """Members the review has scored, highest score first, with their tier."""
    async with platform.db.read() as session:
        rows, next_cursor = await creators.list_creators(
            session, tier=tier, limit=limit, cursor=cursor
        )
    return CreatorPage(
        items=[
            CreatorRow(
                member_id=row.member_id,
                nickname=name,
                tier=row.tier,  # type: ignore[arg-type]
                score=row.score,
                locked=row.locked,
                lock_reason=row.lock_reason,
                scored_at=row.scored_at,
            )
            for row, name in rows
        ],
        next_cursor=next_cursor,
    )


@router.put("/admin/creators/{member_id}/tier", response_model=StandingOut)
async def override_tier(
    platform: PlatformDep, staff: StaffMember, member_id: uuid.UUID, body: TierChange
) -> StandingOut:
    """Fix a member's tier with a reason (audited; the daily review leaves it alone), or with
    null hand it back to the score."""
    async with platform.db.write() as session:
        rules = await creators.creator_rules(session, platform.settings)
        row = await creators.override_tier(
            session,
            platform.clock,
            member_id,
            tier=body.tier,
            reason=body.reason,
            actor_id=staff.member_id,
            rules=rules,
        )
    return StandingOut(
        tier=row.tier,  # type: ignore[arg-type]
        score=row.score,
        locked=row.locked,
        next_tier=None,
        score_needed=0,
        reward_rate_bp=rules.rate_of(row.tier),
    )


@router.post("/admin/creators/review", response_model=ReviewOut)
async def review_now(platform: PlatformDep, _staff: StaffMember) -> ReviewOut:
    """Run the daily review of tiers now."""
    async with platform.db.write() as session:
        rules = await creators.creator_rules(session, platform.settings)
        done = await creators.review_tiers(session, platform.clock, rules)
    return ReviewOut(**done)
