"""Product reviews: one per order line, written by the buyer once the order is delivered (so each
is a verified purchase), with photos, an edit history, helpful votes and the product's rating
summary; and the official answers staff give to a review or any post.

Negative reviews are never hidden: nothing here lets a shop or a brand hide, reorder or soften a
review. Only a moderator's removal takes one down, and its reason stays shown in its place.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.accounts import service as accounts
from jangteo.catalog import service as catalog
from jangteo.community import notifications, service, snaps
from jangteo.community.models import (
    Board,
    Comment,
    HelpfulVote,
    Post,
    PostImage,
    Review,
    ReviewRevision,
    Space,
)
from jangteo.core.clock import Clock
from jangteo.core.errors import Forbidden, InvalidInput, NotFound, define
from jangteo.core.pagination import cursor_keys, decode_cursor, encode_cursor, id_after, id_cursor
from jangteo.orders import service as orders

ReviewExists = define("review-exists", 409, "This order line has been reviewed already.")
NotDeliveredYet = define(
    "not-delivered-yet", 409, "An order line can be reviewed once its order has been delivered."
)
OwnReviewVote = define("own-review-vote", 403, "You cannot mark your own review as helpful.")

SORTS = ("newest", "helpful", "rating_high", "rating_low")
RATINGS = range(1, 6)


@dataclass(frozen=True)
class ReviewView:
    post: service.PostView
    review: Review
    images: list[PostImage]  # none for a removed review
    i_found_helpful: bool


@dataclass(frozen=True)
class RatingSummary:
    count: int
    average: Decimal | None  # to one decimal, half up
    distribution: dict[int, int]


@dataclass
class ReviewPage:
    summary: RatingSummary
    items: list[ReviewView] = field(default_factory=list)
    next_cursor: str | None = None


@dataclass(frozen=True)
class OfficialAnswer:
    comment: Comment
    author: service.Author


# ---- writing --------------------------------------------------------------------------------


async def write_review(
    session: AsyncSession,
    clock: Clock,
    viewer: service.Viewer,
    *,
    order_line_id: uuid.UUID,
    rating: int,
    body: str,
    images: Sequence[snaps.UploadedImage],
    rules: service.ActivityRules,
    max_images: int,
) -> Post:
    """A review of a line of the author's own order, on the shop's reviews board.

    Someone else's line answers as a line that does not exist, so nothing about other members'
    orders is revealed. A line is reviewed once its order is delivered, not before: the review
    then speaks of the product received, and every review is a verified purchase. Activity points
    as for a post, more with photos."""
    assert viewer.member_id is not None
    if len(images) > max_images:
        raise InvalidInput("A post has more photos than allowed.", max_images=max_images)
    line = await orders.order_line_for_review(session, viewer.member_id, order_line_id)
    if line is None:
        raise NotFound("The order line does not exist.")
    if line.order_status != "delivered":
        raise NotDeliveredYet(order_status=line.order_status)
    if await session.scalar(select(Review.post_id).where(Review.order_line_id == line.id)):
        raise ReviewExists()
    await service.shop_board(session, clock, "reviews")
    post = await service.create_post(
        session,
        clock,
        service.SHOP_SPACE,
        "reviews",
        viewer,
        title=line.product_name[:120],
        body=body,
        rules=rules,
        kind="review",
        points=rules.photo_review_points if images else rules.review_points,
    )
    review = Review(
        post_id=post.id,
        order_line_id=line.id,
        product_id=line.product_id,
        variant_id=line.variant_id,
        rating=rating,
        verified=True,
    )
    try:
        # added inside the savepoint: begin_nested flushes what is pending before it starts
        async with session.begin_nested():
            session.add(review)
            await session.flush()
    except IntegrityError as exc:
        # the same line reviewed at the same moment: this whole review, points included, goes
        raise ReviewExists() from exc
    await snaps.attach_images(session, clock, post.id, images)
    return post


async def _review(session: AsyncSession, post_id: uuid.UUID, *, lock: bool = False) -> Review:
    query = select(Review).where(Review.post_id == post_id)
    review = await session.scalar(query.with_for_update() if lock else query)
    if review is None:
        raise NotFound("The review does not exist.")
    return review


async def edit_review(
    session: AsyncSession,
    clock: Clock,
    post_id: uuid.UUID,
    viewer: service.Viewer,
    *,
    rating: int | None,
    body: str | None,
) -> None:
    """The author changes the rating or the text; what it said before is kept as a revision."""
    if rating is None and body is None:
        raise InvalidInput("Give a new rating, a new text or both.")
    # locked, so two edits at once each keep what the other replaced
    review = await _review(session, post_id, lock=True)
    post, _, _ = await service.readable_post(session, post_id, viewer)
    if post.author_id != viewer.member_id:
        raise Forbidden("Only the author can edit this review.")
    if (rating is None or rating == review.rating) and (body is None or body == post.body):
        return
    session.add(
        ReviewRevision(
            post_id=post.id, rating=review.rating, body=post.body, created_at=clock.now()
        )
    )
    # the post's own rules: published, the author may still write in the space, hashtags
    await service.edit_post(
        session, clock, post.id, viewer, title=None, body=body, keeps_history=True
    )
    if rating is not None:
        review.rating = rating
    await session.flush()


async def review_revisions(
    session: AsyncSession,
    post_id: uuid.UUID,
    viewer: service.Viewer,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[ReviewRevision], str | None]:
    """What a review said before each edit, the latest first: for its author and staff."""
    post, _, _ = await service.readable_post(session, post_id, viewer)
    await _review(session, post_id)
    if post.author_id != viewer.member_id and not viewer.staff:
        raise Forbidden("Only the author or staff can see the history of a review.")
    query = select(ReviewRevision).where(ReviewRevision.post_id == post_id)
    after = id_after(cursor)
    if after is not None:
        query = query.where(ReviewRevision.id < after)
    rows = list(
        (await session.scalars(query.order_by(ReviewRevision.id.desc()).limit(limit + 1))).all()
    )
    next_cursor = id_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor


async def set_helpful(
    session: AsyncSession, clock: Clock, post_id: uuid.UUID, viewer: service.Viewer, *, on: bool
) -> tuple[int, bool]:
    """Mark (on) or unmark a review as helpful, once per member, never one's own; the count
    moves only with a vote row actually added or removed, so it stays exact. Returns the count
    and whether the viewer's vote stands."""
    assert viewer.member_id is not None
    post, _, _ = await service.readable_post(session, post_id, viewer)
    await _review(session, post_id)
    if post.author_id == viewer.member_id:
        raise OwnReviewVote()
    if on and post.status != "published":
        raise Forbidden("A removed review cannot be voted on.")
    delta = 0
    if on:
        vote = HelpfulVote(post_id=post_id, member_id=viewer.member_id, created_at=clock.now())
        try:
            async with session.begin_nested():
                session.add(vote)
                await session.flush()
            delta = 1
        except IntegrityError:
            pass  # voted already
    else:
        result = await session.execute(
            delete(HelpfulVote).where(
                HelpfulVote.post_id == post_id, HelpfulVote.member_id == viewer.member_id
            )
        )
        delta = -1 if result.rowcount else 0  # type: ignore[attr-defined]
    if delta:
        await session.execute(
            update(Review)
            .where(Review.post_id == post_id)
            .values(helpful_count=Review.helpful_count + delta)
            .execution_options(synchronize_session=False)
        )
    count = await session.scalar(select(Review.helpful_count).where(Review.post_id == post_id))
    return int(count or 0), on


