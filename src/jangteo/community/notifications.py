"""In-app notifications: written in the transaction of what caused them, listed with an unread
count, marked read, and pushed live to the member's open pages.

The push is a nudge, not the data: after commit the outbox delivers `community.notified`, whose
subscriber publishes the member's id on their pub/sub channel; each open stream then reads the
new rows from the database. A missed nudge only delays a notification until the next one.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.accounts import service as accounts
from jangteo.community.models import Block, Notification, Post, Reaction
from jangteo.core.clock import Clock
from jangteo.core.events import emit
from jangteo.core.ids import uuid7, uuid7_for
from jangteo.core.pagination import id_after, id_cursor

NOTIFIED = "community.notified"
KINDS = (
    "reply",
    "comment",
    "mention",
    "follow",
    "answer_accepted",
    "reaction_digest",
    "order",
    "trust_level",
    "creator_tier",
    "creator_notice",
)

_MENTION = re.compile(r"@([0-9A-Za-z_\uac00-\ud7a3]{2,20})")


def channel(member_id: uuid.UUID | str) -> str:
    return f"notifications:{member_id}"


def mentions_in(text: str) -> list[str]:
    """The nicknames a text mentions (`@니트장인`), in order, without repeats, at most 10."""
    return list(dict.fromkeys(_MENTION.findall(text)))[:10]


async def notify(
    session: AsyncSession,
    clock: Clock,
    *,
    member_id: uuid.UUID,
    kind: str,
    actor_id: uuid.UUID | None = None,
    post_id: uuid.UUID | None = None,
    comment_id: uuid.UUID | None = None,
    data: dict[str, Any] | None = None,
    notification_id: uuid.UUID | None = None,
) -> bool:
    """Notify a member in the caller's transaction; never of their own doing, never of
    someone they blocked. With `notification_id` (an event's id, for subscribers that may see
    the same event again) the notification is written once. Whether one was written."""
    if notification_id is not None and await session.get(Notification, notification_id):
        return False
    if actor_id is not None:
        if actor_id == member_id:
            return False
        blocked = await session.scalar(
            select(Block.id).where(Block.blocker_id == member_id, Block.blocked_id == actor_id)
        )
        if blocked is not None:
            return False
    session.add(
        Notification(
            id=notification_id or uuid7(),
            member_id=member_id,
            kind=kind,
            actor_id=actor_id,
            post_id=post_id,
            comment_id=comment_id,
            data=data or {},
            created_at=clock.now(),
        )
    )
    emit(session, clock, NOTIFIED, {"member_id": str(member_id)})
    return True


async def notify_mentions(
    session: AsyncSession,
    clock: Clock,
    text: str,
    *,
    actor_id: uuid.UUID,
    post_id: uuid.UUID,
    comment_id: uuid.UUID | None = None,
    skip: Iterable[uuid.UUID] = (),
) -> None:
    """Notify each member a text mentions by nickname (except those in `skip`, who are
    notified otherwise, e.g. as the author replied to)."""
    names = mentions_in(text)
    if not names:
        return
    skipped = set(skip)
    for member_id in (await accounts.members_by_nickname(session, names)).values():
        if member_id not in skipped:
            await notify(
                session,
                clock,
                member_id=member_id,
                kind="mention",
                actor_id=actor_id,
                post_id=post_id,
                comment_id=comment_id,
            )


@dataclass(frozen=True)
class NotificationView:
    id: uuid.UUID
    kind: str
    actor_id: uuid.UUID | None
    actor_name: str | None
    post_id: uuid.UUID | None
    comment_id: uuid.UUID | None
    data: dict[str, Any]
    read: bool
    created_at: datetime


def _shown_actor(row: Notification) -> uuid.UUID | None:
    # a comment in an anonymous thread does not say who wrote it
    return None if row.data.get("anonymous") else row.actor_id


async def _views(session: AsyncSession, rows: list[Notification]) -> list[NotificationView]:
    actors = {r.id: _shown_actor(r) for r in rows}
    names = await accounts.member_briefs(session, [a for a in actors.values() if a])
    return [
        NotificationView(
            id=r.id,
            kind=r.kind,
            actor_id=actors[r.id],
            actor_name=names[actors[r.id]].nickname if actors[r.id] in names else None,
            post_id=r.post_id,
            comment_id=r.comment_id,
            data=r.data,
            read=r.read_at is not None,
            created_at=r.created_at,
        )
        for r in rows
    ]


async def list_notifications(
    session: AsyncSession,
    member_id: uuid.UUID,
    *,
    unread_only: bool = False,
    limit: int,
    cursor: str | None = None,
    newer_than: uuid.UUID | None = None,
) -> tuple[list[NotificationView], str | None]:
    """A member's notifications, newest first (or, with `newer_than`, those after an id)."""
    query = select(Notification).where(Notification.member_id == member_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if newer_than is not None:
        query = query.where(Notification.id > newer_than)
    after = id_after(cursor)
    if after is not None:
        query = query.where(Notification.id < after)
    rows = list(
        (await session.scalars(query.order_by(Notification.id.desc()).limit(limit + 1))).all()
    )
    next_cursor = id_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return await _views(session, rows[:limit]), next_cursor


async def unread_count(session: AsyncSession, member_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.member_id == member_id, Notification.read_at.is_(None))
    )
    return count or 0


async def mark_read(
    session: AsyncSession,
    clock: Clock,
    member_id: uuid.UUID,
    *,
    ids: Iterable[uuid.UUID] | None = None,
) -> int:
    """Mark some (or, without ids, all) of a member's notifications read; how many changed.
    Ids of other members' notifications change nothing."""
    query = (
        update(Notification)
        .where(Notification.member_id == member_id, Notification.read_at.is_(None))
        .values(read_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if ids is not None:
        query = query.where(Notification.id.in_(list(ids)))
    result = await session.execute(query)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


DIGEST_JOB = "community.reaction_digest"
DIGEST_EVERY_SECONDS = 3600


async def reaction_digest(session: AsyncSession, clock: Clock) -> int:
    """One notification per author for the reactions their posts got in the last full hour
    (their own reactions left out), instead of one per reaction; how many were written.

    The hour and the author decide the notification's id, so running twice writes it once.
    """
    until = clock.now().replace(minute=0, second=0, microsecond=0)
    since = until - timedelta(hours=1)
    rows = await session.execute(
        select(
            Post.author_id,
            func.count(Reaction.id),
            func.count(func.distinct(Post.id)),
        )
        .join(Post, Post.id == Reaction.target_id)
        .where(
            Reaction.target_type == "post",
            Reaction.created_at >= since,
            Reaction.created_at < until,
            Reaction.member_id != Post.author_id,
            Post.status == "published",
        )
        .group_by(Post.author_id)
    )
    written = 0
    for author_id, reactions, posts in rows.all():
        written += await notify(
            session,
            clock,
            member_id=author_id,
            kind="reaction_digest",
            data={"reactions": reactions, "posts": posts, "since": since.isoformat()},
            notification_id=uuid7_for(until, f"reaction-digest:{author_id}"),
        )
    return written
