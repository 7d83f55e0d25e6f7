"""Chat room and meetup pages: a room's history rendered on the server with paging, sending by
the form (and what stops it: log-in, slow mode, a mute), a moderator's delete, members-only
rooms; meetups listed, a session's seats, RSVP, the waitlist and cancelling through the forms,
and the member's own meetups — all as a client of the API."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import Backend, make_settings
from tests.factories.accounts import Member, make_staff, signup_member
from tests.factories.community import make_space
from tests.web._support import member_headers, member_id, sign_up, submit, text_of

from jangteo.core.platform import Platform
from jangteo.settings import Settings

HISTORY_PAGE = 3


@pytest.fixture
def settings(backend: Backend, tmp_path: Path) -> Settings:
    # a short history page, so that a few messages already need the "older" link
    return make_settings(backend, tmp_path, chat_history_page=HISTORY_PAGE)


async def _room(
    client: httpx.AsyncClient, owner: Member, space: str, **fields: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/spaces/{space}/rooms",
        json={"slug": "talk", "name": "수다방", **fields},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _say(client: httpx.AsyncClient, member: Member, room_id: str, body: str) -> None:
    response = await client.post(
        f"/api/v1/rooms/{room_id}/messages", json={"body": body}, headers=member.headers
    )
    assert response.status_code == 201, response.text


async def _history(
    client: httpx.AsyncClient, room_id: str, headers: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/v1/rooms/{room_id}/messages", params={"limit": 100}, headers=headers or {}
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _older_link(html: str) -> str:
    found = re.search(r'href="(/community/rooms/[^"#]+\?before=[^"#]+)#chat-log"', html)
    assert found, "no link to the older messages"
    return found.group(1).replace("&amp;", "&")


# ---- chat rooms -------------------------------------------------------------------------------


async def test_a_room_page_shows_its_history_and_sends_through_the_form(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    talker = await signup_member(client)
    await make_space(client, owner, slug="chat-open", name="열린 수다")
    room = await _room(client, owner, "chat-open", topic="아무 얘기나")
    await _say(client, talker, room["id"], "안녕하세요 <b>반가워요</b>")
    room_path = f"/community/rooms/{room['id']}"

    space_page = await client.get("/community/s/chat-open")
    assert 'href="/community/s/chat-open/rooms"' in space_page.text
    rooms = await client.get("/community/s/chat-open/rooms")
    assert rooms.status_code == 200
    assert f'href="{room_path}"' in rooms.text and "아무 얘기나" in rooms.text

    page = await client.get(room_path)
    assert page.status_code == 200
    text = text_of(page.text)
    assert "수다방" in text and "아무 얘기나" in text and talker.nickname in text
    # the body is text, never markup
    assert "&lt;b&gt;반가워요&lt;/b&gt;" in page.text and "<b>반가워요" not in page.text
    assert "로그인하고 대화하기" in text and 'action="' + room_path + '/messages"' not in page.text
    assert "data-token-url" not in page.text

    # a visitor's send goes to log-in (and back to the room), nothing is stored
    refused = await submit(client, f"{room_path}/messages", {"body": "몰래 한마디"})
    assert refused.status_code == 303
    assert refused.headers["location"] == f"/login?next={room_path}"
    assert [m["body"] for m in await _history(client, room["id"])] == ["안녕하세요 <b>반가워요</b>"]

    me = await sign_up(client)
    page = await client.get(room_path)
    assert f'action="{room_path}/messages"' in page.text
    assert f'data-token-url="{room_path}/socket-token"' in page.text
    assert '<script src="/static/js/chat.js" defer></script>' in page.text
    sent = await submit(client, f"{room_path}/messages", {"body": "폼으로 보낸 인사 🙂"})
    assert sent.status_code == 303 and sent.headers["location"] == f"{room_path}#chat-form"
    history = await _history(client, room["id"])
    assert [m["body"] for m in history] == ["안녕하세요 <b>반가워요</b>", "폼으로 보낸 인사 🙂"]
    assert history[-1]["nickname"] == me["nickname"]
    assert history[-1]["member_id"] == await member_id(client)
    assert "폼으로 보낸 인사 🙂" in text_of((await client.get(room_path)).text)

    empty = await submit(client, f"{room_path}/messages", {"body": "   "})
    assert empty.status_code == 422
    assert "이 메시지는 보낼 수 없습니다." in empty.text and 'aria-invalid="true"' in empty.text
    assert len(await _history(client, room["id"])) == 2

    assert (await client.get("/community/rooms/not-a-room")).status_code == 404
    assert (await client.get(f"/community/rooms/{owner.id}")).status_code == 404
    assert (await client.get("/community/s/nowhere/rooms")).status_code == 404


async def test_the_socket_token_goes_only_to_the_sites_own_pages(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    await make_space(client, owner, slug="chat-token")
    room = await _room(client, owner, "chat-token")
    path = f"/community/rooms/{room['id']}/socket-token"

    visitor = await submit(client, path)
    assert visitor.status_code == 401 and visitor.json() == {"access_token": None}
    await sign_up(client)
    forged = await client.post(path, headers={"Accept": "application/json"})
    assert forged.status_code == 403
    given = await submit(client, path)
    assert given.status_code == 200 and given.headers["cache-control"] == "no-store"
    token = given.json()["access_token"]
    assert token == client.cookies["jt_access"]
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200


async def test_older_messages_are_a_page_back(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    await make_space(client, owner, slug="chat-paging")
    room = await _room(client, owner, "chat-paging")
    for n in range(1, 6):
        await _say(client, owner, room["id"], f"메시지 {n}번")
    await sign_up(client)

    latest = await client.get(f"/community/rooms/{room['id']}")
    shown = re.findall(r"메시지 (\d)번", text_of(latest.text))
    assert shown == ["3", "4", "5"]
    assert "data-token-url" in latest.text

    older = await client.get(_older_link(latest.text))
    assert older.status_code == 200
    assert re.findall(r"메시지 (\d)번", text_of(older.text)) == ["1", "2"]
    assert "최신 메시지" in older.text and "이전 메시지" not in older.text
    # an older page is not live: new messages belong to the latest page
    assert "data-token-url" not in older.text


async def test_slow_mode_and_a_mute_are_shown_next_to_the_form(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    await make_space(client, owner, slug="chat-slow")
    room = await _room(client, owner, "chat-slow")
    tuned = await client.patch(
        f"/api/v1/rooms/{room['id']}", json={"slow_mode_seconds": 30}, headers=owner.headers
    )
    assert tuned.status_code == 200, tuned.text
    await sign_up(client)
    path = f"/community/rooms/{room['id']}/messages"

    assert "30초에 한 번" in text_of((await client.get(f"/community/rooms/{room['id']}")).text)
    assert (await submit(client, path, {"body": "첫 마디"})).status_code == 303
    too_soon = await submit(client, path, {"body": "또 한마디"})
    assert too_soon.status_code == 429
    text = text_of(too_soon.text)
    assert "슬로 모드" in text and "30초 후에 다시 보낼 수 있어요." in text
    assert ">또 한마디</textarea>" in too_soon.text

    muted = await client.post(
        f"/api/v1/rooms/{room['id']}/sanctions",
        json={"member_id": await member_id(client), "kind": "mute"},
        headers=owner.headers,
    )
    assert muted.status_code == 201, muted.text
    platform.clock.advance(seconds=31)  # type: ignore[attr-defined]
    silenced = await submit(client, path, {"body": "들리나요"})
    assert silenced.status_code == 403
    assert "채팅이 금지되어 있습니다" in text_of(silenced.text)
    assert [m["body"] for m in await _history(client, room["id"])] == ["첫 마디"]


async def test_a_moderator_deletes_a_message_from_the_page(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    pest = await signup_member(client)
    await make_space(client, owner, slug="chat-mod")
    room = await _room(client, owner, "chat-mod")
    await _say(client, pest, room["id"], "광고 보고 가세요")
    room_path = f"/community/rooms/{room['id']}"
    [message] = await _history(client, room["id"])
    delete_path = f"{room_path}/messages/{message['id']}/delete"

    await sign_up(client)
    # a plain member sees no delete button, and the API refuses the delete
    assert delete_path not in (await client.get(room_path)).text
    assert (await submit(client, delete_path)).status_code == 403

    assert (await submit(client, "/community/s/chat-mod/join")).status_code == 303
    promoted = await client.post(
        f"/api/v1/spaces/chat-mod/members/{await member_id(client)}/moderation",
        json={"action": "set_role", "role": "moderator"},
        headers=owner.headers,
    )
    assert promoted.status_code == 200, promoted.text
    assert delete_path in (await client.get(room_path)).text
    deleted = await submit(client, delete_path)
    assert deleted.status_code == 303
    [after] = await _history(client, room["id"])
    assert (after["status"], after["body"]) == ("deleted", "")
    page = text_of((await client.get(room_path)).text)
    assert "삭제된 메시지입니다." in page and "광고 보고 가세요" not in page


async def test_a_members_only_room_shows_nothing_to_others(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    await make_space(client, owner, slug="chat-vip", visibility="members_only")
    room = await _room(client, owner, "chat-vip", name="비밀 대화방")
    await _say(client, owner, room["id"], "멤버끼리만 하는 이야기")
    room_path = f"/community/rooms/{room['id']}"

    for who in ("visitor", "outsider"):
        if who == "outsider":
            await sign_up(client)
        page = await client.get(room_path)
        assert page.status_code == 403, who
        assert "채팅방을 열 수 없어요" in page.text
        assert "멤버끼리만 하는 이야기" not in page.text and "비밀 대화방" not in page.text
    rooms = await client.get("/community/s/chat-vip/rooms")
    assert "멤버만 읽을 수 있는 커뮤니티예요." in rooms.text and room_path not in rooms.text
    refused = await submit(client, f"{room_path}/messages", {"body": "들여보내 주세요"})
    assert refused.status_code == 403
    assert len(await _history(client, room["id"], owner.headers)) == 1

    assert (await submit(client, "/community/s/chat-vip/join")).status_code == 303
    page = await client.get(room_path)
    assert page.status_code == 200 and "멤버끼리만 하는 이야기" in page.text


# ---- meetups ----------------------------------------------------------------------------------


async def _meetup(client: httpx.AsyncClient, host: Member, **fields: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/meetups",
        json={"title": "한강 러닝 크루", "description": "매주 목요일 저녁", "topic": "running"}
        | fields,
        headers=host.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _session(
    client: httpx.AsyncClient,
    platform: Platform,
    host: Member,
    meetup_id: str,
    *,
    capacity: int,
    place: str,
) -> dict[str, Any]:
    start = platform.clock.now() + timedelta(hours=48)
    response = await client.post(
        f"/api/v1/meetups/{meetup_id}/sessions",
        json={
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(),
            "place": place,
            "capacity": capacity,
        },
        headers=host.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _my_status(client: httpx.AsyncClient, meetup_id: str) -> dict[str, str | None]:
    response = await client.get(f"/api/v1/meetups/{meetup_id}", headers=member_headers(client))
    assert response.status_code == 200, response.text
    return {s["place"]: s["my_status"] for s in response.json()["sessions"]}


async def test_meetups_are_listed_with_their_sessions(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    home = await client.get("/community")
    assert 'href="/community/meetups"' in home.text
    empty = await client.get("/community/meetups")
    assert empty.status_code == 200 and "예정된 모임이 없어요." in empty.text

    staff = await make_staff(platform, client)
    meetup = await _meetup(client, staff)
    await _session(client, platform, staff, meetup["id"], capacity=12, place="여의나루역 2번 출구")
    for n in range(21):
        other = await _meetup(client, staff, title=f"독서 모임 {n}")
        await _session(client, platform, staff, other["id"], capacity=5, place="망원동 책방")

    listed = await client.get("/community/meetups")
    assert listed.status_code == 200
    assert listed.text.count('class="meetup-card"') == 20
    assert "남은 자리 5석 / 정원 5명" in text_of(listed.text)
    more = re.search(r'href="(/community/meetups\?cursor=[^"]+)"', listed.text)
    assert more, "no link to the next page"
    rest = await client.get(more.group(1).replace("&amp;", "&"))
    assert rest.text.count('class="meetup-card"') == 2
    assert "첫 페이지" in rest.text

    page = await client.get(f"/community/meetups/{meetup['id']}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "한강 러닝 크루" in text and "매주 목요일 저녁" in text and staff.nickname in text
    # 03:00 UTC two days on from the test clock's 2026-11-24 is noon in Seoul
    assert "2026.11.26 12:00 – 2026.11.26 14:00" in text
    assert "여의나루역 2번 출구" in text and "남은 자리 12석 / 정원 12명" in text
    assert "로그인하고 참석 신청하기" in text
    assert (await client.get("/community/meetups/not-an-id")).status_code == 404
    assert (await client.get(f"/community/meetups/{staff.id}")).status_code == 404

    mine = await client.get("/community/me/meetups")
    assert mine.status_code == 303 and mine.headers["location"].startswith("/login")


async def test_rsvp_waitlist_and_cancel_through_the_forms(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    early = await signup_member(client)
    meetup = await _meetup(client, staff, title="필름 카메라 출사")
    small = await _session(client, platform, staff, meetup["id"], capacity=1, place="서촌")
    large = await _session(client, platform, staff, meetup["id"], capacity=5, place="익선동")
    taken = await client.put(f"/api/v1/meetups/sessions/{small['id']}/rsvp", headers=early.headers)
    assert taken.status_code == 200 and taken.json()["status"] == "confirmed"
    page_path = f"/community/meetups/{meetup['id']}"

    visitor = await submit(client, f"{page_path}/sessions/{large['id']}/rsvp")
    assert visitor.status_code == 303 and visitor.headers["location"] == f"/login?next={page_path}"

    await sign_up(client)
    going = await submit(client, f"{page_path}/sessions/{large['id']}/rsvp")
    assert going.status_code == 303
    assert going.headers["location"] == f"{page_path}?rsvp=confirmed#s-{large['id']}"
    full = await submit(client, f"{page_path}/sessions/{small['id']}/rsvp")
    assert full.headers["location"] == f"{page_path}?rsvp=waitlisted#s-{small['id']}"
    assert await _my_status(client, meetup["id"]) == {"서촌": "waitlisted", "익선동": "confirmed"}

    page = text_of((await client.get(f"{page_path}?rsvp=waitlisted")).text)
    assert "정원이 차서 대기자 명단에 올렸어요." in page
    assert "대기 1번" in page and "참석 확정" in page
    assert "마감 (정원 1명) · 대기 1명" in page and "남은 자리 4석 / 정원 5명" in page
    mine = text_of((await client.get("/community/me/meetups")).text)
    assert mine.count("필름 카메라 출사") == 2 and "대기 1번" in mine and "참석 확정" in mine

    cancelled = await submit(client, f"{page_path}/sessions/{large['id']}/cancel")
    assert cancelled.headers["location"] == f"{page_path}?rsvp=cancelled#s-{large['id']}"
    assert (await _my_status(client, meetup["id"]))["익선동"] == "cancelled"

    # the seat the early member gives up goes to the first on the waitlist
    left = await client.delete(
        f"/api/v1/meetups/sessions/{small['id']}/rsvp", headers=early.headers
    )
    assert left.status_code == 200
    assert (await _my_status(client, meetup["id"]))["서촌"] == "confirmed"
    assert "대기 1번" not in text_of((await client.get(page_path)).text)

    # a cancelled session takes no RSVP: the API's reason is shown at the session
    stopped = await client.post(
        f"/api/v1/meetups/sessions/{large['id']}/cancel", headers=staff.headers
    )
    assert stopped.status_code == 200, stopped.text
    refused = await submit(client, f"{page_path}/sessions/{large['id']}/rsvp")
    assert refused.status_code == 409
    assert 'role="alert"' in refused.text and "취소된 모임입니다." in refused.text
    assert (await _my_status(client, meetup["id"]))["익선동"] == "cancelled"
    assert (await submit(client, f"{page_path}/sessions/{large['id']}/leave")).status_code == 404
