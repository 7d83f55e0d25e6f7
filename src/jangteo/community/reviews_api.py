"""HTTP API of product reviews (of order lines), helpful votes, a product's reviews with their
rating summary, and the official answers of staff on reviews and posts."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from jangteo.community import review_schemas as schemas
from jangteo.community import reviews, service, snaps
from jangteo.community.api import _author, _post_out, _viewer, image_out
from jangteo.core.deps import CurrentMember, IdempotencyKey, OptionalMember, PlatformDep
from jangteo.core.idempotency import request_fingerprint, run_once
from jangteo.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from jangteo.core.security import Principal

router = APIRouter(prefix="/api/v1", tags=["community"])

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=500)]


def review_out(view: reviews.ReviewView, viewer_id: uuid.UUID | None) -> schemas.ReviewOut:
    review = view.review
    return schemas.ReviewOut(
        post=_post_out(view.post),
        review=schemas.ReviewFacts(
            rating=review.rating,
            verified=review.verified,
            helpful_count=review.helpful_count,
            # which order it was is the author's business only
            order_line_id=review.order_line_id if view.post.post.author_id == viewer_id else None,
            i_found_helpful=view.i_found_helpful,
        ),
        images=[image_out(i) for i in view.images],
    )


def _answer_out(answer: reviews.OfficialAnswer) -> schemas.OfficialAnswerOut:
    c = answer.comment
    return schemas.OfficialAnswerOut(
        id=c.id,
        post_id=c.post_id,
        author=_author(answer.author),
        body="" if c.status == "removed" else c.body,
        status=c.status,
        removed_reason=c.removed_reason,
        created_at=c.created_at,
    )


@router.post("/reviews", response_model=schemas.ReviewOut, status_code=status.HTTP_201_CREATED)
async def write_review(
    platform: PlatformDep,
    member: CurrentMember,
    body: schemas.ReviewCreate,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Review a line of one of your delivered orders (once per line). A review earns activity
    points; a retry with the same Idempotency-Key answers the first review again."""
    viewer = _viewer(member)
    settings = platform.settings
    images = snaps.read_image_tokens(platform.signer, platform.clock, member.member_id, body.images)

    async def operation(session: Any) -> dict[str, Any]:
        post = await reviews.write_review(
            session,
            platform.clock,
            viewer,
            order_line_id=body.order_line_id,
            rating=body.rating,
            body=body.body,
            images=images,
            rules=await service.activity_rules(session, platform.settings),
            max_images=settings.community_max_post_images,
        )
        view = await reviews.get_review(session, post.id, viewer)
        return review_out(view, member.member_id).model_dump(mode="json")

    return await run_once(
        platform.db,
        platform.clock,
        scope="community.reviews.write",
        owner=str(member.member_id),
        key=idempotency_key,
        fingerprint=request_fingerprint(body.model_dump(mode="json")),
        operation=operation,
    )


@router.get("/reviews/{post_id}", response_model=schemas.ReviewOut)
async def get_review(
    platform: PlatformDep, principal: OptionalMember, post_id: uuid.UUID
) -> schemas.ReviewOut:
    viewer = _viewer(principal)
    async with platform.db.read() as session:
        return review_out(await reviews.get_review(session, post_id, viewer), viewer.member_id)


@router.patch("/reviews/{post_id}", response_model=schemas.ReviewOut)
async def edit_review(
    platform: PlatformDep, member: CurrentMember, post_id: uuid.UUID, body: schemas.ReviewUpdate
) -> schemas.ReviewOut:
    """Change your review's rating or text; the previous version is kept in its history."""
    viewer = _viewer(member)
    async with platform.db.write() as session:
        await reviews.edit_review(
            session, platform.clock, post_id, viewer, rating=body.rating, body=body.body
        )
        return review_out(await reviews.get_review(session, post_id, viewer), member.member_id)


