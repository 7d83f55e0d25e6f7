"""Request and response models of the rewards API: the public contract."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Channel = Literal["kakaotalk", "instagram", "facebook", "x", "band", "sms", "link", "other"]
VisitorId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,40}$")]
Rate = Annotated[int, Field(ge=100, le=500, description="basis points: 100 = 1 %")]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ShareLinkCreate(Request):
    target_type: Literal["product", "post", "profile"]
    target_id: uuid.UUID
    channel: Channel = "link"


class ShareLinkOut(BaseModel):
    code: str
    url: str
    target_type: str
    target_id: uuid.UUID
    channel: str
    visit_count: int
    created_at: datetime


class ShareLinkPage(BaseModel):
    items: list[ShareLinkOut]
    next_cursor: str | None


class TouchOut(BaseModel):
    touches: int


class RewardRulesOut(BaseModel):
    """The attribution window (minutes), the default reward rate (basis points), the cap per
    order (KRW) and how many days after delivery a reward becomes available."""

    window_minutes: int
    default_rate_bp: int
    cap_per_order: int
    return_window_days: int


class RewardRulesChange(Request):
    window_minutes: Annotated[int, Field(ge=10, le=30 * 24 * 60)] | None = None
    default_rate_bp: Rate | None = None
    cap_per_order: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    return_window_days: Annotated[int, Field(ge=0, le=60)] | None = None


class CategoryRateIn(Request):
    rate_bp: Rate


class CategoryRateOut(BaseModel):
    category_id: uuid.UUID
    rate_bp: int


class DayAmount(BaseModel):
    day: str
    amount: int


class EarningsOut(BaseModel):
    """Pending (not final yet), available (settled each month), settling (in a statement,
    waiting for the payout), paid out, owed (taken back after being settled; deducted from later
    earnings), and what was earned each of the last 30 days."""

    pending: int
    available: int
    settling: int
    paid_out: int
    owed: int
    daily: list[DayAmount]


class AttributionOut(BaseModel):
    id: uuid.UUID
    order_number: str
    product_id: uuid.UUID
    product_name: str | None
    source_type: str
    source_id: uuid.UUID
    line_total: int
    rate_bp: int
    amount: int
    status: Literal["placed", "pending", "available", "cancelled", "reversed"]
    touched_at: datetime
    placed_at: datetime
    available_at: datetime | None


class AttributionPage(BaseModel):
    items: list[AttributionOut]
    next_cursor: str | None


class TipCreate(Request):
    target_type: Literal["post", "comment"]
    target_id: uuid.UUID
    amount: Annotated[int, Field(gt=0, le=100_000_000)]
    method: Literal["points", "money"] = "points"
    message: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None


class TipPayment(Request):
    payment_key: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    amount: Annotated[int, Field(gt=0)]


class TipOut(BaseModel):
    """A tip; a money tip is `pending` until paid with the provider for `order_id`."""

    id: uuid.UUID
    creator_id: uuid.UUID
    post_id: uuid.UUID
    target_type: str
    target_id: uuid.UUID
    method: str
    amount: int
    fee: int
    message: str | None
    status: Literal["pending", "paid", "failed"]
    order_id: str
    created_at: datetime


class PostTip(BaseModel):
    id: uuid.UUID
    tipper_nickname: str
    amount: int
    message: str | None
    target_type: str
    target_id: uuid.UUID
    created_at: datetime


class PostTipPage(BaseModel):
    items: list[PostTip]
    next_cursor: str | None


class TipRulesOut(BaseModel):
    min_amount: int
    max_amount: int
    fee_bp: int


class TipRulesChange(Request):
    min_amount: Annotated[int, Field(ge=100, le=10_000_000)] | None = None
    max_amount: Annotated[int, Field(ge=100, le=10_000_000)] | None = None
    fee_bp: Annotated[int, Field(ge=0, le=5_000)] | None = None
