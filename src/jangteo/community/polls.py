""" "골라줘" polls: a post with 2–4 options (free labels or products), one vote per member that
can be moved or withdrawn until the poll closes, and results shown by the poll's setting.

Counts stay exact under concurrency: the unique (poll, member) vote row decides whether a vote
is new, the member's vote row is locked before it moves, and every count changes by a relative
update in the same transaction. Rows are locked in one order (the vote, its options by id, the
poll) so that voters never wait on each other in a cycle.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.catalog import service as catalog
from jangteo.community import service
from jangteo.community.models import Poll, PollOption, PollVote, Post
from jangteo.community.questions import UnknownProduct
from jangteo.core.clock import Clock
from jangteo.core.errors import Conflict, InvalidInput, NotFound, define
from jangteo.core.ids import uuid7

PollClosed = define("poll-closed", 409, "This poll is closed.")
UnknownPollOption = define("unknown-poll-option", 422, "This option is not part of the poll.")

RESULTS_VISIBILITIES = ("always", "after_vote", "after_close")
MIN_OPTIONS, MAX_OPTIONS = 2, 4


@dataclass(frozen=True)
class OptionSpec:
    label: str | None
    product_id: uuid.UUID | None


@dataclass(frozen=True)
class PollView:
    post: service.PostView
    poll: Poll
    options: list[PollOption]
    my_vote: uuid.UUID | None
    closed: bool
    results_visible: bool


def _closed(poll: Poll, now: datetime) -> bool:
    return now >= poll.closes_at


async def create_poll(
    session: AsyncSession,
    clock: Clock,
    viewer: service.Viewer,
    *,
    title: str,
    body: str,
    options: Sequence[OptionSpec],
    closes_at: datetime,
    results_visibility: str,
    space: str | None,
    board: str | None,
    activity: service.ActivityRules,
    max_days: int,
) -> Post:
    """A poll post, on the shop's 골라줘 board unless a space and board are given."""
    now = clock.now()
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        raise InvalidInput(f"A poll has {MIN_OPTIONS} to {MAX_OPTIONS} options.")
    if closes_at.tzinfo is None or not now < closes_at <= now + timedelta(days=max_days):
        raise InvalidInput(f"closes_at must be in the future, at most {max_days} days from now.")
    if results_visibility not in RESULTS_VISIBILITIES:
        raise InvalidInput(f"results_visibility must be one of {', '.join(RESULTS_VISIBILITIES)}.")
    products = {o.product_id for o in options if o.product_id is not None}
    names = await catalog.active_product_names(session, products)
    if missing := products - names.keys():
        raise UnknownProduct(product_id=str(min(missing)))
    labels: list[str] = []
    for option in options:
        if option.label is not None:
            labels.append(option.label[:100])
        elif option.product_id is not None:
            labels.append(names[option.product_id][:100])
        else:
            raise InvalidInput("An option needs a label or a product.")
    if len(set(labels)) != len(labels):
        raise InvalidInput("Each option of a poll needs a label of its own.")
    if space is None or board is None:
        await service.shop_board(session, clock, "polls")
        space, board = service.SHOP_SPACE, "polls"
    post = await service.create_post(
        session, clock, space, board, viewer, title=title, body=body, rules=activity, kind="poll"
    )
    session.add(Poll(post_id=post.id, closes_at=closes_at, results_visibility=results_visibility))
    await session.flush()
    session.add_all(
        PollOption(post_id=post.id, position=i, label=label, product_id=o.product_id)
        for i, (label, o) in enumerate(zip(labels, options, strict=True))
    )
    await session.flush()
    return post


async def _poll(session: AsyncSession, post_id: uuid.UUID) -> Poll:
    poll = await session.scalar(
        select(Poll).where(Poll.post_id == post_id).execution_options(populate_existing=True)
    )
    if poll is None:
        raise NotFound("The poll does not exist.")
    return poll


async def _open_poll(
    session: AsyncSession, clock: Clock, post_id: uuid.UUID, viewer: service.Viewer
) -> Poll:
    post, _, _ = await service.readable_post(session, post_id, viewer)
    poll = await _poll(session, post_id)
    if post.status != "published" or _closed(poll, clock.now()):
        raise PollClosed(closes_at=poll.closes_at.isoformat())
    return poll


