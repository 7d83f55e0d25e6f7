"""Business rules of the orders domain: carts, checkout pricing, placement, the order state
machine, payment, cancellation, refunds, expiry and purchase rewards."""

from __future__ import annotations

import hmac
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.accounts import service as accounts
from jangteo.catalog import service as catalog
from jangteo.core import jobs
from jangteo.core.audit import record_audit
from jangteo.core.clock import Clock, to_seoul
from jangteo.core.db import Database
from jangteo.core.errors import NotFound, define
from jangteo.core.events import emit
from jangteo.core.idempotency import request_fingerprint, run_once
from jangteo.core.ids import short_code, uuid7
from jangteo.core.money import percent_of
from jangteo.core.pagination import InvalidCursor, Page, decode_cursor, encode_cursor
from jangteo.core.reporting import by_day, day_of, day_window
from jangteo.core.security import TokenSigner, new_secret_token
from jangteo.orders import coupons
from jangteo.orders.models import Cart, CartLine, Order, OrderLine, OrderStatusChange, Payment
from jangteo.orders.payments import PaymentDeclined, PaymentGateway, PaymentUnavailable
from jangteo.orders.schemas import (
    MAX_ORDER_LINES,
    AddressView,
    CartLineView,
    CartView,
    CheckoutPreview,
    CheckoutRequest,
    CouponSummary,
    OrderLineView,
    OrderSummary,
    OrderView,
    PaymentSummary,
    PlaceOrderRequest,
    PricedLine,
    StaffOrderSummary,
    StatusChangeView,
)

log = logging.getLogger("jangteo.orders")

CartClosed = define("cart-closed", 409, "The cart is closed.")
CartEmpty = define("cart-empty", 409, "The cart is empty.")
CartFull = define("cart-full", 409, "The cart cannot hold more products.")
ProductUnavailable = define("product-unavailable", 409, "The product is not available for sale.")
QuantityLimitExceeded = define(
    "quantity-limit-exceeded", 422, "The quantity is over the limit for one product."
)
PriceChanged = define("price-changed", 409, "The price has changed. Check the new total.")
PointsOverLimit = define("points-over-limit", 409, "Points cannot exceed the amount to pay.")
InvalidTransition = define("invalid-transition", 409, "The order cannot change to that status now.")
AmountMismatch = define("amount-mismatch", 409, "The amount does not match the order total.")
OrderNotPayable = define("order-not-payable", 409, "The order can no longer be paid.")
PaymentKeyRequired = define("payment-key-required", 422, "A payment key is required.")
TrackingNumberRequired = define(
    "tracking-number-required", 422, "A tracking number is required to ship an order."
)

EXPIRE_UNPAID_JOB = "orders.expire_unpaid"
FINISH_REFUND_JOB = "orders.finish_refund"
# a refund whose answer from the provider was lost is finished by a job after this delay
REFUND_RETRY_DELAY = timedelta(minutes=5)

PENDING = "pending_payment"
CANCELLABLE_AFTER_PAYMENT = frozenset({"paid", "preparing"})
REFUNDABLE_BY_STAFF = frozenset({"paid", "preparing", "shipped", "delivered"})
# the forward steps staff move an order along; cancel and refund have their own functions
FORWARD = {"preparing": "paid", "shipped": "preparing", "delivered": "shipped"}


@dataclass(frozen=True)
class CheckoutRules:
    """The commerce settings the rules depend on, so that they can be tested without settings."""

    shipping_fee: int = 3000
    free_shipping_threshold: int = 50000
    max_quantity_per_line: int = 999
    payment_timeout_seconds: int = 30 * 60
    reward_percent: int = 1

    @classmethod
    def from_settings(cls, settings: Any) -> CheckoutRules:
        return cls(
            shipping_fee=settings.shipping_fee,
            free_shipping_threshold=settings.free_shipping_threshold,
            max_quantity_per_line=settings.max_quantity_per_line,
            payment_timeout_seconds=settings.order_payment_timeout_seconds,
            reward_percent=settings.purchase_reward_percent,
        )


@dataclass(frozen=True)
class Totals:
    subtotal: int
    discount: int
    points_used: int
    shipping_fee: int
    total: int


def points_limit(subtotal: int, discount: int) -> int:
    """Points may pay for the goods after the coupon, never for shipping."""
    return max(0, subtotal - discount)


def compute_totals(subtotal: int, discount: int, points: int, rules: CheckoutRules) -> Totals:
    """The amounts of an order; free shipping is judged on the goods after the coupon."""
    discount = max(0, min(discount, subtotal))
    payable_goods = subtotal - discount
    if points > payable_goods:
        raise PointsOverLimit(max_points=payable_goods)
    shipping = 0 if payable_goods >= rules.free_shipping_threshold else rules.shipping_fee
    return Totals(
        subtotal=subtotal,
        discount=discount,
        points_used=points,
        shipping_fee=shipping,
        total=payable_goods - points + shipping,
    )


def purchase_reward(total: int, shipping_fee: int, percent: int) -> int:
    """Reward points for a delivered order: a percent of what was paid for the goods."""
    return percent_of(max(0, total - shipping_fee), percent)


# carts


def _token_matches(signer: TokenSigner, cart: Cart, token: str | None) -> bool:
    if not token or not cart.token_hash:
        return False
    return hmac.compare_digest(cart.token_hash, signer.keyed_hash(token))


async def _accessible_cart(
    session: AsyncSession,
    signer: TokenSigner,
    cart_id: uuid.UUID,
    *,
    member_id: uuid.UUID | None,
    token: str | None,
) -> Cart:
    """The cart if the caller owns it: the member's own, or a guest cart with its token."""
    cart = await session.get(Cart, cart_id)
    if cart is None:
        raise NotFound()
    if cart.member_id is not None:
        if cart.member_id != member_id:
            raise NotFound()
    elif not _token_matches(signer, cart, token):
        raise NotFound()
    return cart


async def _changeable_cart(
    session: AsyncSession,
    signer: TokenSigner,
    cart_id: uuid.UUID,
    *,
    member_id: uuid.UUID | None,
    token: str | None,
) -> Cart:
    cart = await _accessible_cart(session, signer, cart_id, member_id=member_id, token=token)
    if cart.status != "active":
        raise CartClosed()
    return cart


async def _cart_lines(session: AsyncSession, cart_id: uuid.UUID) -> list[CartLine]:
    query = select(CartLine).where(CartLine.cart_id == cart_id).order_by(CartLine.position)
    return list((await session.scalars(query)).all())


async def cart_view(session: AsyncSession, cart: Cart, *, token: str | None = None) -> CartView:
    """The cart with current prices and stock of each line."""
    lines = await _cart_lines(session, cart.id)
    snapshots = await catalog.variant_snapshots(session, [line.variant_id for line in lines])
    views: list[CartLineView] = []
    for line in lines:
        snap = snapshots.get(line.variant_id)
        price = snap.price if snap else 0
        sellable = bool(snap and snap.sellable)
        stock = snap.stock if snap else 0
        views.append(
            CartLineView(
                id=line.id,
                variant_id=line.variant_id,
                product_id=snap.product_id if snap else None,
                product_name=snap.product_name if snap else None,
                brand_name=snap.brand_name if snap else None,
                options=dict(snap.options) if snap else {},
                image_url=snap.image_url if snap else None,
                unit_price=price,
                list_price=snap.list_price if snap else 0,
                quantity=line.quantity,
                line_total=price * line.quantity,
                sellable=sellable,
                in_stock=sellable and stock >= line.quantity,
                available_quantity=stock if sellable else 0,
            )
        )
    return CartView(
        id=cart.id,
        status=cart.status,
        is_guest=cart.member_id is None,
        lines=views,
        item_count=sum(v.quantity for v in views),
        subtotal=sum(v.line_total for v in views if v.sellable),
        created_at=cart.created_at,
        updated_at=cart.updated_at,
        token=token,
    )


