"""Tables of the orders domain: coupons, carts, orders, payments."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jangteo.core.db import Base
from jangteo.core.ids import uuid7


class Coupon(Base):
    __tablename__ = "coupons"
    __table_args__ = (
        CheckConstraint("value > 0", name="value_positive"),
        CheckConstraint(
            "total_limit IS NULL OR issued_count <= total_limit", name="issued_within_limit"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    # a code members can claim; None for coupons only staff issue
    code: Mapped[str | None] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))  # "fixed" | "percent"
    value: Mapped[int]  # KRW for fixed, 1..100 for percent
    min_order_amount: Mapped[int] = mapped_column(default=0)
    max_discount: Mapped[int | None]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    per_member_limit: Mapped[int] = mapped_column(default=1)
    total_limit: Mapped[int | None]
    issued_count: Mapped[int] = mapped_column(default=0)
    target_product_ids: Mapped[list[str]] = mapped_column(default=list)
    target_category_ids: Mapped[list[str]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | disabled
    created_at: Mapped[datetime]


class MemberCoupon(Base):
    """One issued copy of a coupon in a member's wallet of coupons."""

    __tablename__ = "member_coupons"
    __table_args__ = (
        # the n-th copy a member holds: concurrent claims beyond the per-member limit collide here
        UniqueConstraint("coupon_id", "member_id", "copy_number"),
        Index("ix_member_coupons_member", "member_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    coupon_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("coupons.id"))
    member_id: Mapped[uuid.UUID]
    copy_number: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(10), default="available")  # available|used|revoked
    issued_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    order_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    issued_by: Mapped[uuid.UUID | None]
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
