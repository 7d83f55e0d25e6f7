"""Topic chat rooms: who may enter and speak (the space's rules), slow mode, the rate limit, the
abuse filter, moderation (delete, mute, ban), history pages, and the WebSocket, live across two
app processes when Redis is configured."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select
from tests.factories.accounts import Member, make_staff, signup_member
from tests.factories.community import join, make_space
from tests.serving import serving
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from jangteo.bootstrap import build_platform
from jangteo.community.chat import check_message
from jangteo.core.clock import FrozenClock
from jangteo.core.errors import DomainError
from jangteo.core.models import AuditEntry
from jangteo.core.platform import Platform


async def _make_room(
    client: httpx.AsyncClient, moderator: Member, space: str, slug: str = "talk", **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/spaces/{space}/rooms",
        json={"slug": slug, "name": extra.pop("name", "수다방"), **extra},
        headers=moderator.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _send(
    client: httpx.AsyncClient, member: Member | None, room_id: str, body: str
) -> httpx.Response:
    return await client.post(
        f"/api/v1/rooms/{room_id}/messages",
        json={"body": body},
        headers=member.headers if member else {},
    )


async def _sent(client: httpx.AsyncClient, member: Member, room_id: str, body: str) -> dict:
    response = await _send(client, member, room_id, body)
    assert response.status_code == 201, response.text
    return response.json()


async def _history(
    client: httpx.AsyncClient, member: Member | None, room_id: str, **params: Any
) -> httpx.Response:
    return await client.get(
        f"/api/v1/rooms/{room_id}/messages",
        params=params,
        headers=member.headers if member else {},
    )


async def _bodies(client: httpx.AsyncClient, member: Member | None, room_id: str) -> list[str]:
    response = await _history(client, member, room_id)
    assert response.status_code == 200, response.text
    return [m["body"] for m in response.json()["items"]]


async def _moderate(
    client: httpx.AsyncClient, owner: Member, space: str, member: Member, **body: Any
) -> None:
    response = await client.post(
        f"/api/v1/spaces/{space}/members/{member.id}/moderation", json=body, headers=owner.headers
    )
    assert response.status_code == 200, response.text


async def _sanction(
    client: httpx.AsyncClient, moderator: Member, room_id: str, member: Member, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/api/v1/rooms/{room_id}/sanctions",
        json={"member_id": member.id, **body},
        headers=moderator.headers,
    )


def _problem(response: httpx.Response) -> str:
    return str(response.json()["type"]).removeprefix("/problems/")


async def _audit_actions(platform: Platform, target_id: str) -> list[str]:
    async with platform.db.read() as session:
        rows = await session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.target_id == target_id)
            .order_by(AuditEntry.id)
        )
        return list(rows)


# ---- rooms ------------------------------------------------------------------------------------


async def test_moderators_create_and_tune_rooms(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    moderator, member = await signup_member(client), await signup_member(client)
    await make_space(client, owner, slug="chat-home")
    assert (await join(client, moderator, "chat-home")).status_code == 200
    await _moderate(client, owner, "chat-home", moderator, action="set_role", role="moderator")

    daily = await _make_room(client, owner, "chat-home", "daily", topic="아무 얘기나")
    assert (daily["topic"], daily["slow_mode_seconds"]) == ("아무 얘기나", 0)
    deals = await _make_room(client, moderator, "chat-home", "deals", name="핫딜")
    refused = await client.post(
        "/api/v1/spaces/chat-home/rooms",
        json={"slug": "mine", "name": "내 방"},
        headers=member.headers,
    )
    assert refused.status_code == 403
    taken = await client.post(
        "/api/v1/spaces/chat-home/rooms",
        json={"slug": "daily", "name": "또"},
        headers=owner.headers,
    )
    assert taken.status_code == 409 and _problem(taken) == "room-slug-taken"
    bad = await client.post(
        "/api/v1/spaces/chat-home/rooms",
        json={"slug": "a b", "name": "", "extra": 1},
        headers=owner.headers,
    )
    assert bad.status_code == 422
    assert (await client.post("/api/v1/spaces/chat-home/rooms", json={})).status_code == 401

    first = await client.get("/api/v1/spaces/chat-home/rooms", params={"limit": 1})
    assert [r["id"] for r in first.json()["items"]] == [daily["id"]]
    rest = await client.get(
        "/api/v1/spaces/chat-home/rooms", params={"cursor": first.json()["next_cursor"]}
    )
    assert [r["id"] for r in rest.json()["items"]] == [deals["id"]]
    assert rest.json()["next_cursor"] is None
    assert (await client.get("/api/v1/spaces/nowhere/rooms")).status_code == 404

    path = f"/api/v1/rooms/{daily['id']}"
    assert (
        await client.patch(path, json={"slow_mode_seconds": 5}, headers=member.headers)
    ).status_code == 403
    for wrong in (3601, -1):
        too_slow = await client.patch(
            path, json={"slow_mode_seconds": wrong}, headers=moderator.headers
        )
        assert too_slow.status_code == 422
    tuned = await client.patch(
        path, json={"slow_mode_seconds": 30, "topic": "천천히"}, headers=moderator.headers
    )
    assert tuned.status_code == 200, tuned.text
    assert (tuned.json()["slow_mode_seconds"], tuned.json()["name"]) == (30, "수다방")
    assert (await client.get(path)).json()["topic"] == "천천히"
    assert await _audit_actions(platform, daily["id"]) == ["community.chat.room.update"]
    assert (await client.get(f"/api/v1/rooms/{uuid.uuid4()}")).status_code == 404


async def test_who_reads_and_speaks_follows_the_space(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    staff = await make_staff(platform, client)
    outsider, insider, pest, hushed = [await signup_member(client) for _ in range(4)]
    rooms = {}
    for slug, visibility in (
        ("open-chat", "public"),
        ("read-chat", "members_write"),
        ("secret-chat", "members_only"),
    ):
        await make_space(client, owner, slug=slug, visibility=visibility)
        rooms[slug] = (await _make_room(client, owner, slug))["id"]
    for member in (insider, pest, hushed):
        for slug in ("read-chat", "secret-chat"):
            assert (await join(client, member, slug)).status_code == 200

    # public: anyone reads, any logged-in member speaks without joining
    assert (await client.get("/api/v1/spaces/open-chat/rooms")).status_code == 200
    await _sent(client, outsider, rooms["open-chat"], "안녕하세요")
    assert await _bodies(client, None, rooms["open-chat"]) == ["안녕하세요"]
    assert (await _send(client, None, rooms["open-chat"], "몰래")).status_code == 401

    # members write: anyone reads, members of the space speak
    await _sent(client, insider, rooms["read-chat"], "회원 인사")
    assert await _bodies(client, outsider, rooms["read-chat"]) == ["회원 인사"]
    refused = await _send(client, outsider, rooms["read-chat"], "저도요")
    assert refused.status_code == 403 and _problem(refused) == "not-space-member"

    # members only: outsiders and visitors see neither the rooms nor the messages
    secret = rooms["secret-chat"]
    await _sent(client, insider, secret, "우리끼리")
    for headers in ({}, outsider.headers):
        listed = await client.get("/api/v1/spaces/secret-chat/rooms", headers=headers)
        assert listed.status_code == 403
        assert (await client.get(f"/api/v1/rooms/{secret}", headers=headers)).status_code == 403
    assert (await _history(client, outsider, secret)).status_code == 403
    assert (await _send(client, outsider, secret, "들어가도 돼요?")).status_code == 403
    listed = await client.get("/api/v1/spaces/secret-chat/rooms", headers=insider.headers)
    assert [r["id"] for r in listed.json()["items"]] == [secret]
    # staff read and speak everywhere
    await _sent(client, staff, secret, "운영팀입니다")

    # banned from the space: nothing; muted in the space: reads, does not speak
    await _moderate(client, owner, "secret-chat", pest, action="ban", reason="도배")
    await _moderate(client, owner, "secret-chat", hushed, action="mute", minutes=30)
    listed = await client.get("/api/v1/spaces/secret-chat/rooms", headers=pest.headers)
    assert listed.status_code == 403 and _problem(listed) == "banned-from-space"
    assert _problem(await _history(client, pest, secret)) == "banned-from-space"
    assert _problem(await _send(client, pest, secret, "왜요")) == "banned-from-space"
    muted = await _send(client, hushed, secret, "말할래요")
    assert muted.status_code == 403 and _problem(muted) == "muted-in-space"
    assert await _bodies(client, hushed, secret) == ["우리끼리", "운영팀입니다"]


# ---- sending: slow mode, the rate limit, the abuse filter ------------------------------------


async def test_slow_mode_per_member_and_room(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    fast, other = await signup_member(client), await signup_member(client)
    racers = [await signup_member(client) for _ in range(3)]
    await make_space(client, owner, slug="slow-chat")
    room = (await _make_room(client, owner, "slow-chat", "slow"))["id"]
    free = (await _make_room(client, owner, "slow-chat", "free"))["id"]
    tuned = await client.patch(
        f"/api/v1/rooms/{room}", json={"slow_mode_seconds": 30}, headers=owner.headers
    )
    assert tuned.status_code == 200

    await _sent(client, fast, room, "첫 메시지")
    again = await _send(client, fast, room, "또")
    assert again.status_code == 429 and _problem(again) == "chat-slow-mode"
    assert again.headers["Retry-After"] == "30"
    await _sent(client, other, room, "저는 처음이에요")  # per member
    await _sent(client, fast, free, "여긴 슬로 모드가 아니에요")  # per room
    for n in range(2):  # moderators are not slowed down
        await _sent(client, owner, room, f"공지 {n}")

    clock.advance(seconds=29)
    almost = await _send(client, fast, room, "아직?")
    assert almost.status_code == 429 and almost.headers["Retry-After"] == "1"
    clock.advance(seconds=1)
    await _sent(client, fast, room, "이제 돼요")

    # five sends at once by one member: slow mode lets exactly one through (a few rounds, as
    # the first requests on fresh connections tend to run one after another)
    for racer in racers:
        answers = await asyncio.gather(*(_send(client, racer, room, f"동시 {n}") for n in range(5)))
        assert sorted(a.status_code for a in answers) == [201, 429, 429, 429, 429]
    bodies = await _bodies(client, owner, room)
    assert bodies[:5] == ["첫 메시지", "저는 처음이에요", "공지 0", "공지 1", "이제 돼요"]
    assert len(bodies) == 8 and all(b.startswith("동시 ") for b in bodies[5:])


async def test_members_are_rate_limited(client: httpx.AsyncClient, platform: Platform) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    chatty, calm = await signup_member(client), await signup_member(client)
    await make_space(client, owner, slug="busy-chat")
    room = (await _make_room(client, owner, "busy-chat"))["id"]
    limit = platform.settings.chat_rate_per_10s
    for n in range(limit):
        await _sent(client, chatty, room, f"메시지 {n}")
    over = await _send(client, chatty, room, "하나 더")
    assert over.status_code == 429 and _problem(over) == "rate-limited"
    assert int(over.headers["Retry-After"]) >= 1
    await _sent(client, calm, room, "저는 괜찮아요")
    assert len(await _bodies(client, calm, room)) == limit + 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("\u200b\u200b", "empty"),
        ("가" * 1001, "too-long"),
        ("https://a.kr https://b.kr https://c.kr www.d.kr", "too-many-links"),
        ("이거 보세요 http://grabify.link/abc", "suspicious-link"),
        ("https://Shop.IPLOGGER.org/x", "suspicious-link"),
        ("www.grabify.link/a", "suspicious-link"),
        ("https://xn--shp-2ka.kr/login 로그인하세요", "suspicious-link"),
        ("https://\u0455hop.kr/login", "suspicious-link"),  # a Cyrillic ѕ
        ("http://192.168.0.1/login", "suspicious-link"),
        ("http://[::1]:8080/x", "suspicious-link"),
        ("http://3232235521/", "suspicious-link"),
        ("http://0xC0A80001/", "suspicious-link"),
        ("https://shop.kr@203.0.113.5/login", "suspicious-link"),
        ("http://[::1/x", "suspicious-link"),
    ],
)
def test_the_abuse_filter_refuses(body: str, reason: str) -> None:
    with pytest.raises(DomainError) as refused:
        check_message(body)
    assert refused.value.slug == "message-refused"
    assert refused.value.status == 422
    assert refused.value.extra["reason"] == reason


@pytest.mark.parametrize(
    "body",
    [
        "안녕하세요 👋",
        "  " + "가" * 1000 + "  ",
        "https://a.kr https://b.kr/x?y=1 www.c.kr 세 개까지는 괜찮아요",
        "이 상품 https://shop.example.com/p/1 어때요? 버전 1.2.3 나왔어요",
        "example.com 은 링크가 아니에요",
    ],
)
def test_the_abuse_filter_lets_ordinary_messages_through(body: str) -> None:
    check_message(body)


async def test_refused_messages_are_not_stored(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    member = await signup_member(client)
    await make_space(client, owner, slug="clean-chat")
    room = (await _make_room(client, owner, "clean-chat"))["id"]
    for body in ("   ", "x" * 1001, "http://grabify.link/a", "http://10.0.0.1/"):
        refused = await _send(client, member, room, body)
        assert refused.status_code == 422, body
        assert _problem(refused) == "message-refused"
        assert refused.headers["content-type"].startswith("application/problem+json")
    stored = await _sent(client, member, room, "  공백은 다듬어요  ")
    assert stored["body"] == "공백은 다듬어요"
    assert await _bodies(client, member, room) == ["공백은 다듬어요"]
    malformed = await client.post(
        f"/api/v1/rooms/{room}/messages", json={"body": 3}, headers=member.headers
    )
    assert malformed.status_code == 422
    missing = await _send(client, member, str(uuid.uuid4()), "어디?")
    assert missing.status_code == 404


# ---- moderation -------------------------------------------------------------------------------


async def test_moderators_delete_mute_and_ban(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    moderator, member, troll = [await signup_member(client) for _ in range(3)]
    await make_space(client, owner, slug="mod-chat")
    assert (await join(client, moderator, "mod-chat")).status_code == 200
    await _moderate(client, owner, "mod-chat", moderator, action="set_role", role="moderator")
    room = (await _make_room(client, owner, "mod-chat"))["id"]
    spam = await _sent(client, troll, room, "광고입니다")
    kept = await _sent(client, member, room, "좋은 글")

    # members cannot moderate
    path = f"/api/v1/rooms/{room}/messages/{spam['id']}"
    assert (await client.delete(path, headers=member.headers)).status_code == 403
    assert (await client.delete(path, headers=troll.headers)).status_code == 403
    refused = await _sanction(client, member, room, troll, kind="ban")
    assert refused.status_code == 403
    listed = await client.get(f"/api/v1/rooms/{room}/sanctions", headers=member.headers)
    assert listed.status_code == 403

    # delete: stays in the history, emptied, audited with what it said
    assert (await client.delete(path, headers=moderator.headers)).status_code == 204
    assert (await client.delete(path, headers=moderator.headers)).status_code == 204
    items = (await _history(client, member, room)).json()["items"]
    assert [(m["id"], m["status"], m["body"]) for m in items] == [
        (spam["id"], "deleted", ""),
        (kept["id"], "visible", "좋은 글"),
    ]
    assert await _audit_actions(platform, spam["id"]) == ["community.chat.message.delete"]
    other_room = (await _make_room(client, owner, "mod-chat", "other"))["id"]
    misplaced = await client.delete(
        f"/api/v1/rooms/{other_room}/messages/{kept['id']}", headers=moderator.headers
    )
    assert misplaced.status_code == 404

    # mute: reads, does not speak, until the time is up
    muted = await _sanction(client, moderator, room, troll, kind="mute", minutes=10, reason="광고")
    assert muted.status_code == 201, muted.text
    assert muted.json()["until"].startswith("2026-11-24T03:10")
    silenced = await _send(client, troll, room, "왜요")
    assert silenced.status_code == 403 and _problem(silenced) == "muted-in-room"
    assert (await _history(client, troll, room)).status_code == 200
    await _sent(client, troll, other_room, "다른 방은 괜찮아요")
    listed = await client.get(f"/api/v1/rooms/{room}/sanctions", headers=moderator.headers)
    assert [(s["member_id"], s["kind"]) for s in listed.json()["items"]] == [(troll.id, "mute")]
    clock.advance(minutes=10)
    await _sent(client, troll, room, "다시 왔어요")
    listed = await client.get(f"/api/v1/rooms/{room}/sanctions", headers=moderator.headers)
    assert listed.json()["items"] == []

    # ban: no entry at all until lifted
    banned = await _sanction(client, moderator, room, troll, kind="ban", reason="반복 광고")
    assert banned.status_code == 201 and banned.json()["until"] is None
    assert _problem(await _history(client, troll, room)) == "banned-from-room"
    assert _problem(await _send(client, troll, room, "열어줘요")) == "banned-from-room"
    assert (await client.get(f"/api/v1/rooms/{room}", headers=troll.headers)).status_code == 403
    lifted = await client.delete(
        f"/api/v1/rooms/{room}/sanctions/{troll.id}",
        params={"kind": "ban"},
        headers=member.headers,
    )
    assert lifted.status_code == 403
    lifted = await client.delete(
        f"/api/v1/rooms/{room}/sanctions/{troll.id}",
        params={"kind": "ban"},
        headers=moderator.headers,
    )
    assert lifted.status_code == 204
    await _sent(client, troll, room, "조심할게요")

    # nobody sanctions themselves or the space's owner; an unknown member is 404
    assert (await _sanction(client, moderator, room, moderator, kind="mute")).status_code == 422
    assert (await _sanction(client, moderator, room, owner, kind="ban")).status_code == 403
    unknown = await client.post(
        f"/api/v1/rooms/{room}/sanctions",
        json={"member_id": str(uuid.uuid4()), "kind": "ban"},
        headers=moderator.headers,
    )
    assert unknown.status_code == 404
    bad = await _sanction(client, moderator, room, troll, kind="kick", minutes=0)
    assert bad.status_code == 422
    assert await _audit_actions(platform, room) == [
        "community.chat.mute",
        "community.chat.ban",
        "community.chat.unban",
    ]


# ---- history ----------------------------------------------------------------------------------


async def test_history_pages_newest_first_without_blocked_members(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    alice, bob, reader = [await signup_member(client) for _ in range(3)]
    await make_space(client, owner, slug="log-chat")
    room = (await _make_room(client, owner, "log-chat"))["id"]
    sent = []
    for n in range(7):
        sent.append(await _sent(client, alice if n % 2 == 0 else bob, room, f"메시지 {n}"))
    assert sent[0]["nickname"] == alice.nickname and sent[1]["member_id"] == bob.id

    first = (await _history(client, reader, room, limit=3)).json()
    assert [m["body"] for m in first["items"]] == ["메시지 4", "메시지 5", "메시지 6"]
    second = (await _history(client, reader, room, limit=3, before=first["next_cursor"])).json()
    assert [m["body"] for m in second["items"]] == ["메시지 1", "메시지 2", "메시지 3"]
    last = (await _history(client, reader, room, limit=3, before=second["next_cursor"])).json()
    assert [m["body"] for m in last["items"]] == ["메시지 0"]
    assert last["next_cursor"] is None
    bad = await _history(client, reader, room, before="not-a-cursor")
    assert bad.status_code == 400 and _problem(bad) == "invalid-cursor"
    assert (await _history(client, reader, room, limit=0)).status_code == 422

    await client.put(f"/api/v1/members/{bob.id}/block", headers=reader.headers)
    page = (await _history(client, reader, room, limit=3)).json()
    assert [m["body"] for m in page["items"]] == ["메시지 2", "메시지 4", "메시지 6"]
    assert len(await _bodies(client, alice, room)) == 7  # only the blocker stops seeing them


# ---- the socket -------------------------------------------------------------------------------


def _url(base: str, room_id: str, member: Member | None = None) -> str:
    query = f"?access_token={member.access_token}" if member else ""
    return f"{base}/api/v1/rooms/{room_id}/ws{query}"


async def _event(ws: ClientConnection, kind: str) -> dict[str, Any]:
    """The next event of `kind`, within 10 seconds."""
    while True:
        event = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
        if event["type"] == kind:
            return event


async def _closed_with(ws: ClientConnection) -> int | None:
    with pytest.raises(ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), 10)
    return ws.close_code


async def test_the_socket_speaks_and_listens(client: httpx.AsyncClient, platform: Platform) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    member, friend, outsider = [await signup_member(client) for _ in range(3)]
    await make_space(client, owner, slug="live-chat")
    await make_space(client, owner, slug="hidden-chat", visibility="members_only")
    room = (await _make_room(client, owner, "live-chat"))["id"]
    hidden = (await _make_room(client, owner, "hidden-chat"))["id"]
    for n in range(22):  # three speakers, to stay under the rate limit
        await _sent(client, (friend, owner, outsider)[n % 3], room, f"예전 {n}")

    async with _served(platform) as base:
        for url in (_url(base, room), _url(base, room) + "?access_token=forged"):
            async with connect(url) as ws:
                assert await _closed_with(ws) == 4401
        async with connect(_url(base, hidden, outsider)) as ws:
            assert await _closed_with(ws) == 4403
        async with connect(_url(base, str(uuid.uuid4()), member)) as ws:
            assert await _closed_with(ws) == 4404

        async with connect(_url(base, room, member)) as ws:
            hello = await _event(ws, "hello")
            assert hello["room"]["id"] == room
            assert [m["body"] for m in hello["recent"]] == [f"예전 {n}" for n in range(2, 22)]

            await ws.send(orjson.dumps({"type": "message", "body": "소켓으로 인사"}).decode())
            mine = (await _event(ws, "message"))["message"]
            assert (mine["member_id"], mine["nickname"]) == (member.id, member.nickname)
            assert mine["body"] == "소켓으로 인사" and mine["created_at"]
            assert (await _bodies(client, owner, room))[-1] == "소켓으로 인사"

            # errors come back as events and leave the socket open
            await ws.send(orjson.dumps({"type": "message", "body": "   "}).decode())
            error = await _event(ws, "error")
            assert error["problem"]["code"] == "message-refused"
            assert error["problem"]["status"] == 422
            assert error["problem"]["title"] == "이 메시지는 보낼 수 없습니다."
            for frame in ("not json", "[1]", '{"type": "typing"}', '{"type": "message"}'):
                await ws.send(frame)
                assert (await _event(ws, "error"))["problem"]["code"] == "invalid-input"

            # a REST post by someone else arrives; so does a moderator's deletion
            theirs = await _sent(client, friend, room, "REST로 보냄")
            arrived = (await _event(ws, "message"))["message"]
            assert (arrived["id"], arrived["nickname"]) == (theirs["id"], friend.nickname)
            deleted = await client.delete(
                f"/api/v1/rooms/{room}/messages/{theirs['id']}", headers=owner.headers
            )
            assert deleted.status_code == 204
            assert (await _event(ws, "deleted"))["message_id"] == theirs["id"]

            # a ban: an error event, then the socket closes
            banned = await _sanction(client, owner, room, member, kind="ban")
            assert banned.status_code == 201
            error = await _event(ws, "error")
            assert error["problem"]["code"] == "banned-from-room"
            assert await _closed_with(ws) == 4403
        async with connect(_url(base, room, member)) as ws:
            assert await _closed_with(ws) == 4403


async def test_the_socket_leaves_out_blocked_members(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    member, pest = await signup_member(client), await signup_member(client)
    await make_space(client, owner, slug="calm-chat")
    room = (await _make_room(client, owner, "calm-chat"))["id"]
    await _sent(client, pest, room, "예전 도배")
    await client.put(f"/api/v1/members/{pest.id}/block", headers=member.headers)
    async with _served(platform) as base, connect(_url(base, room, member)) as ws:
        assert (await _event(ws, "hello"))["recent"] == []
        await _sent(client, pest, room, "또 도배")
        await _sent(client, owner, room, "공지")
        assert (await _event(ws, "message"))["message"]["body"] == "공지"


async def test_a_message_reaches_sockets_on_another_process(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    """Process B's socket hears what is sent through process A: two platforms sharing the
    database and Redis on the scaled backend; the embedded mode has one process, so both
    servers share its platform there."""
    owner = await make_staff(platform, client, roles=("creator",))
    speaker, listener = await signup_member(client), await signup_member(client)
    await make_space(client, owner, slug="wide-chat")
    room = (await _make_room(client, owner, "wide-chat"))["id"]
    scaled = platform.settings.redis_url is not None
    second = build_platform(platform.settings, clock) if scaled else platform
    try:
        async with (
            _served(platform) as base_a,
            _served(second) as base_b,
            connect(_url(base_b, room, listener)) as on_b,
            connect(_url(base_a, room, speaker)) as on_a,
        ):
            await _event(on_b, "hello")
            await _event(on_a, "hello")
            await on_a.send(orjson.dumps({"type": "message", "body": "A에서 보냄"}).decode())
            heard = (await _event(on_b, "message"))["message"]
            assert (heard["body"], heard["nickname"]) == ("A에서 보냄", speaker.nickname)
            assert (await _event(on_a, "message"))["message"]["id"] == heard["id"]

            posted = await _sent(client, speaker, room, "A의 REST로 보냄")
            assert (await _event(on_b, "message"))["message"]["id"] == posted["id"]

            # a ban made on A closes the banned member's socket on B
            banned = await _sanction(client, owner, room, listener, kind="ban")
            assert banned.status_code == 201
            assert (await _event(on_b, "error"))["problem"]["code"] == "banned-from-room"
            assert await _closed_with(on_b) == 4403
    finally:
        if second is not platform:
            await second.db.dispose()
            await second.cache.close()
            await second.pubsub.close()


@contextlib.asynccontextmanager
async def _served(platform: Platform) -> AsyncIterator[str]:
    async with serving(platform) as address:
        yield f"ws://{address}"
