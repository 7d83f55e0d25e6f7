"""Topic chat rooms inside a space: who may enter and speak follows the space's rules, with
room-level mutes and bans, slow mode, a per-member rate limit and an abuse filter on every
message.

A message is stored first and published on the room's pub/sub channel (`chat:{room_id}`) after
its transaction commits, so every process's open sockets relay it. The channel carries three
events: `message` (a new message), `deleted` (a moderator removed one) and `banned` (the socket
of that member closes). Publishing is fire-and-forget: a client that misses an event reads the
history again.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import orjson
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.accounts import service as accounts
from jangteo.community import service
from jangteo.community.models import ChatMessage, ChatRoom, ChatSanction, Space
from jangteo.core.audit import record_audit
from jangteo.core.clock import Clock
from jangteo.core.errors import Conflict, Forbidden, InvalidInput, NotFound, define
from jangteo.core.pagination import id_after, id_cursor
from jangteo.core.platform import Platform
from jangteo.core.ratelimit import Limit

log = logging.getLogger("jangteo.community.chat")

RoomSlugTaken = define(
    "room-slug-taken", 409, "This space already has a chat room at this address."
)
MessageRefused = define("message-refused", 422, "This message cannot be sent.")
SlowModeOn = define(
    "chat-slow-mode", 429, "Slow mode is on in this room: wait a moment before sending again."
)
MutedInRoom = define("muted-in-room", 403, "You are muted in this chat room for now.")
BannedFromRoom = define("banned-from-room", 403, "You are banned from this chat room.")

MAX_BODY = 1000
MAX_LINKS = 3
RECENT_MESSAGES = 20
MAX_SLOW_MODE_SECONDS = 3600
SANCTIONS = ("mute", "ban")
DEFAULT_MUTE_MINUTES = 60

# IP loggers: a link to them reveals the address of everyone who opens it
BLOCKED_LINK_HOSTS = frozenset(
    {"grabify.link", "iplogger.org", "iplogger.com", "iplogger.ru", "2no.co", "blasze.com"}
)
_LINK = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"'()]+")
# hosts written as numbers (3232235521, 0xC0A80001, 192.168.0.1) hide where a link goes
_NUMERIC_HOST = re.compile(r"(?i)^(?:0x[0-9a-f]+|[0-9.]+)$")


def channel(room_id: uuid.UUID | str) -> str:
    return f"chat:{room_id}"


@dataclass(frozen=True)
class ChatRules:
    """The rate limit and the history page size, from the settings."""

    rate_per_10s: int = 10
    history_page: int = 50

    @classmethod
    def of(cls, settings: Any) -> ChatRules:
        return cls(rate_per_10s=settings.chat_rate_per_10s, history_page=settings.chat_history_page)

    @property
    def send_limit(self) -> Limit:
        return Limit("chat-send", self.rate_per_10s, 10)


@dataclass(frozen=True)
class MessageView:
    message: ChatMessage
    nickname: str

    def data(self) -> dict[str, Any]:
        """The message as clients see it, over HTTP and on the socket alike."""
        m = self.message
        deleted = m.status == "deleted"
        return {
            "id": str(m.id),
            "member_id": str(m.member_id),
            "nickname": self.nickname,
            "body": "" if deleted else m.body,
            "status": m.status,
            "created_at": _instant(m.created_at),
        }


def _instant(moment: datetime) -> str:
    # the same text pydantic writes for an aware UTC datetime
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# ---- the abuse filter -------------------------------------------------------------------------


def _refuse(reason: str, detail: str) -> MessageRefused:
    return MessageRefused(detail, reason=reason)


def _suspicious_host(host: str) -> bool:
    host = host.rstrip(".")
    if any(host == blocked or host.endswith("." + blocked) for blocked in BLOCKED_LINK_HOSTS):
        return True
    # punycode and raw non-ASCII hosts: look-alike letters (ѕhop.kr for shop.kr)
    if not host.isascii() or any(label.startswith("xn--") for label in host.split(".")):
        return True
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return _NUMERIC_HOST.match(host) is not None


def check_message(body: str) -> None:
    """Refuse obviously bad messages (422 `message-refused` with a `reason`): empty, too long,
    more than MAX_LINKS links, or a link to a blocked host, a punycode or non-ASCII host or an
    IP address. The one hook through which every chat message passes; the trust domain's
    filters will take its place."""
    text = body.strip()
    if not any(not ch.isspace() and unicodedata.category(ch) not in ("Cf", "Cc") for ch in text):
        raise _refuse("empty", "The message is empty.")
    if len(text) > MAX_BODY:
        raise _refuse("too-long", "A message has at most 1000 characters.")
    links = _LINK.findall(text)
    if len(links) > MAX_LINKS:
        raise _refuse("too-many-links", "A message has at most 3 links.")
    for link in links:
        try:
            host: str | None = urlsplit(link if "://" in link else "http://" + link).hostname
        except ValueError:  # a malformed address, e.g. an unclosed [IPv6 literal
            host = None
        if host is None or _suspicious_host(host.lower()):
            raise _refuse("suspicious-link", "This message links to a suspicious address.")


# ---- rooms ------------------------------------------------------------------------------------


async def _room(session: AsyncSession, room_id: uuid.UUID) -> tuple[ChatRoom, Space]:
    room = await session.scalar(
        select(ChatRoom).where(ChatRoom.id == room_id, ChatRoom.status == "active")
    )
    if room is None:
        raise NotFound("The chat room does not exist.")
    try:
        space = await service.find_space(session, room.space_id)
    except NotFound:
        raise NotFound("The chat room does not exist.") from None
    return room, space


async def _check_moderator(session: AsyncSession, space: Space, viewer: service.Viewer) -> None:
    if not await service.is_moderator(session, space, viewer):
        raise Forbidden("Only moderators of the space can manage its chat rooms.")


async def _active_sanctions(
    session: AsyncSession, clock: Clock, room_id: uuid.UUID, member_id: uuid.UUID
) -> dict[str, ChatSanction]:
    rows = await session.scalars(
        select(ChatSanction).where(
            ChatSanction.room_id == room_id,
            ChatSanction.member_id == member_id,
            or_(ChatSanction.until.is_(None), ChatSanction.until > clock.now()),
        )
    )
    return {row.kind: row for row in rows}


async def create_room(
    session: AsyncSession,
    clock: Clock,
    space_ref: str,
    viewer: service.Viewer,
    *,
    slug: str,
    name: str,
    topic: str = "",
) -> ChatRoom:
    space = await service.find_space(session, space_ref)
    await _check_moderator(session, space, viewer)
    room = ChatRoom(space_id=space.id, slug=slug, name=name, topic=topic, created_at=clock.now())
    session.add(room)
    await service.flush_unique(session, RoomSlugTaken)
    return room


async def list_rooms(
    session: AsyncSession, space_ref: str, viewer: service.Viewer, *, limit: int, cursor: str | None
) -> tuple[list[ChatRoom], str | None]:
    """The active rooms of a space the viewer may read, oldest first."""
    space = await service.find_space(session, space_ref)
    await service.check_read(session, space, viewer)
    query = select(ChatRoom).where(ChatRoom.space_id == space.id, ChatRoom.status == "active")
    after = id_after(cursor)
    if after is not None:
        query = query.where(ChatRoom.id > after)
    rooms = list((await session.scalars(query.order_by(ChatRoom.id).limit(limit + 1))).all())
    next_cursor = id_cursor(rooms[limit - 1].id) if len(rooms) > limit else None
    return rooms[:limit], next_cursor


async def enter_room(
    session: AsyncSession, clock: Clock, room_id: uuid.UUID, viewer: service.Viewer
) -> ChatRoom:
    """The room, after checking the viewer may read it: the space's read rule, and no ban from
    this room."""
    room, space = await _room(session, room_id)
    await service.check_read(session, space, viewer)
    if (
        viewer.member_id is not None
        and not viewer.staff
        and "ban" in await _active_sanctions(session, clock, room.id, viewer.member_id)
    ):
        raise BannedFromRoom()
    return room


async def update_room(
    session: AsyncSession,
    clock: Clock,
    room_id: uuid.UUID,
    viewer: service.Viewer,
    changes: dict[str, Any],
    *,
    ip: str | None = None,
) -> ChatRoom:
    """Name, topic and slow mode (0–3600 seconds), by the space's moderators. Audited."""
    room, space = await _room(session, room_id)
    await _check_moderator(session, space, viewer)
    slow = changes.get("slow_mode_seconds")
    if slow is not None and not 0 <= slow <= MAX_SLOW_MODE_SECONDS:
        raise InvalidInput("Slow mode is between 0 and 3600 seconds.")
    fields = ("name", "topic", "slow_mode_seconds")
    before = {f: getattr(room, f) for f in fields}
    for f in fields:
        if changes.get(f) is not None:
            setattr(room, f, changes[f])
    record_audit(
        session,
        clock,
        actor_id=viewer.member_id,
        action="community.chat.room.update",
        target_type="chat_room",
        target_id=room.id,
        before=before,
        after={f: getattr(room, f) for f in fields},
        ip=ip,
    )
    return room