async def open_cart(
    session: AsyncSession, clock: Clock, signer: TokenSigner, *, member_id: uuid.UUID | None
) -> tuple[CartView, bool]:
    """A new guest cart with its secret token, or the member's single active cart.

    Returns the cart and whether it was created now.
    """
    now = clock.now()
    if member_id is None:
        token = new_secret_token()
        cart = Cart(token_hash=signer.keyed_hash(token), created_at=now, updated_at=now)
        session.add(cart)
        await session.flush()
        return await cart_view(session, cart, token=token), True
    existing = await session.scalar(select(Cart).where(Cart.active_member_id == member_id))
    if existing is not None:
        return await cart_view(session, existing), False
    cart = Cart(member_id=member_id, active_member_id=member_id, created_at=now, updated_at=now)
    try:
        async with session.begin_nested():
            session.add(cart)
    except IntegrityError:
        # a concurrent request of the same member created it first
        existing = await session.scalar(select(Cart).where(Cart.active_member_id == member_id))
        if existing is None:
            raise
        return await cart_view(session, existing), False
    return await cart_view(session, cart), True


async def get_cart(
    session: AsyncSession,
    signer: TokenSigner,
    cart_id: uuid.UUID,
    *,
    member_id: uuid.UUID | None,
    token: str | None,
) -> CartView:
    cart = await _accessible_cart(session, signer, cart_id, member_id=member_id, token=token)
    return await cart_view(session, cart)


async def _sellable_snapshot(session: AsyncSession, variant_id: uuid.UUID) -> Any:
    snap = (await catalog.variant_snapshots(session, [variant_id])).get(variant_id)
    if snap is None:
        raise NotFound("The product option does not exist.", variant_id=str(variant_id))
    if not snap.sellable:
        raise ProductUnavailable(variant_id=str(variant_id))
    return snap


def _check_stock(snap: Any, quantity: int) -> None:
    if quantity > snap.stock:
        raise catalog.OutOfStock(variant_id=str(snap.id), available=snap.stock)


async def _next_position(session: AsyncSession, cart_id: uuid.UUID) -> tuple[int, int]:
    """How many lines the cart has and the position a new line takes."""
    count, last = (
        await session.execute(
            select(func.count(CartLine.id), func.max(CartLine.position)).where(
                CartLine.cart_id == cart_id
            )
        )
    ).one()
    return int(count), int(last or 0) + 1


