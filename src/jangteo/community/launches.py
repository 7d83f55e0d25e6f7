"""Launch posts (Product Hunt style): a short post about something new that members upvote, and
the ranking of each Seoul day by upvotes.

An upvote is the `like` reaction (the one that ranks everywhere), so one member counts once and
can take it back; the day's ranking is a keyset over (upvotes, id).
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.community import service
from jangteo.community.models import Board, Post, Space
from jangteo.core.clock import SEOUL, Clock, to_seoul
from jangteo.core.errors import InvalidInput
from jangteo.core.pagination import InvalidCursor, decode_cursor, encode_cursor
from jangteo.core.reporting import local_midnight

BOARD = "launches"


async def create_launch(
    session: AsyncSession,
    clock: Clock,
    viewer: service.Viewer,
    *,
    title: str,
    body: str,
    rules: service.ActivityRules,
) -> Post:
    """A launch post on the shop's launch board."""
    await service.shop_board(session, clock, BOARD)
    return await service.create_post(
        session,
        clock,
        service.SHOP_SPACE,
        BOARD,
        viewer,
        title=title,
        body=body,
        rules=rules,
        kind="launch",
    )


async def ranking(
    session: AsyncSession,
    clock: Clock,
    viewer: service.Viewer,
    *,
    day: date | None,
    limit: int,
    cursor: str | None,
) -> service.FeedPage:
    """The launches of one Seoul day (today by default), most upvoted first."""
    today = to_seoul(clock.now()).date()
    day = day or today
    if day > today or day < today - timedelta(days=366):
        raise InvalidInput("Rankings exist for the past year up to today.")
    start = local_midnight(day, SEOUL)
    end = local_midnight(day + timedelta(days=1), SEOUL)
    query = (
        select(Post, Space, Board)
        .join(Space, Space.id == Post.space_id)
        .join(Board, Board.id == Post.board_id)
        .where(
            Post.kind == "launch",
            Post.status == "published",
            Post.created_at >= start,
            Post.created_at < end,
        )
    )
    if viewer.member_id is not None:
        query = query.where(service.not_blocked(Post.author_id, viewer.member_id))
    after = _after(cursor, day)
    if after is not None:
        likes, post_id = after
        query = query.where(
            or_(Post.like_count < likes, and_(Post.like_count == likes, Post.id > post_id))
        )
    rows = list(
        (
            await session.execute(query.order_by(Post.like_count.desc(), Post.id).limit(limit + 1))
        ).all()
    )
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1][0]
        next_cursor = encode_cursor(
            {"d": day.isoformat(), "l": last.like_count, "id": str(last.id)}
        )
    views = await service.post_views(session, viewer, [(r[0], r[1], r[2]) for r in rows[:limit]])
    return service.FeedPage(items=views, next_cursor=next_cursor)


def _after(cursor: str | None, day: date) -> tuple[int, uuid.UUID] | None:
    values: dict[str, Any] | None = decode_cursor(cursor)
    if values is None:
        return None
    try:
        if values["d"] != day.isoformat() or not isinstance(values["l"], int):
            raise ValueError(values)
        return values["l"], uuid.UUID(str(values["id"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidCursor() from exc