# ---- messages ---------------------------------------------------------------------------------


async def _views(session: AsyncSession, messages: list[ChatMessage]) -> list[MessageView]:
    names = await accounts.member_briefs(session, [m.member_id for m in messages])
    return [
        MessageView(m, names[m.member_id].nickname if m.member_id in names else "")
        for m in messages
    ]


async def history(
    session: AsyncSession,
    clock: Clock,
    room_id: uuid.UUID,
    viewer: service.Viewer,
    *,
    limit: int,
    before: str | None = None,
) -> tuple[list[MessageView], str | None]:
    """One page of a room's messages, the newest page first and each page oldest → newest (as a
    chat shows them); `next_cursor` leads to the older page before it. Deleted messages stay in
    place with an empty body; members the viewer blocked are left out."""
    room = await enter_room(session, clock, room_id, viewer)
    query = select(ChatMessage).where(ChatMessage.room_id == room.id)
    blocked = await service.blocked_ids(session, viewer.member_id)
    if blocked:
        query = query.where(ChatMessage.member_id.not_in(blocked))
    older_than = id_after(before)
    if older_than is not None:
        query = query.where(ChatMessage.id < older_than)
    rows = list(await session.scalars(query.order_by(ChatMessage.id.desc()).limit(limit + 1)))
    next_cursor = id_cursor(rows[limit - 1].id) if len(rows) > limit else None
    page = rows[:limit]
    page.reverse()
    return await _views(session, page), next_cursor


