"""Offline meetups (a running crew, a film club): staff or the moderators of a space schedule
sessions with a capacity; members RSVP and are confirmed while seats last, then waitlisted in
arrival order; a confirmed member's cancellation hands the seat to the first on the waitlist in
the same transaction; staff check attendees in at the door, each check-in bringing the meetup's
perk coupon, if it has one.

Seats stay exact under concurrency. Every change to a session's seats or queue first locks the
session's row (a no-op on SQLite, whose writers are serialised anyway), and a seat is taken only
by the conditional `confirmed_count < capacity` update, so no interleaving confirms more members
than the capacity. Under that lock an RSVP's id is made greater than every earlier RSVP's id of
the session, so the id order is the arrival order even within one millisecond.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.accounts import service as accounts
from jangteo.community import notifications, service
from jangteo.community.models import Meetup, MeetupRsvp, MeetupSession, Space
from jangteo.core.audit import record_audit
from jangteo.core.clock import Clock
from jangteo.core.errors import DomainError, Forbidden, InvalidInput, NotFound, define
from jangteo.core.ids import uuid7
from jangteo.core.pagination import cursor_keys, decode_cursor, encode_cursor, id_after, id_cursor
from jangteo.orders import coupons

SessionStarted = define("meetup-session-started", 409, "This session has already started.")
SessionCancelled = define("meetup-session-cancelled", 409, "This session has been cancelled.")
CapacityBelowConfirmed = define(
    "meetup-capacity-below-confirmed",
    409,
    "The capacity cannot be smaller than the number of confirmed members.",
)
RsvpNotConfirmed = define("rsvp-not-confirmed", 409, "Only confirmed members can be checked in.")
AlreadyCheckedIn = define(
    "already-checked-in", 409, "A member who has been checked in cannot cancel."
)
UnknownPerkCoupon = define("unknown-perk-coupon", 422, "The perk coupon does not exist.")

MAX_CAPACITY = 10_000
# the statuses that hold a place (a seat or a place in the queue)
ACTIVE_RSVP = ("confirmed", "waitlisted", "checked_in")
SEATED = ("confirmed", "checked_in")


@dataclass(frozen=True)
class SessionView:
    session: MeetupSession
    waitlist_count: int
    my_status: str | None


@dataclass(frozen=True)
class MeetupView:
    meetup: Meetup
    space: Space | None
    host_name: str
    can_manage: bool
    sessions: list[SessionView]


@dataclass(frozen=True)
class MeetupSummaryView:
    meetup: Meetup
    space: Space | None
    next_session: SessionView | None


@dataclass(frozen=True)
class RsvpView:
    status: str
    waitlist_position: int | None
    checked_in_at: datetime | None
    session: SessionView


@dataclass(frozen=True)
class CheckIn:
    member_id: uuid.UUID
    nickname: str
    status: str
    checked_in_at: datetime
    perk: str | None  # issued | unavailable | None (no perk, or checked in before)


@dataclass(frozen=True)
class Attendee:
    member_id: uuid.UUID
    nickname: str
    status: str
    waitlist_position: int | None
    rsvp_at: datetime
    checked_in_at: datetime | None


@dataclass(frozen=True)
class MyRsvp:
    meetup_id: uuid.UUID
    title: str
    status: str
    waitlist_position: int | None
    session: SessionView


# ---- reading and permissions ----------------------------------------------------------------


async def _meetup(session: AsyncSession, meetup_id: uuid.UUID) -> Meetup:
    meetup = await session.scalar(
        select(Meetup).where(Meetup.id == meetup_id, Meetup.status == "active")
    )
    if meetup is None:
        raise NotFound("The meetup does not exist.")
    return meetup


async def _session_row(
    session: AsyncSession, session_id: uuid.UUID, *, lock: bool = False
) -> MeetupSession:
    query = select(MeetupSession).where(MeetupSession.id == session_id)
    if lock:
        # the queue of one session changes one transaction at a time
        query = query.with_for_update()
    row = await session.scalar(query.execution_options(populate_existing=True))
    if row is None:
        raise NotFound("The meetup session does not exist.")
    return row


async def _readable(session: AsyncSession, meetup: Meetup, viewer: service.Viewer) -> Space | None:
    """The meetup's space, after checking the viewer may see the meetup: the space's read rule
    (members-only spaces keep their meetups to their members)."""
    if meetup.space_id is None:
        return None
    view = await service.view_space(session, str(meetup.space_id), viewer)
    if not view.can_read:
        if view.my_status == "banned":
            raise service.BannedFromSpace()
        raise service.NotSpaceMember()
    return view.space


async def _can_manage(session: AsyncSession, space: Space | None, viewer: service.Viewer) -> bool:
    if viewer.staff:
        return True
    return space is not None and await service.is_moderator(session, space, viewer)


async def _managed(session: AsyncSession, meetup: Meetup, viewer: service.Viewer) -> Space | None:
    space = await _readable(session, meetup, viewer)
    if not await _can_manage(session, space, viewer):
        raise Forbidden("Only staff or the moderators of the space can manage this meetup.")
    return space


async def _session_views(
    session: AsyncSession, rows: Sequence[MeetupSession], viewer: service.Viewer
) -> list[SessionView]:
    ids = [r.id for r in rows]
    if not ids:
        return []
    waiting = dict(
        (
            await session.execute(
                select(MeetupRsvp.session_id, func.count())
                .where(MeetupRsvp.session_id.in_(ids), MeetupRsvp.status == "waitlisted")
                .group_by(MeetupRsvp.session_id)
            )
        ).all()
    )
    mine: dict[uuid.UUID, str] = {}
    if viewer.member_id is not None:
        mine = dict(
            (
                await session.execute(
                    select(MeetupRsvp.session_id, MeetupRsvp.status).where(
                        MeetupRsvp.session_id.in_(ids), MeetupRsvp.member_id == viewer.member_id
                    )
                )
            ).all()
        )
    return [SessionView(r, waiting.get(r.id, 0), mine.get(r.id)) for r in rows]


async def session_view(
    session: AsyncSession, session_id: uuid.UUID, viewer: service.Viewer
) -> SessionView:
    """A session with its waitlist and the viewer's place, for answering a change the viewer
    was allowed to make (it checks nothing itself)."""
    row = await _session_row(session, session_id)
    return (await _session_views(session, [row], viewer))[0]


async def _waitlist_position(session: AsyncSession, rsvp: MeetupRsvp) -> int | None:
    if rsvp.status != "waitlisted":
        return None
    ahead = await session.scalar(
        select(func.count())
        .select_from(MeetupRsvp)
        .where(
            MeetupRsvp.session_id == rsvp.session_id,
            MeetupRsvp.status == "waitlisted",
            MeetupRsvp.id < rsvp.id,
        )
    )
    return (ahead or 0) + 1


async def _my_rsvp(
    session: AsyncSession, session_id: uuid.UUID, member_id: uuid.UUID
) -> MeetupRsvp | None:
    return await session.scalar(
        select(MeetupRsvp)
        .where(MeetupRsvp.session_id == session_id, MeetupRsvp.member_id == member_id)
        .execution_options(populate_existing=True)
    )


async def _rsvp_view(session: AsyncSession, rsvp: MeetupRsvp, viewer: service.Viewer) -> RsvpView:
    return RsvpView(
        status=rsvp.status,
        waitlist_position=await _waitlist_position(session, rsvp),
        checked_in_at=rsvp.checked_in_at,
        session=await session_view(session, rsvp.session_id, viewer),
    )


# ---- meetups and their sessions -------------------------------------------------------------


async def create_meetup(
    session: AsyncSession,
    clock: Clock,
    viewer: service.Viewer,
    *,
    title: str,
    description: str,
    topic: str,
    space: str | None,
    perk_coupon_id: uuid.UUID | None,
    ip: str | None = None,
) -> Meetup:
    """A meetup hosted by the viewer: staff anywhere, a space's moderators in their space."""
    assert viewer.member_id is not None
    found = None
    if space is not None:
        found = (await service.view_space(session, space, viewer)).space
    if not await _can_manage(session, found, viewer):
        raise Forbidden("Only staff or the moderators of the space can manage this meetup.")
    if perk_coupon_id is not None:
        try:
            await coupons.get_coupon(session, perk_coupon_id)
        except coupons.CouponNotFound as exc:
            raise UnknownPerkCoupon(perk_coupon_id=str(perk_coupon_id)) from exc
    meetup = Meetup(
        space_id=found.id if found else None,
        host_id=viewer.member_id,
        title=title,
        description=description,
        topic=topic,
        perk_coupon_id=perk_coupon_id,
        created_at=clock.now(),
    )
    session.add(meetup)
    await session.flush()
    record_audit(
        session,
        clock,
        actor_id=viewer.member_id,
        action="community.meetup.create",
        target_type="meetup",
        target_id=meetup.id,
        after={"title": title, "space_id": str(meetup.space_id) if found else None},
        ip=ip,
    )
    return meetup


