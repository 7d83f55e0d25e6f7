"""Offline meetups: sessions with a capacity and a waitlist in arrival order, the waitlist moving
up when a seat frees (also under concurrency), check-in at the door with a perk coupon given
once, members-only spaces, times and validation."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from tests.factories.accounts import Member, make_staff, signup_member
from tests.factories.community import join, make_space
from tests.factories.coupons import make_coupon
from tests.factories.orders import log_in_again

from jangteo.community.models import MeetupRsvp, MeetupSession
from jangteo.core.models import AuditEntry
from jangteo.core.platform import Platform


async def _meetup(client: httpx.AsyncClient, host: Member, **fields: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/meetups",
        json={
            "title": "한강 러닝 크루",
            "description": "매주 목요일 7시",
            "topic": "running",
            **fields,
        },
        headers=host.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


def _times(platform: Platform, hours: float = 48) -> dict[str, str]:
    start = platform.clock.now() + timedelta(hours=hours)
    return {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat()}


async def _add_session(
    client: httpx.AsyncClient, host: Member, meetup_id: str, **fields: Any
) -> httpx.Response:
    return await client.post(
        f"/api/v1/meetups/{meetup_id}/sessions",
        json={"place": "여의나루역 2번 출구", **fields},
        headers=host.headers,
    )


async def _session(
    client: httpx.AsyncClient,
    platform: Platform,
    host: Member,
    meetup_id: str,
    *,
    capacity: int,
    hours: float = 48,
) -> dict[str, Any]:
    response = await _add_session(
        client, host, meetup_id, capacity=capacity, **_times(platform, hours)
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _rsvp(client: httpx.AsyncClient, member: Member, session_id: str) -> httpx.Response:
    return await client.put(f"/api/v1/meetups/sessions/{session_id}/rsvp", headers=member.headers)


async def _cancel(client: httpx.AsyncClient, member: Member, session_id: str) -> httpx.Response:
    return await client.delete(
        f"/api/v1/meetups/sessions/{session_id}/rsvp", headers=member.headers
    )


async def _check_in(
    client: httpx.AsyncClient, door: Member, session_id: str, member: Member
) -> httpx.Response:
    return await client.post(
        f"/api/v1/meetups/sessions/{session_id}/check-in",
        json={"member_id": member.id},
        headers=door.headers,
    )


async def _attendees(
    client: httpx.AsyncClient, viewer: Member, session_id: str, **params: Any
) -> list[dict[str, Any]]:
    """Every page of a session's attendee list."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get(
            f"/api/v1/meetups/sessions/{session_id}/attendees",
            params=query,
            headers=viewer.headers,
        )
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if not cursor:
            return items


async def _session_of(
    client: httpx.AsyncClient, meetup_id: str, session_id: str, member: Member | None = None
) -> dict[str, Any]:
    response = await client.get(
        f"/api/v1/meetups/{meetup_id}", headers=member.headers if member else {}
    )
    assert response.status_code == 200, response.text
    return next(s for s in response.json()["sessions"] if s["id"] == session_id)


async def _stored(platform: Platform, session_id: str) -> tuple[int, int, int]:
    """(confirmed_count, seated RSVPs, waitlisted RSVPs) as the database holds them."""
    sid = uuid.UUID(session_id)
    async with platform.db.read() as session:
        count = await session.scalar(
            select(MeetupSession.confirmed_count).where(MeetupSession.id == sid)
        )
        rows = dict(
            (
                await session.execute(
                    select(MeetupRsvp.status, func.count())
                    .where(MeetupRsvp.session_id == sid)
                    .group_by(MeetupRsvp.status)
                )
            ).all()
        )
    return (
        count or 0,
        rows.get("confirmed", 0) + rows.get("checked_in", 0),
        rows.get("waitlisted", 0),
    )


