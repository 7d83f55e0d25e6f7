"""A creator's notice channel: a notice goes to every follower as a notification, except those
who muted the creator's notices.

The notice is written at once; the notifications are fanned out by a job in batches of
followers (in follow order, the job carrying where it stopped), each notification with an id
derived from the notice and the follower, so that a batch run twice notifies nobody twice.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.community import notifications
from jangteo.community import service as community
from jangteo.core import jobs
from jangteo.core.clock import Clock
from jangteo.core.db import insert_if_new
from jangteo.core.errors import Forbidden, NotFound
from jangteo.core.ids import uuid7_for
from jangteo.core.pagination import id_after, id_cursor
from jangteo.rewards import creators
from jangteo.rewards.models import Notice, NoticeMute

FANOUT_JOB = "rewards.notice-fanout"
BATCH = 500


async def post_notice(
    session: AsyncSession, clock: Clock, creator_id: uuid.UUID, *, title: str, body: str
) -> Notice:
    """A creator's notice; its fan-out to followers starts right after the commit."""
    if await creators.tier_of(session, creator_id) == "none":
        raise Forbidden("Only creators have a notice channel.")
    notice = Notice(creator_id=creator_id, title=title, body=body, created_at=clock.now())
    session.add(notice)
    await session.flush()
    await _schedule(session, clock, notice.id, None)
    return notice


async def _schedule(
    session: AsyncSession, clock: Clock, notice_id: uuid.UUID, after: uuid.UUID | None
) -> None:
    await jobs.schedule(
        session,
        FANOUT_JOB,
        f"notice-fanout:{notice_id}:{after}",
        clock.now(),
        {"notice_id": str(notice_id), "after": str(after) if after else None},
    )


async def fan_out(
    session: AsyncSession, clock: Clock, notice_id: uuid.UUID, after: uuid.UUID | None
) -> int:
    """Notify the next batch of followers; schedules the batch after it. How many notified."""
    notice = await session.get(Notice, notice_id, with_for_update=True)
    if notice is None:
        return 0
    batch = await community.followers_after(session, notice.creator_id, after, BATCH)
    muted = set(
        (
            await session.scalars(
                select(NoticeMute.member_id).where(
                    NoticeMute.creator_id == notice.creator_id,
                    NoticeMute.member_id.in_([f for _i, f in batch]),
                )
            )
        ).all()
    )
    notified = 0
    for _follow_id, follower_id in batch:
        if follower_id in muted:
            continue
        if await notifications.notify(
            session,
            clock,
            member_id=follower_id,
            kind="creator_notice",
            actor_id=notice.creator_id,
            data={"notice_id": str(notice.id), "title": notice.title},
            notification_id=uuid7_for(notice.created_at, f"notice:{notice.id}:{follower_id}"),
        ):
            notified += 1
    notice.recipients += notified
    if len(batch) == BATCH:
        await _schedule(session, clock, notice.id, batch[-1][0])
    return notified


async def mute(
    session: AsyncSession, clock: Clock, member_id: uuid.UUID, creator_id: uuid.UUID, *, on: bool
) -> None:
    """Stop (or resume) a creator's notices for a member."""
    if on:
        await insert_if_new(
            session, NoticeMute(member_id=member_id, creator_id=creator_id, created_at=clock.now())
        )
        return
    row = await session.get(NoticeMute, (member_id, creator_id))
    if row is not None:
        await session.delete(row)


async def is_muted(session: AsyncSession, member_id: uuid.UUID, creator_id: uuid.UUID) -> bool:
    return await session.get(NoticeMute, (member_id, creator_id)) is not None


async def notices_of(
    session: AsyncSession, creator_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[Notice], str | None]:
    if await creators.tier_of(session, creator_id) == "none":
        raise NotFound("There is no such creator.")
    query = select(Notice).where(Notice.creator_id == creator_id)
    after = id_after(cursor)
    if after is not None:
        query = query.where(Notice.id < after)
    rows = list((await session.scalars(query.order_by(Notice.id.desc()).limit(limit + 1))).all())
    next_cursor = id_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor
