"""Trust levels, after Discourse: members earn trust by reading and by what others make of their
posts, and the daily posting limits grow with it.

- 0 new: every account starts here (the lowest limits);
- 1 basic: read `trust_basic_reads` posts on `trust_basic_days` Seoul days;
- 2 member: read `trust_member_reads` posts on `trust_member_days` days and received
  `trust_member_likes` likes from other members;
- 3 leader: only given by staff.

Levels are only ever raised automatically; staff may set any level with a reason, which locks
it (audited). A read counts once per member and post.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.community import notifications
from jangteo.community.models import Comment, MemberTrust, Post, PostRead, Reaction
from jangteo.core.audit import record_audit
from jangteo.core.clock import Clock, to_seoul
from jangteo.core.db import insert_if_new

if TYPE_CHECKING:
    from jangteo.community.service import ActivityRules

NEW, BASIC, MEMBER, LEADER = 0, 1, 2, 3
LEVELS = (NEW, BASIC, MEMBER, LEADER)


@dataclass(frozen=True)
class TrustStatus:
    level: int
    locked: bool
    posts_read: int
    days_visited: int
    likes_received: int
    # what the next automatic level asks for, None at level 2 and above
    next_level: int | None
    reads_needed: int
    days_needed: int
    likes_needed: int


def _earned(rules: ActivityRules, reads: int, days: int, likes: int | None) -> int:
    """The level reading and likes earn; likes are only counted when reading would allow 2."""
    if (
        reads >= rules.trust_member_reads
        and days >= rules.trust_member_days
        and likes is not None
        and likes >= rules.trust_member_likes
    ):
        return MEMBER
    if reads >= rules.trust_basic_reads and days >= rules.trust_basic_days:
        return BASIC
    return NEW


async def level_of(session: AsyncSession, member_id: uuid.UUID, rules: ActivityRules) -> int:
    """The member's level now (a member who never read anything is new, unless the rules ask
    for nothing to become basic)."""
    row = await session.get(MemberTrust, member_id)
    if row is None:
        return _earned(rules, 0, 0, None)
    if row.locked:
        return row.level
    return max(row.level, _earned(rules, row.posts_read, row.days_visited, None))


async def likes_received(session: AsyncSession, member_id: uuid.UUID) -> int:
    """Likes from other members on the member's posts and comments."""
    likes = 0
    for model in (Post, Comment):
        likes += (
            await session.scalar(
                select(func.count())
                .select_from(Reaction)
                .join(model, model.id == Reaction.target_id)
                .where(
                    Reaction.target_type == ("post" if model is Post else "comment"),
                    Reaction.kind == "like",
                    model.author_id == member_id,
                    Reaction.member_id != member_id,
                )
            )
            or 0
        )
    return likes


async def _row(session: AsyncSession, clock: Clock, member_id: uuid.UUID) -> MemberTrust:
    """The member's trust row, locked for this transaction, made on first use."""
    row = await session.get(MemberTrust, member_id, with_for_update=True)
    if row is None:
        await insert_if_new(session, MemberTrust(member_id=member_id, updated_at=clock.now()))
        row = await session.get(
            MemberTrust, member_id, with_for_update=True, populate_existing=True
        )
        assert row is not None
    return row


async def _raise_to(session: AsyncSession, clock: Clock, row: MemberTrust, level: int) -> None:
    if level <= row.level:
        return
    row.level = level
    row.updated_at = clock.now()
    await notifications.notify(
        session, clock, member_id=row.member_id, kind="trust_level", data={"level": level}
    )


async def record_read(
    session: AsyncSession,
    clock: Clock,
    member_id: uuid.UUID,
    post_id: uuid.UUID,
    author_id: uuid.UUID,
    rules: ActivityRules,
) -> bool:
    """Count a post the member read (the caller checked they may read it); their own posts do
    not count. Whether it counted (a second read of the same post does not)."""
    if author_id == member_id:
        return False
    if not await insert_if_new(
        session, PostRead(member_id=member_id, post_id=post_id, created_at=clock.now())
    ):
        return False
    row = await _row(session, clock, member_id)
    row.posts_read += 1
    today = to_seoul(clock.now()).date().isoformat()
    if row.last_visit_day != today:
        row.last_visit_day = today
        row.days_visited += 1
    row.updated_at = clock.now()
    if not row.locked and row.level < MEMBER:
        likes = None
        if (
            row.posts_read >= rules.trust_member_reads
            and row.days_visited >= rules.trust_member_days
        ):
            likes = await likes_received(session, member_id)
        await _raise_to(
            session, clock, row, _earned(rules, row.posts_read, row.days_visited, likes)
        )
    await session.flush()
    return True


async def status(session: AsyncSession, member_id: uuid.UUID, rules: ActivityRules) -> TrustStatus:
    """The member's level and how far they are from the next one."""
    row = await session.get(MemberTrust, member_id)
    reads, days = (row.posts_read, row.days_visited) if row else (0, 0)
    locked = bool(row and row.locked)
    level = await level_of(session, member_id, rules)
    likes = await likes_received(session, member_id)
    next_level = None if locked or level >= MEMBER else level + 1
    if next_level == BASIC:
        needs = (rules.trust_basic_reads - reads, rules.trust_basic_days - days, 0)
    elif next_level == MEMBER:
        needs = (
            rules.trust_member_reads - reads,
            rules.trust_member_days - days,
            rules.trust_member_likes - likes,
        )
    else:
        needs = (0, 0, 0)
    return TrustStatus(
        level=level,
        locked=locked,
        posts_read=reads,
        days_visited=days,
        likes_received=likes,
        next_level=next_level,
        reads_needed=max(0, needs[0]),
        days_needed=max(0, needs[1]),
        likes_needed=max(0, needs[2]),
    )


async def set_level(
    session: AsyncSession,
    clock: Clock,
    member_id: uuid.UUID,
    *,
    level: int | None,
    reason: str,
    actor_id: uuid.UUID,
    rules: ActivityRules,
    ip: str | None = None,
) -> None:
    """Staff set a member's level (locked against automatic change), or with None unlock it
    so that reading and likes decide again; audited with the reason."""
    row = await _row(session, clock, member_id)
    before = {"level": row.level, "locked": row.locked}
    if level is None:
        likes = await likes_received(session, member_id)
        row.level, row.locked = _earned(rules, row.posts_read, row.days_visited, likes), False
    else:
        row.level, row.locked = level, True
    row.updated_at = clock.now()
    record_audit(
        session,
        clock,
        actor_id=actor_id,
        action="community.trust_level.set",
        target_type="member",
        target_id=member_id,
        before=before,
        after={"level": row.level, "locked": row.locked, "reason": reason},
        ip=ip,
    )
    await session.flush()