# ---- official answers -----------------------------------------------------------------------


async def add_official_answer(
    session: AsyncSession, clock: Clock, post_id: uuid.UUID, viewer: service.Viewer, *, body: str
) -> OfficialAnswer:
    """Staff answer a review (or any post) for the shop: a comment marked official, shown apart
    from members' comments. Not subject to members' posting limits or personal blocks: it is the
    shop speaking, in public."""
    if not viewer.staff or viewer.member_id is None:
        raise Forbidden("Only staff can give an official answer.")
    post, _, _ = await service.readable_post(session, post_id, viewer)
    if post.status != "published":
        raise Forbidden("A removed post cannot be answered.")
    comment = await service.save_comment(
        session, clock, post, author_id=viewer.member_id, body=body, official=True
    )
    await notifications.notify(
        session,
        clock,
        member_id=post.author_id,
        kind="comment",
        actor_id=viewer.member_id,
        post_id=post.id,
        comment_id=comment.id,
        data={"official": True},
    )
    return (await _official_answers(session, [comment]))[0]


async def official_answers(
    session: AsyncSession,
    post_id: uuid.UUID,
    viewer: service.Viewer,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[OfficialAnswer], str | None]:
    """The official answers on a post, in the order given. They are never anonymous, whatever
    the board: the shop answers in its staff member's name."""
    await service.readable_post(session, post_id, viewer)
    query = select(Comment).where(
        Comment.post_id == post_id, Comment.official.is_(True), Comment.status != "deleted"
    )
    after = id_after(cursor)
    if after is not None:
        query = query.where(Comment.id > after)
    rows = list((await session.scalars(query.order_by(Comment.id).limit(limit + 1))).all())
    next_cursor = id_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return await _official_answers(session, rows[:limit]), next_cursor


