"""Launch posts (Product Hunt style): upvotes with the `like` reaction, ranked per Seoul day."""

from __future__ import annotations

import httpx
from tests.factories.accounts import signup_member
from tests.factories.community import feed_ids
from tests.factories.orders import log_in_again

from jangteo.core.clock import FrozenClock
from jangteo.core.platform import Platform


async def _launch(client: httpx.AsyncClient, member, title: str) -> dict:  # type: ignore[no-untyped-def]
    response = await client.post(
        "/api/v1/launches",
        json={"title": title, "body": f"{title} 출시했어요"},
        headers=member.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_launches_are_ranked_by_upvotes_per_seoul_day(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    maker = await signup_member(client)
    voters = [await signup_member(client) for _ in range(3)]
    # 03:00 UTC is 12:00 in Seoul
    quiet = await _launch(client, maker, "조용한 신제품")
    hit = await _launch(client, maker, "인기 신제품")
    middle = await _launch(client, maker, "그럭저럭 신제품")
    assert hit["kind"] == "launch" and hit["board"]["slug"] == "launches"
    for voter in voters:
        await client.put(f"/api/v1/posts/{hit['id']}/reactions/like", headers=voter.headers)
    await client.put(f"/api/v1/posts/{middle['id']}/reactions/like", headers=voters[0].headers)
    # an upvote counts once per member, and can be taken back
    await client.put(f"/api/v1/posts/{middle['id']}/reactions/like", headers=voters[0].headers)
    await client.put(f"/api/v1/posts/{quiet['id']}/reactions/like", headers=voters[1].headers)
    await client.delete(f"/api/v1/posts/{quiet['id']}/reactions/like", headers=voters[1].headers)

    assert await feed_ids(client, "/api/v1/launches", limit=1) == [
        hit["id"],
        middle["id"],
        quiet["id"],
    ]
    top = (await client.get("/api/v1/launches")).json()["items"][0]
    assert top["like_count"] == 3

    # 16:00 UTC is already the next day in Seoul: a new ranking starts
    clock.advance(hours=13)
    maker = await log_in_again(client, maker)
    tomorrow = await _launch(client, maker, "내일의 신제품")
    assert await feed_ids(client, "/api/v1/launches") == [tomorrow["id"]]
    yesterday = await feed_ids(client, "/api/v1/launches", day="2026-11-24")
    assert yesterday == [hit["id"], middle["id"], quiet["id"]]

    assert (await client.get("/api/v1/launches", params={"day": "2030-01-01"})).status_code == 422
    assert (await client.get("/api/v1/launches", params={"day": "어제"})).status_code == 422
    other_day = await client.get("/api/v1/launches", params={"limit": 1, "day": "2026-11-24"})
    wrong = await client.get("/api/v1/launches", params={"cursor": other_day.json()["next_cursor"]})
    assert wrong.status_code == 400
    bad = await client.post(
        "/api/v1/launches", json={"title": "제목", "body": ""}, headers=maker.headers
    )
    assert bad.status_code == 422
