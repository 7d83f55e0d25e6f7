"""Request and response models of community photos and styling snaps: the public contract."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from jangteo.community.schemas import Body, ImageOut, ImageToken, PostOut, Slug, Title

Unit = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UploadOut(BaseModel):
    token: str = Field(
        description="attach the photo to a snap or review with this; it proves the upload is "
        "yours and expires at expires_at"
    )
    url: str
    thumbnail_url: str
    width: int
    height: int
    expires_at: datetime


class TagIn(Request):
    image: int = Field(ge=0, description="index of the photo in `images`")
    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    x: Unit = Field(description="0 (left) … 1 (right)")
    y: Unit = Field(description="0 (top) … 1 (bottom)")


class SnapCreate(Request):
    title: Title = ""
    body: Body
    images: Annotated[list[ImageToken], Field(min_length=1, max_length=10)]
    tags: Annotated[list[TagIn], Field(max_length=20)] = []
    space: Annotated[str, StringConstraints(strip_whitespace=True, max_length=80)] | None = Field(
        None, description="a space's slug or id; the shop's snaps board when left out"
    )
    board: Slug | None = Field(
        None, description="a board of `space` (its `free` board if left out)"
    )

    @model_validator(mode="after")
    def _references_hold(self) -> SnapCreate:
        for tag in self.tags:
            if tag.image >= len(self.images):
                raise ValueError(
                    f"tag image {tag.image} is not one of the {len(self.images)} images"
                )
        if self.board is not None and self.space is None:
            raise ValueError("board needs space")
        return self


class ProductCardOut(BaseModel):
    id: uuid.UUID
    name: str
    price: int
    image: str | None
    on_sale: bool


class TagOut(BaseModel):
    product: ProductCardOut
    variant_id: uuid.UUID | None
    x: float
    y: float


class SnapImageOut(ImageOut):
    tags: list[TagOut]


class SnapOut(BaseModel):
    post: PostOut
    images: list[SnapImageOut] = Field(description="empty when the post was removed")


class SnapPage(BaseModel):
    items: list[SnapOut]
    next_cursor: str | None
