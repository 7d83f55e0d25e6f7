"""Trust levels earned by reading and likes, the posting limits that grow with them, staff
overrides, and the community's rules changed at runtime by staff."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import Backend, make_settings
from tests.factories.accounts import Member, make_staff, signup_member
from tests.factories.community import join, make_post, make_space
from tests.factories.orders import log_in_again, points_of

from jangteo.core.clock import FrozenClock
from jangteo.core.platform import Platform
from jangteo.settings import Settings


@pytest.fixture
def settings(backend: Backend, tmp_path: Path) -> Settings:
    return make_settings(
        backend,
        tmp_path,
        community_new_posts_per_day=2,
        community_posts_per_day=4,
        community_trusted_posts_per_day=6,
        community_trust_basic_reads=3,
        community_trust_basic_days=2,
        community_trust_member_reads=5,
        community_trust_member_days=3,
        community_trust_member_likes=2,
    )


async def _read(client: httpx.AsyncClient, member: Member, post: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(f"/api/v1/posts/{post['id']}/read", headers=member.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _trust(client: httpx.AsyncClient, member: Member) -> dict[str, Any]:
    response = await client.get("/api/v1/me/trust", headers=member.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _post_status(client: httpx.AsyncClient, member: Member, space: str) -> int:
    response = await client.post(
        f"/api/v1/spaces/{space}/boards/free/posts", json={"body": "글"}, headers=member.headers
    )
    return response.status_code


async def _next_day(client: httpx.AsyncClient, clock: FrozenClock, *members: Member) -> None:
    clock.advance(hours=24)
    for member in members:
        await log_in_again(client, member)


async def test_reading_on_distinct_days_earns_the_basic_level_and_its_limits(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    owner = await make_staff(platform, client)
    await make_space(client, owner, slug="reading")
    posts = [await make_post(client, owner, "reading", body=f"읽을 글 {i}") for i in range(5)]
    newcomer = await signup_member(client)
    assert (await _trust(client, newcomer))["level"] == 0
    assert [await _post_status(client, newcomer, "reading") for _ in range(3)] == [201, 201, 429]
    own = (await client.get("/api/v1/spaces/reading/posts", headers=newcomer.headers)).json()
    mine = next(p for p in own["items"] if p["author"]["id"] == newcomer.id)

    # three reads on one day: enough reads, not enough days; re-reads and own posts never count
    assert (await _read(client, newcomer, posts[0]))["counted"] is True
    assert (await _read(client, newcomer, posts[0]))["counted"] is False
    assert (await _read(client, newcomer, mine))["counted"] is False
    await _read(client, newcomer, posts[1])
    await _read(client, newcomer, posts[2])
    trust = await _trust(client, newcomer)
    assert trust | {"member_id": None} == {
        "member_id": None,
        "level": 0,
        "locked": False,
        "posts_read": 3,
        "days_visited": 1,
        "likes_received": 0,
        "next_level": 1,
        "reads_needed": 0,
        "days_needed": 1,
        "likes_needed": 0,
        "posts_per_day": 2,
        "comments_per_day": platform.settings.community_new_comments_per_day,
    }

    await _next_day(client, clock, newcomer)
    assert (await _read(client, newcomer, posts[3]))["level"] == 1
    trust = await _trust(client, newcomer)
    assert (trust["level"], trust["days_visited"], trust["posts_per_day"]) == (1, 2, 4)
    notes = await client.get("/api/v1/me/notifications", headers=newcomer.headers)
    assert [n["kind"] for n in notes.json()["items"]] == ["trust_level"]
    assert [await _post_status(client, newcomer, "reading") for _ in range(5)] == [201] * 4 + [429]


async def test_the_member_level_needs_likes_from_others(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    owner = await make_staff(platform, client)
    await make_space(client, owner, slug="likes")
    posts = [await make_post(client, owner, "likes", body=f"글 {i}") for i in range(6)]
    reader, fan = await signup_member(client), await signup_member(client)
    await join(client, reader, "likes")
    for i in range(3):
        await _read(client, reader, posts[i])
        await _next_day(client, clock, reader, fan)
    for i in range(3, 5):
        await _read(client, reader, posts[i])
    trust = await _trust(client, reader)
    assert (trust["level"], trust["posts_read"], trust["days_visited"]) == (1, 5, 4)
    assert (trust["next_level"], trust["reads_needed"], trust["likes_needed"]) == (2, 0, 2)

    work = await make_post(client, reader, "likes", body="제 코디예요")
    # a like of one's own is not a sign of trust from others
    for member in (reader, fan):
        liked = await client.put(
            f"/api/v1/posts/{work['id']}/reactions/like", headers=member.headers
        )
        assert liked.status_code == 200
    assert (await _trust(client, reader))["likes_received"] == 1
    comment = await client.post(
        f"/api/v1/posts/{posts[0]['id']}/comments", json={"body": "좋아요"}, headers=reader.headers
    )
    await client.put(f"/api/v1/comments/{comment.json()['id']}/reactions/like", headers=fan.headers)
    assert (await _read(client, reader, posts[5]))["level"] == 2
    trust = await _trust(client, reader)
    assert (trust["level"], trust["next_level"], trust["posts_per_day"]) == (2, None, 6)


async def test_reads_count_only_what_the_member_may_read_and_count_exactly(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client)
    await make_space(client, owner, slug="closed", visibility="members_only")
    await make_space(client, owner, slug="open")
    secret = await make_post(client, owner, "closed", body="회원 전용")
    outsider = await signup_member(client)
    refused = await client.post(f"/api/v1/posts/{secret['id']}/read", headers=outsider.headers)
    assert refused.status_code in (403, 404)
    visitor = await client.post(f"/api/v1/posts/{secret['id']}/read")
    assert visitor.status_code == 401
    assert (await _trust(client, outsider))["posts_read"] == 0

    posts = [await make_post(client, owner, "open", body=f"글 {i}") for i in range(6)]
    results = await asyncio.gather(*[_read(client, outsider, p) for p in posts + posts])
    assert sum(r["counted"] for r in results) == 6
    assert (await _trust(client, outsider))["posts_read"] == 6


async def test_staff_fix_a_level_with_a_reason_and_can_unlock_it(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    member, other = await signup_member(client), await signup_member(client)
    path = f"/api/v1/admin/members/{member.id}/trust"
    not_staff = await client.put(
        path, json={"level": 3, "reason": "모범 회원"}, headers=other.headers
    )
    assert not_staff.status_code == 403
    no_reason = await client.put(path, json={"level": 3}, headers=staff.headers)
    assert no_reason.status_code == 422
    fixed = await client.put(path, json={"level": 3, "reason": "모범 회원"}, headers=staff.headers)
    assert (fixed.json()["level"], fixed.json()["locked"]) == (3, True)
    assert (await _trust(client, member))["posts_per_day"] == 6
    audit = await client.get(
        "/api/v1/admin/audit",
        params={"action": "community.trust_level.set"},
        headers=staff.headers,
    )
    entry = audit.json()["items"][0]
    assert (entry["actor_id"], entry["target_id"]) == (staff.id, member.id)
    assert entry["before"] == {"level": 0, "locked": False}
    assert entry["after"] == {"level": 3, "locked": True, "reason": "모범 회원"}

    unlocked = await client.put(
        path, json={"level": None, "reason": "자동 판정으로"}, headers=staff.headers
    )
    assert (unlocked.json()["level"], unlocked.json()["locked"]) == (0, False)
    missing = await client.get(
        "/api/v1/admin/members/0190f0f0-0000-7000-8000-000000000000/trust", headers=staff.headers
    )
    assert missing.status_code == 404


async def test_staff_change_point_rules_at_runtime_with_an_audit_trail(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    member = await signup_member(client)
    await make_space(client, staff, slug="points")
    public = await client.get("/api/v1/community/rules")
    assert public.status_code == 200
    assert public.json()["post_points"] == platform.settings.community_post_points == 10

    refused = await client.patch(
        "/api/v1/admin/community/rules", json={"post_points": 99}, headers=member.headers
    )
    assert refused.status_code == 403
    for bad in (
        {"post_points": -1},
        {"post_points": "many"},
        {"unknown_rule": 3},
        {},
        {"new_posts_per_day": 5},  # more than level 1 may post
        {"trust_member_reads": 1},  # less than level 1 asks for
    ):
        response = await client.patch(
            "/api/v1/admin/community/rules", json=bad, headers=staff.headers
        )
        assert response.status_code == 422, bad
    assert (await client.get("/api/v1/community/rules")).json() == public.json()

    changed = await client.patch(
        "/api/v1/admin/community/rules",
        json={"post_points": 25, "daily_points_cap": 40},
        headers=staff.headers,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["post_points"], changed.json()["daily_points_cap"]) == (25, 40)
    assert changed.json()["snap_points"] == platform.settings.community_snap_points
    await make_post(client, member, "points")
    await make_post(client, member, "points")
    assert await points_of(client, member) == 40  # 25, then 15 up to the new cap

    audit = await client.get(
        "/api/v1/admin/audit", params={"action": "rules.change"}, headers=staff.headers
    )
    entry = audit.json()["items"][0]
    assert (entry["actor_id"], entry["target_id"]) == (staff.id, "community")
    assert entry["before"] == {"post_points": 10, "daily_points_cap": 50}
    assert entry["after"] == {"post_points": 25, "daily_points_cap": 40}