@router.get("/reviews/{post_id}/revisions", response_model=schemas.RevisionPage)
async def review_revisions(
    platform: PlatformDep,
    member: CurrentMember,
    post_id: uuid.UUID,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> schemas.RevisionPage:
    """What the review said before each edit, the latest first (its author and staff only)."""
    async with platform.db.read() as session:
        rows, next_cursor = await reviews.review_revisions(
            session, post_id, _viewer(member), limit=limit, cursor=cursor
        )
    return schemas.RevisionPage(
        items=[
            schemas.RevisionOut(id=r.id, rating=r.rating, body=r.body, created_at=r.created_at)
            for r in rows
        ],
        next_cursor=next_cursor,
    )


@router.get("/me/reviews", response_model=schemas.ReviewPage)
async def my_reviews(
    platform: PlatformDep,
    member: CurrentMember,
    order_line_id: Annotated[list[uuid.UUID] | None, Query(max_length=MAX_LIMIT)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> schemas.ReviewPage:
    """Your reviews, newest first; `order_line_id` (repeatable) keeps those of these lines of
    your orders, which tells you which lines are reviewed already."""
    viewer = _viewer(member)
    async with platform.db.read() as session:
        items, next_cursor = await reviews.my_reviews(
            session, viewer, order_line_ids=order_line_id or (), limit=limit, cursor=cursor
        )
    return schemas.ReviewPage(
        items=[review_out(v, member.member_id) for v in items], next_cursor=next_cursor
    )


async def _helpful(
    platform: Any, member: Principal, post_id: uuid.UUID, on: bool
) -> schemas.HelpfulOut:
    async with platform.db.write() as session:
        count, mine = await reviews.set_helpful(
            session, platform.clock, post_id, _viewer(member), on=on
        )
    return schemas.HelpfulOut(helpful_count=count, i_found_helpful=mine)


@router.put("/reviews/{post_id}/helpful", response_model=schemas.HelpfulOut)
async def mark_helpful(
    platform: PlatformDep, member: CurrentMember, post_id: uuid.UUID
) -> schemas.HelpfulOut:
    """Mark someone else's review as helpful; repeating it changes nothing."""
    return await _helpful(platform, member, post_id, True)


@router.delete("/reviews/{post_id}/helpful", response_model=schemas.HelpfulOut)
async def unmark_helpful(
    platform: PlatformDep, member: CurrentMember, post_id: uuid.UUID
) -> schemas.HelpfulOut:
    return await _helpful(platform, member, post_id, False)


@router.get("/products/{product_id}/reviews", response_model=schemas.ProductReviewPage)
async def product_reviews(
    platform: PlatformDep,
    principal: OptionalMember,
    product_id: uuid.UUID,
    sort: schemas.ReviewSort = "newest",
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> schemas.ProductReviewPage:
    """A product's reviews, good and bad alike, with the count, mean and spread of ratings."""
    viewer = _viewer(principal)
    async with platform.db.read() as session:
        page = await reviews.product_reviews(
            session, viewer, product_id, sort=sort, limit=limit, cursor=cursor
        )
    summary = page.summary
    return schemas.ProductReviewPage(
        items=[review_out(v, viewer.member_id) for v in page.items],
        summary=schemas.ReviewSummary(
            count=summary.count,
            average=float(summary.average) if summary.average is not None else None,
            distribution=summary.distribution,
        ),
        next_cursor=page.next_cursor,
    )


@router.post(
    "/posts/{post_id}/official-answer",
    response_model=schemas.OfficialAnswerOut,
    status_code=status.HTTP_201_CREATED,
)
async def add_official_answer(
    platform: PlatformDep,
    member: CurrentMember,
    post_id: uuid.UUID,
    body: schemas.OfficialAnswerCreate,
) -> schemas.OfficialAnswerOut:
    """Staff only: answer a review or any post for the shop, shown apart as official."""
    async with platform.db.write() as session:
        answer = await reviews.add_official_answer(
            session, platform.clock, post_id, _viewer(member), body=body.body
        )
    return _answer_out(answer)


@router.get("/posts/{post_id}/official-answers", response_model=schemas.OfficialAnswerPage)
async def list_official_answers(
    platform: PlatformDep,
    principal: OptionalMember,
    post_id: uuid.UUID,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> schemas.OfficialAnswerPage:
    async with platform.db.read() as session:
        answers, next_cursor = await reviews.official_answers(
            session, post_id, _viewer(principal), limit=limit, cursor=cursor
        )
    return schemas.OfficialAnswerPage(
        items=[_answer_out(a) for a in answers], next_cursor=next_cursor
    )
