"""Posts and comments: editing, removal with a visible reason, anonymous threads, reactions,
bookmarks, hashtags, activity points and posting limits."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import httpx
from PIL import Image
from tests.factories.accounts import make_staff, signup_member
from tests.factories.community import feed_ids, join, make_post, make_space
from tests.factories.orders import log_in_again, points_of

from jangteo.core.clock import FrozenClock
from jangteo.core.platform import Platform


async def test_edit_delete_and_removal_with_reason(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    author = await signup_member(client)
    other = await signup_member(client)
    await make_space(client, owner, slug="talk")
    post = await make_post(client, author, "talk", title="첫 글", body="안녕하세요 #인사")
    assert post["author"] == {"id": author.id, "name": author.nickname, "anonymous": False}
    assert post["hashtags"] == ["인사"]

    not_mine = await client.patch(
        f"/api/v1/posts/{post['id']}", json={"body": "남의 글"}, headers=other.headers
    )
    assert not_mine.status_code == 403
    edited = await client.patch(
        f"/api/v1/posts/{post['id']}", json={"body": "고쳤어요 #수정"}, headers=author.headers
    )
    assert edited.json()["body"] == "고쳤어요 #수정"
    assert edited.json()["hashtags"] == ["수정"]
    assert edited.json()["edited_at"] is not None

    # a member cannot remove; a moderator removes with a reason that stays visible
    refused = await client.post(
        f"/api/v1/posts/{post['id']}/remove", json={"reason": "광고"}, headers=other.headers
    )
    assert refused.status_code == 403
    removed = await client.post(
        f"/api/v1/posts/{post['id']}/remove",
        json={"reason": "개인정보 노출"},
        headers=owner.headers,
    )
    assert removed.json()["status"] == "removed"
    assert removed.json()["removed_reason"] == "개인정보 노출"
    assert removed.json()["body"] == ""
    shown = await client.get(f"/api/v1/posts/{post['id']}")
    assert shown.json()["removed_reason"] == "개인정보 노출"
    # it keeps its place on its board (with the reason) but leaves the other feeds
    assert post["id"] in await feed_ids(client, "/api/v1/spaces/talk/posts", board="free")
    assert post["id"] not in await feed_ids(client, "/api/v1/feed")
    closed = await client.post(
        f"/api/v1/posts/{post['id']}/comments", json={"body": "왜요?"}, headers=other.headers
    )
    assert closed.status_code == 403

    second = await make_post(client, author, "talk")
    url = f"/api/v1/posts/{second['id']}"
    assert (await client.delete(url, headers=other.headers)).status_code == 403
    assert (await client.delete(url, headers=author.headers)).status_code == 204
    assert (await client.get(f"/api/v1/posts/{second['id']}")).status_code == 404


async def test_comments_are_one_level_deep_and_blocking_stops_replies(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    author = await signup_member(client)
    friend = await signup_member(client)
    pest = await signup_member(client)
    await make_space(client, owner, slug="threads")
    post = await make_post(client, author, "threads")
    top = await client.post(
        f"/api/v1/posts/{post['id']}/comments", json={"body": "예뻐요"}, headers=friend.headers
    )
    assert top.status_code == 201
    reply = await client.post(
        f"/api/v1/posts/{post['id']}/comments",
        json={"body": "감사해요", "parent_id": top.json()["id"]},
        headers=author.headers,
    )
    assert reply.json()["parent_id"] == top.json()["id"]
    too_deep = await client.post(
        f"/api/v1/posts/{post['id']}/comments",
        json={"body": "대댓글의 대댓글", "parent_id": reply.json()["id"]},
        headers=friend.headers,
    )
    assert too_deep.status_code == 422
    assert too_deep.json()["type"].endswith("/reply-too-deep")
    assert (await client.get(f"/api/v1/posts/{post['id']}")).json()["comment_count"] == 2

    # the author blocks a member: they can no longer reply to the author
    assert (
        await client.put(f"/api/v1/members/{pest.id}/block", headers=author.headers)
    ).status_code == 204
    refused = await client.post(
        f"/api/v1/posts/{post['id']}/comments", json={"body": "ㅋㅋ"}, headers=pest.headers
    )
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("/blocked-by-member")
    # … but may still answer someone else's comment
    allowed = await client.post(
        f"/api/v1/posts/{post['id']}/comments",
        json={"body": "저도요", "parent_id": top.json()["id"]},
        headers=pest.headers,
    )
    assert allowed.status_code == 201
    # and the author does not see it
    seen = await client.get(f"/api/v1/posts/{post['id']}/comments", headers=author.headers)
    assert allowed.json()["id"] not in [c["id"] for c in seen.json()["items"]]
    everyone = await client.get(f"/api/v1/posts/{post['id']}/comments")
    assert allowed.json()["id"] in [c["id"] for c in everyone.json()["items"]]

    # editing and deleting a comment: the author only; a moderator removes with a reason
    comment_id = top.json()["id"]
    assert (
        await client.patch(
            f"/api/v1/comments/{comment_id}", json={"body": "남의 댓글"}, headers=author.headers
        )
    ).status_code == 403
    edited = await client.patch(
        f"/api/v1/comments/{comment_id}", json={"body": "정말 예뻐요"}, headers=friend.headers
    )
    assert edited.json()["body"] == "정말 예뻐요"
    removed = await client.post(
        f"/api/v1/comments/{allowed.json()['id']}/remove",
        json={"reason": "도배"},
        headers=owner.headers,
    )
    assert removed.status_code == 204
    listed = await client.get(f"/api/v1/posts/{post['id']}/comments")
    gone = next(c for c in listed.json()["items"] if c["id"] == allowed.json()["id"])
    assert gone["status"] == "removed"
    assert gone["body"] == ""
    assert gone["removed_reason"] == "도배"


async def test_anonymous_board_shows_stable_aliases_and_staff_can_reveal(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    staff = await make_staff(platform, client)
    author, first, second = [await signup_member(client) for _ in range(3)]
    await make_space(client, owner, slug="blind")
    await client.post(
        "/api/v1/spaces/blind/boards",
        json={"slug": "secret", "name": "익명 게시판", "anonymous": True},
        headers=owner.headers,
    )
    post = await make_post(client, author, "blind", board="secret", body="회사 고민 #고민")
    assert post["author"] == {"id": None, "name": "글쓴이", "anonymous": True}

    async def comment(member, body):  # type: ignore[no-untyped-def]
        response = await client.post(
            f"/api/v1/posts/{post['id']}/comments", json={"body": body}, headers=member.headers
        )
        assert response.status_code == 201, response.text
        return response.json()

    names = [
        (await comment(first, "힘내요"))["author"]["name"],
        (await comment(second, "저도 그래요"))["author"]["name"],
        (await comment(first, "다시 와봤어요"))["author"]["name"],
        (await comment(author, "고마워요"))["author"]["name"],
    ]
    assert names == ["익명1", "익명2", "익명1", "글쓴이"]
    listed = await client.get(f"/api/v1/posts/{post['id']}/comments", headers=first.headers)
    assert [c["author"]["id"] for c in listed.json()["items"]] == [None] * 4
    # the author's profile does not show the anonymous post
    assert post["id"] not in await feed_ids(client, f"/api/v1/members/{author.id}/posts")

    # staff see who wrote it only by asking, with a reason, and the look is audited
    refused = await client.post(
        f"/api/v1/posts/{post['id']}/reveal", json={"reason": "신고"}, headers=first.headers
    )
    assert refused.status_code == 403
    revealed = await client.post(
        f"/api/v1/posts/{post['id']}/reveal",
        json={"reason": "명예훼손 신고 처리"},
        headers=staff.headers,
    )
    assert revealed.json() == {"author_id": author.id}
    audit = await client.get(
        "/api/v1/admin/audit",
        params={"action": "community.anonymous.reveal"},
        headers=staff.headers,
    )
    entry = audit.json()["items"][0]
    assert entry["actor_id"] == staff.id
    assert entry["after"]["reason"] == "명예훼손 신고 처리"


async def test_reactions_and_bookmarks(client: httpx.AsyncClient, platform: Platform) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    author, fan = await signup_member(client), await signup_member(client)
    await make_space(client, owner, slug="likes")
    post = await make_post(client, author, "likes")
    url = f"/api/v1/posts/{post['id']}/reactions"
    assert (await client.put(f"{url}/like", headers=fan.headers)).json() == {"changed": True}
    assert (await client.put(f"{url}/like", headers=fan.headers)).json() == {"changed": False}
    await client.put(f"{url}/fire", headers=fan.headers)
    await client.put(f"{url}/fire", headers=author.headers)
    assert (await client.put(f"{url}/angry", headers=fan.headers)).status_code == 422
    seen = (await client.get(f"/api/v1/posts/{post['id']}", headers=fan.headers)).json()
    assert seen["like_count"] == 1  # only likes rank
    assert seen["reactions"] == {"like": 1, "fire": 2}
    assert seen["my_reactions"] == ["fire", "like"]
    assert (await client.delete(f"{url}/like", headers=fan.headers)).json() == {"changed": True}
    assert (await client.get(f"/api/v1/posts/{post['id']}")).json()["like_count"] == 0
    assert (await client.put(f"{url}/like")).status_code == 401

    assert (
        await client.put(f"/api/v1/posts/{post['id']}/bookmark", headers=fan.headers)
    ).status_code == 204
    await client.put(f"/api/v1/posts/{post['id']}/bookmark", headers=fan.headers)
    assert await feed_ids(client, "/api/v1/me/bookmarks", fan) == [post["id"]]
    assert await feed_ids(client, "/api/v1/me/bookmarks", author) == []
    await client.delete(f"/api/v1/posts/{post['id']}/bookmark", headers=fan.headers)
    assert await feed_ids(client, "/api/v1/me/bookmarks", fan) == []


async def test_hashtag_feed_and_trending(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    member = await signup_member(client)
    await make_space(client, owner, slug="tags")
    old = await make_post(client, member, "tags", body="#OOTD 예전 코디")
    clock.advance(hours=30)
    member_token = await signup_member(client)
    recent = [
        await make_post(client, member_token, "tags", body="#ootd #니트 오늘"),
        await make_post(client, member_token, "tags", body="#니트 추천 #OOTD"),
        await make_post(client, member_token, "tags", body="#니트 세일"),
    ]
    assert recent[0]["hashtags"] == ["ootd", "니트"]
    assert await feed_ids(client, "/api/v1/hashtags/OOTD/posts") == [
        recent[1]["id"],
        recent[0]["id"],
        old["id"],
    ]
    assert await feed_ids(client, "/api/v1/hashtags/%23니트/posts", limit=1) == [
        p["id"] for p in reversed(recent)
    ]
    trending = (await client.get("/api/v1/hashtags/trending")).json()["items"]
    assert trending == [{"tag": "니트", "posts": 3}, {"tag": "ootd", "posts": 2}]


async def test_activity_points_stop_at_the_daily_cap(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    member = await signup_member(client)
    await make_space(client, owner, slug="points")
    # 10 points a post, 50 a day
    for _ in range(6):
        await make_post(client, member, "points")
    assert await points_of(client, member) == 50
    clock.advance(hours=24)
    await log_in_again(client, member)
    await make_post(client, member, "points")
    assert await points_of(client, member) == 60


async def test_unknown_and_malformed_input_changes_nothing(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    member = await signup_member(client)
    await make_space(client, owner, slug="input")
    await join(client, member, "input")
    for body in ({"body": ""}, {"body": "x" * 20001}, {"body": "ok", "extra": 1}, {"title": 3}):
        response = await client.post(
            "/api/v1/spaces/input/boards/free/posts", json=body, headers=member.headers
        )
        assert response.status_code == 422, body
    missing_board = await client.post(
        "/api/v1/spaces/input/boards/none/posts", json={"body": "글"}, headers=member.headers
    )
    assert missing_board.status_code == 404
    assert (await client.get("/api/v1/posts/not-a-uuid")).status_code == 422
    assert (
        await client.get("/api/v1/posts/01950000-0000-7000-8000-000000000000")
    ).status_code == 404
    assert (await client.get("/api/v1/feed", params={"cursor": "!!!"})).status_code == 400
    assert await feed_ids(client, "/api/v1/spaces/input/posts") == []


async def test_the_same_reaction_twice_at_once_counts_once(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    author, fan = await signup_member(client), await signup_member(client)
    await make_space(client, owner, slug="race")
    post = await make_post(client, author, "race")
    url = f"/api/v1/posts/{post['id']}/reactions/like"
    answers = await asyncio.gather(*(client.put(url, headers=fan.headers) for _ in range(4)))
    assert [a.status_code for a in answers] == [200] * 4
    assert sorted(a.json()["changed"] for a in answers) == [False, False, False, True]
    bookmarks = await asyncio.gather(
        *(client.put(f"/api/v1/posts/{post['id']}/bookmark", headers=fan.headers) for _ in range(3))
    )
    assert [b.status_code for b in bookmarks] == [204] * 3
    assert (await client.get(f"/api/v1/posts/{post['id']}")).json()["like_count"] == 1


async def test_a_text_post_carries_photos(client: httpx.AsyncClient, platform: Platform) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    author, other = await signup_member(client), await signup_member(client)
    await make_space(client, owner, slug="photos")
    await join(client, author, "photos")

    async def upload(member: Any) -> str:
        buffer = io.BytesIO()
        Image.new("RGB", (80, 60), (120, 160, 200)).save(buffer, format="PNG")
        response = await client.post(
            "/api/v1/community/images",
            files={"file": ("a.png", buffer.getvalue(), "image/png")},
            headers=member.headers,
        )
        assert response.status_code == 201, response.text
        return str(response.json()["token"])

    tokens = [await upload(author), await upload(author)]
    made = await client.post(
        "/api/v1/spaces/photos/boards/free/posts",
        json={"body": "오늘 산 니트 두 장", "images": tokens},
        headers=author.headers,
    )
    assert made.status_code == 201, made.text
    assert [(i["width"], i["height"]) for i in made.json()["images"]] == [(80, 60), (80, 60)]
    read = await client.get(f"/api/v1/posts/{made.json()['id']}")
    assert [i["url"] for i in read.json()["images"]] == [i["url"] for i in made.json()["images"]]
    # someone else's upload cannot be attached
    stolen = await client.post(
        "/api/v1/spaces/photos/boards/free/posts",
        json={"body": "남의 사진", "images": [await upload(other)]},
        headers=author.headers,
    )
    assert stolen.status_code == 422
    plain = await make_post(client, author, "photos", body="사진 없는 글")
    assert plain["images"] == []
