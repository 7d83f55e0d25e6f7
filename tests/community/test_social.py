"""Follows, blocks, profiles and feeds (following, profile, space), with stable cursors."""

from __future__ import annotations

import httpx
from tests.factories.accounts import make_staff, signup_member
from tests.factories.catalog import brand_named
from tests.factories.community import feed_ids, make_post, make_space
from tests.factories.orders import log_in_again

from jangteo.core.clock import FrozenClock
from jangteo.core.platform import Platform


async def test_follow_lists_profiles_and_the_following_feed(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    reader, stylist, stranger = [await signup_member(client) for _ in range(3)]
    await make_space(client, owner, slug="style")
    followed_post = await make_post(client, stylist, "style", body="오늘의 코디")
    await make_post(client, stranger, "style", body="모르는 사람 글")

    assert (
        await client.put(f"/api/v1/members/{stylist.id}/follow", headers=reader.headers)
    ).status_code == 204
    await client.put(f"/api/v1/members/{stylist.id}/follow", headers=reader.headers)  # again
    myself = await client.put(f"/api/v1/members/{reader.id}/follow", headers=reader.headers)
    assert myself.status_code == 422
    ghost = await client.put(
        "/api/v1/members/01950000-0000-7000-8000-000000000000/follow", headers=reader.headers
    )
    assert ghost.status_code == 404

    profile = await client.get(f"/api/v1/members/{stylist.id}/profile", headers=reader.headers)
    assert profile.json() == {
        "id": stylist.id,
        "nickname": stylist.nickname,
        "followers": 1,
        "following": 0,
        "i_follow": True,
        "i_block": False,
    }
    followers = await client.get(f"/api/v1/members/{stylist.id}/followers")
    assert followers.json()["items"] == [{"id": reader.id, "nickname": reader.nickname}]
    following = await client.get(f"/api/v1/members/{reader.id}/following")
    assert following.json()["items"] == [{"id": stylist.id, "nickname": stylist.nickname}]

    assert await feed_ids(client, "/api/v1/feed", reader, mode="following") == [followed_post["id"]]
    assert await feed_ids(client, f"/api/v1/members/{stylist.id}/posts") == [followed_post["id"]]
    # a visitor follows no one
    assert await feed_ids(client, "/api/v1/feed", mode="following") == []

    await client.delete(f"/api/v1/members/{stylist.id}/follow", headers=reader.headers)
    assert await feed_ids(client, "/api/v1/feed", reader, mode="following") == []


async def test_blocking_hides_content_and_ends_follows(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    me, them = await signup_member(client), await signup_member(client)
    await make_space(client, owner, slug="quiet")
    theirs = await make_post(client, them, "quiet", body="시끄러운 글 #소음")
    await client.put(f"/api/v1/members/{them.id}/follow", headers=me.headers)
    await client.put(f"/api/v1/members/{me.id}/follow", headers=them.headers)

    assert (
        await client.put(f"/api/v1/members/{them.id}/block", headers=me.headers)
    ).status_code == 204
    blocks = await client.get("/api/v1/me/blocks", headers=me.headers)
    assert blocks.json()["items"] == [{"id": them.id, "nickname": them.nickname}]
    for path, params in (
        ("/api/v1/feed", {}),
        ("/api/v1/spaces/quiet/posts", {}),
        ("/api/v1/hashtags/소음/posts", {}),
    ):
        assert theirs["id"] not in await feed_ids(client, path, me, **params)
        assert theirs["id"] in await feed_ids(client, path, **params)
    profile = await client.get(f"/api/v1/members/{them.id}/profile", headers=me.headers)
    assert profile.json()["i_block"] is True
    assert profile.json()["followers"] == 0 and profile.json()["following"] == 0

    await client.delete(f"/api/v1/members/{them.id}/block", headers=me.headers)
    assert theirs["id"] in await feed_ids(client, "/api/v1/feed", me)


async def test_feed_pages_stay_stable_while_new_posts_arrive(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    writer = await signup_member(client)
    await make_space(client, owner, slug="busy")
    posts = [await make_post(client, writer, "busy", body=f"글 {n}") for n in range(5)]
    first = await client.get("/api/v1/spaces/busy/posts", params={"limit": 2})
    assert [p["id"] for p in first.json()["items"]] == [posts[4]["id"], posts[3]["id"]]
    # two new posts arrive between the pages
    await make_post(client, writer, "busy", body="새 글 1")
    await make_post(client, writer, "busy", body="새 글 2")
    rest = await feed_ids(
        client, "/api/v1/spaces/busy/posts", limit=2, cursor=first.json()["next_cursor"]
    )
    assert rest == [posts[2]["id"], posts[1]["id"], posts[0]["id"]]


async def test_trending_ranks_by_engagement_that_fades_with_age(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    writer = await signup_member(client)
    fans = [await signup_member(client) for _ in range(3)]
    await make_space(client, owner, slug="hot")
    await make_space(client, owner, slug="hidden-hot", visibility="members_only")
    old_hit = await make_post(client, writer, "hot", body="어제의 화제")
    for fan in fans:
        await client.put(f"/api/v1/posts/{old_hit['id']}/reactions/like", headers=fan.headers)
    # a members-only post never reaches visitors' trending, however liked
    secret = await make_post(client, owner, "hidden-hot", body="멤버 전용 인기글")
    await client.put(f"/api/v1/posts/{secret['id']}/reactions/like", headers=owner.headers)
    clock.advance(hours=30)
    writer = await log_in_again(client, writer)
    fans = [await log_in_again(client, fan) for fan in fans]
    quiet = await make_post(client, writer, "hot", body="조용한 새 글")
    fresh_hit = await make_post(client, writer, "hot", body="지금 뜨는 글")
    await client.put(f"/api/v1/posts/{fresh_hit['id']}/reactions/like", headers=fans[0].headers)
    for fan in fans[:2]:
        await client.post(
            f"/api/v1/posts/{fresh_hit['id']}/comments",
            json={"body": "좋아요"},
            headers=fan.headers,
        )
    # emoji reactions do not rank
    for fan in fans:
        await client.put(f"/api/v1/posts/{quiet['id']}/reactions/fire", headers=fan.headers)

    first = await client.get("/api/v1/feed", params={"mode": "trending", "limit": 2})
    assert [p["id"] for p in first.json()["items"]] == [fresh_hit["id"], quiet["id"]]
    # a new post arriving between pages does not shift the ranking being paged
    await make_post(client, writer, "hot", body="새로 올라온 글")
    rest = await client.get(
        "/api/v1/feed",
        params={"mode": "trending", "limit": 2, "cursor": first.json()["next_cursor"]},
    )
    assert [p["id"] for p in rest.json()["items"]] == [old_hit["id"]]
    assert rest.json()["next_cursor"] is None
    clock.advance(hours=80)
    assert (await client.get("/api/v1/feed", params={"mode": "trending"})).json()["items"] == []
    bad = await client.get("/api/v1/feed", params={"mode": "trending", "cursor": "e30"})
    assert bad.status_code == 400


async def test_the_home_feed_pages_and_shows_what_each_viewer_may_read(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    staff = await make_staff(platform, client)
    writer, fan = await signup_member(client), await signup_member(client)
    await make_space(client, owner, slug="open-home")
    await make_space(client, owner, slug="closed-home", visibility="members_only")
    await client.post(
        "/api/v1/spaces/open-home/boards",
        json={"slug": "anon", "name": "익명", "anonymous": True},
        headers=owner.headers,
    )
    posts = [await make_post(client, writer, "open-home", body=f"글 {n}") for n in range(3)]
    anonymous = await make_post(client, writer, "open-home", board="anon", body="익명 글")
    members_only = await make_post(client, owner, "closed-home", body="멤버 전용")
    await client.put(f"/api/v1/posts/{posts[2]['id']}/reactions/like", headers=fan.headers)
    await client.put(f"/api/v1/posts/{posts[2]['id']}/bookmark", headers=fan.headers)

    visible = [anonymous["id"], posts[2]["id"], posts[1]["id"], posts[0]["id"]]
    assert await feed_ids(client, "/api/v1/feed", limit=2) == visible
    assert await feed_ids(client, "/api/v1/feed", staff, limit=2) == [members_only["id"], *visible]
    page = (await client.get("/api/v1/feed", headers=fan.headers)).json()["items"]
    by_id = {p["id"]: p for p in page}
    assert by_id[anonymous["id"]]["author"] == {"id": None, "name": "글쓴이", "anonymous": True}
    assert by_id[posts[2]["id"]]["author"] == {
        "id": writer.id,
        "name": writer.nickname,
        "anonymous": False,
    }
    assert by_id[posts[2]["id"]]["reactions"] == {"like": 1}
    assert by_id[posts[2]["id"]]["my_reactions"] == ["like"]
    assert by_id[posts[2]["id"]]["bookmarked"] is True
    assert by_id[posts[2]["id"]]["created_at"].endswith("Z")
    # the home feed answers in the same shape as the post itself
    single = (await client.get(f"/api/v1/posts/{posts[2]['id']}", headers=fan.headers)).json()
    assert single.pop("images") == []  # a post by itself has its photos; feeds leave them out
    assert by_id[posts[2]["id"]] == single
    staff_view = (await client.get("/api/v1/feed", headers=staff.headers)).json()["items"]
    assert {p["id"]: p for p in staff_view}[anonymous["id"]]["author"]["id"] == writer.id
    # following leaves anonymous posts out
    await client.put(f"/api/v1/members/{writer.id}/follow", headers=fan.headers)
    assert await feed_ids(client, "/api/v1/feed", fan, mode="following", limit=2) == [
        p["id"] for p in reversed(posts)
    ]


async def test_members_follow_brands(client: httpx.AsyncClient, platform: Platform) -> None:
    member, other = await signup_member(client), await signup_member(client)
    async with platform.db.write() as session:
        brand_id = await brand_named(session, platform.clock, "니트공방")
        second_id = await brand_named(session, platform.clock, "데님랩")
    path = f"/api/v1/brands/{brand_id}/follow"
    assert (await client.put(path)).status_code == 401
    for _ in range(2):  # following twice is following once
        assert (await client.put(path, headers=member.headers)).status_code == 204
    await client.put(f"/api/v1/brands/{second_id}/follow", headers=member.headers)
    await client.put(path, headers=other.headers)

    state = await client.get(f"/api/v1/brands/{brand_id}/followers", headers=member.headers)
    assert state.json() == {"brand_id": str(brand_id), "follower_count": 2, "following": True}
    anonymous = await client.get(f"/api/v1/brands/{brand_id}/followers")
    assert anonymous.json()["following"] is False
    first = await client.get("/api/v1/me/following/brands?limit=1", headers=member.headers)
    assert [b["name"] for b in first.json()["items"]] == ["데님랩"]
    rest = await client.get(
        "/api/v1/me/following/brands",
        params={"limit": 1, "cursor": first.json()["next_cursor"]},
        headers=member.headers,
    )
    assert [b["name"] for b in rest.json()["items"]] == ["니트공방"]

    assert (await client.delete(path, headers=member.headers)).status_code == 204
    state = await client.get(f"/api/v1/brands/{brand_id}/followers", headers=member.headers)
    assert (state.json()["follower_count"], state.json()["following"]) == (1, False)
    unknown = "0190f0f0-0000-7000-8000-000000000000"
    assert (
        await client.put(f"/api/v1/brands/{unknown}/follow", headers=member.headers)
    ).status_code == 404
    assert (await client.get(f"/api/v1/brands/{unknown}/followers")).status_code == 404