async def _hold_slow_mode(session: AsyncSession, room_id: uuid.UUID, member_id: uuid.UUID) -> None:
    """Serialise one member's sends to one room on PostgreSQL, so that two at once cannot both
    pass slow mode (SQLite already writes one transaction at a time)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.blake2b(f"chat:{room_id}:{member_id}".encode(), digest_size=8).digest()
    key = int.from_bytes(digest, "big", signed=True)
    await session.execute(select(func.pg_advisory_xact_lock(key)))


async def _publish(platform: Platform, room_id: uuid.UUID, event: dict[str, Any]) -> None:
    try:
        await platform.pubsub.publish(channel(room_id), orjson.dumps(event))
    except Exception:
        # the change is committed; sockets that miss it catch up from the history
        log.warning("chat event not published", exc_info=True, extra={"room_id": str(room_id)})


async def send_message(
    platform: Platform,
    room_id: uuid.UUID,
    viewer: service.Viewer,
    body: str,
    *,
    rules: ChatRules,
) -> MessageView:
    """Post a message, by REST or on the socket alike: the abuse filter, the member's rate
    limit, the space's write rule, the room's mutes and bans, slow mode; stored, then published
    to the room once committed."""
    if viewer.member_id is None:
        raise service.NotSpaceMember()
    check_message(body)
    await platform.limiter.hit(rules.send_limit, str(viewer.member_id))
    clock = platform.clock
    async with platform.db.write() as session:
        room, space = await _room(session, room_id)
        membership = await service.check_write(session, clock, space, viewer)
        now = clock.now()
        if not viewer.staff:
            sanctions = await _active_sanctions(session, clock, room.id, viewer.member_id)
            if "ban" in sanctions:
                raise BannedFromRoom()
            if "mute" in sanctions:
                until = sanctions["mute"].until
                raise MutedInRoom(until=_instant(until) if until else None)
        if room.slow_mode_seconds and not service.has_moderator_role(membership, viewer):
            await _hold_slow_mode(session, room.id, viewer.member_id)
            last = await session.scalar(
                select(func.max(ChatMessage.created_at)).where(
                    ChatMessage.room_id == room.id, ChatMessage.member_id == viewer.member_id
                )
            )
            if last is not None:
                wait = (last + timedelta(seconds=room.slow_mode_seconds) - now).total_seconds()
                if wait > 0:
                    raise SlowModeOn(retry_after=math.ceil(wait))
        message = ChatMessage(
            room_id=room.id, member_id=viewer.member_id, body=body.strip(), created_at=now
        )
        session.add(message)
        await session.flush()
        [view] = await _views(session, [message])
    await _publish(platform, room.id, {"type": "message", "message": view.data()})
    return view


async def delete_message(
    platform: Platform,
    room_id: uuid.UUID,
    message_id: uuid.UUID,
    viewer: service.Viewer,
    *,
    ip: str | None = None,
) -> None:
    """A moderator removes a message: it stays in the history as deleted. Audited with what it
    said; deleting it again changes nothing."""
    async with platform.db.write() as session:
        room, space = await _room(session, room_id)
        await _check_moderator(session, space, viewer)
        message = await session.scalar(
            select(ChatMessage).where(ChatMessage.id == message_id, ChatMessage.room_id == room.id)
        )
        if message is None:
            raise NotFound("The message does not exist.")
        if message.status == "deleted":
            return
        message.status, message.deleted_by = "deleted", viewer.member_id
        record_audit(
            session,
            platform.clock,
            actor_id=viewer.member_id,
            action="community.chat.message.delete",
            target_type="chat_message",
            target_id=message.id,
            before={"status": "visible", "member_id": str(message.member_id), "body": message.body},
            after={"status": "deleted"},
            ip=ip,
        )
    await _publish(platform, room.id, {"type": "deleted", "message_id": str(message_id)})


# ---- sanctions --------------------------------------------------------------------------------


async def _sanction_target(
    session: AsyncSession, room_id: uuid.UUID, viewer: service.Viewer, member_id: uuid.UUID
) -> ChatRoom:
    room, space = await _room(session, room_id)
    await _check_moderator(session, space, viewer)
    if member_id == viewer.member_id:
        raise InvalidInput("You cannot sanction yourself.")
    if member_id not in await accounts.member_briefs(session, [member_id]):
        raise NotFound("The member does not exist.")
    if member_id == space.owner_id and not viewer.staff:
        raise Forbidden("The owner of the space cannot be sanctioned in its chat rooms.")
    return room


async def sanction(
    platform: Platform,
    room_id: uuid.UUID,
    viewer: service.Viewer,
    member_id: uuid.UUID,
    *,
    kind: str,
    minutes: int | None = None,
    reason: str | None = None,
    ip: str | None = None,
) -> ChatSanction:
    """Mute (no sending; `minutes`, an hour by default) or ban (no entry; for `minutes`, or
    until lifted) a member in one room. A new sanction of the same kind replaces the old one.
    Audited; a ban closes the member's open sockets."""
    if kind not in SANCTIONS:
        raise InvalidInput("A sanction is mute or ban.")
    clock = platform.clock
    async with platform.db.write() as session:
        room = await _sanction_target(session, room_id, viewer, member_id)
        now = clock.now()
        if kind == "mute":
            minutes = minutes or DEFAULT_MUTE_MINUTES
        until = now + timedelta(minutes=minutes) if minutes else None
        row = await session.scalar(
            select(ChatSanction).where(
                ChatSanction.room_id == room.id,
                ChatSanction.member_id == member_id,
                ChatSanction.kind == kind,
            )
        )
        before = None
        if row is None:
            row = ChatSanction(
                room_id=room.id,
                member_id=member_id,
                kind=kind,
                until=until,
                reason=reason,
                created_by=viewer.member_id,
                created_at=now,
            )
            session.add(row)
            await service.flush_unique(session, Conflict)
        else:
            before = {"until": _instant(row.until) if row.until else None, "reason": row.reason}
            row.until, row.reason, row.created_by, row.created_at = (
                until,
                reason,
                viewer.member_id,
                now,
            )
        record_audit(
            session,
            clock,
            actor_id=viewer.member_id,
            action=f"community.chat.{kind}",
            target_type="chat_room",
            target_id=room.id,
            before=before,
            after={
                "member_id": str(member_id),
                "until": _instant(until) if until else None,
                "reason": reason,
            },
            ip=ip,
        )
    if kind == "ban":
        await _publish(platform, room.id, {"type": "banned", "member_id": str(member_id)})
    return row


