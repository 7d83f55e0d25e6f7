"""HTTP API of community questions."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.community import questions, service
from jangteo.community.api import Cursor, Limit, _post_out, _viewer
from jangteo.community.question_schemas import (
    AcceptRequest,
    QuestionCreate,
    QuestionOut,
    QuestionPage,
    QuestionState,
    QuestionStatus,
)
from jangteo.core.deps import CurrentMember, IdempotencyKey, OptionalMember, PlatformDep
from jangteo.core.idempotency import request_fingerprint, run_once
from jangteo.core.pagination import DEFAULT_LIMIT

router = APIRouter(prefix="/api/v1", tags=["community"])


def _question_out(view: questions.QuestionView) -> QuestionOut:
    q = view.question
    return QuestionOut(
        post=_post_out(view.post),
        question=QuestionState(
            bounty=q.bounty,
            bonus=q.bonus,
            status=q.status,  # type: ignore[arg-type]
            product_id=q.product_id,
            accepted_comment_id=q.accepted_comment_id,
            answerer_id=view.answerer_id,
            expires_at=q.expires_at,
        ),
    )


@router.post("/questions", response_model=QuestionOut, status_code=status.HTTP_201_CREATED)
async def ask_question(
    platform: PlatformDep,
    member: CurrentMember,
    body: QuestionCreate,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Ask a question, on the shop's 상품 Q&A board unless a space and board are given. The
    bounty is held from your wallet until you accept an answer or the question expires (then
    it comes back). A retry with the same Idempotency-Key returns the first question."""
    viewer = _viewer(member)

    async def operation(session: AsyncSession) -> dict[str, Any]:
        post = await questions.ask(
            session,
            platform.clock,
            viewer,
            title=body.title,
            body=body.body,
            bounty=body.bounty,
            product_id=body.product_id,
            space=body.space,
            board=body.board,
            activity=await service.activity_rules(session, platform.settings),
            rules=questions.QuestionRules.of(platform.settings),
        )
        view = await questions.get_question(session, post.id, viewer)
        return _question_out(view).model_dump(mode="json")

    return await run_once(
        platform.db,
        platform.clock,
        scope="community.questions.ask",
        owner=str(member.member_id),
        key=idempotency_key,
        fingerprint=request_fingerprint(body.model_dump(mode="json")),
        operation=operation,
    )


@router.get("/questions", response_model=QuestionPage)
async def list_questions(
    platform: PlatformDep,
    principal: OptionalMember,
    product_id: uuid.UUID | None = None,
    status_: Annotated[QuestionStatus | None, Query(alias="status")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> QuestionPage:
    """Questions you may read, newest first; about one product and in one status if given."""
    async with platform.db.read() as session:
        views, next_cursor = await questions.list_questions(
            session,
            _viewer(principal),
            product_id=product_id,
            status=status_,
            limit=limit,
            cursor=cursor,
        )
    return QuestionPage(items=[_question_out(v) for v in views], next_cursor=next_cursor)


@router.get("/questions/{post_id}", response_model=QuestionOut)
async def get_question(
    platform: PlatformDep, principal: OptionalMember, post_id: uuid.UUID
) -> QuestionOut:
    async with platform.db.read() as session:
        return _question_out(await questions.get_question(session, post_id, _viewer(principal)))


@router.post("/questions/{post_id}/accept", response_model=QuestionOut)
async def accept_answer(
    platform: PlatformDep,
    member: CurrentMember,
    post_id: uuid.UUID,
    body: AcceptRequest,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """The asker accepts one answer (a top-level comment by someone else): its author gets the
    bounty and the platform's bonus. A question is accepted once; later tries get 409, except
    a retry with the same Idempotency-Key, which gets the first answer."""
    viewer = _viewer(member)

    async def operation(session: AsyncSession) -> dict[str, Any]:
        await questions.accept(
            session,
            platform.clock,
            post_id,
            viewer,
            comment_id=body.comment_id,
            activity=await service.activity_rules(session, platform.settings),
            rules=questions.QuestionRules.of(platform.settings),
        )
        view = await questions.get_question(session, post_id, viewer)
        return _question_out(view).model_dump(mode="json")

    return await run_once(
        platform.db,
        platform.clock,
        scope="community.questions.accept",
        owner=str(member.member_id),
        key=idempotency_key,
        fingerprint=request_fingerprint({"post_id": str(post_id), **body.model_dump(mode="json")}),
        operation=operation,
    )
