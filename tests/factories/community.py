"""Spaces and posts made through the API, as members see them."""

from __future__ import annotations

from typing import Any

import httpx
from tests.factories.accounts import Member

# settings under which every member is trusted enough to post freely (trust level 1 from the
# start), for tests about something other than the posting limits of new members
TRUSTED_FROM_THE_START = {"community_trust_basic_reads": 0, "community_trust_basic_days": 0}


async def make_space(
    client: httpx.AsyncClient, owner: Member, *, slug: str = "knit-lovers", **rules: Any
) -> dict[str, Any]:
    """A space owned by `owner` (a creator or staff member with MFA)."""
    response = await client.post(
        "/api/v1/spaces",
        json={"slug": slug, "name": rules.pop("name", "니트 러버"), **rules},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def make_post(
    client: httpx.AsyncClient,
    author: Member,
    space: str,
    *,
    board: str = "free",
    body: str = "오늘 산 니트 후기 #니트 #데일리룩",
    title: str = "",
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/spaces/{space}/boards/{board}/posts",
        json={"title": title, "body": body},
        headers=author.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def join(
    client: httpx.AsyncClient, member: Member, space: str, **body: Any
) -> httpx.Response:
    return await client.post(f"/api/v1/spaces/{space}/join", json=body, headers=member.headers)


async def feed_ids(
    client: httpx.AsyncClient, path: str, member: Member | None = None, **params: Any
) -> list[str]:
    """The post ids of every page of a feed."""
    ids: list[str] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get(path, params=query, headers=member.headers if member else {})
        assert response.status_code == 200, response.text
        body = response.json()
        ids.extend(item["id"] for item in body["items"])
        cursor = body["next_cursor"]
        if not cursor:
            return ids
