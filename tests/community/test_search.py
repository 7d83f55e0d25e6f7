"""Community search: Korean terms in titles, hashtags, bodies and comments; only readable,
published posts, without blocked members; the index follows every edit."""

from __future__ import annotations

from typing import Any

import httpx
from tests.factories.accounts import Member, make_staff, signup_member
from tests.factories.community import join, make_post, make_space

from jangteo.core.platform import Platform


async def _search(
    client: httpx.AsyncClient, q: str, member: Member | None = None, **params: Any
) -> httpx.Response:
    return await client.get(
        "/api/v1/community/search",
        params={"q": q, **params},
        headers=member.headers if member else {},
    )


async def _ids(
    client: httpx.AsyncClient, q: str, member: Member | None = None, **params: Any
) -> list[str]:
    """The post ids of every page, in order."""
    ids: list[str] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await _search(client, q, member, **query)
        assert response.status_code == 200, response.text
        body = response.json()
        ids.extend(item["id"] for item in body["items"])
        cursor = body["next_cursor"]
        if not cursor:
            return ids


async def test_korean_words_find_titles_hashtags_bodies_and_comments(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    author = await signup_member(client)
    commenter = await signup_member(client)
    await make_space(client, owner, slug="style")
    knit = await make_post(client, author, "style", title="캐시미어니트 후기", body="따뜻해요")
    snap = await make_post(client, author, "style", title="오늘", body="무신사스냅후기 #데일리룩")
    other = await make_post(client, author, "style", title="운동화", body="Nike 러닝화 샀어요")

    assert await _ids(client, "니트") == [knit["id"]]
    assert await _ids(client, "스냅") == [snap["id"]]
    # written joined or apart, in any order: the same bigrams
    for spelling in ("캐시미어 니트", "캐시미어니트", "니트 캐시미어", "캐시 미어"):
        assert await _ids(client, spelling) == [knit["id"]], spelling
    # a hashtag, with or without its sign; Latin words as prefixes, any case
    assert await _ids(client, "#데일리룩") == [snap["id"]]
    assert await _ids(client, "데일리룩") == [snap["id"]]
    assert await _ids(client, "nik") == [other["id"]]
    assert await _ids(client, "!!!") == []
    assert await _ids(client, "털모자") == []

    # a word only a comment holds finds its post
    comment = await client.post(
        f"/api/v1/posts/{other['id']}/comments",
        json={"body": "저도 코듀로이 바지랑 같이 신어요"},
        headers=commenter.headers,
    )
    assert comment.status_code == 201, comment.text
    assert await _ids(client, "코듀로이") == [other["id"]]

    # a title match ranks above a comment match
    await client.post(
        f"/api/v1/posts/{other['id']}/comments",
        json={"body": "니트도 좋아요"},
        headers=commenter.headers,
    )
    assert await _ids(client, "니트") == [knit["id"], other["id"]]

    found = (await _search(client, "니트")).json()["items"][0]
    assert found["title"] == "캐시미어니트 후기"
    assert found["author"]["name"] == author.nickname
    assert found["highlights"] == {"title": [{"start": 4, "end": 6}], "body": []}


async def test_only_readable_published_posts_without_blocked_members(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    staff = await make_staff(platform, client)
    insider = await signup_member(client)
    outsider = await signup_member(client)
    await make_space(client, owner, slug="open")
    await make_space(client, owner, slug="secret", visibility="members_only")
    assert (await join(client, insider, "secret")).status_code == 200
    hidden = await make_post(client, insider, "secret", title="비밀 니트 모임")
    public = await make_post(client, outsider, "open", title="공개 니트 이야기")

    assert set(await _ids(client, "니트", insider)) == {hidden["id"], public["id"]}
    assert await _ids(client, "니트", outsider) == [public["id"]]
    assert await _ids(client, "니트") == [public["id"]]
    assert set(await _ids(client, "니트", staff)) == {hidden["id"], public["id"]}
    # within one space: that space's posts, after the read check
    assert await _ids(client, "니트", insider, space="secret") == [hidden["id"]]
    refused = await _search(client, "니트", outsider, space="secret")
    assert refused.status_code == 403
    assert (await _search(client, "니트", space="nowhere")).status_code == 404

    # a member does not find the posts of someone they blocked
    blocked = await client.put(f"/api/v1/members/{outsider.id}/block", headers=insider.headers)
    assert blocked.status_code == 204
    assert await _ids(client, "니트", insider) == [hidden["id"]]

    # deleted by the author, removed by a moderator: both leave the results
    deleted = await client.delete(f"/api/v1/posts/{hidden['id']}", headers=insider.headers)
    assert deleted.status_code == 204
    removed = await client.post(
        f"/api/v1/posts/{public['id']}/remove", json={"reason": "광고"}, headers=owner.headers
    )
    assert removed.status_code == 200
    assert await _ids(client, "니트", staff) == []


async def test_edits_reindex_posts_and_comments(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    author = await signup_member(client)
    commenter = await signup_member(client)
    await make_space(client, owner, slug="style")
    post = await make_post(client, author, "style", title="니트 추천", body="부드러운 니트")

    edited = await client.patch(
        f"/api/v1/posts/{post['id']}",
        json={"title": "코트 추천", "body": "울 코트 #겨울코트"},
        headers=author.headers,
    )
    assert edited.status_code == 200
    assert await _ids(client, "니트") == []
    assert await _ids(client, "코트") == [post["id"]]
    assert await _ids(client, "#겨울코트") == [post["id"]]

    comment = (
        await client.post(
            f"/api/v1/posts/{post['id']}/comments",
            json={"body": "패딩이 더 따뜻해요"},
            headers=commenter.headers,
        )
    ).json()
    assert await _ids(client, "패딩") == [post["id"]]
    changed = await client.patch(
        f"/api/v1/comments/{comment['id']}", json={"body": "머플러 추천"}, headers=commenter.headers
    )
    assert changed.status_code == 200
    assert await _ids(client, "패딩") == []
    assert await _ids(client, "머플러") == [post["id"]]
    gone = await client.delete(f"/api/v1/comments/{comment['id']}", headers=commenter.headers)
    assert gone.status_code == 204
    assert await _ids(client, "머플러") == []
    assert await _ids(client, "코트") == [post["id"]]


async def test_pages_by_relevance_without_overlap(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    authors = [await signup_member(client) for _ in range(2)]
    await make_space(client, owner, slug="style")
    posts = [
        await make_post(client, authors[i % 2], "style", title=f"니트 {i}", body="니트 " * i + "글")
        for i in range(5)
    ]
    first = await _search(client, "니트", limit=2)
    assert len(first.json()["items"]) == 2
    assert first.json()["next_cursor"]
    ids = await _ids(client, "니트", limit=2)
    assert sorted(ids) == sorted(p["id"] for p in posts)
    assert len(set(ids)) == 5
    # the page boundaries follow the one relevance order
    assert ids == await _ids(client, "니트", limit=100)

    assert (await _search(client, "니트", cursor="garbage")).status_code == 400
    assert (await _search(client, "")).status_code == 422
    assert (await _search(client, "니트", limit=0)).status_code == 422