async def _official_answers(
    session: AsyncSession, comments: Sequence[Comment]
) -> list[OfficialAnswer]:
    names = await accounts.member_briefs(session, [c.author_id for c in comments])
    return [
        OfficialAnswer(
            comment=c,
            author=service.Author(
                member_id=c.author_id,
                name=names[c.author_id].nickname if c.author_id in names else "",
                anonymous=False,
            ),
        )
        for c in comments
    ]


# ---- reading --------------------------------------------------------------------------------


async def _review_views(
    session: AsyncSession,
    viewer: service.Viewer,
    rows: Sequence[tuple[Review, Post, Space, Board]],
) -> list[ReviewView]:
    posts = await service.post_views(session, viewer, [(p, s, b) for _, p, s, b in rows])
    shown = [post.id for _, post, _, _ in rows if post.status == "published"]
    images = await snaps.post_images(session, shown)
    mine: set[uuid.UUID] = set()
    if viewer.member_id is not None and rows:
        mine = set(
            (
                await session.scalars(
                    select(HelpfulVote.post_id).where(
                        HelpfulVote.member_id == viewer.member_id,
                        HelpfulVote.post_id.in_([r.post_id for r, _, _, _ in rows]),
                    )
                )
            ).all()
        )
    return [
        ReviewView(
            post=view,
            review=review,
            images=images.get(review.post_id, []),
            i_found_helpful=review.post_id in mine,
        )
        for view, (review, _, _, _) in zip(posts, rows, strict=True)
    ]


def _reviews_query() -> Any:
    return (
        select(Review, Post, Space, Board)
        .join(Post, Post.id == Review.post_id)
        .join(Space, Space.id == Post.space_id)
        .join(Board, Board.id == Post.board_id)
    )


async def get_review(
    session: AsyncSession, post_id: uuid.UUID, viewer: service.Viewer
) -> ReviewView:
    await service.readable_post(session, post_id, viewer)
    row = (await session.execute(_reviews_query().where(Review.post_id == post_id))).first()
    if row is None:
        raise NotFound("The review does not exist.")
    return (await _review_views(session, viewer, [(row[0], row[1], row[2], row[3])]))[0]


