"""HTTP API of launch posts and their daily ranking."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict

from jangteo.community import launches, service
from jangteo.community.api import _page, _post_out, _viewer
from jangteo.community.schemas import Body, PostOut, PostPage, Title
from jangteo.core.deps import CurrentMember, OptionalMember, PlatformDep
from jangteo.core.pagination import DEFAULT_LIMIT, MAX_LIMIT

router = APIRouter(prefix="/api/v1", tags=["community"])


class LaunchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Title
    body: Body


@router.post("/launches", response_model=PostOut, status_code=status.HTTP_201_CREATED)
async def create_launch(
    platform: PlatformDep, member: CurrentMember, body: LaunchCreate
) -> PostOut:
    """A launch post; members upvote it with the `like` reaction."""
    viewer = _viewer(member)
    async with platform.db.write() as session:
        post = await launches.create_launch(
            session,
            platform.clock,
            viewer,
            title=body.title,
            body=body.body,
            rules=await service.activity_rules(session, platform.settings),
        )
        return _post_out(await service.get_post(session, post.id, viewer))


@router.get("/launches", response_model=PostPage)
async def launch_ranking(
    platform: PlatformDep,
    principal: OptionalMember,
    day: Annotated[dt.date | None, Query(description="a Seoul date; today when absent")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> PostPage:
    """The launches of one day, most upvoted first."""
    async with platform.db.read() as session:
        page = await launches.ranking(
            session, platform.clock, _viewer(principal), day=day, limit=limit, cursor=cursor
        )
    return _page(page)
