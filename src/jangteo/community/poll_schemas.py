"""Request and response models of "골라줘" polls: the public contract."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints, model_validator

from jangteo.community.schemas import Body, PostOut, Request

ResultsVisibility = Literal["always", "after_vote", "after_close"]
PollTitle = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
OptionLabel = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class OptionIn(Request):
    label: OptionLabel | None = Field(None, description="default: the product's name")
    product_id: uuid.UUID | None = Field(None, description="a product on sale")

    @model_validator(mode="after")
    def _label_or_product(self) -> OptionIn:
        if self.label is None and self.product_id is None:
            raise ValueError("an option needs a label or a product_id")
        return self


class PollCreate(Request):
    title: PollTitle
    body: Body
    options: list[OptionIn] = Field(min_length=2, max_length=4)
    closes_at: AwareDatetime = Field(description="in the future, within the shop's longest poll")
    results_visibility: ResultsVisibility = Field(
        "always",
        description="when the counts are shown: always, after_vote (to those who voted) or "
        "after_close; everyone sees them once the poll has closed",
    )
    space: str | None = Field(None, max_length=80, description="with board; default: the shop")
    board: str | None = Field(None, max_length=80, description="with space; default: 골라줘")

    @model_validator(mode="after")
    def _space_with_board(self) -> PollCreate:
        if (self.space is None) != (self.board is None):
            raise ValueError("space and board are given together or not at all")
        return self


class VoteRequest(Request):
    option_id: uuid.UUID


class OptionOut(BaseModel):
    id: uuid.UUID
    label: str
    product_id: uuid.UUID | None
    votes: int | None = Field(description="null while the results are hidden from you")


class PollState(BaseModel):
    closes_at: datetime
    closed: bool
    results_visibility: ResultsVisibility
    vote_count: int | None = Field(description="null while the results are hidden from you")
    options: list[OptionOut]
    my_vote: uuid.UUID | None = Field(description="the option you voted for")


class PollOut(BaseModel):
    post: PostOut
    poll: PollState
