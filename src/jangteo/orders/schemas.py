"""Request and response models of carts, checkout, orders and payments."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

OrderStatus = Literal[
    "pending_payment",
    "paid",
    "preparing",
    "shipped",
    "delivered",
    "cancelled",
    "refunding",
    "refunded",
]
PaymentMethod = Literal["card", "transfer", "dummy"]

# the schema's own ceiling; the configured per-line limit (settings.max_quantity_per_line) is
# checked by the service, so it can change without a new schema
QUANTITY_CEILING = 100_000
MAX_ORDER_LINES = 50
MAX_POINTS = 10_000_000
MAX_AMOUNT = 10_000_000_000


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# carts


class CartLineIn(Request):
    variant_id: uuid.UUID
    quantity: int = Field(ge=1, le=QUANTITY_CEILING)


class CartLineUpdate(Request):
    quantity: int = Field(ge=1, le=QUANTITY_CEILING)


class CartMerge(Request):
    guest_cart_id: uuid.UUID
    guest_cart_token: str = Field(min_length=1, max_length=200)


class CartLineView(BaseModel):
    id: uuid.UUID
    variant_id: uuid.UUID
    product_id: uuid.UUID | None
    product_name: str | None
    brand_name: str | None
    options: dict[str, Any]
    image_url: str | None
    unit_price: int
    list_price: int
    quantity: int
    line_total: int
    sellable: bool
    in_stock: bool
    available_quantity: int


class CartView(BaseModel):
    id: uuid.UUID
    status: str
    is_guest: bool
    lines: list[CartLineView]
    item_count: int
    subtotal: int
    created_at: datetime
    updated_at: datetime
    # the guest cart's secret, shown only in the answer that created the cart
    token: str | None = None


# checkout and placement


class OrderLineIn(Request):
    variant_id: uuid.UUID
    quantity: int = Field(ge=1, le=QUANTITY_CEILING)


class AddressIn(Request):
    recipient: str = Field(min_length=1, max_length=50)
    phone: str = Field(pattern=r"^\+?[0-9][0-9-]{7,18}$")
    postal_code: str = Field(pattern=r"^[0-9]{5}$")
    line1: str = Field(min_length=1, max_length=200)
    line2: str = Field(default="", max_length=200)


class CheckoutRequest(Request):
    """What to buy and how: the body of both the preview and the placement."""

    cart_id: uuid.UUID | None = None
    lines: list[OrderLineIn] | None = Field(default=None, min_length=1, max_length=MAX_ORDER_LINES)
    coupon_code: str | None = Field(default=None, min_length=1, max_length=40)
    member_coupon_id: uuid.UUID | None = None
    points: int = Field(default=0, ge=0, le=MAX_POINTS)
    address_id: uuid.UUID | None = None
    address: AddressIn | None = None
    payment_method: PaymentMethod = "card"
    memo: str | None = Field(default=None, max_length=200)
    expected_total: int | None = Field(default=None, ge=0, le=MAX_AMOUNT)

    @model_validator(mode="after")
    def _one_source_each(self) -> CheckoutRequest:
        if (self.cart_id is None) == (self.lines is None):
            raise ValueError("give either cart_id or lines")
        if self.coupon_code is not None and self.member_coupon_id is not None:
            raise ValueError("give either coupon_code or member_coupon_id, not both")
        if self.address_id is not None and self.address is not None:
            raise ValueError("give either address_id or address, not both")
        if self.lines is not None:
            variants = [line.variant_id for line in self.lines]
            if len(set(variants)) != len(variants):
                raise ValueError("each variant may appear in one line only")
        return self


class PlaceOrderRequest(CheckoutRequest):
    payment_method: PaymentMethod

    @model_validator(mode="after")
    def _address_given(self) -> PlaceOrderRequest:
        if self.address_id is None and self.address is None:
            raise ValueError("give address_id or address")
        return self


class PricedLine(BaseModel):
    variant_id: uuid.UUID
    product_id: uuid.UUID
    product_name: str
    brand_name: str | None
    options: dict[str, Any]
    image_url: str | None
    unit_price: int
    list_price: int
    quantity: int
    line_total: int
    in_stock: bool


class CouponSummary(BaseModel):
    coupon_id: uuid.UUID | None
    member_coupon_id: uuid.UUID | None
    code: str | None
    name: str | None
    discount: int


class CheckoutPreview(BaseModel):
    lines: list[PricedLine]
    subtotal: int
    coupon: CouponSummary | None
    discount: int
    points_balance: int
    points_max: int
    points_used: int
    shipping_fee: int
    free_shipping_threshold: int
    total: int


# orders


class AddressView(BaseModel):
    recipient: str
    phone: str
    postal_code: str
    line1: str
    line2: str = ""


class OrderLineView(BaseModel):
    id: uuid.UUID
    variant_id: uuid.UUID
    product_id: uuid.UUID
    product_name: str
    brand_name: str | None
    options: dict[str, Any]
    image_url: str | None
    unit_price: int
    list_price: int
    quantity: int
    line_total: int


class StatusChangeView(BaseModel):
    from_status: str | None
    status: str
    at: datetime
    actor: str
    note: str | None


class PaymentSummary(BaseModel):
    provider: str
    method: str | None
    amount: int
    status: str
    approved_at: datetime
    cancelled_at: datetime | None


class OrderView(BaseModel):
    id: uuid.UUID
    number: str
    status: str
    lines: list[OrderLineView]
    subtotal: int
    discount: int
    coupon: CouponSummary | None
    points_used: int
    shipping_fee: int
    total: int
    payment_method: str
    address: AddressView
    memo: str | None
    tracking_number: str | None
    cancel_reason: str | None
    placed_at: datetime
    payment_due_at: datetime | None
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    closed_at: datetime | None
    history: list[StatusChangeView]
    payment: PaymentSummary | None


class OrderSummary(BaseModel):
    id: uuid.UUID
    number: str
    status: str
    total: int
    item_count: int
    title: str
    image_url: str | None
    placed_at: datetime


class StaffOrderSummary(OrderSummary):
    member_id: uuid.UUID
    buyer_email: str
    buyer_nickname: str


class CancelRequest(Request):
    reason: str | None = Field(default=None, max_length=200)


class TransitionRequest(Request):
    to: Literal["preparing", "shipped", "delivered", "cancelled", "refunded"]
    note: str | None = Field(default=None, max_length=500)
    tracking_number: str | None = Field(default=None, min_length=1, max_length=50)


class RefundRequest(Request):
    reason: str = Field(min_length=1, max_length=200)


class PaymentRequest(Request):
    payment_key: str | None = Field(default=None, min_length=1, max_length=200)
    amount: int = Field(ge=0, le=MAX_AMOUNT)
