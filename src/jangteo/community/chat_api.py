"""HTTP and WebSocket API of topic chat rooms.

The socket (`/api/v1/rooms/{room_id}/ws?access_token=…`) speaks JSON text frames:

- server → client: `{"type": "hello", "room": {…}, "recent": [the last 20 messages]}` once,
  then `{"type": "message", "message": {id, member_id, nickname, body, status, created_at}}`,
  `{"type": "deleted", "message_id": …}` and `{"type": "error", "problem": {type, code, title,
  status, …}}`;
- client → server: `{"type": "message", "body": "…"}`.

An error leaves the socket open, except a ban (from the room or the space), after which it
closes with 4403. A socket closes with 4401 without valid credentials, 4403 when the member may
not read the room and 4404 when there is no such room.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request, Response, WebSocket, WebSocketDisconnect, status
from pydantic import BaseModel, Field, StringConstraints

from jangteo.community import chat, service
from jangteo.community.api import _viewer
from jangteo.community.schemas import Name, Reason, Slug
from jangteo.community.schemas import Request as Body
from jangteo.core.deps import CurrentMember, OptionalMember, PlatformDep, client_ip
from jangteo.core.errors import DomainError, InvalidInput, NotFound, Unauthenticated, problem
from jangteo.core.i18n import negotiate_locale, translate
from jangteo.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from jangteo.core.platform import Platform
from jangteo.core.security import REVOKED_SESSION_KEY, Principal

router = APIRouter(prefix="/api/v1", tags=["chat"])
log = logging.getLogger("jangteo.community.chat")

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=500)]
Topic = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]

# close codes of the socket: 4000 + the HTTP status they stand for
CLOSE_UNAUTHENTICATED, CLOSE_FORBIDDEN, CLOSE_NOT_FOUND = 4401, 4403, 4404
# a frame longer than this cannot hold a message of 1000 characters and is refused unread
MAX_FRAME_CHARS = 8000
# problems after which the socket closes: the member may no longer be in the room
CLOSING_PROBLEMS = {"banned-from-room", "banned-from-space"}


class RoomCreate(Body):
    slug: Slug
    name: Name
    topic: Topic = ""


class RoomUpdate(Body):
    name: Name | None = None
    topic: Topic | None = None
    slow_mode_seconds: Annotated[int, Field(ge=0, le=chat.MAX_SLOW_MODE_SECONDS)] | None = None


class RoomOut(BaseModel):
    id: uuid.UUID
    space_id: uuid.UUID
    slug: str
    name: str
    topic: str
    slow_mode_seconds: int
    created_at: datetime


class RoomPage(BaseModel):
    items: list[RoomOut]
    next_cursor: str | None


class MessageCreate(Body):
    # the length is the abuse filter's to judge (422 message-refused), not a schema error
    body: str


class MessageOut(BaseModel):
    id: uuid.UUID
    member_id: uuid.UUID
    nickname: str
    body: str
    status: Literal["visible", "deleted"]
    created_at: datetime


class MessagePage(BaseModel):
    """The newest page first; within a page, oldest → newest. `next_cursor` (passed as
    `before`) leads to the older page."""

    items: list[MessageOut]
    next_cursor: str | None


class SanctionCreate(Body):
    member_id: uuid.UUID
    kind: Literal["mute", "ban"]
    minutes: Annotated[int, Field(ge=1, le=60 * 24 * 365)] | None = Field(
        None, description="mute: an hour when absent; ban: until lifted when absent"
    )
    reason: Reason | None = None


class SanctionOut(BaseModel):
    member_id: uuid.UUID
    kind: str
    until: datetime | None
    reason: str | None
    created_by: uuid.UUID
    created_at: datetime


class SanctionPage(BaseModel):
    items: list[SanctionOut]
    next_cursor: str | None


def _room_out(room: Any) -> RoomOut:
    return RoomOut.model_validate(room, from_attributes=True)


def _sanction_out(row: Any) -> SanctionOut:
    return SanctionOut.model_validate(row, from_attributes=True)


def _rules(platform: Platform) -> chat.ChatRules:
    return chat.ChatRules.of(platform.settings)


# ---- rooms ------------------------------------------------------------------------------------


@router.post("/spaces/{ref}/rooms", response_model=RoomOut, status_code=status.HTTP_201_CREATED)
async def create_room(
    platform: PlatformDep, member: CurrentMember, ref: str, body: RoomCreate
) -> RoomOut:
    async with platform.db.write() as session:
        room = await chat.create_room(
            session, platform.clock, ref, _viewer(member), **body.model_dump()
        )
        return _room_out(room)


@router.get("/spaces/{ref}/rooms", response_model=RoomPage)
async def list_rooms(
    platform: PlatformDep,
    principal: OptionalMember,
    ref: str,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> RoomPage:
    async with platform.db.read() as session:
        rooms, next_cursor = await chat.list_rooms(
            session, ref, _viewer(principal), limit=limit, cursor=cursor
        )
    return RoomPage(items=[_room_out(r) for r in rooms], next_cursor=next_cursor)


@router.get("/rooms/{room_id}", response_model=RoomOut)
async def get_room(platform: PlatformDep, principal: OptionalMember, room_id: uuid.UUID) -> RoomOut:
    async with platform.db.read() as session:
        return _room_out(
            await chat.enter_room(session, platform.clock, room_id, _viewer(principal))
        )


@router.patch("/rooms/{room_id}", response_model=RoomOut)
async def update_room(
    platform: PlatformDep,
    member: CurrentMember,
    room_id: uuid.UUID,
    body: RoomUpdate,
    request: Request,
) -> RoomOut:
    async with platform.db.write() as session:
        room = await chat.update_room(
            session,
            platform.clock,
            room_id,
            _viewer(member),
            body.model_dump(exclude_unset=True),
            ip=client_ip(request),
        )
        return _room_out(room)


# ---- messages ---------------------------------------------------------------------------------


@router.get("/rooms/{room_id}/messages", response_model=MessagePage)
async def room_history(
    platform: PlatformDep,
    principal: OptionalMember,
    room_id: uuid.UUID,
    before: Cursor = None,
    limit: Annotated[int | None, Query(ge=1, le=MAX_LIMIT)] = None,
) -> MessagePage:
    """The newest messages first, page by page (each page oldest → newest); pass `next_cursor`
    as `before` for the older page."""
    async with platform.db.read() as session:
        views, next_cursor = await chat.history(
            session,
            platform.clock,
            room_id,
            _viewer(principal),
            limit=limit or _rules(platform).history_page,
            before=before,
        )
    return MessagePage(
        items=[MessageOut.model_validate(v.data()) for v in views], next_cursor=next_cursor
    )


@router.post(
    "/rooms/{room_id}/messages", response_model=MessageOut, status_code=status.HTTP_201_CREATED
)
async def send_message(
    platform: PlatformDep, member: CurrentMember, room_id: uuid.UUID, body: MessageCreate
) -> MessageOut:
    view = await chat.send_message(
        platform, room_id, _viewer(member), body.body, rules=_rules(platform)
    )
    return MessageOut.model_validate(view.data())


@router.delete("/rooms/{room_id}/messages/{message_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_message(
    platform: PlatformDep,
    member: CurrentMember,
    room_id: uuid.UUID,
    message_id: uuid.UUID,
    request: Request,
) -> Response:
    await chat.delete_message(platform, room_id, message_id, _viewer(member), ip=client_ip(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---- sanctions --------------------------------------------------------------------------------


@router.post(
    "/rooms/{room_id}/sanctions", response_model=SanctionOut, status_code=status.HTTP_201_CREATED
)
async def sanction_member(
    platform: PlatformDep,
    member: CurrentMember,
    room_id: uuid.UUID,
    body: SanctionCreate,
    request: Request,
) -> SanctionOut:
    row = await chat.sanction(
        platform,
        room_id,
        _viewer(member),
        body.member_id,
        kind=body.kind,
        minutes=body.minutes,
        reason=body.reason,
        ip=client_ip(request),
    )
    return _sanction_out(row)


@router.get("/rooms/{room_id}/sanctions", response_model=SanctionPage)
async def list_sanctions(
    platform: PlatformDep,
    member: CurrentMember,
    room_id: uuid.UUID,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> SanctionPage:
    async with platform.db.read() as session:
        rows, next_cursor = await chat.list_sanctions(
            session, platform.clock, room_id, _viewer(member), limit=limit, cursor=cursor
        )
    return SanctionPage(items=[_sanction_out(r) for r in rows], next_cursor=next_cursor)


@router.delete("/rooms/{room_id}/sanctions/{member_id}", status_code=status.HTTP_204_NO_CONTENT)
async def lift_sanction(
    platform: PlatformDep,
    member: CurrentMember,
    room_id: uuid.UUID,
    member_id: uuid.UUID,
    request: Request,
    kind: Literal["mute", "ban"] | None = None,
) -> Response:
    """Lift the member's mute or ban in the room (both without `kind`)."""
    await chat.lift_sanction(
        platform, room_id, _viewer(member), member_id, kind=kind, ip=client_ip(request)
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---- the socket -------------------------------------------------------------------------------


class _Socket:
    """One member's socket in one room: sends are serialised, since the relay of the room's
    events and the answers to the member's own frames write to it from two tasks."""

    def __init__(self, websocket: WebSocket, locale: str) -> None:
        self.websocket = websocket
        self.locale = locale
        self._lock = asyncio.Lock()

    async def send(self, event: dict[str, Any]) -> None:
        async with self._lock:
            await self.websocket.send_text(orjson.dumps(event).decode())

    async def error(self, exc: DomainError) -> None:
        body = problem(exc.slug, exc.status, translate(exc.title, self.locale))
        if exc.detail:
            body["detail"] = translate(exc.detail, self.locale)
        body.update(exc.extra)
        await self.send({"type": "error", "problem": body})

    async def close(self, code: int) -> None:
        async with self._lock:
            with contextlib.suppress(RuntimeError):
                await self.websocket.close(code=code)


async def _principal(websocket: WebSocket, platform: Platform, token: str | None) -> Principal:
    """The member of a socket: `access_token` in the query (a browser's WebSocket cannot send
    headers), or a bearer header from other clients."""
    scheme, _, value = websocket.headers.get("authorization", "").partition(" ")
    token = value.strip() if scheme.lower() == "bearer" and value else token
    if not token:
        raise Unauthenticated()
    principal = platform.signer.read_access(token, platform.clock.now())
    if await platform.cache.get(REVOKED_SESSION_KEY + str(principal.session_id)) is not None:
        raise Unauthenticated("The session has been revoked.")
    return principal


async def _relay(
    socket: _Socket, subscription: Any, member_id: uuid.UUID, blocked: set[str], seen: set[str]
) -> None:
    """The room's events to this socket, until the member is banned."""
    async for raw in subscription:
        try:
            event = orjson.loads(raw)
            kind = event.get("type")
        except (orjson.JSONDecodeError, AttributeError):
            continue
        if kind == "message":
            message = event.get("message") or {}
            if message.get("member_id") in blocked or message.get("id") in seen:
                continue
            await socket.send(event)
        elif kind == "deleted":
            await socket.send(event)
        elif kind == "banned" and event.get("member_id") == str(member_id):
            await socket.error(chat.BannedFromRoom())
            await socket.close(CLOSE_FORBIDDEN)
            return


async def _listen(
    socket: _Socket, platform: Platform, room_id: uuid.UUID, viewer: service.Viewer
) -> None:
    """The member's frames: each message goes through the same path as a REST post; its
    broadcast comes back through the relay."""
    rules = _rules(platform)
    while True:
        frame = await socket.websocket.receive()
        if frame["type"] == "websocket.disconnect":
            return
        text = frame.get("text")
        if text is None:
            text = (frame.get("bytes") or b"").decode("utf-8", "replace")
        try:
            if len(text) > MAX_FRAME_CHARS:
                raise chat.MessageRefused(
                    "A message has at most 1000 characters.", reason="too-long"
                )
            try:
                data = orjson.loads(text)
            except orjson.JSONDecodeError:
                raise InvalidInput("A frame is a JSON object.") from None
            if not isinstance(data, dict) or data.get("type") != "message":
                data = {}
            body = data.get("body")
            if not isinstance(body, str):
                raise InvalidInput('Send {"type": "message", "body": "…"}.')
            await chat.send_message(platform, room_id, viewer, body, rules=rules)
        except DomainError as exc:
            await socket.error(exc)
            if exc.slug in CLOSING_PROBLEMS:
                await socket.close(CLOSE_FORBIDDEN)
                return


@router.websocket("/rooms/{room_id}/ws")
async def room_socket(
    websocket: WebSocket,
    room_id: str,
    access_token: Annotated[str | None, Query(max_length=4000)] = None,
) -> None:
    platform: Platform = websocket.app.state.platform
    locale = negotiate_locale(
        websocket.headers.get("accept-language"), explicit=websocket.query_params.get("lang")
    )
    # accepted first, so that the client reads why it is turned away in the close code
    await websocket.accept()
    socket = _Socket(websocket, locale)
    try:
        viewer = _viewer(await _principal(websocket, platform, access_token))
    except DomainError:
        await socket.close(CLOSE_UNAUTHENTICATED)
        return
    try:
        room_uuid = uuid.UUID(room_id)
    except ValueError:
        await socket.close(CLOSE_NOT_FOUND)
        return
    assert viewer.member_id is not None
    # subscribed before reading the recent messages, so none falls between the two
    async with platform.pubsub.subscribe(chat.channel(room_uuid)) as subscription:
        try:
            async with platform.db.read() as session:
                room = await chat.enter_room(session, platform.clock, room_uuid, viewer)
                recent, _ = await chat.history(
                    session, platform.clock, room_uuid, viewer, limit=chat.RECENT_MESSAGES
                )
                blocked = {str(m) for m in await service.blocked_ids(session, viewer.member_id)}
        except NotFound:
            await socket.close(CLOSE_NOT_FOUND)
            return
        except DomainError:
            await socket.close(CLOSE_FORBIDDEN)
            return
        hello = {
            "type": "hello",
            "room": _room_out(room).model_dump(mode="json"),
            "recent": [MessageOut.model_validate(v.data()).model_dump(mode="json") for v in recent],
        }
        seen = {item["id"] for item in hello["recent"]}
        tasks = [
            asyncio.create_task(_relay(socket, subscription, viewer.member_id, blocked, seen)),
            asyncio.create_task(_listen(socket, platform, room_uuid, viewer)),
        ]
        try:
            await socket.send(hello)
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        except WebSocketDisconnect:
            pass
        finally:
            for task in tasks:
                task.cancel()
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
            for outcome in outcomes:
                # the client going away ends a task with that error; anything else is a bug
                if isinstance(outcome, Exception) and not isinstance(
                    outcome, WebSocketDisconnect | RuntimeError | OSError
                ):
                    log.error("chat socket task failed", exc_info=outcome)