async def _meetup_notices(client: httpx.AsyncClient, member: Member) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/me/notifications", headers=member.headers)
    assert response.status_code == 200, response.text
    return [n["data"] for n in response.json()["items"] if n["kind"] == "meetup"]


async def test_capacity_waitlist_order_and_a_cancelled_seat_goes_to_the_first_waiting(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    first, second, third, fourth = [await signup_member(client) for _ in range(4)]
    meetup = await _meetup(client, staff)
    run = await _session(client, platform, staff, meetup["id"], capacity=2)
    assert (run["confirmed_count"], run["waitlist_count"], run["status"]) == (0, 0, "open")

    answers = [(await _rsvp(client, m, run["id"])).json() for m in (first, second, third, fourth)]
    assert [(a["status"], a["waitlist_position"]) for a in answers] == [
        ("confirmed", None),
        ("confirmed", None),
        ("waitlisted", 1),
        ("waitlisted", 2),
    ]
    # asking again changes nothing and answers the current place
    again = await _rsvp(client, third, run["id"])
    assert again.status_code == 200
    assert (again.json()["status"], again.json()["waitlist_position"]) == ("waitlisted", 1)
    shown = await _session_of(client, meetup["id"], run["id"], third)
    assert (shown["confirmed_count"], shown["waitlist_count"]) == (2, 2)
    assert shown["my_status"] == "waitlisted"
    assert (await _session_of(client, meetup["id"], run["id"]))["my_status"] is None
    assert await _stored(platform, run["id"]) == (2, 2, 2)

    # a confirmed cancellation hands the seat to the first waiting, who is told
    cancelled = await _cancel(client, first, run["id"])
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["session"]["confirmed_count"] == 2
    assert cancelled.json()["session"]["waitlist_count"] == 1
    assert (await _rsvp(client, third, run["id"])).json()["status"] == "confirmed"
    assert (await _rsvp(client, fourth, run["id"])).json()["waitlist_position"] == 1
    notices = await _meetup_notices(client, third)
    assert [(n["event"], n["session_id"]) for n in notices] == [("promoted", run["id"])]
    assert notices[0]["title"] == "한강 러닝 크루"
    assert await _meetup_notices(client, fourth) == []
    assert await _stored(platform, run["id"]) == (2, 2, 1)

    # cancelling again is a no-op; coming back means the end of the queue
    assert (await _cancel(client, first, run["id"])).json()["status"] == "cancelled"
    back = (await _rsvp(client, first, run["id"])).json()
    assert (back["status"], back["waitlist_position"]) == ("waitlisted", 2)
    # a waitlisted cancellation frees no seat and moves the queue up
    assert (await _cancel(client, fourth, run["id"])).json()["status"] == "cancelled"
    assert (await _rsvp(client, first, run["id"])).json()["waitlist_position"] == 1
    assert await _stored(platform, run["id"]) == (2, 2, 1)

    listed = await _attendees(client, staff, run["id"])
    assert [(a["member"]["nickname"], a["status"], a["waitlist_position"]) for a in listed] == [
        (second.nickname, "confirmed", None),
        (third.nickname, "confirmed", None),
        (first.nickname, "waitlisted", 1),
    ]
    assert [
        a["member"]["id"] for a in await _attendees(client, staff, run["id"], status="cancelled")
    ] == [fourth.id]
    assert (await _cancel(client, fourth, str(uuid.uuid4()))).status_code == 404
    never = await signup_member(client)
    assert (await _cancel(client, never, run["id"])).status_code == 404


async def test_more_capacity_moves_the_waitlist_up_and_less_than_confirmed_is_refused(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    members = [await signup_member(client) for _ in range(4)]
    meetup = await _meetup(client, staff)
    run = await _session(client, platform, staff, meetup["id"], capacity=1)
    for m in members:
        assert (await _rsvp(client, m, run["id"])).status_code == 200
    url = f"/api/v1/meetups/sessions/{run['id']}"

    refused = await client.patch(url, json={"capacity": 3}, headers=members[0].headers)
    assert refused.status_code == 403
    grown = await client.patch(url, json={"capacity": 3}, headers=staff.headers)
    assert grown.status_code == 200, grown.text
    assert (grown.json()["capacity"], grown.json()["confirmed_count"]) == (3, 3)
    assert grown.json()["waitlist_count"] == 1
    assert [len(await _meetup_notices(client, m)) for m in members] == [0, 1, 1, 0]
    listed = await _attendees(client, staff, run["id"])
    assert [a["member"]["id"] for a in listed if a["status"] == "confirmed"] == [
        m.id for m in members[:3]
    ]

    shrunk = await client.patch(url, json={"capacity": 2}, headers=staff.headers)
    assert shrunk.status_code == 409
    assert shrunk.json()["code"] == "meetup-capacity-below-confirmed"
    assert (await client.patch(url, json={"capacity": 0}, headers=staff.headers)).status_code == 422
    moved = await client.patch(url, json={"place": "반포 한강공원"}, headers=staff.headers)
    assert moved.json()["place"] == "반포 한강공원"
    assert moved.json()["capacity"] == 3
    assert await _stored(platform, run["id"]) == (3, 3, 1)


async def test_thirty_members_at_once_get_ten_seats_and_five_cancellations_promote_five(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    members: list[Member] = []
    for _ in range(3):
        members += await asyncio.gather(*(signup_member(client) for _ in range(10)))
    meetup = await _meetup(client, staff)
    run = await _session(client, platform, staff, meetup["id"], capacity=10)

    answers = await asyncio.gather(*(_rsvp(client, m, run["id"]) for m in members))

    assert [r.status_code for r in answers] == [200] * 30
    statuses = [r.json()["status"] for r in answers]
    assert (statuses.count("confirmed"), statuses.count("waitlisted")) == (10, 20)
    assert sorted(
        r.json()["waitlist_position"] for r in answers if r.json()["waitlist_position"]
    ) == list(range(1, 21))
    assert await _stored(platform, run["id"]) == (10, 10, 20)
    shown = await _session_of(client, meetup["id"], run["id"])
    assert (shown["confirmed_count"], shown["waitlist_count"]) == (10, 20)

    listed = await _attendees(client, staff, run["id"], limit=7)
    by_id = {m.id: m for m in members}
    seated = [by_id[a["member"]["id"]] for a in listed if a["status"] == "confirmed"]
    queue = [a["member"]["id"] for a in listed if a["status"] == "waitlisted"]
    assert [a["waitlist_position"] for a in listed if a["status"] == "waitlisted"] == list(
        range(1, 21)
    )

    leaving = await asyncio.gather(*(_cancel(client, m, run["id"]) for m in seated[:5]))

    assert [r.status_code for r in leaving] == [200] * 5
    assert await _stored(platform, run["id"]) == (10, 10, 15)
    after = await _attendees(client, staff, run["id"])
    confirmed = {a["member"]["id"] for a in after if a["status"] == "confirmed"}
    # exactly the first five of the queue moved up, in its order
    assert confirmed == {m.id for m in seated[5:]} | set(queue[:5])
    assert [a["member"]["id"] for a in after if a["status"] == "waitlisted"] == queue[5:]
    promoted = [m for m in members if await _meetup_notices(client, m)]
    assert {m.id for m in promoted} == set(queue[:5])


async def test_check_in_only_confirmed_members_once_with_the_perk_coupon_once(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    attendee, waiting, stranger = [await signup_member(client) for _ in range(3)]
    # the coupon would allow more copies: the check-in, not the coupon's limit, gives one
    perk = await make_coupon(platform, code=None, name="러닝 크루 10% 할인", per_member_limit=5)
    meetup = await _meetup(client, staff, perk_coupon_id=str(perk.id))
    assert meetup["perk_coupon_id"] == str(perk.id)
    run = await _session(client, platform, staff, meetup["id"], capacity=1)
    assert (await _rsvp(client, attendee, run["id"])).json()["status"] == "confirmed"
    assert (await _rsvp(client, waiting, run["id"])).json()["status"] == "waitlisted"

    assert (await _check_in(client, attendee, run["id"], attendee)).status_code == 403
    not_confirmed = await _check_in(client, staff, run["id"], waiting)
    assert not_confirmed.status_code == 409
    assert not_confirmed.json()["code"] == "rsvp-not-confirmed"
    assert (await _check_in(client, staff, run["id"], stranger)).status_code == 404

    first = await _check_in(client, staff, run["id"], attendee)
    assert first.status_code == 200, first.text
    assert first.json()["member"] == {"id": attendee.id, "nickname": attendee.nickname}
    assert (first.json()["status"], first.json()["perk"]) == ("checked_in", "issued")
    second = await _check_in(client, staff, run["id"], attendee)
    assert second.status_code == 200
    assert second.json()["perk"] is None
    assert second.json()["checked_in_at"] == first.json()["checked_in_at"]

    wallet = await client.get("/api/v1/coupons", headers=attendee.headers)
    assert [c["coupon_id"] for c in wallet.json()["items"]] == [str(perk.id)]
    assert (await client.get("/api/v1/coupons", headers=waiting.headers)).json()["items"] == []
    async with platform.db.read() as session:
        audits = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "community.meetup.check_in")
        )
    assert audits == 1

    # checked in: no backing out, and the seat stays taken
    refused = await _cancel(client, attendee, run["id"])
    assert refused.status_code == 409
    assert refused.json()["code"] == "already-checked-in"
    listed = await _attendees(client, staff, run["id"])
    assert [(a["member"]["id"], a["status"]) for a in listed] == [
        (attendee.id, "checked_in"),
        (waiting.id, "waitlisted"),
    ]
    assert listed[0]["checked_in_at"] is not None
    assert [
        a["member"]["id"] for a in await _attendees(client, staff, run["id"], status="checked_in")
    ] == [attendee.id]
    assert await _stored(platform, run["id"]) == (1, 1, 1)
    refused_list = await client.get(
        f"/api/v1/meetups/sessions/{run['id']}/attendees", headers=attendee.headers
    )
    assert refused_list.status_code == 403


async def test_a_perk_coupon_that_ran_out_does_not_stop_the_check_in(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    attendee = await signup_member(client)
    perk = await make_coupon(platform, ends_at=platform.clock.now() + timedelta(hours=1))
    meetup = await _meetup(client, staff, perk_coupon_id=str(perk.id))
    run = await _session(client, platform, staff, meetup["id"], capacity=5, hours=0.5)
    assert (await _rsvp(client, attendee, run["id"])).status_code == 200
    platform.clock.advance(hours=2)  # the coupon has expired by the time of the meetup
    door = await make_staff(platform, client)  # a fresh log-in: the first one's tokens expired

    done = await _check_in(client, door, run["id"], attendee)
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["perk"]) == ("checked_in", "unavailable")
    await log_in_again(client, attendee)
    expired = await client.get(
        "/api/v1/coupons", params={"status": "expired"}, headers=attendee.headers
    )
    assert expired.json()["items"] == []


async def test_no_rsvp_or_cancellation_once_the_session_has_started(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    early, late = await signup_member(client), await signup_member(client)
    meetup = await _meetup(client, staff)
    run = await _session(client, platform, staff, meetup["id"], capacity=5, hours=1)
    later = await _session(client, platform, staff, meetup["id"], capacity=5, hours=30)
    assert (await _rsvp(client, early, run["id"])).status_code == 200
    assert (await _rsvp(client, early, later["id"])).json()["status"] == "confirmed"
    mine = (await client.get("/api/v1/me/meetups", headers=early.headers)).json()
    assert [i["session"]["id"] for i in mine["items"]] == [run["id"], later["id"]]
    assert mine["items"][0]["title"] == "한강 러닝 크루"

    platform.clock.advance(hours=1)
    await log_in_again(client, early)
    await log_in_again(client, late)
    started = await _rsvp(client, late, run["id"])
    assert started.status_code == 409
    assert started.json()["code"] == "meetup-session-started"
    stuck = await _cancel(client, early, run["id"])
    assert stuck.status_code == 409
    assert stuck.json()["code"] == "meetup-session-started"
    assert await _stored(platform, run["id"]) == (1, 1, 0)
    # the session under way is still "mine" until it ends
    ongoing = (await client.get("/api/v1/me/meetups", headers=early.headers)).json()
    assert len(ongoing["items"]) == 2

    platform.clock.advance(hours=3)
    await log_in_again(client, early)
    mine = (await client.get("/api/v1/me/meetups", headers=early.headers)).json()
    assert [i["session"]["id"] for i in mine["items"]] == [later["id"]]
    upcoming = (await client.get("/api/v1/meetups", params={"upcoming": "true"})).json()
    assert upcoming["items"][0]["next_session"]["id"] == later["id"]


async def test_a_cancelled_session_tells_its_members_and_takes_no_rsvp(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    seated, waiting, late = [await signup_member(client) for _ in range(3)]
    meetup = await _meetup(client, staff, title="CGV 필름 클럽", topic="film")
    run = await _session(client, platform, staff, meetup["id"], capacity=1)
    await _rsvp(client, seated, run["id"])
    await _rsvp(client, waiting, run["id"])
    url = f"/api/v1/meetups/sessions/{run['id']}/cancel"

    assert (await client.post(url, headers=seated.headers)).status_code == 403
    cancelled = await client.post(url, headers=staff.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert (await client.post(url, headers=staff.headers)).json()["status"] == "cancelled"
    for member in (seated, waiting):
        notices = await _meetup_notices(client, member)
        assert [n["event"] for n in notices] == ["session_cancelled"]
    refused = await _rsvp(client, late, run["id"])
    assert refused.status_code == 409
    assert refused.json()["code"] == "meetup-session-cancelled"
    assert (await client.get("/api/v1/me/meetups", headers=seated.headers)).json()["items"] == []
    upcoming = await client.get("/api/v1/meetups", params={"upcoming": "true"})
    assert upcoming.json()["items"] == []
    assert (await client.get("/api/v1/meetups")).json()["items"][0]["next_session"] is None


async def test_a_members_only_space_keeps_its_meetups_to_its_members(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    creator = await make_staff(platform, client, roles=("creator",))
    insider, outsider = await signup_member(client), await signup_member(client)
    await make_space(client, creator, slug="crew", visibility="members_only")
    assert (await join(client, insider, "crew")).status_code == 200

    # a space's moderators host in their space; nobody else does, and only staff host outside one
    for who, fields in ((insider, {"space": "crew"}), (outsider, {}), (creator, {})):
        refused = await client.post(
            "/api/v1/meetups", json={"title": "모임", **fields}, headers=who.headers
        )
        assert refused.status_code == 403, refused.text
    meetup = await _meetup(client, creator, space="crew", title="크루 정기런")
    assert meetup["space"]["slug"] == "crew"
    assert meetup["can_manage"] is True
    run = await _session(client, platform, creator, meetup["id"], capacity=10)
    public = await _meetup(client, await make_staff(platform, client), title="공개 러닝")

    assert [m["id"] for m in (await client.get("/api/v1/meetups")).json()["items"]] == [
        public["id"]
    ]
    outside = await client.get("/api/v1/meetups", headers=outsider.headers)
    assert [m["id"] for m in outside.json()["items"]] == [public["id"]]
    inside = await client.get("/api/v1/meetups", headers=insider.headers)
    assert [m["id"] for m in inside.json()["items"]] == [public["id"], meetup["id"]]
    peek = await client.get(f"/api/v1/meetups/{meetup['id']}", headers=outsider.headers)
    assert peek.status_code == 403
    assert (await client.get(f"/api/v1/meetups/{meetup['id']}")).status_code == 403
    assert (await _rsvp(client, outsider, run["id"])).status_code == 403
    assert await _stored(platform, run["id"]) == (0, 0, 0)

    seen = await client.get(f"/api/v1/meetups/{meetup['id']}", headers=insider.headers)
    assert seen.status_code == 200
    assert seen.json()["can_manage"] is False
    assert (await _rsvp(client, insider, run["id"])).json()["status"] == "confirmed"
    # the space's owner manages it without being staff
    listed = await _attendees(client, creator, run["id"])
    assert [a["member"]["nickname"] for a in listed] == [insider.nickname]
    assert (await _check_in(client, creator, run["id"], insider)).json()["perk"] is None


async def test_bad_sessions_and_meetups_are_refused_and_change_nothing(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    member = await signup_member(client)
    meetup = await _meetup(client, staff)
    now = platform.clock.now()
    cases = [
        {
            "starts_at": (now + timedelta(hours=5)).isoformat(),
            "ends_at": (now + timedelta(hours=4)).isoformat(),
            "capacity": 10,
        },
        {**_times(platform), "capacity": 0},
        {**_times(platform), "capacity": 10001},
        {**_times(platform, hours=-1), "capacity": 10},
        {"starts_at": "2026-12-01T10:00:00", "ends_at": "2026-12-01T12:00:00", "capacity": 10},
    ]
    for body in cases:
        answer = await _add_session(client, staff, meetup["id"], **body)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    assert (
        await _add_session(client, member, meetup["id"], **_times(platform), capacity=5)
    ).status_code == 403
    assert (await client.get(f"/api/v1/meetups/{meetup['id']}")).json()["sessions"] == []

    unknown = await client.post(
        "/api/v1/meetups",
        json={"title": "혜택 모임", "perk_coupon_id": str(uuid.uuid4())},
        headers=staff.headers,
    )
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "unknown-perk-coupon"
    blank = await client.post("/api/v1/meetups", json={"title": " "}, headers=staff.headers)
    assert blank.status_code == 422
    assert [m["id"] for m in (await client.get("/api/v1/meetups")).json()["items"]] == [
        meetup["id"]
    ]
    assert (await client.get(f"/api/v1/meetups/{uuid.uuid4()}")).status_code == 404
    assert (await _rsvp(client, member, str(uuid.uuid4()))).status_code == 404
    assert (await client.get("/api/v1/meetups", params={"cursor": "%%%"})).status_code == 400


async def test_the_list_filters_by_topic_and_pages_newest_first(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    runs = [(await _meetup(client, staff, title=f"러닝 {n}"))["id"] for n in range(3)]
    films = [
        (await _meetup(client, staff, title=f"필름 {n}", topic="film"))["id"] for n in range(2)
    ]
    later = await _session(client, platform, staff, films[0], capacity=3, hours=72)
    soon = await _session(client, platform, staff, films[0], capacity=3, hours=24)

    ids, cursor = [], None
    while True:
        page = await client.get(
            "/api/v1/meetups",
            params={"topic": "running", "limit": 2, **({"cursor": cursor} if cursor else {})},
        )
        ids += [m["id"] for m in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if not cursor:
            break
    assert ids == runs[::-1]
    upcoming = await client.get("/api/v1/meetups", params={"upcoming": "true", "topic": "film"})
    [only] = upcoming.json()["items"]
    assert only["id"] == films[0]
    assert only["next_session"]["id"] == soon["id"]
    detail = await client.get(f"/api/v1/meetups/{films[0]}")
    assert [s["id"] for s in detail.json()["sessions"]] == [soon["id"], later["id"]]