async def _my_vote(
    session: AsyncSession, post_id: uuid.UUID, member_id: uuid.UUID
) -> uuid.UUID | None:
    """The option the member voted for, with their vote row locked until the transaction ends."""
    return await session.scalar(
        select(PollVote.option_id)
        .where(PollVote.post_id == post_id, PollVote.member_id == member_id)
        .with_for_update()
    )


async def _count(
    session: AsyncSession, post_id: uuid.UUID, options: dict[uuid.UUID, int], total: int
) -> None:
    for option_id in sorted(options):
        await session.execute(
            update(PollOption)
            .where(PollOption.id == option_id)
            .values(vote_count=PollOption.vote_count + options[option_id])
            .execution_options(synchronize_session=False)
        )
    if total:
        await session.execute(
            update(Poll)
            .where(Poll.post_id == post_id)
            .values(vote_count=Poll.vote_count + total)
            .execution_options(synchronize_session=False)
        )


async def vote(
    session: AsyncSession,
    clock: Clock,
    post_id: uuid.UUID,
    viewer: service.Viewer,
    *,
    option_id: uuid.UUID,
) -> None:
    """Vote for an option, or move the member's vote to it; until the poll closes."""
    assert viewer.member_id is not None
    await _open_poll(session, clock, post_id, viewer)
    option_post = await session.scalar(select(PollOption.post_id).where(PollOption.id == option_id))
    if option_post != post_id:
        raise UnknownPollOption()
    now = clock.now()
    # a vote of the same member arriving at the same moment may win the insert or withdraw
    # in between: look again, a few times, rather than count from a stale answer
    for _ in range(3):
        current = await _my_vote(session, post_id, viewer.member_id)
        if current is None:
            try:
                async with session.begin_nested():
                    await session.execute(
                        insert(PollVote).values(
                            id=uuid7(),
                            post_id=post_id,
                            member_id=viewer.member_id,
                            option_id=option_id,
                            created_at=now,
                            updated_at=now,
                        )
                    )
            except IntegrityError:
                continue
            await _count(session, post_id, {option_id: 1}, 1)
            return
        if current == option_id:
            return
        moved = await session.execute(
            update(PollVote)
            .where(
                PollVote.post_id == post_id,
                PollVote.member_id == viewer.member_id,
                PollVote.option_id == current,
            )
            .values(option_id=option_id, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount == 1:  # type: ignore[attr-defined]
            await _count(session, post_id, {current: -1, option_id: 1}, 0)
            return
    raise Conflict("Your vote changed at the same moment; try again.")


async def withdraw(
    session: AsyncSession, clock: Clock, post_id: uuid.UUID, viewer: service.Viewer
) -> bool:
    """Take the member's vote back, until the poll closes; False when there was none."""
    assert viewer.member_id is not None
    await _open_poll(session, clock, post_id, viewer)
    option_id = (
        await session.execute(
            delete(PollVote)
            .where(PollVote.post_id == post_id, PollVote.member_id == viewer.member_id)
            .returning(PollVote.option_id)
        )
    ).scalar_one_or_none()
    if option_id is None:
        return False
    await _count(session, post_id, {option_id: -1}, -1)
    return True


async def get_poll(
    session: AsyncSession, clock: Clock, post_id: uuid.UUID, viewer: service.Viewer
) -> PollView:
    """A poll with its options; the counts are for the caller to show only when
    `results_visible`: always, after the viewer voted (after_vote), and for everyone once the
    poll has closed."""
    post = await service.get_post(session, post_id, viewer)
    poll = await _poll(session, post_id)
    options = list(
        (
            await session.scalars(
                select(PollOption)
                .where(PollOption.post_id == post_id)
                .order_by(PollOption.position)
                .execution_options(populate_existing=True)
            )
        ).all()
    )
    my_vote = None
    if viewer.member_id is not None:
        my_vote = await session.scalar(
            select(PollVote.option_id).where(
                PollVote.post_id == post_id, PollVote.member_id == viewer.member_id
            )
        )
    closed = _closed(poll, clock.now())
    visible = (
        closed
        or poll.results_visibility == "always"
        or (poll.results_visibility == "after_vote" and my_vote is not None)
    )
    return PollView(post, poll, options, my_vote, closed, visible)