async def my_reviews(
    session: AsyncSession,
    viewer: service.Viewer,
    *,
    order_line_ids: Sequence[uuid.UUID] = (),
    limit: int,
    cursor: str | None,
) -> tuple[list[ReviewView], str | None]:
    """The viewer's own reviews, newest first; with `order_line_ids`, only those of these lines,
    so that an order's page can tell which of its lines are reviewed. Lines of other members'
    orders simply find nothing."""
    assert viewer.member_id is not None
    query = _reviews_query().where(Post.author_id == viewer.member_id, Post.status != "deleted")
    if order_line_ids:
        query = query.where(Review.order_line_id.in_(order_line_ids))
    after = id_after(cursor)
    if after is not None:
        query = query.where(Review.post_id < after)
    rows = list(
        (await session.execute(query.order_by(Review.post_id.desc()).limit(limit + 1))).all()
    )
    next_cursor = id_cursor(rows[limit - 1][0].post_id) if len(rows) > limit else None
    items = await _review_views(session, viewer, [(r[0], r[1], r[2], r[3]) for r in rows[:limit]])
    return items, next_cursor


async def rating_summary(session: AsyncSession, product_id: uuid.UUID) -> RatingSummary:
    """Count, mean and spread of the ratings of a product's published reviews."""
    rows = await session.execute(
        select(Review.rating, func.count())
        .join(Post, Post.id == Review.post_id)
        .where(Review.product_id == product_id, Post.status == "published")
        .group_by(Review.rating)
    )
    distribution = dict.fromkeys(RATINGS, 0)
    for rating, n in rows:
        distribution[int(rating)] = int(n)
    count = sum(distribution.values())
    total = sum(rating * n for rating, n in distribution.items())
    average = (
        (Decimal(total) / count).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if count else None
    )
    return RatingSummary(count=count, average=average, distribution=distribution)


_SORT_KEYS = {
    "helpful": (Review.helpful_count, False),
    "rating_high": (Review.rating, False),
    "rating_low": (Review.rating, True),
}


async def product_reviews(
    session: AsyncSession,
    viewer: service.Viewer,
    product_id: uuid.UUID,
    *,
    sort: str = "newest",
    limit: int,
    cursor: str | None,
) -> ReviewPage:
    """A product's reviews, every rating alike, newest first or by helpfulness or rating (ties
    newest first), with the rating summary. A removed review keeps its place with the reason,
    without its text or photos, and leaves the summary. Reviews by members the viewer blocked
    are left out of the list, not of the summary."""
    if sort not in SORTS:
        raise InvalidInput(f"sort must be one of {', '.join(SORTS)}.")
    if product_id not in await catalog.product_cards(session, [product_id]):
        raise NotFound("The product does not exist.")
    query = _reviews_query().where(
        Review.product_id == product_id,
        Post.status != "deleted",
        Space.status == "active",
        await service.readable_space_ids(session, viewer),
    )
    blocked = await service.blocked_ids(session, viewer.member_id)
    if blocked:
        query = query.where(Post.author_id.not_in(blocked))
    decoded = decode_cursor(cursor)
    if sort == "newest":
        if decoded is not None:
            (after,) = cursor_keys(decoded, sort, [uuid.UUID])
            query = query.where(Review.post_id < after)
        query = query.order_by(Review.post_id.desc())
    else:
        column, ascending = _SORT_KEYS[sort]
        if decoded is not None:
            value, after = cursor_keys(decoded, sort, [int, uuid.UUID])
            beyond = column > value if ascending else column < value
            query = query.where(or_(beyond, and_(column == value, Review.post_id < after)))
        query = query.order_by(column.asc() if ascending else column.desc(), Review.post_id.desc())
    rows = list((await session.execute(query.limit(limit + 1))).all())
    next_cursor = None
    if len(rows) > limit:
        last: Review = rows[limit - 1][0]
        keys: list[Any] = [str(last.post_id)]
        if sort != "newest":
            keys.insert(0, getattr(last, _SORT_KEYS[sort][0].key))
        next_cursor = encode_cursor({"s": sort, "k": keys})
    items = await _review_views(session, viewer, [(r[0], r[1], r[2], r[3]) for r in rows[:limit]])
    return ReviewPage(
        summary=await rating_summary(session, product_id), items=items, next_cursor=next_cursor
    )
