"""HTTP API of notifications: the list, the unread count, marking read, and a live stream
(server-sent events)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from jangteo.community import notifications
from jangteo.core.deps import CurrentMember, PlatformDep
from jangteo.core.errors import Unauthenticated
from jangteo.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from jangteo.core.security import REVOKED_SESSION_KEY

router = APIRouter(prefix="/api/v1", tags=["notifications"])

# a comment line now and then keeps proxies from closing an idle stream
HEARTBEAT_SECONDS = 15.0


class NotificationOut(BaseModel):
    id: uuid.UUID
    kind: str
    actor_id: uuid.UUID | None
    actor_name: str | None
    post_id: uuid.UUID | None
    comment_id: uuid.UUID | None
    data: dict[str, Any]
    read: bool
    created_at: datetime


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None
    unread_count: int


class UnreadCount(BaseModel):
    unread_count: int


class MarkRead(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: Annotated[list[uuid.UUID], Field(max_length=500)] | None = Field(
        None, description="the notifications to mark read; all when absent"
    )


class MarkedRead(BaseModel):
    marked: int
    unread_count: int


def _out(view: notifications.NotificationView) -> NotificationOut:
    return NotificationOut(**view.__dict__)


@router.get("/me/notifications", response_model=NotificationPage)
async def list_notifications(
    platform: PlatformDep,
    member: CurrentMember,
    unread: bool = False,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> NotificationPage:
    async with platform.db.read() as session:
        views, next_cursor = await notifications.list_notifications(
            session, member.member_id, unread_only=unread, limit=limit, cursor=cursor
        )
        count = await notifications.unread_count(session, member.member_id)
    return NotificationPage(
        items=[_out(v) for v in views], next_cursor=next_cursor, unread_count=count
    )


@router.get("/me/notifications/unread-count", response_model=UnreadCount)
async def unread_count(platform: PlatformDep, member: CurrentMember) -> UnreadCount:
    async with platform.db.read() as session:
        return UnreadCount(unread_count=await notifications.unread_count(session, member.member_id))


@router.post("/me/notifications/read", response_model=MarkedRead)
async def mark_read(platform: PlatformDep, member: CurrentMember, body: MarkRead) -> MarkedRead:
    async with platform.db.write() as session:
        marked = await notifications.mark_read(
            session, platform.clock, member.member_id, ids=body.ids
        )
        count = await notifications.unread_count(session, member.member_id)
    return MarkedRead(marked=marked, unread_count=count)


def _sse(event: str, data: Any) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


async def _member_of_stream(request: Request, platform: Any, token: str | None) -> uuid.UUID:
    """The member of a stream: a bearer header, or `access_token` in the query, since a
    browser's EventSource cannot send headers."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    token = value.strip() if scheme.lower() == "bearer" and value else token
    if not token:
        raise Unauthenticated()
    principal = platform.signer.read_access(token, platform.clock.now())
    if await platform.cache.get(REVOKED_SESSION_KEY + str(principal.session_id)) is not None:
        raise Unauthenticated("The session has been revoked.")
    return principal.member_id


async def notification_events(
    platform: Any, member_id: uuid.UUID, *, heartbeat: float = HEARTBEAT_SECONDS
) -> AsyncIterator[bytes]:
    """`unread` first, then each new notification as it arrives (and the new unread count)."""
    async with platform.pubsub.subscribe(notifications.channel(member_id)) as subscription:
        async with platform.db.read() as session:
            latest, _ = await notifications.list_notifications(session, member_id, limit=1)
            count = await notifications.unread_count(session, member_id)
        last_seen = latest[0].id if latest else None
        yield _sse("unread", {"unread_count": count})
        while True:
            nudge = await subscription.next(within=heartbeat)
            if nudge is None:
                yield b": keep-alive\n\n"
                continue
            async with platform.db.read() as session:
                views, _ = await notifications.list_notifications(
                    session, member_id, limit=MAX_LIMIT, newer_than=last_seen
                )
                count = await notifications.unread_count(session, member_id)
            for view in reversed(views):
                yield _sse("notification", _out(view).model_dump(mode="json"))
                last_seen = view.id
            yield _sse("unread", {"unread_count": count})


@router.get("/me/notifications/stream", response_class=StreamingResponse)
async def notification_stream(
    platform: PlatformDep,
    request: Request,
    access_token: Annotated[str | None, Query(max_length=4000)] = None,
) -> StreamingResponse:
    """Server-sent events: `unread` (the count) and `notification` (a new one), live."""
    member_id = await _member_of_stream(request, platform, access_token)
    return StreamingResponse(
        notification_events(platform, member_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
