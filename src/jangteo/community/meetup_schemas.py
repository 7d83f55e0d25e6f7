"""Request and response models of offline meetups: the public contract."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints, model_validator

from jangteo.community.schemas import Description, Request, SpaceRef

MeetupTitle = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Topic = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)]
Place = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Capacity = Annotated[int, Field(ge=1, le=10000)]
RsvpStatus = Literal["confirmed", "waitlisted", "cancelled", "checked_in"]
SessionStatus = Literal["open", "cancelled"]


class MeetupCreate(Request):
    title: MeetupTitle
    description: Description = ""
    topic: Topic = Field("", description="e.g. running, film; the list filters on it")
    space: str | None = Field(
        None, max_length=80, description="slug or id; members-only spaces keep it to members"
    )
    perk_coupon_id: uuid.UUID | None = Field(
        None, description="a coupon given to each attendee once checked in"
    )


class SessionCreate(Request):
    starts_at: AwareDatetime = Field(description="in the future")
    ends_at: AwareDatetime = Field(description="after starts_at")
    place: Place
    capacity: Capacity

    @model_validator(mode="after")
    def _ends_after_start(self) -> SessionCreate:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class SessionUpdate(Request):
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    place: Place | None = None
    capacity: Capacity | None = Field(
        None, description="may grow (the waitlist moves up) but not below the confirmed members"
    )


class CheckInRequest(Request):
    member_id: uuid.UUID


class PersonOut(BaseModel):
    id: uuid.UUID
    nickname: str


class SessionOut(BaseModel):
    id: uuid.UUID
    meetup_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    place: str
    capacity: int
    confirmed_count: int = Field(description="confirmed and checked-in members")
    waitlist_count: int
    status: SessionStatus
    my_status: RsvpStatus | None = Field(description="your RSVP; null when you have none")


class MeetupOut(BaseModel):
    id: uuid.UUID
    title: str
    description: str
    topic: str
    space: SpaceRef | None
    host: PersonOut
    perk_coupon_id: uuid.UUID | None
    status: str
    can_manage: bool = Field(description="you may add sessions, check members in, see attendees")
    created_at: datetime
    sessions: list[SessionOut] = Field(description="by start time, past and cancelled ones too")


class MeetupSummary(BaseModel):
    id: uuid.UUID
    title: str
    topic: str
    space: SpaceRef | None
    perk: bool = Field(description="attendees get a coupon at check-in")
    next_session: SessionOut | None = Field(description="the next open session not yet started")
    created_at: datetime


class MeetupPage(BaseModel):
    items: list[MeetupSummary]
    next_cursor: str | None


class RsvpOut(BaseModel):
    status: RsvpStatus
    waitlist_position: int | None = Field(description="1 for the next to move up; null if not")
    checked_in_at: datetime | None
    session: SessionOut


class CheckInOut(BaseModel):
    member: PersonOut
    status: RsvpStatus
    checked_in_at: datetime
    perk: Literal["issued", "unavailable"] | None = Field(
        description="issued: the coupon went to the member's wallet with this check-in; "
        "unavailable: the coupon could not be given (expired, used up, already held); "
        "null: no perk, or the member had already been checked in"
    )


class AttendeeOut(BaseModel):
    member: PersonOut
    status: RsvpStatus
    waitlist_position: int | None
    rsvp_at: datetime
    checked_in_at: datetime | None


class AttendeePage(BaseModel):
    items: list[AttendeeOut] = Field(description="in arrival order")
    next_cursor: str | None
    session: SessionOut


class MyMeetupOut(BaseModel):
    meetup_id: uuid.UUID
    title: str
    status: RsvpStatus
    waitlist_position: int | None
    session: SessionOut


class MyMeetupPage(BaseModel):
    items: list[MyMeetupOut] = Field(description="by start time, soonest first")
    next_cursor: str | None
