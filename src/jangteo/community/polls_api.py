"""HTTP API of community polls ("골라줘")."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, status
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.community import polls, service
from jangteo.community.api import _post_out, _viewer
from jangteo.community.poll_schemas import (
    OptionOut,
    PollCreate,
    PollOut,
    PollState,
    VoteRequest,
)
from jangteo.core.deps import CurrentMember, OptionalMember, PlatformDep

router = APIRouter(prefix="/api/v1", tags=["community"])


def _poll_out(view: polls.PollView) -> PollOut:
    shown = view.results_visible
    return PollOut(
        post=_post_out(view.post),
        poll=PollState(
            closes_at=view.poll.closes_at,
            closed=view.closed,
            results_visibility=view.poll.results_visibility,  # type: ignore[arg-type]
            vote_count=view.poll.vote_count if shown else None,
            options=[
                OptionOut(
                    id=o.id,
                    label=o.label,
                    product_id=o.product_id,
                    votes=o.vote_count if shown else None,
                )
                for o in view.options
            ],
            my_vote=view.my_vote,
        ),
    )


async def _answer(
    platform: Any, session: AsyncSession, post_id: uuid.UUID, viewer: service.Viewer
) -> PollOut:
    return _poll_out(await polls.get_poll(session, platform.clock, post_id, viewer))


@router.post("/polls", response_model=PollOut, status_code=status.HTTP_201_CREATED)
async def create_poll(platform: PlatformDep, member: CurrentMember, body: PollCreate) -> PollOut:
    """A "골라줘" poll with 2–4 options (a label, a product, or both), on the shop's 골라줘
    board unless a space and board are given."""
    viewer = _viewer(member)
    async with platform.db.write() as session:
        post = await polls.create_poll(
            session,
            platform.clock,
            viewer,
            title=body.title,
            body=body.body,
            options=[polls.OptionSpec(o.label, o.product_id) for o in body.options],
            closes_at=body.closes_at,
            results_visibility=body.results_visibility,
            space=body.space,
            board=body.board,
            activity=await service.activity_rules(session, platform.settings),
            max_days=platform.settings.community_poll_max_days,
        )
        return await _answer(platform, session, post.id, viewer)


@router.get("/polls/{post_id}", response_model=PollOut)
async def get_poll(platform: PlatformDep, principal: OptionalMember, post_id: uuid.UUID) -> PollOut:
    async with platform.db.read() as session:
        return await _answer(platform, session, post_id, _viewer(principal))


@router.put("/polls/{post_id}/vote", response_model=PollOut)
async def vote(
    platform: PlatformDep, member: CurrentMember, post_id: uuid.UUID, body: VoteRequest
) -> PollOut:
    """Vote, or move your vote to another option; one vote per member, until the poll closes."""
    viewer = _viewer(member)
    async with platform.db.write() as session:
        await polls.vote(session, platform.clock, post_id, viewer, option_id=body.option_id)
        return await _answer(platform, session, post_id, viewer)


@router.delete("/polls/{post_id}/vote", response_model=PollOut)
async def withdraw_vote(
    platform: PlatformDep, member: CurrentMember, post_id: uuid.UUID
) -> PollOut:
    """Take your vote back, until the poll closes."""
    viewer = _viewer(member)
    async with platform.db.write() as session:
        await polls.withdraw(session, platform.clock, post_id, viewer)
        return await _answer(platform, session, post_id, viewer)
