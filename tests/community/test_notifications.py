"""Notifications: who is notified of what, the unread count, marking read, and the live stream
(server-sent events through pub/sub, across processes when Redis is configured)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
from sqlalchemy import select
from tests.factories.accounts import Member, make_staff, signup_member
from tests.factories.catalog import make_product
from tests.factories.community import make_post, make_space
from tests.factories.orders import deliver_order, log_in_again, pay_order, place_order
from tests.serving import serving

from jangteo.community import notifications
from jangteo.core.clock import FrozenClock
from jangteo.core.events import Event, dispatch_pending
from jangteo.core.models import OutboxEvent
from jangteo.core.platform import Platform
from jangteo.core.pubsub import make_pubsub


async def _notifications(client: httpx.AsyncClient, member: Member, **params: Any) -> dict:
    response = await client.get("/api/v1/me/notifications", params=params, headers=member.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _comment(
    client: httpx.AsyncClient, member: Member, post_id: str, body: str, **extra: Any
) -> dict:
    response = await client.post(
        f"/api/v1/posts/{post_id}/comments", json={"body": body, **extra}, headers=member.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_replies_mentions_and_follows_notify_the_right_people(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    author, replier, mentioned = [await signup_member(client) for _ in range(3)]
    await make_space(client, owner, slug="noti")
    post = await make_post(client, author, "noti", body=f"@{mentioned.nickname} 이거 어때요?")
    comment = await _comment(client, replier, post["id"], "예뻐요")
    await _comment(client, author, post["id"], "고마워요", parent_id=comment["id"])
    await _comment(client, author, post["id"], "제 글에 제가 댓글")  # no self-notification
    await client.put(f"/api/v1/members/{author.id}/follow", headers=replier.headers)

    mine = await _notifications(client, author)
    assert [(n["kind"], n["actor_name"]) for n in mine["items"]] == [
        ("follow", replier.nickname),
        ("comment", replier.nickname),
    ]
    assert mine["unread_count"] == 2
    theirs = await _notifications(client, replier)
    assert [n["kind"] for n in theirs["items"]] == ["reply"]
    assert theirs["items"][0]["comment_id"] is not None
    tagged = await _notifications(client, mentioned)
    assert [(n["kind"], n["post_id"]) for n in tagged["items"]] == [("mention", post["id"])]
    # nobody can read someone else's notifications
    assert (await client.get("/api/v1/me/notifications")).status_code == 401


async def test_blocked_members_and_anonymous_threads(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    author, pest, stranger = [await signup_member(client) for _ in range(3)]
    await make_space(client, owner, slug="quiet-noti")
    await client.post(
        "/api/v1/spaces/quiet-noti/boards",
        json={"slug": "anon", "name": "익명", "anonymous": True},
        headers=owner.headers,
    )
    await client.put(f"/api/v1/members/{pest.id}/block", headers=author.headers)
    await client.put(f"/api/v1/members/{author.id}/follow", headers=pest.headers)
    assert (await _notifications(client, author))["items"] == []

    secret = await make_post(client, author, "quiet-noti", board="anon", body="비밀 고민")
    await _comment(client, stranger, secret["id"], "힘내세요")
    [note] = (await _notifications(client, author))["items"]
    assert note["kind"] == "comment"
    assert note["actor_id"] is None and note["actor_name"] is None


async def test_unread_count_and_marking_read(client: httpx.AsyncClient, platform: Platform) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    author, fan, other = [await signup_member(client) for _ in range(3)]
    await make_space(client, owner, slug="counts")
    post = await make_post(client, author, "counts")
    for n in range(5):
        await _comment(client, fan, post["id"], f"댓글 {n}")
    await client.put(f"/api/v1/members/{other.id}/follow", headers=fan.headers)
    first = await _notifications(client, author, limit=2)
    assert first["unread_count"] == 5
    rest = await _notifications(client, author, limit=2, cursor=first["next_cursor"])
    assert len(rest["items"]) == 2 and rest["items"][0]["id"] != first["items"][0]["id"]

    others = (await _notifications(client, other))["items"]
    # marking someone else's notification does nothing to it
    foreign = await client.post(
        "/api/v1/me/notifications/read",
        json={"ids": [others[0]["id"]]},
        headers=author.headers,
    )
    assert foreign.json() == {"marked": 0, "unread_count": 5}
    one = await client.post(
        "/api/v1/me/notifications/read",
        json={"ids": [first["items"][0]["id"]]},
        headers=author.headers,
    )
    assert one.json() == {"marked": 1, "unread_count": 4}
    unread = await _notifications(client, author, unread="true")
    assert len(unread["items"]) == 4
    everything = await client.post("/api/v1/me/notifications/read", json={}, headers=author.headers)
    assert everything.json() == {"marked": 4, "unread_count": 0}
    count = await client.get("/api/v1/me/notifications/unread-count", headers=other.headers)
    assert count.json() == {"unread_count": 1}
    bad = await client.post(
        "/api/v1/me/notifications/read", json={"ids": ["nope"]}, headers=author.headers
    )
    assert bad.status_code == 422


async def test_a_message_published_by_one_process_reaches_another(platform: Platform) -> None:
    """Two pub/sub clients stand for two app processes (Redis on the scaled backend; in the
    embedded mode there is one process, so one in-process hub)."""
    settings = platform.settings
    other = (
        make_pubsub(settings.redis_url, settings.redis_prefix)
        if settings.redis_url
        else platform.pubsub
    )
    try:
        async with other.subscribe("room:1") as subscription:
            await asyncio.sleep(0.05)  # the subscription is registered with Redis
            await platform.pubsub.publish("room:1", b"hello")
            await platform.pubsub.publish("room:2", b"elsewhere")
            assert await subscription.next(within=5) == b"hello"
            assert await subscription.next(within=0.2) is None
    finally:
        if other is not platform.pubsub:
            await other.close()


async def _next_event(lines: AsyncIterator[str]) -> tuple[str, dict]:
    event, data = "", ""
    async for line in lines:
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data = line.removeprefix("data: ")
        elif line == "" and event:
            return event, orjson.loads(data)
    raise AssertionError("the stream ended")


async def test_new_notifications_are_pushed_to_open_streams(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    author, fan = await signup_member(client), await signup_member(client)
    await make_space(client, owner, slug="live")
    post = await make_post(client, author, "live")
    await _comment(client, fan, post["id"], "첫 댓글")
    await dispatch_pending(platform.db, platform.bus, platform.clock)

    async with _served(platform) as base, httpx.AsyncClient(base_url=base, timeout=10) as http:
        refused = await http.get("/api/v1/me/notifications/stream")
        assert refused.status_code == 401
        async with http.stream(
            "GET",
            "/api/v1/me/notifications/stream",
            params={"access_token": author.access_token},
        ) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.aiter_lines()
            assert await _next_event(lines) == ("unread", {"unread_count": 1})
            await _comment(client, fan, post["id"], "두 번째 댓글")
            await dispatch_pending(platform.db, platform.bus, platform.clock)
            event, data = await asyncio.wait_for(_next_event(lines), 10)
            assert event == "notification"
            assert data["kind"] == "comment" and data["actor_name"] == fan.nickname
            assert await asyncio.wait_for(_next_event(lines), 10) == (
                "unread",
                {"unread_count": 2},
            )


@contextlib.asynccontextmanager
async def _served(platform: Platform) -> AsyncIterator[str]:
    async with serving(platform) as address:
        yield f"http://{address}"


async def test_order_changes_are_notified_once_each(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    buyer = await signup_member(client)
    staff = await make_staff(platform, client)
    product = await make_product(platform)
    order = await pay_order(client, buyer, await place_order(client, buyer, product.variant_ids[0]))
    await deliver_order(client, staff, order)
    await dispatch_pending(platform.db, platform.bus, platform.clock)
    notes = (await _notifications(client, buyer))["items"]
    assert [(n["kind"], n["data"]["status"]) for n in notes] == [
        ("order", "delivered"),
        ("order", "shipped"),
        ("order", "paid"),
    ]
    assert notes[0]["data"]["order_id"] == order["id"]
    # a subscriber may see an event again: the notification stays one
    async with platform.db.read() as session:
        delivered = (
            await session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "order.paid"))
        ).one()
    event = Event(delivered.id, delivered.topic, delivered.payload, delivered.created_at)
    for subscriber in platform.bus.subscribers("order.paid"):
        await subscriber(event)
    assert len((await _notifications(client, buyer))["items"]) == 3


async def test_reactions_are_summed_up_once_an_hour(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    author = await signup_member(client)
    fans = [await signup_member(client) for _ in range(3)]
    await make_space(client, owner, slug="digest")
    first = await make_post(client, author, "digest", body="첫 글")
    second = await make_post(client, author, "digest", body="둘째 글")
    for fan in fans:
        await client.put(f"/api/v1/posts/{first['id']}/reactions/like", headers=fan.headers)
    await client.put(f"/api/v1/posts/{second['id']}/reactions/fire", headers=fans[0].headers)
    await client.put(f"/api/v1/posts/{second['id']}/reactions/like", headers=author.headers)
    assert (await _notifications(client, author))["items"] == []  # no notice per reaction

    assert notifications.DIGEST_JOB in platform.jobs.recurring
    clock.advance(hours=1)
    author = await log_in_again(client, author)
    for _ in range(2):  # a job that runs twice writes the digest once
        async with platform.db.write() as session:
            await notifications.reaction_digest(session, platform.clock)
    [digest] = (await _notifications(client, author))["items"]
    assert digest["kind"] == "reaction_digest"
    assert digest["data"]["reactions"] == 4 and digest["data"]["posts"] == 2
    clock.advance(hours=1)
    async with platform.db.write() as session:
        assert await notifications.reaction_digest(session, platform.clock) == 0