async def lift_sanction(
    platform: Platform,
    room_id: uuid.UUID,
    viewer: service.Viewer,
    member_id: uuid.UUID,
    *,
    kind: str | None = None,
    ip: str | None = None,
) -> None:
    """Lift a member's mute or ban in a room (both when `kind` is None). Audited."""
    async with platform.db.write() as session:
        room = await _sanction_target(session, room_id, viewer, member_id)
        query = select(ChatSanction).where(
            ChatSanction.room_id == room.id, ChatSanction.member_id == member_id
        )
        if kind is not None:
            query = query.where(ChatSanction.kind == kind)
        for row in (await session.scalars(query)).all():
            record_audit(
                session,
                platform.clock,
                actor_id=viewer.member_id,
                action=f"community.chat.un{row.kind}",
                target_type="chat_room",
                target_id=room.id,
                before={
                    "member_id": str(member_id),
                    "until": _instant(row.until) if row.until else None,
                    "reason": row.reason,
                },
                after=None,
                ip=ip,
            )
            await session.delete(row)


async def list_sanctions(
    session: AsyncSession,
    clock: Clock,
    room_id: uuid.UUID,
    viewer: service.Viewer,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[ChatSanction], str | None]:
    """The sanctions in force in a room, for its moderators."""
    room, space = await _room(session, room_id)
    await _check_moderator(session, space, viewer)
    query = select(ChatSanction).where(
        ChatSanction.room_id == room.id,
        or_(ChatSanction.until.is_(None), ChatSanction.until > clock.now()),
    )
    after = id_after(cursor)
    if after is not None:
        query = query.where(ChatSanction.id > after)
    rows = list((await session.scalars(query.order_by(ChatSanction.id).limit(limit + 1))).all())
    next_cursor = id_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor
