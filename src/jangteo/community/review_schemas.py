"""Request and response models of product reviews and official answers: the public contract."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from jangteo.community.schemas import AuthorOut, Body, CommentBody, PostOut
from jangteo.community.snap_schemas import ImageOut, ImageToken

Rating = Annotated[int, Field(ge=1, le=5)]
ReviewSort = Literal["newest", "helpful", "rating_high", "rating_low"]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReviewCreate(Request):
    order_line_id: uuid.UUID
    rating: Rating
    body: Body
    images: Annotated[list[ImageToken], Field(max_length=10)] = []


class ReviewUpdate(Request):
    rating: Rating | None = None
    body: Body | None = None


class ReviewFacts(BaseModel):
    rating: int
    verified: bool = Field(description="bought and delivered: the author's own delivered line")
    helpful_count: int
    order_line_id: uuid.UUID | None = Field(None, description="shown to the author only")
    i_found_helpful: bool


class ReviewOut(BaseModel):
    post: PostOut
    review: ReviewFacts
    images: list[ImageOut] = Field(description="empty when the review was removed")


class ReviewSummary(BaseModel):
    count: int = Field(description="published reviews")
    average: float | None = Field(description="mean rating to one decimal; null without reviews")
    distribution: dict[int, int] = Field(description="reviews for each rating 1…5")


class ProductReviewPage(BaseModel):
    items: list[ReviewOut]
    summary: ReviewSummary
    next_cursor: str | None


class ReviewPage(BaseModel):
    items: list[ReviewOut]
    next_cursor: str | None


class RevisionOut(BaseModel):
    id: uuid.UUID
    rating: int
    body: str
    created_at: datetime = Field(description="when it was replaced by an edit")


class RevisionPage(BaseModel):
    items: list[RevisionOut]
    next_cursor: str | None


class HelpfulOut(BaseModel):
    helpful_count: int
    i_found_helpful: bool


class OfficialAnswerCreate(Request):
    body: CommentBody


class OfficialAnswerOut(BaseModel):
    id: uuid.UUID
    post_id: uuid.UUID
    author: AuthorOut
    body: str
    status: str
    removed_reason: str | None
    official: bool = True
    created_at: datetime


class OfficialAnswerPage(BaseModel):
    items: list[OfficialAnswerOut]
    next_cursor: str | None
