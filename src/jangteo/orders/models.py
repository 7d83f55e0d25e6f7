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


class Cart(Base):
    """A guest's cart (reached with a secret token) or a member's single active cart."""

    __tablename__ = "carts"
    __table_args__ = (Index("ix_carts_member", "member_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    member_id: Mapped[uuid.UUID | None]
    # equals member_id while the cart is the member's active one and NULL otherwise, so the
    # unique constraint allows one active cart per member on every database (NULLs never collide)
    active_member_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    token_hash: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | merged
    merged_into_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CartLine(Base):
    __tablename__ = "cart_lines"
    __table_args__ = (
        UniqueConstraint("cart_id", "variant_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    cart_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"))
    variant_id: Mapped[uuid.UUID]
    quantity: Mapped[int]
    # the order lines were added in (uuid7 ids are random within a millisecond)
    position: Mapped[int]
    added_at: Mapped[datetime]


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("total >= 0", name="total_not_negative"),
        CheckConstraint(
            "total = subtotal - discount - points_used + shipping_fee", name="total_adds_up"
        ),
        Index("ix_orders_member_placed", "member_id", "placed_at", "id"),
        Index("ix_orders_status_placed", "status", "placed_at", "id"),
        Index("ix_orders_placed", "placed_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    # the code people read out on the phone: YYMMDD-XXXXXX (Seoul date)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    member_id: Mapped[uuid.UUID]
    # who ordered, as it was at the time (staff search by email without reaching into accounts)
    buyer_email: Mapped[str] = mapped_column(String(320), index=True)
    buyer_nickname: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    # the status a refund started from, to go back to it when the provider refuses the refund
    status_before_refund: Mapped[str | None] = mapped_column(String(20))
    subtotal: Mapped[int]
    discount: Mapped[int] = mapped_column(default=0)
    points_used: Mapped[int] = mapped_column(default=0)
    shipping_fee: Mapped[int] = mapped_column(default=0)
    total: Mapped[int]
    coupon_id: Mapped[uuid.UUID | None]
    member_coupon_id: Mapped[uuid.UUID | None]
    coupon_code: Mapped[str | None] = mapped_column(String(40))
    coupon_name: Mapped[str | None] = mapped_column(String(100))
    payment_method: Mapped[str] = mapped_column(String(20))
    address: Mapped[dict[str, Any]]
    memo: Mapped[str | None] = mapped_column(String(200))
    cart_id: Mapped[uuid.UUID | None]
    tracking_number: Mapped[str | None] = mapped_column(String(50))
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    placed_at: Mapped[datetime]
    payment_due_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]  # cancelled or refunded
    updated_at: Mapped[datetime]


class OrderLine(Base):
    """One variant of an order, with the names and prices as they were when it was placed."""

    __tablename__ = "order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "variant_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    position: Mapped[int]
    variant_id: Mapped[uuid.UUID]
    product_id: Mapped[uuid.UUID] = mapped_column(index=True)
    category_id: Mapped[uuid.UUID | None]
    product_name: Mapped[str] = mapped_column(String(200))
    brand_name: Mapped[str | None] = mapped_column(String(200))
    options: Mapped[dict[str, Any]]
    image_url: Mapped[str | None] = mapped_column(String(500))
    unit_price: Mapped[int]
    list_price: Mapped[int]
    quantity: Mapped[int]
    line_total: Mapped[int]


class OrderStatusChange(Base):
    """The order's timeline: every status it went through, when, by whom and why."""

    __tablename__ = "order_status_history"
    # seq orders the timeline even when two changes share a timestamp; unique, so two writers
    # can never both append the same step
    __table_args__ = (UniqueConstraint("order_id", "seq"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    seq: Mapped[int]
    from_status: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime]
    actor_id: Mapped[uuid.UUID | None]
    actor_kind: Mapped[str] = mapped_column(String(10))  # member | staff | system
    note: Mapped[str | None] = mapped_column(String(500))


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), index=True)
    provider: Mapped[str] = mapped_column(String(20))
    payment_key: Mapped[str] = mapped_column(String(200), unique=True)
    amount: Mapped[int]
    method: Mapped[str | None] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20), default="approved")  # approved | cancelled
    approved_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