async def add_cart_line(
    session: AsyncSession,
    clock: Clock,
    signer: TokenSigner,
    *,
    cart_id: uuid.UUID,
    member_id: uuid.UUID | None,
    token: str | None,
    variant_id: uuid.UUID,
    quantity: int,
    max_quantity: int,
) -> CartView:
    """Put a product option in the cart, or add to its quantity when it is already there."""
    cart = await _changeable_cart(session, signer, cart_id, member_id=member_id, token=token)
    if quantity > max_quantity:
        raise QuantityLimitExceeded(max_quantity=max_quantity)
    snap = await _sellable_snapshot(session, variant_id)
    line = await session.scalar(
        select(CartLine).where(CartLine.cart_id == cart.id, CartLine.variant_id == variant_id)
    )
    current = line.quantity if line is not None else 0
    if current + quantity > max_quantity:
        raise QuantityLimitExceeded(max_quantity=max_quantity, in_cart=current)
    _check_stock(snap, current + quantity)
    if line is None:
        count, position = await _next_position(session, cart.id)
        if count >= MAX_ORDER_LINES:
            raise CartFull(max_lines=MAX_ORDER_LINES)
        try:
            async with session.begin_nested():
                session.add(
                    CartLine(
                        cart_id=cart.id,
                        variant_id=variant_id,
                        quantity=quantity,
                        position=position,
                        added_at=clock.now(),
                    )
                )
        except IntegrityError:
            line = await session.scalar(
                select(CartLine).where(
                    CartLine.cart_id == cart.id, CartLine.variant_id == variant_id
                )
            )
            if line is None:
                raise
    if line is not None:
        # atomic increment: two concurrent adds of the same product both count
        result = await session.execute(
            update(CartLine)
            .where(CartLine.id == line.id, CartLine.quantity + quantity <= max_quantity)
            .values(quantity=CartLine.quantity + quantity)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise QuantityLimitExceeded(max_quantity=max_quantity)
        await session.refresh(line)
    cart.updated_at = clock.now()
    return await cart_view(session, cart)


async def _cart_line(session: AsyncSession, cart: Cart, line_id: uuid.UUID) -> CartLine:
    line = await session.get(CartLine, line_id)
    if line is None or line.cart_id != cart.id:
        raise NotFound()
    return line


async def change_cart_line(
    session: AsyncSession,
    clock: Clock,
    signer: TokenSigner,
    *,
    cart_id: uuid.UUID,
    line_id: uuid.UUID,
    member_id: uuid.UUID | None,
    token: str | None,
    quantity: int,
    max_quantity: int,
) -> CartView:
    cart = await _changeable_cart(session, signer, cart_id, member_id=member_id, token=token)
    line = await _cart_line(session, cart, line_id)
    if quantity > max_quantity:
        raise QuantityLimitExceeded(max_quantity=max_quantity)
    snap = await _sellable_snapshot(session, line.variant_id)
    _check_stock(snap, quantity)
    line.quantity = quantity
    cart.updated_at = clock.now()
    return await cart_view(session, cart)


async def remove_cart_line(
    session: AsyncSession,
    clock: Clock,
    signer: TokenSigner,
    *,
    cart_id: uuid.UUID,
    line_id: uuid.UUID,
    member_id: uuid.UUID | None,
    token: str | None,
) -> CartView:
    cart = await _changeable_cart(session, signer, cart_id, member_id=member_id, token=token)
    line = await _cart_line(session, cart, line_id)
    await session.delete(line)
    await session.flush()
    cart.updated_at = clock.now()
    return await cart_view(session, cart)


async def merge_guest_cart(
    session: AsyncSession,
    clock: Clock,
    signer: TokenSigner,
    *,
    member_id: uuid.UUID,
    cart_id: uuid.UUID,
    guest_cart_id: uuid.UUID,
    guest_token: str,
    max_quantity: int,
) -> CartView:
    """Move a guest cart's lines into the member's cart after log-in; the guest cart closes.

    Quantities of the same product add up, capped at the per-line limit. Repeating a merge that
    already happened answers the member's cart unchanged.
    """
    cart = await _accessible_cart(session, signer, cart_id, member_id=member_id, token=None)
    if cart.member_id is None:
        raise NotFound()
    guest = await session.get(Cart, guest_cart_id)
    if (
        guest is None
        or guest.member_id is not None
        or not _token_matches(signer, guest, guest_token)
    ):
        raise NotFound()
    if guest.status != "active":
        if guest.merged_into_id == cart.id:
            return await cart_view(session, cart)
        raise CartClosed()
    now = clock.now()
    claimed = await session.execute(
        update(Cart)
        .where(Cart.id == guest.id, Cart.status == "active")
        .values(status="merged", merged_into_id=cart.id, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise CartClosed()
    mine = {line.variant_id: line for line in await _cart_lines(session, cart.id)}
    incoming = await _cart_lines(session, guest.id)
    new_variants = [line for line in incoming if line.variant_id not in mine]
    if len(mine) + len(new_variants) > MAX_ORDER_LINES:
        raise CartFull(max_lines=MAX_ORDER_LINES)
    _, position = await _next_position(session, cart.id)
    for line in incoming:
        existing = mine.get(line.variant_id)
        if existing is not None:
            existing.quantity = min(existing.quantity + line.quantity, max_quantity)
            continue
        session.add(
            CartLine(
                cart_id=cart.id,
                variant_id=line.variant_id,
                quantity=min(line.quantity, max_quantity),
                position=position,
                added_at=now,
            )
        )
        position += 1
    cart.updated_at = now
    await session.flush()
    return await cart_view(session, cart)


# checkout


@dataclass(frozen=True)
class _Checkout:
    """A checkout request resolved against the catalog, the coupon and the wallet."""

    lines: list[PricedLine]
    category_ids: dict[uuid.UUID, uuid.UUID | None]
    cart: Cart | None
    quote: Any  # coupons.CouponQuote | None
    points_balance: int
    totals: Totals


async def _requested_lines(
    session: AsyncSession, *, member_id: uuid.UUID, request: CheckoutRequest, rules: CheckoutRules
) -> tuple[list[tuple[uuid.UUID, int]], Cart | None]:
    cart: Cart | None = None
    if request.cart_id is not None:
        cart = await session.get(Cart, request.cart_id)
        # guests' carts are merged into the member's cart before checkout
        if cart is None or cart.member_id != member_id:
            raise NotFound()
        if cart.status != "active":
            raise CartClosed()
        requested = [
            (line.variant_id, line.quantity) for line in await _cart_lines(session, cart.id)
        ]
        if not requested:
            raise CartEmpty()
        if len(requested) > MAX_ORDER_LINES:
            raise CartFull(max_lines=MAX_ORDER_LINES)
    else:
        requested = [(line.variant_id, line.quantity) for line in request.lines or ()]
    for _, quantity in requested:
        if quantity > rules.max_quantity_per_line:
            raise QuantityLimitExceeded(max_quantity=rules.max_quantity_per_line)
    return requested, cart


async def _price_lines(
    session: AsyncSession, requested: Sequence[tuple[uuid.UUID, int]]
) -> tuple[list[PricedLine], dict[uuid.UUID, uuid.UUID | None]]:
    """Lines at today's prices; the catalog is the only source of a price."""
    snapshots = await catalog.variant_snapshots(session, [v for v, _ in requested])
    lines: list[PricedLine] = []
    categories: dict[uuid.UUID, uuid.UUID | None] = {}
    for variant_id, quantity in requested:
        snap = snapshots.get(variant_id)
        if snap is None:
            raise NotFound("The product option does not exist.", variant_id=str(variant_id))
        if not snap.sellable:
            raise ProductUnavailable(variant_id=str(variant_id))
        categories[variant_id] = snap.category_id
        lines.append(
            PricedLine(
                variant_id=variant_id,
                product_id=snap.product_id,
                product_name=snap.product_name,
                brand_name=snap.brand_name,
                options=dict(snap.options),
                image_url=snap.image_url,
                unit_price=snap.price,
                list_price=snap.list_price,
                quantity=quantity,
                line_total=snap.price * quantity,
                in_stock=snap.stock >= quantity,
            )
        )
    return lines, categories


def _coupon_lines(
    lines: Iterable[PricedLine], categories: dict[uuid.UUID, uuid.UUID | None]
) -> list[Any]:
    return [
        coupons.CouponLine(
            product_id=line.product_id,
            category_id=categories.get(line.variant_id),
            unit_price=line.unit_price,
            quantity=line.quantity,
        )
        for line in lines
    ]


async def _resolve_checkout(
    session: AsyncSession,
    clock: Clock,
    *,
    member_id: uuid.UUID,
    request: CheckoutRequest,
    rules: CheckoutRules,
) -> _Checkout:
    requested, cart = await _requested_lines(
        session, member_id=member_id, request=request, rules=rules
    )
    lines, categories = await _price_lines(session, requested)
    subtotal = sum(line.line_total for line in lines)
    quote = None
    if request.coupon_code is not None or request.member_coupon_id is not None:
        quote = await coupons.quote_coupon(
            session,
            clock,
            member_id=member_id,
            member_coupon_id=request.member_coupon_id,
            code=request.coupon_code,
            lines=_coupon_lines(lines, categories),
            subtotal=subtotal,
        )
    balance = await accounts.points_balance(session, member_id)
    if request.points > balance:
        raise accounts.InsufficientPoints(balance=balance)
    totals = compute_totals(subtotal, quote.discount if quote else 0, request.points, rules)
    return _Checkout(lines, categories, cart, quote, balance, totals)


def _coupon_summary(quote: Any, discount: int) -> CouponSummary | None:
    if quote is None:
        return None
    return CouponSummary(
        coupon_id=quote.coupon_id,
        member_coupon_id=quote.member_coupon_id,
        code=quote.code,
        name=quote.name,
        discount=discount,
    )


async def preview_checkout(
    session: AsyncSession,
    clock: Clock,
    *,
    member_id: uuid.UUID,
    request: CheckoutRequest,
    rules: CheckoutRules,
) -> CheckoutPreview:
    """What placing this order would cost, with the same checks as placement and no writes."""
    checkout = await _resolve_checkout(
        session, clock, member_id=member_id, request=request, rules=rules
    )
    totals = checkout.totals
    return CheckoutPreview(
        lines=checkout.lines,
        subtotal=totals.subtotal,
        coupon=_coupon_summary(checkout.quote, totals.discount),
        discount=totals.discount,
        points_balance=checkout.points_balance,
        points_max=min(checkout.points_balance, points_limit(totals.subtotal, totals.discount)),
        points_used=totals.points_used,
        shipping_fee=totals.shipping_fee,
        free_shipping_threshold=rules.free_shipping_threshold,
        total=totals.total,
    )


async def _order_number(session: AsyncSession, clock: Clock) -> str:
    day = to_seoul(clock.now()).strftime("%y%m%d")
    for _ in range(10):
        number = f"{day}-{short_code(6)}"
        if await session.scalar(select(Order.id).where(Order.number == number)) is None:
            return number
    raise RuntimeError("could not find a free order number")


async def _shipping_address(
    session: AsyncSession, member_id: uuid.UUID, request: PlaceOrderRequest
) -> dict[str, Any]:
    if request.address is not None:
        return request.address.model_dump()
    assert request.address_id is not None  # the schema requires one of the two
    saved = await accounts.get_address(session, member_id, request.address_id)
    return AddressView(
        recipient=saved.recipient,
        phone=saved.phone,
        postal_code=saved.postal_code,
        line1=saved.line1,
        line2=saved.line2 or "",
    ).model_dump()


async def _record_status(
    session: AsyncSession,
    order: Order,
    *,
    from_status: str | None,
    status: str,
    at: datetime,
    actor_id: uuid.UUID | None,
    actor_kind: str,
    note: str | None = None,
) -> None:
    seq = await session.scalar(
        select(func.coalesce(func.max(OrderStatusChange.seq), 0)).where(
            OrderStatusChange.order_id == order.id
        )
    )
    session.add(
        OrderStatusChange(
            order_id=order.id,
            seq=int(seq or 0) + 1,
            from_status=from_status,
            status=status,
            at=at,
            actor_id=actor_id,
            actor_kind=actor_kind,
            note=note,
        )
    )
    await session.flush()


async def _order_lines(session: AsyncSession, order_id: uuid.UUID) -> list[OrderLine]:
    query = select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.position)
    return list((await session.scalars(query)).all())


def _event_payload(order: Order, lines: Sequence[OrderLine], **extra: Any) -> dict[str, Any]:
    return {
        "order_id": str(order.id),
        "number": order.number,
        "member_id": str(order.member_id),
        "total": order.total,
        "lines": [
            {
                "product_id": str(line.product_id),
                "variant_id": str(line.variant_id),
                "category_id": str(line.category_id) if line.category_id else None,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "line_total": line.line_total,
            }
            for line in lines
        ],
        "status": order.status,
        "placed_at": order.placed_at.isoformat(),
        "at": order.updated_at.isoformat(),
        **extra,
    }


def _expiry_key(order_id: uuid.UUID) -> str:
    return f"order-expiry:{order_id}"


def _refund_key(order_id: uuid.UUID) -> str:
    return f"order-refund:{order_id}"


async def create_order(
    session: AsyncSession,
    clock: Clock,
    *,
    member_id: uuid.UUID,
    request: PlaceOrderRequest,
    rules: CheckoutRules,
) -> OrderView:
    """Place an order in the caller's transaction: prices re-read, stock reserved, coupon
    redeemed, points debited, payment deadline scheduled. Any failure rolls all of it back."""
    order_id = uuid7()
    reference = f"order:{order_id}"
    now = clock.now()
    checkout = await _resolve_checkout(
        session, clock, member_id=member_id, request=request, rules=rules
    )
    totals = checkout.totals
    if request.expected_total is not None and request.expected_total != totals.total:
        raise PriceChanged(total=totals.total, expected_total=request.expected_total)
    address = await _shipping_address(session, member_id, request)
    buyer = await accounts.get_member_brief(session, member_id)
    if buyer is None:
        raise NotFound()

    # stock first: most concurrent checkouts that fail, fail here, before anything else is held
    await catalog.reserve_stock(
        session,
        clock,
        [(line.variant_id, line.quantity) for line in checkout.lines],
        reference=reference,
        actor_id=member_id,
    )
    quote = checkout.quote
    if quote is not None:
        quote = await coupons.redeem_coupon(
            session,
            clock,
            member_id=member_id,
            member_coupon_id=request.member_coupon_id,
            code=request.coupon_code,
            lines=_coupon_lines(checkout.lines, checkout.category_ids),
            subtotal=totals.subtotal,
            order_id=order_id,
        )
        if quote.discount != totals.discount:
            totals = compute_totals(totals.subtotal, quote.discount, request.points, rules)
            if request.expected_total is not None and request.expected_total != totals.total:
                raise PriceChanged(total=totals.total, expected_total=request.expected_total)
    if totals.points_used:
        await accounts.debit_points(
            session,
            clock,
            member_id=member_id,
            amount=totals.points_used,
            reason="order.use",
            reference=f"{reference}:use",
        )

    paid_at_once = totals.total == 0
    order = Order(
        id=order_id,
        number=await _order_number(session, clock),
        member_id=member_id,
        buyer_email=buyer.email,
        buyer_nickname=buyer.nickname,
        status="paid" if paid_at_once else PENDING,
        subtotal=totals.subtotal,
        discount=totals.discount,
        points_used=totals.points_used,
        shipping_fee=totals.shipping_fee,
        total=totals.total,
        coupon_id=quote.coupon_id if quote else None,
        member_coupon_id=quote.member_coupon_id if quote else None,
        coupon_code=quote.code if quote else None,
        coupon_name=quote.name if quote else None,
        payment_method=request.payment_method,
        address=address,
        memo=request.memo,
        cart_id=checkout.cart.id if checkout.cart else None,
        placed_at=now,
        payment_due_at=None
        if paid_at_once
        else now + timedelta(seconds=rules.payment_timeout_seconds),
        paid_at=now if paid_at_once else None,
        updated_at=now,
    )
    session.add(order)
    await session.flush()
    lines = [
        OrderLine(
            order_id=order.id,
            position=position,
            variant_id=line.variant_id,
            product_id=line.product_id,
            category_id=checkout.category_ids.get(line.variant_id),
            product_name=line.product_name,
            brand_name=line.brand_name,
            options=line.options,
            image_url=line.image_url,
            unit_price=line.unit_price,
            list_price=line.list_price,
            quantity=line.quantity,
            line_total=line.line_total,
        )
        for position, line in enumerate(checkout.lines, start=1)
    ]
    session.add_all(lines)
    await _record_status(
        session,
        order,
        from_status=None,
        status=PENDING,
        at=now,
        actor_id=member_id,
        actor_kind="member",
    )
    emit(session, clock, "order.placed", _event_payload(order, lines, status=PENDING))
    if paid_at_once:
        # nothing left to charge: points and coupon paid for everything
        await _record_status(
            session,
            order,
            from_status=PENDING,
            status="paid",
            at=now,
            actor_id=None,
            actor_kind="system",
            note="paid in full with points and coupon",
        )
        await _record_sales(session, lines)
        emit(session, clock, "order.paid", _event_payload(order, lines))
    else:
        await jobs.schedule(
            session,
            EXPIRE_UNPAID_JOB,
            _expiry_key(order.id),
            order.payment_due_at or now,
            {"order_id": str(order.id)},
        )
    if checkout.cart is not None:
        await session.execute(delete(CartLine).where(CartLine.cart_id == checkout.cart.id))
        checkout.cart.updated_at = now
    return await order_view(session, order)


async def place_order(
    db: Database,
    clock: Clock,
    *,
    member_id: uuid.UUID,
    request: PlaceOrderRequest,
    rules: CheckoutRules,
    idempotency_key: str | None,
) -> dict[str, Any]:
    """Place an order once per Idempotency-Key: a retry answers the first order again."""

    async def operation(session: AsyncSession) -> dict[str, Any]:
        view = await create_order(session, clock, member_id=member_id, request=request, rules=rules)
        return view.model_dump(mode="json")

    return await run_once(
        db,
        clock,
        scope="orders.place",
        owner=str(member_id),
        key=idempotency_key,
        fingerprint=request_fingerprint(request.model_dump(mode="json")),
        operation=operation,
    )


async def _record_sales(
    session: AsyncSession, lines: Sequence[OrderLine], *, refunded: bool = False
) -> None:
    """Count paid units toward popularity; a refund takes them off again."""
    sign = -1 if refunded else 1
    sold: dict[uuid.UUID, int] = {}
    for line in lines:
        sold[line.product_id] = sold.get(line.product_id, 0) + sign * line.quantity
    await catalog.record_sales(session, sold)


# reading orders


async def order_view(session: AsyncSession, order: Order) -> OrderView:
    lines = await _order_lines(session, order.id)
    history = (
        await session.scalars(
            select(OrderStatusChange)
            .where(OrderStatusChange.order_id == order.id)
            .order_by(OrderStatusChange.seq)
        )
    ).all()
    payment = await session.scalar(
        select(Payment).where(Payment.order_id == order.id).order_by(Payment.approved_at.desc())
    )
    coupon = None
    if order.coupon_id is not None or order.member_coupon_id is not None:
        coupon = CouponSummary(
            coupon_id=order.coupon_id,
            member_coupon_id=order.member_coupon_id,
            code=order.coupon_code,
            name=order.coupon_name,
            discount=order.discount,
        )
    return OrderView(
        id=order.id,
        number=order.number,
        status=order.status,
        lines=[
            OrderLineView(
                id=line.id,
                variant_id=line.variant_id,
                product_id=line.product_id,
                product_name=line.product_name,
                brand_name=line.brand_name,
                options=line.options,
                image_url=line.image_url,
                unit_price=line.unit_price,
                list_price=line.list_price,
                quantity=line.quantity,
                line_total=line.line_total,
            )
            for line in lines
        ],
        subtotal=order.subtotal,
        discount=order.discount,
        coupon=coupon,
        points_used=order.points_used,
        shipping_fee=order.shipping_fee,
        total=order.total,
        payment_method=order.payment_method,
        address=AddressView.model_validate(order.address),
        memo=order.memo,
        tracking_number=order.tracking_number,
        cancel_reason=order.cancel_reason,
        placed_at=order.placed_at,
        payment_due_at=order.payment_due_at,
        paid_at=order.paid_at,
        shipped_at=order.shipped_at,
        delivered_at=order.delivered_at,
        closed_at=order.closed_at,
        history=[
            StatusChangeView(
                from_status=change.from_status,
                status=change.status,
                at=change.at,
                actor=change.actor_kind,
                note=change.note,
            )
            for change in history
        ],
        payment=PaymentSummary(
            provider=payment.provider,
            method=payment.method,
            amount=payment.amount,
            status=payment.status,
            approved_at=payment.approved_at,
            cancelled_at=payment.cancelled_at,
        )
        if payment is not None
        else None,
    )


async def _owned_order(
    session: AsyncSession, order_id: uuid.UUID, member_id: uuid.UUID | None
) -> Order:
    """The order, if `member_id` placed it (None: staff, any order). Others' orders are 404."""
    order = await session.get(Order, order_id, populate_existing=True)
    if order is None or (member_id is not None and order.member_id != member_id):
        raise NotFound()
    return order


async def get_order(
    session: AsyncSession, order_id: uuid.UUID, *, member_id: uuid.UUID | None
) -> OrderView:
    return await order_view(session, await _owned_order(session, order_id, member_id))


async def list_orders(
    session: AsyncSession,
    *,
    member_id: uuid.UUID | None,
    status: str | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 20,
    oldest_first: bool = False,
) -> Page[Any]:
    """Orders newest first (or oldest first): a member's own, or (member_id None) everyone's
    for staff, where `q` matches the order number or the buyer's email from their start."""
    query = select(Order)
    if member_id is not None:
        query = query.where(Order.member_id == member_id)
    if status:
        query = query.where(Order.status == status)
    if q:
        term = q.strip()
        query = query.where(
            or_(
                Order.number.startswith(term.upper(), autoescape=True),
                Order.buyer_email.startswith(term.lower(), autoescape=True),
            )
        )
    after = decode_cursor(cursor)
    if after is not None:
        try:
            placed_at = datetime.fromisoformat(str(after["t"]))
            last_id = uuid.UUID(str(after["id"]))
        except (KeyError, ValueError) as exc:
            raise InvalidCursor() from exc
        if oldest_first:
            query = query.where(
                or_(
                    Order.placed_at > placed_at,
                    (Order.placed_at == placed_at) & (Order.id > last_id),
                )
            )
        else:
            query = query.where(
                or_(
                    Order.placed_at < placed_at,
                    (Order.placed_at == placed_at) & (Order.id < last_id),
                )
            )
    if oldest_first:
        query = query.order_by(Order.placed_at.asc(), Order.id.asc())
    else:
        query = query.order_by(Order.placed_at.desc(), Order.id.desc())
    query = query.limit(limit + 1)
    orders = list((await session.scalars(query)).all())
    more = len(orders) > limit
    orders = orders[:limit]
    lines_by_order: dict[uuid.UUID, list[OrderLine]] = {}
    if orders:
        line_rows = await session.scalars(
            select(OrderLine)
            .where(OrderLine.order_id.in_([o.id for o in orders]))
            .order_by(OrderLine.order_id, OrderLine.position)
        )
        for line in line_rows:
            lines_by_order.setdefault(line.order_id, []).append(line)
    items: list[Any] = []
    for order in orders:
        lines = lines_by_order.get(order.id, [])
        title = lines[0].product_name if lines else ""
        if len(lines) > 1:
            title = f"{title} +{len(lines) - 1}"
        fields: dict[str, Any] = {
            "id": order.id,
            "number": order.number,
            "status": order.status,
            "total": order.total,
            "item_count": sum(line.quantity for line in lines),
            "title": title,
            "image_url": lines[0].image_url if lines else None,
            "placed_at": order.placed_at,
        }
        if member_id is None:
            items.append(
                StaffOrderSummary(
                    **fields,
                    member_id=order.member_id,
                    buyer_email=order.buyer_email,
                    buyer_nickname=order.buyer_nickname,
                )
            )
        else:
            items.append(OrderSummary(**fields))
    next_cursor = None
    if more and orders:
        last = orders[-1]
        next_cursor = encode_cursor({"t": last.placed_at.isoformat(), "id": str(last.id)})
    return Page[Any](items=items, next_cursor=next_cursor)


# the state machine


async def _move(
    session: AsyncSession,
    clock: Clock,
    order: Order,
    to: str,
    *,
    expected: str,
    actor_id: uuid.UUID | None,
    actor_kind: str,
    note: str | None = None,
    **values: Any,
) -> None:
    """Change the status only if it is still `expected` (optimistic: the loser of a race gets
    409), and write the timeline row."""
    now = clock.now()
    result = await session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == expected)
        .values(status=to, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        current = await session.scalar(select(Order.status).where(Order.id == order.id))
        raise InvalidTransition(order_status=current, to=to)
    await session.refresh(order)
    await _record_status(
        session,
        order,
        from_status=expected,
        status=to,
        at=now,
        actor_id=actor_id,
        actor_kind=actor_kind,
        note=note,
    )


async def _return_resources(session: AsyncSession, clock: Clock, order: Order) -> None:
    """Stock, coupon and points back where they came from; each keyed by the order, so once."""
    lines = await _order_lines(session, order.id)
    await catalog.release_stock(
        session,
        clock,
        [(line.variant_id, line.quantity) for line in lines],
        reference=f"order:{order.id}",
    )
    if order.coupon_id is not None or order.member_coupon_id is not None:
        await coupons.release_coupon(session, clock, order_id=order.id)
    if order.points_used > 0:
        await accounts.credit_points(
            session,
            clock,
            member_id=order.member_id,
            amount=order.points_used,
            reason="order.refund",
            reference=f"order:{order.id}:refund-points",
        )


async def _cancel_unpaid(
    session: AsyncSession,
    clock: Clock,
    order: Order,
    *,
    actor_id: uuid.UUID | None,
    actor_kind: str,
    reason: str | None,
) -> None:
    now = clock.now()
    await _move(
        session,
        clock,
        order,
        "cancelled",
        expected=PENDING,
        actor_id=actor_id,
        actor_kind=actor_kind,
        note=reason,
        closed_at=now,
        cancel_reason=reason,
        payment_due_at=None,
    )
    await _return_resources(session, clock, order)
    await jobs.cancel(session, _expiry_key(order.id))
    lines = await _order_lines(session, order.id)
    emit(session, clock, "order.cancelled", _event_payload(order, lines, reason=reason))


async def expire_unpaid_order(session: AsyncSession, clock: Clock, *, order_id: uuid.UUID) -> bool:
    """Cancel an order whose payment deadline passed; False when it was paid or is gone."""
    order = await session.get(Order, order_id, populate_existing=True)
    if order is None or order.status != PENDING:
        return False
    if order.payment_due_at is not None and order.payment_due_at > clock.now():
        return False
    await _cancel_unpaid(
        session, clock, order, actor_id=None, actor_kind="system", reason="expired"
    )
    return True


async def advance_order(
    session: AsyncSession,
    clock: Clock,
    *,
    order_id: uuid.UUID,
    to: str,
    actor_id: uuid.UUID,
    note: str | None = None,
    tracking_number: str | None = None,
    actor_ip: str | None = None,
) -> OrderView:
    """Staff moves an order forward (preparing, shipped, delivered) or cancels an unpaid one."""
    order = await _owned_order(session, order_id, None)
    before = {"status": order.status}
    now = clock.now()
    if to == "cancelled":
        if order.status != PENDING:
            raise InvalidTransition(order_status=order.status, to=to)
        await _cancel_unpaid(
            session, clock, order, actor_id=actor_id, actor_kind="staff", reason=note
        )
    elif to in FORWARD:
        expected = FORWARD[to]
        if order.status != expected:
            raise InvalidTransition(order_status=order.status, to=to)
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        if to == "shipped":
            if not tracking_number:
                raise TrackingNumberRequired()
            values = {"tracking_number": tracking_number, "shipped_at": now}
            extra = {"tracking_number": tracking_number}
        elif to == "delivered":
            values = {"delivered_at": now}
        await _move(
            session,
            clock,
            order,
            to,
            expected=expected,
            actor_id=actor_id,
            actor_kind="staff",
            note=note,
            **values,
        )
        lines = await _order_lines(session, order.id)
        emit(session, clock, f"order.{to}", _event_payload(order, lines, **extra))
    else:
        raise InvalidTransition(order_status=order.status, to=to)
    record_audit(
        session,
        clock,
        actor_id=actor_id,
        action=f"order.{to}",
        target_type="order",
        target_id=order.id,
        before=before,
        after={"status": order.status, "note": note, "tracking_number": order.tracking_number},
        ip=actor_ip,
    )
    return await order_view(session, order)


# payment


class _NotPayable(Exception):
    """The order stopped being payable while the provider was approving the payment."""

    def __init__(self, status: str | None, *, already_recorded: bool) -> None:
        super().__init__(status)
        self.status = status
        self.already_recorded = already_recorded


async def _record_payment(
    session: AsyncSession,
    clock: Clock,
    *,
    order_id: uuid.UUID,
    member_id: uuid.UUID,
    approval: Any,
) -> dict[str, Any]:
    order = await _owned_order(session, order_id, member_id)
    now = clock.now()
    result = await session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == PENDING)
        .values(status="paid", paid_at=now, payment_due_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        recorded = await session.scalar(
            select(Payment.id).where(
                Payment.order_id == order.id, Payment.payment_key == approval.payment_key
            )
        )
        current = await session.scalar(select(Order.status).where(Order.id == order.id))
        raise _NotPayable(current, already_recorded=recorded is not None)
    await session.refresh(order)
    session.add(
        Payment(
            order_id=order.id,
            provider=approval.provider,
            payment_key=approval.payment_key,
            amount=approval.amount,
            method=approval.method,
            status="approved",
            approved_at=approval.approved_at,
            raw=_json_safe(approval.raw),
        )
    )
    await _record_status(
        session,
        order,
        from_status=PENDING,
        status="paid",
        at=now,
        actor_id=member_id,
        actor_kind="member",
    )
    await jobs.cancel(session, _expiry_key(order.id))
    lines = await _order_lines(session, order.id)
    await _record_sales(session, lines)
    emit(session, clock, "order.paid", _event_payload(order, lines))
    return (await order_view(session, order)).model_dump(mode="json")


def _json_safe(value: Any) -> Any:
    """The provider's answer as plain JSON (it may hold datetimes)."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


async def pay_order(
    db: Database,
    clock: Clock,
    gateway: PaymentGateway,
    *,
    member_id: uuid.UUID,
    order_id: uuid.UUID,
    payment_key: str | None,
    amount: int,
    idempotency_key: str | None,
) -> dict[str, Any]:
    """Confirm the payment with the provider (outside any transaction), then mark the order
    paid. If the order expired or was cancelled meanwhile, the approval is cancelled again."""
    fingerprint = request_fingerprint(
        {"order_id": str(order_id), "payment_key": payment_key, "amount": amount}
    )

    async def once(operation: Any) -> dict[str, Any]:
        return await run_once(
            db,
            clock,
            scope="orders.pay",
            owner=str(member_id),
            key=idempotency_key,
            fingerprint=fingerprint,
            operation=operation,
        )

    async with db.read() as session:
        order = await _owned_order(session, order_id, member_id)
        status, total = order.status, order.total

    if status != PENDING:

        async def refuse(_session: AsyncSession) -> dict[str, Any]:
            raise OrderNotPayable(order_status=status)

        # a retry of a payment that went through replays its answer; anything else is refused
        return await once(refuse)
    if amount != total:
        raise AmountMismatch(total=total)
    if payment_key is None:
        if gateway.name != "dummy":
            raise PaymentKeyRequired()
        # stable per Idempotency-Key, so a retried request confirms the same dummy payment
        seed = uuid.uuid5(order_id, idempotency_key) if idempotency_key else uuid.uuid4()
        payment_key = f"dummy_{seed.hex}"
    approval = await gateway.confirm(
        payment_key=payment_key,
        order_id=str(order_id),
        amount=amount,
        idempotency_key=f"confirm:{order_id}:{payment_key}",
    )
    if approval.amount != total:
        await _void_payment(gateway, payment_key, "The approved amount differs from the order.")
        raise AmountMismatch(total=total)

    async def record(session: AsyncSession) -> dict[str, Any]:
        return await _record_payment(
            session, clock, order_id=order_id, member_id=member_id, approval=approval
        )

    try:
        return await once(record)
    except _NotPayable as exc:
        if not exc.already_recorded:
            await _void_payment(gateway, payment_key, "The order can no longer be paid.")
        raise OrderNotPayable(order_status=exc.status) from None


async def _void_payment(gateway: PaymentGateway, payment_key: str, reason: str) -> None:
    try:
        await gateway.cancel(
            payment_key=payment_key,
            reason=reason,
            amount=None,
            idempotency_key=f"void:{payment_key}",
        )
    except (PaymentDeclined, PaymentUnavailable):
        # the buyer is told the order failed; staff reconcile the provider's records by key
        log.exception("could not void a payment", extra={"payment_key": payment_key})


# cancellation and refunds


async def _approved_payment(session: AsyncSession, order_id: uuid.UUID) -> Payment | None:
    return await session.scalar(
        select(Payment).where(Payment.order_id == order_id, Payment.status == "approved")
    )


async def _complete_refund(
    session: AsyncSession,
    clock: Clock,
    order: Order,
    *,
    expected: str,
    actor_id: uuid.UUID | None,
    actor_kind: str,
    reason: str | None,
) -> bool:
    """Mark the order refunded and give everything back; False if someone else did it first."""
    now = clock.now()
    try:
        await _move(
            session,
            clock,
            order,
            "refunded",
            expected=expected,
            actor_id=actor_id,
            actor_kind=actor_kind,
            note=reason,
            closed_at=now,
            cancel_reason=reason,
            status_before_refund=None,
        )
    except InvalidTransition:
        return False
    await session.execute(
        update(Payment)
        .where(Payment.order_id == order.id, Payment.status == "approved")
        .values(status="cancelled", cancelled_at=now)
    )
    await _return_resources(session, clock, order)
    await jobs.cancel(session, _refund_key(order.id))
    lines = await _order_lines(session, order.id)
    await _record_sales(session, lines, refunded=True)
    emit(session, clock, "order.refunded", _event_payload(order, lines, reason=reason))
    return True


async def _abort_refund(
    session: AsyncSession, clock: Clock, order_id: uuid.UUID, *, note: str
) -> None:
    """The provider refused the refund: back to where the order was."""
    order = await session.get(Order, order_id, populate_existing=True)
    if order is None or order.status != "refunding" or order.status_before_refund is None:
        return
    back = order.status_before_refund
    await _move(
        session,
        clock,
        order,
        back,
        expected="refunding",
        actor_id=None,
        actor_kind="system",
        note=note,
        status_before_refund=None,
    )
    await jobs.cancel(session, _refund_key(order.id))


async def refund_order(
    db: Database,
    clock: Clock,
    gateway: PaymentGateway,
    *,
    order_id: uuid.UUID,
    owner_id: uuid.UUID | None,
    actor_id: uuid.UUID | None,
    actor_kind: str,
    reason: str | None,
    allowed_from: frozenset[str],
    actor_ip: str | None = None,
) -> OrderView:
    """Refund a paid order: claim it (→ refunding) so no one ships or refunds it meanwhile,
    cancel the payment with the provider outside any transaction, then mark it refunded and
    return stock, coupon and points. A job finishes refunds whose provider call did not."""
    async with db.write() as session:
        order = await _owned_order(session, order_id, owner_id)
        start = order.status
        if start not in allowed_from:
            raise InvalidTransition(order_status=start, to="refunded")
        if actor_kind == "staff":
            record_audit(
                session,
                clock,
                actor_id=actor_id,
                action="order.refund",
                target_type="order",
                target_id=order.id,
                before={"status": start},
                after={"status": "refunded", "reason": reason},
                ip=actor_ip,
            )
        payment = await _approved_payment(session, order.id)
        if payment is None:
            # paid with points and coupon only: nothing to give back at the provider
            await _complete_refund(
                session,
                clock,
                order,
                expected=start,
                actor_id=actor_id,
                actor_kind=actor_kind,
                reason=reason,
            )
            return await order_view(session, order)
        await _move(
            session,
            clock,
            order,
            "refunding",
            expected=start,
            actor_id=actor_id,
            actor_kind=actor_kind,
            note=reason,
            status_before_refund=start,
        )
        await jobs.schedule(
            session,
            FINISH_REFUND_JOB,
            _refund_key(order.id),
            clock.now() + REFUND_RETRY_DELAY,
            {"order_id": str(order.id), "reason": reason},
        )
        payment_key = payment.payment_key
    try:
        await _cancel_payment(gateway, order_id, payment_key, reason)
    except PaymentDeclined:
        async with db.write() as session:
            await _abort_refund(session, clock, order_id, note="the provider refused the refund")
        raise
    except PaymentUnavailable:
        # the refund stays under way: the job tries the provider again later
        log.warning("refund left to the retry job", extra={"order_id": str(order_id)})
        async with db.read() as session:
            return await get_order(session, order_id, member_id=owner_id)
    async with db.write() as session:
        order = await _owned_order(session, order_id, owner_id)
        await _complete_refund(
            session,
            clock,
            order,
            expected="refunding",
            actor_id=actor_id,
            actor_kind=actor_kind,
            reason=reason,
        )
        return await order_view(session, order)


async def _cancel_payment(
    gateway: PaymentGateway, order_id: uuid.UUID, payment_key: str, reason: str | None
) -> None:
    await gateway.cancel(
        payment_key=payment_key,
        reason=reason or "order cancelled",
        amount=None,
        # the same key for every attempt, so the provider refunds once
        idempotency_key=f"refund:{order_id}",
    )


async def finish_refund(
    db: Database, clock: Clock, gateway: PaymentGateway, *, order_id: uuid.UUID, reason: str | None
) -> bool:
    """The retry job of a refund left under way; raises while the provider is unavailable."""
    async with db.read() as session:
        order = await session.get(Order, order_id)
        if order is None or order.status != "refunding":
            return False
        payment = await _approved_payment(session, order_id)
    if payment is not None:
        try:
            await _cancel_payment(gateway, order_id, payment.payment_key, reason)
        except PaymentDeclined:
            async with db.write() as session:
                await _abort_refund(
                    session, clock, order_id, note="the provider refused the refund"
                )
            return False
    async with db.write() as session:
        order = await _owned_order(session, order_id, None)
        return await _complete_refund(
            session,
            clock,
            order,
            expected="refunding",
            actor_id=None,
            actor_kind="system",
            reason=reason,
        )


async def cancel_order(
    db: Database,
    clock: Clock,
    gateway: PaymentGateway,
    *,
    member_id: uuid.UUID,
    order_id: uuid.UUID,
    reason: str | None,
) -> OrderView:
    """The buyer cancels: an unpaid order is cancelled, a paid one not yet shipped is refunded."""
    async with db.write() as session:
        order = await _owned_order(session, order_id, member_id)
        status = order.status
        if status == PENDING:
            await _cancel_unpaid(
                session, clock, order, actor_id=member_id, actor_kind="member", reason=reason
            )
            return await order_view(session, order)
    if status in CANCELLABLE_AFTER_PAYMENT:
        return await refund_order(
            db,
            clock,
            gateway,
            order_id=order_id,
            owner_id=member_id,
            actor_id=member_id,
            actor_kind="member",
            reason=reason,
            allowed_from=CANCELLABLE_AFTER_PAYMENT,
        )
    raise InvalidTransition(order_status=status, to="cancelled")


async def transition_order(
    db: Database,
    clock: Clock,
    gateway: PaymentGateway,
    *,
    order_id: uuid.UUID,
    to: str,
    actor_id: uuid.UUID,
    note: str | None = None,
    tracking_number: str | None = None,
    actor_ip: str | None = None,
) -> OrderView:
    """Staff's one door to the state machine; a refund goes through the provider."""
    if to == "refunded":
        return await refund_order(
            db,
            clock,
            gateway,
            order_id=order_id,
            owner_id=None,
            actor_id=actor_id,
            actor_kind="staff",
            reason=note,
            allowed_from=REFUNDABLE_BY_STAFF,
            actor_ip=actor_ip,
        )
    async with db.write() as session:
        return await advance_order(
            session,
            clock,
            order_id=order_id,
            to=to,
            actor_id=actor_id,
            note=note,
            tracking_number=tracking_number,
            actor_ip=actor_ip,
        )


# rewards


async def credit_purchase_reward(
    session: AsyncSession,
    clock: Clock,
    *,
    order_id: uuid.UUID,
    percent: int,
    expiry_days: int = 365,
) -> int:
    """Reward points for a delivered order, once per order (the reference makes repeats no-ops).
    Returns the points credited by this order's reward (0 when none is due)."""
    order = await session.get(Order, order_id)
    if order is None or order.status != "delivered":
        return 0
    amount = purchase_reward(order.total, order.shipping_fee, percent)
    if amount <= 0:
        return 0
    await accounts.credit_points(
        session,
        clock,
        member_id=order.member_id,
        amount=amount,
        reason="order.reward",
        reference=f"order:{order.id}:reward",
        expiry_days=expiry_days,
    )
    return amount


# reports (read by the analytics domain)

# the statuses of an order whose money the shop keeps: paid and on its way or delivered
PAID_STATUSES = frozenset({"paid", "preparing", "shipped", "delivered"})


@dataclass(frozen=True)
class DailySales:
    day: date
    orders: int  # placed that day, whatever became of them
    paid_orders: int  # of those, the ones paid and neither cancelled nor refunded
    revenue: int  # their totals, KRW


@dataclass(frozen=True)
class ProductSales:
    product_id: uuid.UUID
    product_name: str
    brand_name: str | None
    quantity: int
    revenue: int


async def daily_sales(
    session: AsyncSession, *, since: date, until: date, tz: tzinfo
) -> list[DailySales]:
    """Orders placed on each local day from `since` to `until` (both included, in `tz`), the
    paid ones among them and their revenue; every day is listed, quiet ones with zeros."""
    window = day_window(since, until, tz)
    paid = Order.status.in_(PAID_STATUSES)
    placed = (
        select(
            day_of(Order.placed_at, window).label("day"),
            case((paid, 1), else_=0).label("paid"),
            case((paid, Order.total), else_=0).label("revenue"),
        )
        .where(Order.placed_at >= window.start, Order.placed_at < window.end)
        .subquery()
    )
    rows = (
        await session.execute(
            select(
                placed.c.day,
                func.count().label("orders"),
                func.sum(placed.c.paid).label("paid_orders"),
                func.sum(placed.c.revenue).label("revenue"),
            ).group_by(placed.c.day)
        )
    ).all()
    return [
        DailySales(
            day=day,
            orders=int(row.orders) if row else 0,
            paid_orders=int(row.paid_orders or 0) if row else 0,
            revenue=int(row.revenue or 0) if row else 0,
        )
        for day, row in by_day(rows, window).items()
    ]


async def top_products(
    session: AsyncSession, *, since: date, until: date, tz: tzinfo, limit: int = 5
) -> list[ProductSales]:
    """The products that sold the most units in paid orders placed from `since` to `until`
    (local days in `tz`, both included), with the revenue of their lines; ties by revenue."""
    window = day_window(since, until, tz)
    quantity = func.sum(OrderLine.quantity).label("quantity")
    revenue = func.sum(OrderLine.line_total).label("revenue")
    rows = (
        await session.execute(
            select(
                OrderLine.product_id,
                # the names as they were sold; a renamed product shows one of its names
                func.max(OrderLine.product_name).label("product_name"),
                func.max(OrderLine.brand_name).label("brand_name"),
                quantity,
                revenue,
            )
            .join(Order, Order.id == OrderLine.order_id)
            .where(
                Order.status.in_(PAID_STATUSES),
                Order.placed_at >= window.start,
                Order.placed_at < window.end,
            )
            .group_by(OrderLine.product_id)
            .order_by(quantity.desc(), revenue.desc(), OrderLine.product_id)
            .limit(limit)
        )
    ).all()
    return [
        ProductSales(
            product_id=row.product_id,
            product_name=row.product_name,
            brand_name=row.brand_name,
            quantity=int(row.quantity),
            revenue=int(row.revenue),
        )
        for row in rows
    ]


async def has_delivered_order(session: AsyncSession, member_id: uuid.UUID) -> bool:
    """Whether the member has received at least one order (a verified buyer)."""
    found = await session.scalar(
        select(Order.id).where(Order.member_id == member_id, Order.status == "delivered").limit(1)
    )
    return found is not None


@dataclass(frozen=True)
class ReviewableLine:
    """An order line as a review of it needs it: what was bought, and where the order is."""

    id: uuid.UUID
    order_id: uuid.UUID
    product_id: uuid.UUID
    variant_id: uuid.UUID
    product_name: str
    order_status: str


async def order_line_for_review(
    session: AsyncSession, member_id: uuid.UUID, order_line_id: uuid.UUID
) -> ReviewableLine | None:
    """A line of one of the member's own orders; None when there is no such line or it is on
    someone else's order (the caller answers both the same, so nothing is revealed)."""
    row = (
        await session.execute(
            select(OrderLine, Order.status)
            .join(Order, Order.id == OrderLine.order_id)
            .where(OrderLine.id == order_line_id, Order.member_id == member_id)
        )
    ).first()
    if row is None:
        return None
    line, status = row
    return ReviewableLine(
        id=line.id,
        order_id=line.order_id,
        product_id=line.product_id,
        variant_id=line.variant_id,
        product_name=line.product_name,
        order_status=status,
    )


# read by the rewards domain's referral program


async def count_orders(session: AsyncSession, member_id: uuid.UUID) -> int:
    """How many orders the member has placed, whatever became of them."""
    query = select(func.count()).select_from(Order).where(Order.member_id == member_id)
    return await session.scalar(query) or 0


async def shipping_addresses(session: AsyncSession, member_id: uuid.UUID) -> list[dict[str, Any]]:
    """The addresses the member's orders were shipped to (as placed: recipient, phone,
    postal_code, line1, line2)."""
    rows = await session.scalars(select(Order.address).where(Order.member_id == member_id))
    return [dict(address) for address in rows if address]


async def payment_fingerprints(session: AsyncSession, member_id: uuid.UUID) -> set[str]:
    """What tells apart the cards the member paid with, as far as the provider said: Toss
    answers the issuer and the masked card number (`card.issuerCode`, `card.number`). The dummy
    provider says nothing about a card, so its payments have no fingerprint."""
    query = select(Payment.raw).join(Order, Order.id == Payment.order_id)
    fingerprints: set[str] = set()
    for raw in await session.scalars(query.where(Order.member_id == member_id)):
        card = raw.get("card") if isinstance(raw, dict) else None
        if isinstance(card, dict) and card.get("number"):
            fingerprints.add(f"card:{card.get('issuerCode') or ''}:{card['number']}")
    return fingerprints
