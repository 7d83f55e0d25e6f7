"""Questions with a points bounty: the asker's points are held when they ask, paid to the answer
they accept (with the platform's bonus) or given back when the question expires unaccepted.

Each outcome is one conditional change of the question's status (open → accepted or open →
expired), so whichever comes first wins and the bounty moves exactly once; the ledger references
keyed by the question make a repeated payment a no-op as well.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.accounts import service as accounts
from jangteo.catalog import service as catalog
from jangteo.community import notifications, service
from jangteo.community.models import Board, Comment, Post, Question, Space
from jangteo.core import jobs
from jangteo.core.clock import Clock
from jangteo.core.errors import Forbidden, InvalidInput, NotFound, define
from jangteo.core.pagination import id_after, id_cursor

QuestionClosed = define("question-closed", 409, "This question is no longer open.")
NotAnAnswer = define(
    "not-an-answer", 422, "Only a published top-level comment on this question can be accepted."
)
OwnAnswer = define("own-answer", 422, "You cannot accept your own answer.")
UnknownProduct = define("unknown-product", 422, "The product does not exist or is not for sale.")

EXPIRE_JOB = "community.question.expire"
STATUSES = ("open", "accepted", "expired")
# the bonus counts against its own daily cap, so that accounts answering each other's
# questions cannot mint points without limit
BONUS_ACTION = "answer-accepted"


@dataclass(frozen=True)
class QuestionRules:
    """Bounty bounds, the acceptance bonus and how long a question stays open, from settings."""

    min_bounty: int = 10
    max_bounty: int = 10_000
    open_days: int = 7
    points_expiry_days: int = 365

    @classmethod
    def of(cls, settings: Any) -> QuestionRules:
        return cls(
            min_bounty=settings.community_min_bounty,
            max_bounty=settings.community_max_bounty,
            open_days=settings.community_question_days,
            points_expiry_days=settings.points_expiry_days,
        )


@dataclass(frozen=True)
class QuestionView:
    post: service.PostView
    question: Question
    # None on an anonymous board unless the viewer is staff: the alias must not be unmasked
    answerer_id: uuid.UUID | None


def _expiry_key(post_id: uuid.UUID) -> str:
    return f"community.question.expire:{post_id}"


def _view(post: service.PostView, question: Question, viewer: service.Viewer) -> QuestionView:
    hidden = post.board.anonymous and not viewer.staff
    return QuestionView(post, question, None if hidden else question.answerer_id)


async def ask(
    session: AsyncSession,
    clock: Clock,
    viewer: service.Viewer,
    *,
    title: str,
    body: str,
    bounty: int,
    product_id: uuid.UUID | None,
    space: str | None,
    board: str | None,
    activity: service.ActivityRules,
    rules: QuestionRules,
) -> Post:
    """A question post; its bounty is held from the asker's wallet in the same transaction and
    its expiry is scheduled."""
    assert viewer.member_id is not None
    if bounty and not rules.min_bounty <= bounty <= rules.max_bounty:
        raise InvalidInput(
            f"A bounty is 0 or between {rules.min_bounty:,} and {rules.max_bounty:,} points.",
            min_bounty=rules.min_bounty,
            max_bounty=rules.max_bounty,
        )
    if product_id is not None and not await catalog.active_product_names(session, [product_id]):
        raise UnknownProduct(product_id=str(product_id))
    # the balance before this post's activity points must cover the bounty
    balance = await accounts.points_balance(session, viewer.member_id)
    if bounty > balance:
        raise accounts.InsufficientPoints(balance=balance, requested=bounty)
    if space is None or board is None:
        await service.shop_board(session, clock, "qna")
        space, board = service.SHOP_SPACE, "qna"
    post = await service.create_post(
        session,
        clock,
        space,
        board,
        viewer,
        title=title,
        body=body,
        rules=activity,
        kind="question",
    )
    expires_at = clock.now() + timedelta(days=rules.open_days)
    session.add(
        Question(
            post_id=post.id,
            product_id=product_id,
            bounty=bounty,
            status="open",
            expires_at=expires_at,
        )
    )
    await session.flush()
    if bounty:
        await accounts.hold_points(
            session,
            clock,
            member_id=viewer.member_id,
            amount=bounty,
            reason="질문 현상금",
            reference=f"question:{post.id}:bounty",
        )
    await jobs.schedule(
        session, EXPIRE_JOB, _expiry_key(post.id), expires_at, {"post_id": str(post.id)}
    )
    return post


async def _question(session: AsyncSession, post_id: uuid.UUID) -> Question:
    question = await session.scalar(
        select(Question)
        .where(Question.post_id == post_id)
        .execution_options(populate_existing=True)
    )
    if question is None:
        raise NotFound("The question does not exist.")
    return question


async def get_question(
    session: AsyncSession, post_id: uuid.UUID, viewer: service.Viewer
) -> QuestionView:
    post = await service.get_post(session, post_id, viewer)
    return _view(post, await _question(session, post_id), viewer)


async def accept(
    session: AsyncSession,
    clock: Clock,
    post_id: uuid.UUID,
    viewer: service.Viewer,
    *,
    comment_id: uuid.UUID,
    activity: service.ActivityRules,
    rules: QuestionRules,
) -> None:
    """The asker accepts one answer: its author gets the bounty and the platform's bonus."""
    post, _, board = await service.readable_post(session, post_id, viewer)
    question = await _question(session, post_id)
    if post.author_id != viewer.member_id:
        raise Forbidden("Only the asker can accept an answer.")
    if question.status != "open":
        raise QuestionClosed()
    answer = await session.get(Comment, comment_id)
    if (
        answer is None
        or answer.post_id != post.id
        or answer.parent_id is not None
        or answer.status != "published"
    ):
        raise NotAnAnswer()
    if answer.author_id == viewer.member_id:
        raise OwnAnswer()
    now = clock.now()
    # the one decision: of two accepts (or an accept and the expiry) only one finds it open
    closed = await session.execute(
        update(Question)
        .where(Question.post_id == post_id, Question.status == "open")
        .values(
            status="accepted",
            accepted_comment_id=answer.id,
            answerer_id=answer.author_id,
            resolved_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if closed.rowcount != 1:  # type: ignore[attr-defined]
        raise QuestionClosed()
    if question.bounty:
        await accounts.release_held_points(
            session,
            clock,
            member_id=answer.author_id,
            amount=question.bounty,
            reason="답변 채택",
            reference=f"question:{post_id}:award",
            expiry_days=rules.points_expiry_days,
        )
    counter = await service.count_activity(session, clock, answer.author_id, BONUS_ACTION)
    bonus = await service.reward(
        session,
        clock,
        counter,
        points=activity.answer_bonus_points,
        cap=activity.daily_points_cap,
        reason="채택 보너스",
        reference=f"question:{post_id}:bonus",
    )
    await session.execute(
        update(Question)
        .where(Question.post_id == post_id)
        .values(bonus=bonus)
        .execution_options(synchronize_session=False)
    )
    await jobs.cancel(session, _expiry_key(post_id))
    await notifications.notify(
        session,
        clock,
        member_id=answer.author_id,
        kind="answer_accepted",
        actor_id=post.author_id,
        post_id=post.id,
        comment_id=answer.id,
        data={"bounty": question.bounty, "bonus": bonus, "anonymous": board.anonymous},
    )


async def expire(
    session: AsyncSession, clock: Clock, post_id: uuid.UUID, *, rules: QuestionRules
) -> bool:
    """Close a question still open at its expiry and give the asker their bounty back; False
    when there was nothing to do (accepted, expired already, or not yet due)."""
    question = await session.get(Question, post_id)
    if question is None:
        return False
    now = clock.now()
    closed = await session.execute(
        update(Question)
        .where(
            Question.post_id == post_id,
            Question.status == "open",
            Question.expires_at <= now,
        )
        .values(status="expired", resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    if closed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    asker = await session.scalar(select(Post.author_id).where(Post.id == post_id))
    assert asker is not None
    if question.bounty:
        await accounts.release_held_points(
            session,
            clock,
            member_id=asker,
            amount=question.bounty,
            reason="질문 현상금 반환",
            reference=f"question:{post_id}:refund",
            expiry_days=rules.points_expiry_days,
        )
    return True


async def list_questions(
    session: AsyncSession,
    viewer: service.Viewer,
    *,
    product_id: uuid.UUID | None,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[QuestionView], str | None]:
    """Questions the viewer may read, newest first, about a product and in a status if asked."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}.")
    query = (
        select(Post, Space, Board, Question)
        .join(Question, Question.post_id == Post.id)
        .join(Space, Space.id == Post.space_id)
        .join(Board, Board.id == Post.board_id)
        .where(
            Post.status == "published",
            Space.status == "active",
            await service.readable_space_ids(session, viewer),
        )
    )
    if product_id is not None:
        query = query.where(Question.product_id == product_id)
    if status is not None:
        query = query.where(Question.status == status)
    blocked = await service.blocked_ids(session, viewer.member_id)
    if blocked:
        query = query.where(Post.author_id.not_in(blocked))
    after = id_after(cursor)
    if after is not None:
        query = query.where(Question.post_id < after)
    rows = list(
        (await session.execute(query.order_by(Question.post_id.desc()).limit(limit + 1))).all()
    )
    next_cursor = id_cursor(rows[limit - 1][0].id) if len(rows) > limit else None
    rows = rows[:limit]
    posts = await service.post_views(session, viewer, [(r[0], r[1], r[2]) for r in rows])
    return [_view(p, r[3], viewer) for p, r in zip(posts, rows, strict=True)], next_cursor
