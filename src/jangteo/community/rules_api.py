"""HTTP API of the community's rules (activity points, posting limits per trust level, what earns
trust) and of members' trust levels: reads that count toward them, staff overrides."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from jangteo.accounts import service as accounts
from jangteo.community import service, trust_levels
from jangteo.community.api import _viewer
from jangteo.community.schemas import Reason
from jangteo.community.schemas import Request as Body
from jangteo.core import rules as rules_store
from jangteo.core.deps import CurrentMember, PlatformDep, StaffMember, client_ip
from jangteo.core.errors import NotFound

router = APIRouter(prefix="/api/v1", tags=["community rules"])

Amount = Annotated[int, Field(ge=0, le=1_000_000)]
Level = Literal[0, 1, 2, 3]


class RulesOut(BaseModel):
    """Points a member earns (within the daily cap), posts and comments a day per trust level
    (0 new, 1 basic, 2 member and up), and what earns levels 1 and 2."""

    post_points: int
    snap_points: int
    review_points: int
    photo_review_points: int
    answer_bonus_points: int
    daily_points_cap: int
    new_posts_per_day: int
    new_comments_per_day: int
    posts_per_day: int
    comments_per_day: int
    trusted_posts_per_day: int
    trusted_comments_per_day: int
    trust_basic_reads: int
    trust_basic_days: int
    trust_member_reads: int
    trust_member_days: int
    trust_member_likes: int


class RulesChange(Body):
    """The rules to change; the others stay as they are."""

    post_points: Amount | None = None
    snap_points: Amount | None = None
    review_points: Amount | None = None
    photo_review_points: Amount | None = None
    answer_bonus_points: Amount | None = None
    daily_points_cap: Amount | None = None
    new_posts_per_day: Amount | None = None
    new_comments_per_day: Amount | None = None
    posts_per_day: Amount | None = None
    comments_per_day: Amount | None = None
    trusted_posts_per_day: Amount | None = None
    trusted_comments_per_day: Amount | None = None
    trust_basic_reads: Amount | None = None
    trust_basic_days: Annotated[int, Field(ge=0, le=365)] | None = None
    trust_member_reads: Amount | None = None
    trust_member_days: Annotated[int, Field(ge=0, le=365)] | None = None
    trust_member_likes: Amount | None = None


class TrustOut(BaseModel):
    """A member's trust level (0 new, 1 basic, 2 member, 3 leader), whether staff fixed it, the
    counts behind it and what the next level still needs."""

    member_id: uuid.UUID
    level: int
    locked: bool
    posts_read: int
    days_visited: int
    likes_received: int
    next_level: int | None
    reads_needed: int
    days_needed: int
    likes_needed: int
    posts_per_day: int
    comments_per_day: int


class ReadOut(BaseModel):
    counted: bool
    level: int


class TrustChange(Body):
    """A level to fix (locked against automatic change), or null to let reading decide again."""

    level: Level | None
    reason: Reason


def _rules_out(rules: service.ActivityRules) -> RulesOut:
    return RulesOut(**dataclasses.asdict(rules))


def _trust_out(
    member_id: uuid.UUID, status: trust_levels.TrustStatus, rules: service.ActivityRules
) -> TrustOut:
    return TrustOut(
        member_id=member_id,
        **dataclasses.asdict(status),
        posts_per_day=rules.posts_limit(status.level),
        comments_per_day=rules.comments_limit(status.level),
    )


@router.get("/community/rules", response_model=RulesOut)
async def get_rules(platform: PlatformDep) -> RulesOut:
    """How members earn points and trust, and how much each level may post: public, so that
    members know the rules."""
    async with platform.db.read() as session:
        return _rules_out(await service.activity_rules(session, platform.settings))


@router.patch("/admin/community/rules", response_model=RulesOut)
async def change_rules(
    platform: PlatformDep, staff: StaffMember, body: RulesChange, request: Request
) -> RulesOut:
    """Change some rules at once (audited with before and after). Limits must not decrease from
    one trust level to the next."""
    changes = rules_store.requested(body)
    async with platform.db.write() as session:
        rules = await service.change_activity_rules(
            session,
            platform.clock,
            platform.settings,
            changes,
            actor_id=staff.member_id,
            ip=client_ip(request),
        )
    return _rules_out(rules)


@router.get("/me/trust", response_model=TrustOut)
async def my_trust(platform: PlatformDep, member: CurrentMember) -> TrustOut:
    async with platform.db.read() as session:
        rules = await service.activity_rules(session, platform.settings)
        status = await trust_levels.status(session, member.member_id, rules)
    return _trust_out(member.member_id, status, rules)


@router.post("/posts/{post_id}/read", response_model=ReadOut)
async def read_post(platform: PlatformDep, member: CurrentMember, post_id: uuid.UUID) -> ReadOut:
    """Count a post the member has read toward their trust level (once per post; their own posts
    do not count). Clients call it when the post has been on screen."""
    viewer = _viewer(member)
    async with platform.db.write() as session:
        post, _space, _board = await service.readable_post(session, post_id, viewer)
        rules = await service.activity_rules(session, platform.settings)
        counted = await trust_levels.record_read(
            session, platform.clock, member.member_id, post.id, post.author_id, rules
        )
        level = await trust_levels.level_of(session, member.member_id, rules)
    return ReadOut(counted=counted, level=level)


@router.get("/admin/members/{member_id}/trust", response_model=TrustOut)
async def member_trust(
    platform: PlatformDep, _staff: StaffMember, member_id: uuid.UUID
) -> TrustOut:
    async with platform.db.read() as session:
        if await accounts.get_member_brief(session, member_id) is None:
            raise NotFound("The member does not exist.")
        rules = await service.activity_rules(session, platform.settings)
        status = await trust_levels.status(session, member_id, rules)
    return _trust_out(member_id, status, rules)


@router.put("/admin/members/{member_id}/trust", response_model=TrustOut)
async def set_member_trust(
    platform: PlatformDep,
    staff: StaffMember,
    member_id: uuid.UUID,
    body: TrustChange,
    request: Request,
) -> TrustOut:
    """Fix a member's trust level with a reason (audited), or unlock it."""
    async with platform.db.write() as session:
        if await accounts.get_member_brief(session, member_id) is None:
            raise NotFound("The member does not exist.")
        rules = await service.activity_rules(session, platform.settings)
        await trust_levels.set_level(
            session,
            platform.clock,
            member_id,
            level=body.level,
            reason=body.reason,
            actor_id=staff.member_id,
            rules=rules,
            ip=client_ip(request),
        )
        status = await trust_levels.status(session, member_id, rules)
    return _trust_out(member_id, status, rules)
