"""HTTP API of the orders domain: carts, checkout, orders, payments, staff order desk."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response, status

from jangteo.core.deps import (
    CurrentMember,
    IdempotencyKey,
    OptionalMember,
    PlatformDep,
    StaffMember,
    client_ip,
)
from jangteo.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from jangteo.core.platform import Platform
from jangteo.orders import service
from jangteo.orders.schemas import (
    CancelRequest,
    CartLineIn,
    CartLineUpdate,
    CartMerge,
    CartView,
    CheckoutPreview,
    CheckoutRequest,
    OrderStatus,
    OrderSummary,
    OrderView,
    PaymentRequest,
    PlaceOrderRequest,
    RefundRequest,
    StaffOrderSummary,
    TransitionRequest,
)

router = APIRouter(prefix="/api/v1")

CartToken = Annotated[str | None, Header(alias="X-Cart-Token", max_length=200)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=500)]


def _rules(platform: Platform) -> service.CheckoutRules:
    return service.CheckoutRules.from_settings(platform.settings)


def _member_id(principal: Any) -> uuid.UUID | None:
    return principal.member_id if principal is not None else None


# carts


@router.post("/carts", response_model=CartView, tags=["carts"], status_code=201)
async def open_cart(
    platform: PlatformDep, principal: OptionalMember, response: Response
) -> CartView:
    """A guest gets a new cart and its token (shown once; send it as `X-Cart-Token`); a member
    gets their one active cart (200 when it already existed)."""
    async with platform.db.write() as session:
        cart, created = await service.open_cart(
            session, platform.clock, platform.signer, member_id=_member_id(principal)
        )
    if not created:
        response.status_code = status.HTTP_200_OK
    return cart


@router.get("/carts/{cart_id}", response_model=CartView, tags=["carts"])
async def get_cart(
    cart_id: uuid.UUID, platform: PlatformDep, principal: OptionalMember, token: CartToken = None
) -> CartView:
    async with platform.db.read() as session:
        return await service.get_cart(
            session, platform.signer, cart_id, member_id=_member_id(principal), token=token
        )


@router.post("/carts/{cart_id}/lines", response_model=CartView, tags=["carts"])
async def add_cart_line(
    cart_id: uuid.UUID,
    body: CartLineIn,
    platform: PlatformDep,
    principal: OptionalMember,
    token: CartToken = None,
) -> CartView:
    async with platform.db.write() as session:
        return await service.add_cart_line(
            session,
            platform.clock,
            platform.signer,
            cart_id=cart_id,
            member_id=_member_id(principal),
            token=token,
            variant_id=body.variant_id,
            quantity=body.quantity,
            max_quantity=platform.settings.max_quantity_per_line,
        )


@router.patch("/carts/{cart_id}/lines/{line_id}", response_model=CartView, tags=["carts"])
async def change_cart_line(
    cart_id: uuid.UUID,
    line_id: uuid.UUID,
    body: CartLineUpdate,
    platform: PlatformDep,
    principal: OptionalMember,
    token: CartToken = None,
) -> CartView:
    async with platform.db.write() as session:
        return await service.change_cart_line(
            session,
            platform.clock,
            platform.signer,
            cart_id=cart_id,
            line_id=line_id,
            member_id=_member_id(principal),
            token=token,
            quantity=body.quantity,
            max_quantity=platform.settings.max_quantity_per_line,
        )


@router.delete("/carts/{cart_id}/lines/{line_id}", response_model=CartView, tags=["carts"])
async def remove_cart_line(
    cart_id: uuid.UUID,
    line_id: uuid.UUID,
    platform: PlatformDep,
    principal: OptionalMember,
    token: CartToken = None,
) -> CartView:
    async with platform.db.write() as session:
        return await service.remove_cart_line(
            session,
            platform.clock,
            platform.signer,
            cart_id=cart_id,
            line_id=line_id,
            member_id=_member_id(principal),
            token=token,
        )


@router.post("/carts/{cart_id}/merge", response_model=CartView, tags=["carts"])
async def merge_cart(
    cart_id: uuid.UUID, body: CartMerge, platform: PlatformDep, principal: CurrentMember
) -> CartView:
    """After log-in: move the guest cart's lines into the member's cart `cart_id`."""
    async with platform.db.write() as session:
        return await service.merge_guest_cart(
            session,
            platform.clock,
            platform.signer,
            member_id=principal.member_id,
            cart_id=cart_id,
            guest_cart_id=body.guest_cart_id,
            guest_token=body.guest_cart_token,
            max_quantity=platform.settings.max_quantity_per_line,
        )


# checkout and orders


@router.post("/checkout/preview", response_model=CheckoutPreview, tags=["orders"])
async def preview_checkout(
    body: CheckoutRequest, platform: PlatformDep, principal: CurrentMember
) -> CheckoutPreview:
    async with platform.db.read() as session:
        return await service.preview_checkout(
            session,
            platform.clock,
            member_id=principal.member_id,
            request=body,
            rules=_rules(platform),
        )


@router.post("/orders", response_model=OrderView, status_code=201, tags=["orders"])
async def place_order(
    body: PlaceOrderRequest,
    platform: PlatformDep,
    principal: CurrentMember,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    return await service.place_order(
        platform.db,
        platform.clock,
        member_id=principal.member_id,
        request=body,
        rules=_rules(platform),
        idempotency_key=idempotency_key,
    )


@router.get("/orders", response_model=Page[OrderSummary], tags=["orders"])
async def list_my_orders(
    platform: PlatformDep,
    principal: CurrentMember,
    status: OrderStatus | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[Any]:
    async with platform.db.read() as session:
        return await service.list_orders(
            session, member_id=principal.member_id, status=status, cursor=cursor, limit=limit
        )


@router.get("/orders/{order_id}", response_model=OrderView, tags=["orders"])
async def get_order(
    order_id: uuid.UUID, platform: PlatformDep, principal: CurrentMember
) -> OrderView:
    async with platform.db.read() as session:
        return await service.get_order(session, order_id, member_id=principal.member_id)


@router.post("/orders/{order_id}/cancel", response_model=OrderView, tags=["orders"])
async def cancel_order(
    order_id: uuid.UUID,
    platform: PlatformDep,
    principal: CurrentMember,
    body: CancelRequest | None = None,
) -> OrderView:
    """Cancel an unpaid order, or cancel and refund a paid one that has not shipped."""
    return await service.cancel_order(
        platform.db,
        platform.clock,
        platform.adapters["payments"],
        member_id=principal.member_id,
        order_id=order_id,
        reason=body.reason if body else None,
    )


@router.post("/orders/{order_id}/payments", response_model=OrderView, tags=["orders"])
async def pay_order(
    order_id: uuid.UUID,
    body: PaymentRequest,
    platform: PlatformDep,
    principal: CurrentMember,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Confirm the payment the buyer authorised with the provider; the amount must be the
    order's total."""
    return await service.pay_order(
        platform.db,
        platform.clock,
        platform.adapters["payments"],
        member_id=principal.member_id,
        order_id=order_id,
        payment_key=body.payment_key,
        amount=body.amount,
        idempotency_key=idempotency_key,
    )


