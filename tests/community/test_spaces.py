"""Spaces and their rules: visibility, join policies, roles, bans and mutes, boards."""

from __future__ import annotations

import httpx
from tests.factories.accounts import make_staff, signup_member
from tests.factories.catalog import make_product
from tests.factories.community import join, make_post, make_space
from tests.factories.orders import deliver_order, log_in_again, pay_order, place_order

from jangteo.core.clock import FrozenClock
from jangteo.core.platform import Platform


async def test_only_creators_and_staff_with_mfa_create_spaces(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    refused = await client.post(
        "/api/v1/spaces", json={"slug": "mine", "name": "내 공간"}, headers=member.headers
    )
    assert refused.status_code == 403
    creator_without_mfa = await make_staff(platform, client, roles=("creator",), mfa=False)
    refused = await client.post(
        "/api/v1/spaces",
        json={"slug": "mine", "name": "내 공간"},
        headers=creator_without_mfa.headers,
    )
    assert refused.json()["type"].endswith("/mfa-required")

    creator = await make_staff(platform, client, roles=("creator",))
    space = await make_space(client, creator, slug="knit", visibility="members_write")
    assert space["my_role"] == "owner"
    assert space["member_count"] == 1
    boards = await client.get("/api/v1/spaces/knit/boards")
    assert [b["slug"] for b in boards.json()["items"]] == ["free"]

    taken = await client.post(
        "/api/v1/spaces", json={"slug": "knit", "name": "또 니트"}, headers=creator.headers
    )
    assert taken.status_code == 409
    assert taken.json()["type"].endswith("/space-slug-taken")
    bad = await client.post(
        "/api/v1/spaces",
        json={"slug": "x y", "name": "", "visibility": "secret"},
        headers=creator.headers,
    )
    assert bad.status_code == 422


async def test_visibility_decides_who_reads_and_who_writes(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    outsider = await signup_member(client)
    insider = await signup_member(client)
    await make_space(client, owner, slug="open-talk", visibility="public")
    await make_space(client, owner, slug="read-all", visibility="members_write")
    await make_space(client, owner, slug="secret", visibility="members_only")
    for slug in ("read-all", "secret"):
        assert (await join(client, insider, slug)).status_code == 200

    # public: anyone reads, any member writes without joining
    await make_post(client, outsider, "open-talk")
    assert (await client.get("/api/v1/spaces/open-talk/posts")).status_code == 200

    # public-read / member-write
    post = await make_post(client, insider, "read-all")
    assert (await client.get("/api/v1/spaces/read-all/posts")).status_code == 200
    assert (await client.get(f"/api/v1/posts/{post['id']}")).status_code == 200
    refused = await client.post(
        "/api/v1/spaces/read-all/boards/free/posts", json={"body": "안녕"}, headers=outsider.headers
    )
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("/not-space-member")

    # members-only: outsiders and visitors read nothing, not even a post by its id
    secret = await make_post(client, insider, "secret", body="회원만 보는 글")
    for headers in ({}, outsider.headers):
        assert (await client.get("/api/v1/spaces/secret/posts", headers=headers)).status_code in (
            401,
            403,
        )
        assert (await client.get(f"/api/v1/posts/{secret['id']}", headers=headers)).status_code in (
            401,
            403,
        )
        comments = await client.get(f"/api/v1/posts/{secret['id']}/comments", headers=headers)
        assert comments.status_code in (401, 403)
    everything = await client.get("/api/v1/feed", headers=outsider.headers)
    assert secret["id"] not in [p["id"] for p in everything.json()["items"]]
    mine = await client.get("/api/v1/feed", headers=insider.headers)
    assert secret["id"] in [p["id"] for p in mine.json()["items"]]
    # the space itself is listed, so that people can ask to join
    listed = await client.get("/api/v1/spaces", headers=outsider.headers)
    by_slug = {s["slug"]: s for s in listed.json()["items"]}
    assert by_slug["secret"]["can_read"] is False
    assert by_slug["open-talk"]["can_write"] is True


async def test_invite_code_and_verified_join_policies(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    invite = await make_space(client, owner, slug="vip", join_policy="invite")
    code = invite["invite_code"]
    assert code
    member = await signup_member(client)
    no_code = await join(client, member, "vip")
    assert no_code.status_code == 403
    assert no_code.json()["type"].endswith("/invite-code-required")
    assert (await join(client, member, "vip", invite_code="WRONG")).status_code == 403
    joined = await join(client, member, "vip", invite_code=code)
    assert joined.status_code == 200
    assert joined.json()["my_role"] == "member"
    assert joined.json()["invite_code"] is None  # only moderators see it

    # verified by a delivered order: only real buyers get in
    await make_space(
        client, owner, slug="buyers", join_policy="verified", verification="delivered_order"
    )
    refused = await join(client, member, "buyers")
    assert refused.json()["type"].endswith("/verification-required")
    staff = await make_staff(platform, client)
    product = await make_product(platform)
    order = await place_order(client, member, product.variant_ids[0])
    await pay_order(client, member, order)
    await deliver_order(client, staff, order)
    assert (await join(client, member, "buyers")).status_code == 200

    # verified by staff approval: a pending request until a moderator approves it
    await make_space(
        client,
        owner,
        slug="approval",
        visibility="members_write",
        join_policy="verified",
        verification="staff_approval",
    )
    pending = await join(client, member, "approval")
    assert pending.json()["my_status"] == "pending"
    assert pending.json()["can_write"] is False
    queue = await client.get(
        "/api/v1/spaces/approval/members", params={"status": "pending"}, headers=owner.headers
    )
    assert [m["member_id"] for m in queue.json()["items"]] == [member.id]
    not_allowed = await client.get(
        "/api/v1/spaces/approval/members", params={"status": "pending"}, headers=member.headers
    )
    assert not_allowed.status_code == 403
    approved = await client.post(
        f"/api/v1/spaces/approval/members/{member.id}/moderation",
        json={"action": "approve"},
        headers=owner.headers,
    )
    assert approved.json()["status"] == "active"
    space = await client.get("/api/v1/spaces/approval", headers=member.headers)
    assert space.json()["can_write"] is True
    assert space.json()["member_count"] == 2


async def test_bans_mutes_and_roles(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    moderator = await signup_member(client)
    troll = await signup_member(client)
    chatty = await signup_member(client)
    await make_space(client, owner, slug="calm", visibility="members_write")
    for member in (moderator, troll, chatty):
        await join(client, member, "calm")

    # a member cannot moderate; the owner makes a moderator who then can
    refused = await client.post(
        f"/api/v1/spaces/calm/members/{troll.id}/moderation",
        json={"action": "mute", "minutes": 30},
        headers=moderator.headers,
    )
    assert refused.status_code == 403
    promoted = await client.post(
        f"/api/v1/spaces/calm/members/{moderator.id}/moderation",
        json={"action": "set_role", "role": "moderator"},
        headers=owner.headers,
    )
    assert promoted.json()["role"] == "moderator"
    muted = await client.post(
        f"/api/v1/spaces/calm/members/{troll.id}/moderation",
        json={"action": "mute", "minutes": 30},
        headers=moderator.headers,
    )
    assert muted.status_code == 200
    await client.post(
        f"/api/v1/spaces/calm/members/{chatty.id}/moderation",
        json={"action": "mute", "minutes": 30},
        headers=moderator.headers,
    )
    blocked_post = await client.post(
        "/api/v1/spaces/calm/boards/free/posts", json={"body": "도배"}, headers=chatty.headers
    )
    assert blocked_post.status_code == 403
    assert blocked_post.json()["type"].endswith("/muted-in-space")

    # a moderator cannot touch the owner
    refused = await client.post(
        f"/api/v1/spaces/calm/members/{owner.id}/moderation",
        json={"action": "ban", "reason": "?"},
        headers=moderator.headers,
    )
    assert refused.status_code == 403

    banned = await client.post(
        f"/api/v1/spaces/calm/members/{troll.id}/moderation",
        json={"action": "ban", "reason": "욕설 반복"},
        headers=moderator.headers,
    )
    assert banned.json()["status"] == "banned"
    again = await join(client, troll, "calm")
    assert again.status_code == 403
    assert again.json()["type"].endswith("/banned-from-space")
    reading = await client.get("/api/v1/spaces/calm/posts", headers=troll.headers)
    assert reading.status_code == 403
    space = await client.get("/api/v1/spaces/calm")
    assert space.json()["member_count"] == 3

    audit = await client.get(
        "/api/v1/admin/audit",
        params={"action": "community.member.ban"},
        headers=(await make_staff(platform, client)).headers,
    )
    assert audit.json()["items"][0]["after"]["reason"] == "욕설 반복"

    # a mute ends by itself
    clock.advance(minutes=31)
    chatty = await log_in_again(client, chatty)  # the access token has expired meanwhile
    await make_post(client, chatty, "calm", body="다시 조용히 쓸게요")


async def test_leaving_and_rules_changes(client: httpx.AsyncClient, platform: Platform) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    member = await signup_member(client)
    await make_space(client, owner, slug="rules")
    await join(client, member, "rules")
    assert (await client.get("/api/v1/spaces/rules")).json()["member_count"] == 2
    not_owner = await client.patch(
        "/api/v1/spaces/rules", json={"visibility": "members_only"}, headers=member.headers
    )
    assert not_owner.status_code == 403
    changed = await client.patch(
        "/api/v1/spaces/rules",
        json={"visibility": "members_only", "join_policy": "invite"},
        headers=owner.headers,
    )
    assert changed.status_code == 200
    assert changed.json()["invite_code"]
    incomplete = await client.patch(
        "/api/v1/spaces/rules", json={"join_policy": "verified"}, headers=owner.headers
    )
    assert incomplete.status_code == 422
    left = await client.post("/api/v1/spaces/rules/leave", headers=member.headers)
    assert left.status_code == 204
    assert (await client.get("/api/v1/spaces/rules")).json()["member_count"] == 1
    owner_leaves = await client.post("/api/v1/spaces/rules/leave", headers=owner.headers)
    assert owner_leaves.status_code == 403
    mine = await client.get("/api/v1/spaces", params={"mine": "true"}, headers=member.headers)
    assert mine.json()["items"] == []


async def test_boards_are_managed_by_moderators(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    member = await signup_member(client)
    await make_space(client, owner, slug="boards")
    refused = await client.post(
        "/api/v1/spaces/boards/boards",
        json={"slug": "qna", "name": "질문"},
        headers=member.headers,
    )
    assert refused.status_code == 403
    made = await client.post(
        "/api/v1/spaces/boards/boards",
        json={"slug": "qna", "name": "질문", "anonymous": True},
        headers=owner.headers,
    )
    assert made.status_code == 201
    assert made.json()["anonymous"] is True
    dup = await client.post(
        "/api/v1/spaces/boards/boards", json={"slug": "qna", "name": "또"}, headers=owner.headers
    )
    assert dup.json()["type"].endswith("/board-slug-taken")
    renamed = await client.patch(
        "/api/v1/spaces/boards/boards/qna", json={"name": "익명 질문"}, headers=owner.headers
    )
    assert renamed.json()["name"] == "익명 질문"
    listed = await client.get("/api/v1/spaces/boards/boards")
    assert [b["slug"] for b in listed.json()["items"]] == ["free", "qna"]
    missing = await client.get("/api/v1/spaces/nowhere/boards")
    assert missing.status_code == 404