def _check_times(clock: Clock, starts_at: datetime, ends_at: datetime) -> None:
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidInput("Times need a time zone.")
    if starts_at <= clock.now():
        raise InvalidInput("A session starts in the future.")
    if ends_at <= starts_at:
        raise InvalidInput("A session ends after it starts.")


def _check_capacity(capacity: int) -> None:
    if not 1 <= capacity <= MAX_CAPACITY:
        raise InvalidInput(f"The capacity is between 1 and {MAX_CAPACITY}.")


def _session_state(row: MeetupSession) -> dict[str, Any]:
    return {
        "starts_at": row.starts_at.isoformat(),
        "ends_at": row.ends_at.isoformat(),
        "place": row.place,
        "capacity": row.capacity,
        "status": row.status,
    }


async def add_session(
    session: AsyncSession,
    clock: Clock,
    meetup_id: uuid.UUID,
    viewer: service.Viewer,
    *,
    starts_at: datetime,
    ends_at: datetime,
    place: str,
    capacity: int,
    ip: str | None = None,
) -> MeetupSession:
    meetup = await _meetup(session, meetup_id)
    await _managed(session, meetup, viewer)
    _check_times(clock, starts_at, ends_at)
    _check_capacity(capacity)
    row = MeetupSession(
        meetup_id=meetup.id,
        starts_at=starts_at,
        ends_at=ends_at,
        place=place,
        capacity=capacity,
        created_at=clock.now(),
    )
    session.add(row)
    await session.flush()
    record_audit(
        session,
        clock,
        actor_id=viewer.member_id,
        action="community.meetup.session.create",
        target_type="meetup_session",
        target_id=row.id,
        after=_session_state(row),
        ip=ip,
    )
    return row