# staff


@router.get("/admin/orders", response_model=Page[StaffOrderSummary], tags=["admin"])
async def list_all_orders(
    platform: PlatformDep,
    principal: StaffMember,
    status: OrderStatus | None = None,
    q: Annotated[str | None, Query(max_length=320)] = None,
    sort: Literal["newest", "oldest"] = "newest",
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[Any]:
    """Every order, newest (or oldest) first; `q` matches the order number or the buyer's
    email."""
    async with platform.db.read() as session:
        return await service.list_orders(
            session,
            member_id=None,
            status=status,
            q=q,
            cursor=cursor,
            limit=limit,
            oldest_first=sort == "oldest",
        )


@router.get("/admin/orders/{order_id}", response_model=OrderView, tags=["admin"])
async def get_any_order(
    order_id: uuid.UUID, platform: PlatformDep, principal: StaffMember
) -> OrderView:
    async with platform.db.read() as session:
        return await service.get_order(session, order_id, member_id=None)


@router.post("/admin/orders/{order_id}/transitions", response_model=OrderView, tags=["admin"])
async def transition_order(
    order_id: uuid.UUID,
    body: TransitionRequest,
    request: Request,
    platform: PlatformDep,
    principal: StaffMember,
) -> OrderView:
    return await service.transition_order(
        platform.db,
        platform.clock,
        platform.adapters["payments"],
        order_id=order_id,
        to=body.to,
        actor_id=principal.member_id,
        note=body.note,
        tracking_number=body.tracking_number,
        actor_ip=client_ip(request),
    )


@router.post("/admin/orders/{order_id}/refund", response_model=OrderView, tags=["admin"])
async def refund_order(
    order_id: uuid.UUID,
    body: RefundRequest,
    request: Request,
    platform: PlatformDep,
    principal: StaffMember,
) -> OrderView:
    """Refund a paid, preparing, shipped or delivered order: the payment is cancelled with the
    provider and stock, coupon and points go back."""
    return await service.transition_order(
        platform.db,
        platform.clock,
        platform.adapters["payments"],
        order_id=order_id,
        to="refunded",
        actor_id=principal.member_id,
        note=body.reason,
        actor_ip=client_ip(request),
    )
