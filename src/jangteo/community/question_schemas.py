"""Request and response models of community questions: the public contract."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from jangteo.community.schemas import Body, PostOut, Request

QuestionTitle = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)
]
QuestionStatus = Literal["open", "accepted", "expired"]


class QuestionCreate(Request):
    title: QuestionTitle
    body: Body
    product_id: uuid.UUID | None = Field(None, description="the product asked about (on sale)")
    bounty: int = Field(
        0,
        ge=0,
        strict=True,
        description="points held from your wallet and paid to the answer you accept; 0 for "
        "none, else within the shop's minimum and maximum",
    )
    space: str | None = Field(None, max_length=80, description="with board; default: the shop")
    board: str | None = Field(None, max_length=80, description="with space; default: 상품 Q&A")

    @model_validator(mode="after")
    def _space_with_board(self) -> QuestionCreate:
        if (self.space is None) != (self.board is None):
            raise ValueError("space and board are given together or not at all")
        return self


class AcceptRequest(Request):
    comment_id: uuid.UUID


class QuestionState(BaseModel):
    bounty: int
    bonus: int = Field(description="the platform's extra points to the accepted answer")
    status: QuestionStatus
    product_id: uuid.UUID | None
    accepted_comment_id: uuid.UUID | None
    answerer_id: uuid.UUID | None = Field(
        description="the accepted answer's author; null on an anonymous board (unless staff)"
    )
    expires_at: datetime


class QuestionOut(BaseModel):
    post: PostOut
    question: QuestionState


class QuestionPage(BaseModel):
    items: list[QuestionOut]
    next_cursor: str | None
