"""HTTP API of offline meetups: meetups and their sessions, RSVPs with a waitlist, check-in at
the door, attendee lists and the member's own upcoming meetups."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Query, Request, status

from jangteo.community import meetups, service
from jangteo.community.api import _viewer
from jangteo.community.meetup_schemas import (
    AttendeeOut,
    AttendeePage,
    CheckInOut,
    CheckInRequest,
    MeetupCreate,
    MeetupOut,
    MeetupPage,
    MeetupSummary,
    MyMeetupOut,
    MyMeetupPage,
    PersonOut,
    RsvpOut,
    RsvpStatus,
    SessionCreate,
    SessionOut,
    SessionUpdate,
)
from jangteo.community.schemas import SpaceRef
from jangteo.core.deps import CurrentMember, OptionalMember, PlatformDep, client_ip
from jangteo.core.pagination import DEFAULT_LIMIT, MAX_LIMIT

if TYPE_CHECKING:
    from jangteo.community.models import Space

router = APIRouter(prefix="/api/v1", tags=["meetups"])

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=500)]


def _space_ref(space: Space | None) -> SpaceRef | None:
    return None if space is None else SpaceRef(id=space.id, slug=space.slug, name=space.name)


def _session_out(view: meetups.SessionView) -> SessionOut:
    row = view.session
    return SessionOut(
        id=row.id,
        meetup_id=row.meetup_id,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        place=row.place,
        capacity=row.capacity,
        confirmed_count=row.confirmed_count,
        waitlist_count=view.waitlist_count,
        status=row.status,  # type: ignore[arg-type]
        my_status=view.my_status,  # type: ignore[arg-type]
    )


def _meetup_out(view: meetups.MeetupView) -> MeetupOut:
    m = view.meetup
    return MeetupOut(
        id=m.id,
        title=m.title,
        description=m.description,
        topic=m.topic,
        space=_space_ref(view.space),
        host=PersonOut(id=m.host_id, nickname=view.host_name),
        perk_coupon_id=m.perk_coupon_id,
        status=m.status,
        can_manage=view.can_manage,
        created_at=m.created_at,
        sessions=[_session_out(s) for s in view.sessions],
    )


def _rsvp_out(view: meetups.RsvpView) -> RsvpOut:
    return RsvpOut(
        status=view.status,  # type: ignore[arg-type]
        waitlist_position=view.waitlist_position,
        checked_in_at=view.checked_in_at,
        session=_session_out(view.session),
    )


async def _session_answer(
    platform: PlatformDep, session_id: uuid.UUID, viewer: service.Viewer
) -> SessionOut:
    async with platform.db.read() as session:
        return _session_out(await meetups.session_view(session, session_id, viewer))


# ---- meetups and sessions ---------------------------------------------------------------------


@router.post("/meetups", response_model=MeetupOut, status_code=status.HTTP_201_CREATED)
async def create_meetup(
    platform: PlatformDep, member: CurrentMember, body: MeetupCreate, request: Request
) -> MeetupOut:
    """A meetup (staff anywhere; the moderators of a space in their space)."""
    viewer = _viewer(member)
    async with platform.db.write() as session:
        meetup = await meetups.create_meetup(
            session, platform.clock, viewer, **body.model_dump(), ip=client_ip(request)
        )
        return _meetup_out(await meetups.get_meetup(session, meetup.id, viewer))


@router.get("/meetups", response_model=MeetupPage)
async def list_meetups(
    platform: PlatformDep,
    principal: OptionalMember,
    topic: Annotated[str | None, Query(max_length=40)] = None,
    upcoming: bool = False,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> MeetupPage:
    """Meetups newest first, each with its next session; `upcoming=true` keeps those with a
    session still to come."""
    async with platform.db.read() as session:
        items, next_cursor = await meetups.list_meetups(
            session,
            platform.clock,
            _viewer(principal),
            topic=topic,
            upcoming=upcoming,
            limit=limit,
            cursor=cursor,
        )
    return MeetupPage(
        items=[
            MeetupSummary(
                id=v.meetup.id,
                title=v.meetup.title,
                topic=v.meetup.topic,
                space=_space_ref(v.space),
                perk=v.meetup.perk_coupon_id is not None,
                next_session=_session_out(v.next_session) if v.next_session else None,
                created_at=v.meetup.created_at,
            )
            for v in items
        ],
        next_cursor=next_cursor,
    )


@router.get("/meetups/{meetup_id}", response_model=MeetupOut)
async def get_meetup(
    platform: PlatformDep, principal: OptionalMember, meetup_id: uuid.UUID
) -> MeetupOut:
    async with platform.db.read() as session:
        return _meetup_out(await meetups.get_meetup(session, meetup_id, _viewer(principal)))


@router.post(
    "/meetups/{meetup_id}/sessions",
    response_model=SessionOut,
    status_code=status.HTTP_201_CREATED,
)
async def add_session(
    platform: PlatformDep,
    member: CurrentMember,
    meetup_id: uuid.UUID,
    body: SessionCreate,
    request: Request,
) -> SessionOut:
    viewer = _viewer(member)
    async with platform.db.write() as session:
        row = await meetups.add_session(
            session, platform.clock, meetup_id, viewer, **body.model_dump(), ip=client_ip(request)
        )
    return await _session_answer(platform, row.id, viewer)


@router.patch("/meetups/sessions/{session_id}", response_model=SessionOut)
async def update_session(
    platform: PlatformDep,
    member: CurrentMember,
    session_id: uuid.UUID,
    body: SessionUpdate,
    request: Request,
) -> SessionOut:
    """Move a session, change its place or its capacity, before it starts; a larger capacity
    confirms members from the waitlist at once."""
    viewer = _viewer(member)
    async with platform.db.write() as session:
        await meetups.update_session(
            session,
            platform.clock,
            session_id,
            viewer,
            body.model_dump(exclude_unset=True),
            ip=client_ip(request),
        )
    return await _session_answer(platform, session_id, viewer)


@router.post("/meetups/sessions/{session_id}/cancel", response_model=SessionOut)
async def cancel_session(
    platform: PlatformDep, member: CurrentMember, session_id: uuid.UUID, request: Request
) -> SessionOut:
    """Cancel a session before it starts; its members and waitlist are notified."""
    viewer = _viewer(member)
    async with platform.db.write() as session:
        await meetups.cancel_session(
            session, platform.clock, session_id, viewer, ip=client_ip(request)
        )
    return await _session_answer(platform, session_id, viewer)


# ---- RSVPs ------------------------------------------------------------------------------------


@router.put("/meetups/sessions/{session_id}/rsvp", response_model=RsvpOut)
async def rsvp(platform: PlatformDep, member: CurrentMember, session_id: uuid.UUID) -> RsvpOut:
    """A seat while one is free, else a place on the waitlist in arrival order; asking again
    answers your current place."""
    viewer = _viewer(member)
    async with platform.db.write() as session:
        return _rsvp_out(await meetups.rsvp(session, platform.clock, session_id, viewer))


@router.delete("/meetups/sessions/{session_id}/rsvp", response_model=RsvpOut)
async def cancel_rsvp(
    platform: PlatformDep, member: CurrentMember, session_id: uuid.UUID
) -> RsvpOut:
    """Give up your seat (the first on the waitlist gets it) or your place in the queue."""
    viewer = _viewer(member)
    async with platform.db.write() as session:
        return _rsvp_out(await meetups.cancel_rsvp(session, platform.clock, session_id, viewer))


@router.post("/meetups/sessions/{session_id}/check-in", response_model=CheckInOut)
async def check_in(
    platform: PlatformDep,
    member: CurrentMember,
    session_id: uuid.UUID,
    body: CheckInRequest,
    request: Request,
) -> CheckInOut:
    """Check a confirmed member in at the door (staff or the space's moderators); the first
    check-in brings the meetup's perk coupon."""
    async with platform.db.write() as session:
        done = await meetups.check_in(
            session,
            platform.clock,
            session_id,
            _viewer(member),
            member_id=body.member_id,
            ip=client_ip(request),
        )
    return CheckInOut(
        member=PersonOut(id=done.member_id, nickname=done.nickname),
        status=done.status,  # type: ignore[arg-type]
        checked_in_at=done.checked_in_at,
        perk=done.perk,  # type: ignore[arg-type]
    )


@router.get("/meetups/sessions/{session_id}/attendees", response_model=AttendeePage)
async def attendees(
    platform: PlatformDep,
    member: CurrentMember,
    session_id: uuid.UUID,
    rsvp_status: Annotated[
        RsvpStatus | None,
        Query(alias="status", description="default: everyone holding a seat or a place"),
    ] = None,
    limit: Limit = MAX_LIMIT,
    cursor: Cursor = None,
) -> AttendeePage:
    """Confirmed, checked-in and waitlisted members in arrival order, with their nicknames
    (staff or the space's moderators)."""
    viewer = _viewer(member)
    async with platform.db.read() as session:
        items, next_cursor, view = await meetups.attendees(
            session, session_id, viewer, status=rsvp_status, limit=limit, cursor=cursor
        )
    return AttendeePage(
        items=[
            AttendeeOut(
                member=PersonOut(id=a.member_id, nickname=a.nickname),
                status=a.status,  # type: ignore[arg-type]
                waitlist_position=a.waitlist_position,
                rsvp_at=a.rsvp_at,
                checked_in_at=a.checked_in_at,
            )
            for a in items
        ],
        next_cursor=next_cursor,
        session=_session_out(view),
    )


@router.get("/me/meetups", response_model=MyMeetupPage)
async def my_meetups(
    platform: PlatformDep,
    member: CurrentMember,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> MyMeetupPage:
    """Your seats and waitlist places in sessions not over yet, soonest first."""
    async with platform.db.read() as session:
        items, next_cursor = await meetups.my_meetups(
            session, platform.clock, _viewer(member), limit=limit, cursor=cursor
        )
    return MyMeetupPage(
        items=[
            MyMeetupOut(
                meetup_id=i.meetup_id,
                title=i.title,
                status=i.status,  # type: ignore[arg-type]
                waitlist_position=i.waitlist_position,
                session=_session_out(i.session),
            )
            for i in items
        ],
        next_cursor=next_cursor,
    )