def _check_open(row: MeetupSession, clock: Clock) -> None:
    if row.status == "cancelled":
        raise SessionCancelled()
    if clock.now() >= row.starts_at:
        raise SessionStarted(starts_at=row.starts_at.isoformat())


async def update_session(
    session: AsyncSession,
    clock: Clock,
    session_id: uuid.UUID,
    viewer: service.Viewer,
    changes: dict[str, Any],
    *,
    ip: str | None = None,
) -> MeetupSession:
    """Move a session, change its place, or change its capacity before it starts: a larger
    capacity moves the waitlist up at once; it never goes below the confirmed members."""
    row = await _session_row(session, session_id)
    meetup = await _meetup(session, row.meetup_id)
    await _managed(session, meetup, viewer)
    row = await _session_row(session, session_id, lock=True)
    _check_open(row, clock)
    before = _session_state(row)
    starts_at = changes.get("starts_at") or row.starts_at
    ends_at = changes.get("ends_at") or row.ends_at
    if "starts_at" in changes or "ends_at" in changes:
        _check_times(clock, starts_at, ends_at)
    values: dict[str, Any] = {"starts_at": starts_at, "ends_at": ends_at}
    if changes.get("place") is not None:
        values["place"] = changes["place"]
    capacity = changes.get("capacity")
    query = update(MeetupSession).where(MeetupSession.id == row.id)
    if capacity is not None:
        _check_capacity(capacity)
        values["capacity"] = capacity
        query = query.where(MeetupSession.confirmed_count <= capacity)
    changed = await session.execute(
        query.values(**values).execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise CapacityBelowConfirmed(confirmed_count=row.confirmed_count)
    await _promote(session, clock, meetup, row.id)
    row = await _session_row(session, session_id)
    record_audit(
        session,
        clock,
        actor_id=viewer.member_id,
        action="community.meetup.session.update",
        target_type="meetup_session",
        target_id=row.id,
        before=before,
        after=_session_state(row),
        ip=ip,
    )
    return row


async def cancel_session(
    session: AsyncSession,
    clock: Clock,
    session_id: uuid.UUID,
    viewer: service.Viewer,
    *,
    ip: str | None = None,
) -> MeetupSession:
    """Cancel a session before it starts; everyone holding a seat or a place in the queue is
    notified, and no RSVP is taken afterwards. Cancelling again changes nothing."""
    row = await _session_row(session, session_id)
    meetup = await _meetup(session, row.meetup_id)
    await _managed(session, meetup, viewer)
    row = await _session_row(session, session_id, lock=True)
    if row.status == "cancelled":
        return row
    _check_open(row, clock)
    before = _session_state(row)
    await session.execute(
        update(MeetupSession)
        .where(MeetupSession.id == row.id)
        .values(status="cancelled")
        .execution_options(synchronize_session=False)
    )
    members = await session.scalars(
        select(MeetupRsvp.member_id).where(
            MeetupRsvp.session_id == row.id, MeetupRsvp.status.in_(ACTIVE_RSVP)
        )
    )
    for member_id in members.all():
        await notifications.notify(
            session,
            clock,
            member_id=member_id,
            kind="meetup",
            data=_notice(meetup, row, "session_cancelled"),
        )
    row = await _session_row(session, session_id)
    record_audit(
        session,
        clock,
        actor_id=viewer.member_id,
        action="community.meetup.session.cancel",
        target_type="meetup_session",
        target_id=row.id,
        before=before,
        after=_session_state(row),
        ip=ip,
    )
    return row


async def get_meetup(
    session: AsyncSession, meetup_id: uuid.UUID, viewer: service.Viewer
) -> MeetupView:
    meetup = await _meetup(session, meetup_id)
    space = await _readable(session, meetup, viewer)
    rows = (
        await session.scalars(
            select(MeetupSession)
            .where(MeetupSession.meetup_id == meetup.id)
            .order_by(MeetupSession.starts_at, MeetupSession.id)
            .execution_options(populate_existing=True)
        )
    ).all()
    host = await accounts.get_member_brief(session, meetup.host_id)
    return MeetupView(
        meetup=meetup,
        space=space,
        host_name=host.nickname if host else "",
        can_manage=await _can_manage(session, space, viewer),
        sessions=await _session_views(session, rows, viewer),
    )


async def list_meetups(
    session: AsyncSession,
    clock: Clock,
    viewer: service.Viewer,
    *,
    topic: str | None = None,
    upcoming: bool = False,
    limit: int,
    cursor: str | None = None,
) -> tuple[list[MeetupSummaryView], str | None]:
    """Meetups newest first, those of members-only spaces only for their members; with
    `upcoming`, only those with an open session not yet started."""
    now = clock.now()
    readable = await service.readable_space_ids(session, viewer)
    query = (
        select(Meetup, Space)
        .outerjoin(Space, Space.id == Meetup.space_id)
        .where(
            Meetup.status == "active",
            or_(Meetup.space_id.is_(None), and_(Space.status == "active", readable)),
        )
    )
    if topic:
        query = query.where(Meetup.topic == topic.strip())
    ahead = select(MeetupSession.meetup_id).where(
        MeetupSession.status == "open", MeetupSession.starts_at > now
    )
    if upcoming:
        query = query.where(Meetup.id.in_(ahead))
    after = id_after(cursor)
    if after is not None:
        query = query.where(Meetup.id < after)
    rows = list((await session.execute(query.order_by(Meetup.id.desc()).limit(limit + 1))).all())
    next_cursor = id_cursor(rows[limit - 1][0].id) if len(rows) > limit else None
    rows = rows[:limit]
    ids = [m.id for m, _ in rows]
    upcoming_sessions = (
        (
            await session.scalars(
                select(MeetupSession)
                .where(
                    MeetupSession.meetup_id.in_(ids),
                    MeetupSession.status == "open",
                    MeetupSession.starts_at > now,
                )
                .order_by(MeetupSession.starts_at.desc(), MeetupSession.id.desc())
            )
        ).all()
        if ids
        else []
    )
    # walking from the latest start, the last one seen of each meetup is its next session
    nearest = {s.meetup_id: s for s in upcoming_sessions}
    views = {
        v.session.meetup_id: v for v in await _session_views(session, [*nearest.values()], viewer)
    }
    return [MeetupSummaryView(m, s, views.get(m.id)) for m, s in rows], next_cursor


# ---- RSVPs ----------------------------------------------------------------------------------


async def _take_seat(session: AsyncSession, session_id: uuid.UUID) -> bool:
    """One more confirmed member, only while a seat is free: the condition is the guarantee."""
    taken = await session.execute(
        update(MeetupSession)
        .where(
            MeetupSession.id == session_id,
            MeetupSession.status == "open",
            MeetupSession.confirmed_count < MeetupSession.capacity,
        )
        .values(confirmed_count=MeetupSession.confirmed_count + 1)
        .execution_options(synchronize_session=False)
    )
    return taken.rowcount == 1  # type: ignore[attr-defined]


def _notice(meetup: Meetup, row: MeetupSession, event: str) -> dict[str, Any]:
    return {
        "event": event,
        "meetup_id": str(meetup.id),
        "session_id": str(row.id),
        "title": meetup.title,
        "starts_at": row.starts_at.isoformat(),
        "place": row.place,
    }


async def _promote(
    session: AsyncSession, clock: Clock, meetup: Meetup, session_id: uuid.UUID
) -> list[uuid.UUID]:
    """Move the waitlist up, first come first served, into every free seat; each member moved
    up is notified. The caller holds the session's lock."""
    promoted: list[uuid.UUID] = []
    row = await _session_row(session, session_id)
    free = row.capacity - row.confirmed_count
    if free <= 0:
        return promoted
    queue = await session.execute(
        select(MeetupRsvp.id, MeetupRsvp.member_id)
        .where(MeetupRsvp.session_id == session_id, MeetupRsvp.status == "waitlisted")
        .order_by(MeetupRsvp.id)
        .limit(free)
    )
    for rsvp_id, member_id in queue.all():
        if not await _take_seat(session, session_id):
            break
        await session.execute(
            update(MeetupRsvp)
            .where(MeetupRsvp.id == rsvp_id, MeetupRsvp.status == "waitlisted")
            .values(status="confirmed", updated_at=clock.now())
            .execution_options(synchronize_session=False)
        )
        await notifications.notify(
            session,
            clock,
            member_id=member_id,
            kind="meetup",
            data=_notice(meetup, row, "promoted"),
        )
        promoted.append(member_id)
    return promoted


async def _next_rsvp_id(session: AsyncSession, session_id: uuid.UUID) -> uuid.UUID:
    """A UUIDv7 after every RSVP id of the session (the caller holds the session's lock):
    two RSVPs in the same millisecond keep their arrival order."""
    new = uuid7()
    last = await session.scalar(
        select(MeetupRsvp.id)
        .where(MeetupRsvp.session_id == session_id)
        .order_by(MeetupRsvp.id.desc())
        .limit(1)
    )
    if last is not None and new <= last:
        return uuid.UUID(int=last.int + 1)
    return new


async def rsvp(
    session: AsyncSession, clock: Clock, session_id: uuid.UUID, viewer: service.Viewer
) -> RsvpView:
    """Take a seat while one is free, else a place at the end of the waitlist; until the
    session starts. Asking again answers the member's current place."""
    assert viewer.member_id is not None
    row = await _session_row(session, session_id)
    meetup = await _meetup(session, row.meetup_id)
    await _readable(session, meetup, viewer)
    row = await _session_row(session, session_id, lock=True)
    _check_open(row, clock)
    current = await _my_rsvp(session, session_id, viewer.member_id)
    if current is not None and current.status != "cancelled":
        return await _rsvp_view(session, current, viewer)
    if current is not None:
        # coming back after cancelling: to the end of the queue, as a new arrival
        await session.execute(delete(MeetupRsvp).where(MeetupRsvp.id == current.id))
    rsvp_id = await _next_rsvp_id(session, session_id)
    seated = await _take_seat(session, session_id)
    now = clock.now()
    await session.execute(
        insert(MeetupRsvp).values(
            id=rsvp_id,
            session_id=session_id,
            member_id=viewer.member_id,
            status="confirmed" if seated else "waitlisted",
            created_at=now,
            updated_at=now,
        )
    )
    mine = await _my_rsvp(session, session_id, viewer.member_id)
    assert mine is not None
    return await _rsvp_view(session, mine, viewer)


async def cancel_rsvp(
    session: AsyncSession, clock: Clock, session_id: uuid.UUID, viewer: service.Viewer
) -> RsvpView:
    """Give up a seat or a place in the queue, until the session starts; a freed seat goes to
    the first on the waitlist in the same transaction. Cancelling again changes nothing."""
    assert viewer.member_id is not None
    row = await _session_row(session, session_id, lock=True)
    meetup = await _meetup(session, row.meetup_id)
    _check_open(row, clock)
    current = await _my_rsvp(session, session_id, viewer.member_id)
    if current is None:
        raise NotFound("You have no RSVP for this session.")
    if current.status == "checked_in":
        raise AlreadyCheckedIn()
    if current.status != "cancelled":
        was = current.status
        await session.execute(
            update(MeetupRsvp)
            .where(MeetupRsvp.id == current.id, MeetupRsvp.status == was)
            .values(status="cancelled", updated_at=clock.now())
            .execution_options(synchronize_session=False)
        )
        if was == "confirmed":
            await session.execute(
                update(MeetupSession)
                .where(MeetupSession.id == session_id, MeetupSession.confirmed_count > 0)
                .values(confirmed_count=MeetupSession.confirmed_count - 1)
                .execution_options(synchronize_session=False)
            )
            await _promote(session, clock, meetup, session_id)
        current = await _my_rsvp(session, session_id, viewer.member_id)
        assert current is not None
    return await _rsvp_view(session, current, viewer)


# ---- at the door ----------------------------------------------------------------------------


async def check_in(
    session: AsyncSession,
    clock: Clock,
    session_id: uuid.UUID,
    viewer: service.Viewer,
    *,
    member_id: uuid.UUID,
    ip: str | None = None,
) -> CheckIn:
    """Check a confirmed member in (staff or the space's moderators). The first check-in gives
    the meetup's perk coupon, within the coupon's own limits; checking in again changes
    nothing and gives nothing."""
    row = await _session_row(session, session_id)
    meetup = await _meetup(session, row.meetup_id)
    await _managed(session, meetup, viewer)
    row = await _session_row(session, session_id, lock=True)
    if row.status == "cancelled":
        raise SessionCancelled()
    current = await _my_rsvp(session, session_id, member_id)
    if current is None:
        raise NotFound("This member has no RSVP for this session.")
    brief = await accounts.get_member_brief(session, member_id)
    nickname = brief.nickname if brief else ""
    if current.status == "checked_in":
        assert current.checked_in_at is not None
        return CheckIn(member_id, nickname, "checked_in", current.checked_in_at, None)
    if current.status != "confirmed":
        raise RsvpNotConfirmed(rsvp_status=current.status)
    now = clock.now()
    moved = await session.execute(
        update(MeetupRsvp)
        .where(MeetupRsvp.id == current.id, MeetupRsvp.status == "confirmed")
        .values(status="checked_in", checked_in_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise RsvpNotConfirmed()
    # the perk rides on the confirmed → checked_in move, which happens once per RSVP
    perk = None
    if meetup.perk_coupon_id is not None:
        try:
            async with session.begin_nested():
                issued = await coupons.issue_coupon(
                    session,
                    clock,
                    coupon_id=meetup.perk_coupon_id,
                    member_ids=[member_id],
                    issued_by=viewer.member_id,
                    ip=ip,
                )
        except DomainError:
            # an expired, disabled or used-up coupon does not keep anyone from the meetup
            issued = 0
        perk = "issued" if issued else "unavailable"
    record_audit(
        session,
        clock,
        actor_id=viewer.member_id,
        action="community.meetup.check_in",
        target_type="meetup_rsvp",
        target_id=current.id,
        before={"status": "confirmed"},
        after={
            "status": "checked_in",
            "session_id": str(session_id),
            "member_id": str(member_id),
            "perk": perk,
        },
        ip=ip,
    )
    return CheckIn(member_id, nickname, "checked_in", now, perk)


async def attendees(
    session: AsyncSession,
    session_id: uuid.UUID,
    viewer: service.Viewer,
    *,
    status: str | None = None,
    limit: int,
    cursor: str | None = None,
) -> tuple[list[Attendee], str | None, SessionView]:
    """The session's RSVPs in arrival order (staff or the space's moderators), cancelled ones
    only when asked for; waitlisted members with their place in the queue."""
    row = await _session_row(session, session_id)
    meetup = await _meetup(session, row.meetup_id)
    await _managed(session, meetup, viewer)
    query = select(MeetupRsvp).where(MeetupRsvp.session_id == session_id)
    query = query.where(
        MeetupRsvp.status == status if status else MeetupRsvp.status.in_(ACTIVE_RSVP)
    )
    after = id_after(cursor)
    if after is not None:
        query = query.where(MeetupRsvp.id > after)
    rows = list((await session.scalars(query.order_by(MeetupRsvp.id).limit(limit + 1))).all())
    next_cursor = id_cursor(rows[limit - 1].id) if len(rows) > limit else None
    rows = rows[:limit]
    waiting = [r for r in rows if r.status == "waitlisted"]
    positions: dict[uuid.UUID, int] = {}
    if waiting:
        first = await _waitlist_position(session, waiting[0])
        assert first is not None
        positions = {r.id: first + n for n, r in enumerate(waiting)}
    names = await accounts.member_briefs(session, [r.member_id for r in rows])
    items = [
        Attendee(
            member_id=r.member_id,
            nickname=names[r.member_id].nickname if r.member_id in names else "",
            status=r.status,
            waitlist_position=positions.get(r.id),
            rsvp_at=r.created_at,
            checked_in_at=r.checked_in_at,
        )
        for r in rows
    ]
    return items, next_cursor, (await _session_views(session, [row], viewer))[0]


async def my_meetups(
    session: AsyncSession,
    clock: Clock,
    viewer: service.Viewer,
    *,
    limit: int,
    cursor: str | None = None,
) -> tuple[list[MyRsvp], str | None]:
    """The viewer's seats and waitlist places in sessions not yet over, soonest first."""
    assert viewer.member_id is not None
    query = (
        select(MeetupRsvp, MeetupSession, Meetup)
        .join(MeetupSession, MeetupSession.id == MeetupRsvp.session_id)
        .join(Meetup, Meetup.id == MeetupSession.meetup_id)
        .where(
            MeetupRsvp.member_id == viewer.member_id,
            MeetupRsvp.status.in_(ACTIVE_RSVP),
            MeetupSession.status == "open",
            MeetupSession.ends_at > clock.now(),
            Meetup.status == "active",
        )
    )
    decoded = decode_cursor(cursor)
    if decoded is not None:
        starts_at, rsvp_id = cursor_keys(decoded, "my-meetups", [datetime, uuid.UUID])
        query = query.where(
            or_(
                MeetupSession.starts_at > starts_at,
                and_(MeetupSession.starts_at == starts_at, MeetupRsvp.id > rsvp_id),
            )
        )
    rows = list(
        (
            await session.execute(
                query.order_by(MeetupSession.starts_at, MeetupRsvp.id).limit(limit + 1)
            )
        ).all()
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last_rsvp, last_session, _ = rows[-1]
        next_cursor = encode_cursor(
            {"s": "my-meetups", "k": [last_session.starts_at.isoformat(), str(last_rsvp.id)]}
        )
    views = {
        v.session.id: v for v in await _session_views(session, [s for _, s, _ in rows], viewer)
    }
    return [
        MyRsvp(
            meetup_id=m.id,
            title=m.title,
            status=r.status,
            waitlist_position=await _waitlist_position(session, r),
            session=views[s.id],
        )
        for r, s, m in rows
    ], next_cursor
