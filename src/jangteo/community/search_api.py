"""HTTP API of community search: posts found by their title, hashtags, body and comments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from jangteo.community import schemas, search
from jangteo.community.api import _post_out, _viewer
from jangteo.core.deps import OptionalMember, PlatformDep
from jangteo.core.pagination import DEFAULT_LIMIT, MAX_LIMIT

router = APIRouter(prefix="/api/v1", tags=["community"])


class Span(BaseModel):
    start: int
    end: int


class Highlights(BaseModel):
    title: list[Span]
    body: list[Span]


class PostHitOut(schemas.PostOut):
    highlights: Highlights


class PostHitPage(BaseModel):
    items: list[PostHitOut]
    next_cursor: str | None


def _spans(spans: list[tuple[int, int]]) -> list[Span]:
    return [Span(start=start, end=end) for start, end in spans]


@router.get("/community/search", response_model=PostHitPage)
async def search_posts(
    platform: PlatformDep,
    principal: OptionalMember,
    q: Annotated[str, Query(min_length=1, max_length=100)],
    space: Annotated[str | None, Query(max_length=80)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> PostHitPage:
    """Posts whose title, hashtags, body or comments match `q` (Korean written with or without
    spaces), best first; only posts the viewer may read, without members they blocked."""
    async with platform.db.read() as session:
        page = await search.search_posts(
            session, _viewer(principal), q, space=space, limit=limit, cursor=cursor
        )
    return PostHitPage(
        items=[
            PostHitOut(
                **_post_out(hit.view).model_dump(),
                highlights=Highlights(title=_spans(hit.title_spans), body=_spans(hit.body_spans)),
            )
            for hit in page.items
        ],
        next_cursor=page.next_cursor,
    )
