"""Request and response models of coupons: the public contract of the coupon API and service."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

CouponKind = Literal["fixed", "percent"]
CouponStatus = Literal["active", "disabled"]
WalletStatus = Literal["available", "used", "expired"]

CODE_PATTERN = re.compile(r"[A-Z0-9-]{4,40}")
MAX_AMOUNT = 10_000_000_000  # KRW; far above any order, far below a 64-bit overflow
MAX_TOTAL_LIMIT = 100_000_000
MAX_PER_MEMBER_LIMIT = 1000
MAX_TARGETS = 500
MAX_ISSUE_MEMBERS = 1000


def normalize_code(code: str) -> str:
    """The stored form of a coupon code: trimmed and upper-cased (`welcome-10` → `WELCOME-10`)."""
    return code.strip().upper()


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _checked_code(value: str | None) -> str | None:
    if value is None:
        return None
    code = normalize_code(value)
    if not CODE_PATTERN.fullmatch(code):
        raise ValueError("a coupon code is 4 to 40 letters A-Z, digits or '-'")
    return code


class CouponCreate(Request):
    # None: a coupon only staff hand out (issue), nobody can claim it by typing a code
    code: str | None = Field(default=None, max_length=60)
    name: str = Field(min_length=1, max_length=100)
    kind: CouponKind
    value: int = Field(ge=1, le=MAX_AMOUNT, description="KRW for fixed, 1..100 for percent")
    min_order_amount: int = Field(default=0, ge=0, le=MAX_AMOUNT)
    max_discount: int | None = Field(default=None, ge=1, le=MAX_AMOUNT)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    per_member_limit: int = Field(default=1, ge=1, le=MAX_PER_MEMBER_LIMIT)
    total_limit: int | None = Field(default=None, ge=1, le=MAX_TOTAL_LIMIT)
    target_product_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_TARGETS)
    target_category_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_TARGETS)

    _code = field_validator("code")(_checked_code)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("the name must not be blank")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> CouponCreate:
        if self.kind == "percent" and self.value > 100:
            raise ValueError("a percent coupon takes 1 to 100")
        if self.kind == "fixed" and self.max_discount is not None:
            raise ValueError("max_discount applies to percent coupons only")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class CouponUpdate(Request):
    """What staff may change after creation: on/off, the name and the window."""

    status: CouponStatus | None = None
    name: str | None = Field(default=None, min_length=1, max_length=100)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _something(self) -> CouponUpdate:
        if not self.model_fields_set:
            raise ValueError("nothing to change")
        if any(getattr(self, name) is None for name in self.model_fields_set):
            raise ValueError("fields cannot be set to null")
        return self


class ClaimCouponRequest(Request):
    code: str = Field(min_length=1, max_length=60)

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        code = _checked_code(value)
        assert code is not None
        return code


class IssueCouponRequest(Request):
    member_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_ISSUE_MEMBERS)


class CouponView(BaseModel):
    id: uuid.UUID
    code: str | None
    name: str
    kind: CouponKind
    value: int
    min_order_amount: int
    max_discount: int | None
    starts_at: datetime
    ends_at: datetime
    per_member_limit: int
    total_limit: int | None
    issued_count: int
    used_count: int
    target_product_ids: list[uuid.UUID]
    target_category_ids: list[uuid.UUID]
    status: CouponStatus
    created_at: datetime


class MemberCouponView(BaseModel):
    """One copy of a coupon in a member's wallet, with what it gives."""

    id: uuid.UUID
    coupon_id: uuid.UUID
    code: str | None
    name: str
    kind: CouponKind
    value: int
    max_discount: int | None
    min_order_amount: int
    starts_at: datetime
    ends_at: datetime
    target_product_ids: list[uuid.UUID]
    target_category_ids: list[uuid.UUID]
    # available | used | expired (ended or withdrawn before it was used)
    status: WalletStatus
    issued_at: datetime
    used_at: datetime | None
    order_id: uuid.UUID | None


class MemberCouponOut(MemberCouponView):
    discount_label: str


class IssueResult(BaseModel):
    requested: int
    issued: int
