"""Coupons: what a coupon takes off an order, claiming and issuing copies, using them once."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.accounts import service as accounts
from jangteo.core.audit import record_audit
from jangteo.core.clock import Clock
from jangteo.core.errors import InvalidInput, define
from jangteo.core.i18n import translate
from jangteo.core.pagination import (
    DEFAULT_LIMIT,
    Page,
    id_after,
    id_cursor,
)
from jangteo.orders.coupon_schemas import (
    CODE_PATTERN,
    CouponCreate,
    CouponUpdate,
    CouponView,
    MemberCouponView,
    WalletStatus,
    normalize_code,
)
from jangteo.orders.models import Coupon, MemberCoupon

CouponNotFound = define("coupon-not-found", 404, "The coupon does not exist.")
CouponDisabled = define("coupon-disabled", 409, "The coupon is no longer offered.")
CouponNotStarted = define("coupon-not-started", 409, "The coupon cannot be used yet.")
CouponExpired = define("coupon-expired", 409, "The coupon has expired.")
CouponMinimumNotMet = define(
    "coupon-minimum-not-met", 409, "The order does not reach the coupon's minimum amount."
)
CouponNotApplicable = define(
    "coupon-not-applicable", 409, "The coupon does not apply to any item in the order."
)
CouponAlreadyUsed = define("coupon-already-used", 409, "The coupon has already been used.")
CouponExhausted = define("coupon-exhausted", 409, "All copies of this coupon have been claimed.")
CouponLimitReached = define(
    "coupon-limit-reached", 409, "You already hold as many copies of this coupon as allowed."
)
CouponCodeTaken = define("coupon-code-taken", 409, "Another coupon already uses this code.")


@dataclass(frozen=True)
class CouponLine:
    product_id: uuid.UUID
    category_id: uuid.UUID | None
    unit_price: int
    quantity: int


@dataclass(frozen=True)
class CouponQuote:
    coupon_id: uuid.UUID
    member_coupon_id: uuid.UUID | None
    code: str | None
    name: str
    discount: int


# -- the rules of the discount (pure) ------------------------------------------------------


def eligible_amount(
    lines: Sequence[CouponLine],
    subtotal: int,
    *,
    product_ids: Collection[str],
    category_ids: Collection[str],
) -> int:
    """The part of the order a coupon may discount: all of it, or its target lines only."""
    if not product_ids and not category_ids:
        return max(subtotal, 0)
    amount = sum(
        line.unit_price * line.quantity
        for line in lines
        if str(line.product_id) in product_ids
        or (line.category_id is not None and str(line.category_id) in category_ids)
    )
    return max(min(amount, subtotal), 0)


def discount_for(kind: str, value: int, max_discount: int | None, eligible: int) -> int:
    """Fixed: the value; percent: rounded down and capped; never more than the eligible amount."""
    if eligible <= 0:
        return 0
    if kind == "fixed":
        discount = value
    else:
        discount = eligible * value // 100
        if max_discount is not None:
            discount = min(discount, max_discount)
    return min(discount, eligible)


def describe_discount(kind: str, value: int, max_discount: int | None, locale: str) -> str:
    """What the coupon gives, for people: "3,000원 할인", "10% 할인 (최대 5,000원)"."""
    if kind == "fixed":
        return translate("{amount} won off", locale).format(amount=f"{value:,}")
    if max_discount is None:
        return translate("{percent}% off", locale).format(percent=value)
    return translate("{percent}% off, up to {max_discount} won", locale).format(
        percent=value, max_discount=f"{max_discount:,}"
    )


def _check_live(coupon: Coupon, now: datetime) -> None:
    if coupon.status != "active":
        raise CouponDisabled()
    if now < coupon.starts_at:
        raise CouponNotStarted(starts_at=coupon.starts_at.isoformat())
    if now >= coupon.ends_at:
        raise CouponExpired(ends_at=coupon.ends_at.isoformat())


def _discount_of_order(coupon: Coupon, lines: Sequence[CouponLine], subtotal: int) -> int:
    if subtotal < coupon.min_order_amount:
        raise CouponMinimumNotMet(min_order_amount=coupon.min_order_amount)
    eligible = eligible_amount(
        lines,
        subtotal,
        product_ids=set(coupon.target_product_ids),
        category_ids=set(coupon.target_category_ids),
    )
    if eligible <= 0:
        raise CouponNotApplicable()
    return discount_for(coupon.kind, coupon.value, coupon.max_discount, eligible)


# -- reading -------------------------------------------------------------------------------


async def _coupon_by_code(session: AsyncSession, code: str) -> Coupon:
    normalized = normalize_code(code)
    if not CODE_PATTERN.fullmatch(normalized):
        raise CouponNotFound()
    coupon = await session.scalar(select(Coupon).where(Coupon.code == normalized))
    if coupon is None:
        raise CouponNotFound()
    return coupon


async def _copies(session: AsyncSession, coupon_id: uuid.UUID, member_id: uuid.UUID) -> list[Any]:
    rows = await session.execute(
        select(MemberCoupon.id, MemberCoupon.status)
        .where(MemberCoupon.coupon_id == coupon_id, MemberCoupon.member_id == member_id)
        .order_by(MemberCoupon.copy_number)
    )
    return list(rows.all())


def _wallet_status(member_coupon: MemberCoupon, coupon: Coupon, now: datetime) -> WalletStatus:
    if member_coupon.status == "used":
        return "used"
    if coupon.status != "active" or coupon.ends_at <= now:
        return "expired"
    return "available"


def _member_coupon_view(
    member_coupon: MemberCoupon, coupon: Coupon, now: datetime
) -> MemberCouponView:
    return MemberCouponView(
        id=member_coupon.id,
        coupon_id=coupon.id,
        code=coupon.code,
        name=coupon.name,
        kind=coupon.kind,  # type: ignore[arg-type]
        value=coupon.value,
        max_discount=coupon.max_discount,
        min_order_amount=coupon.min_order_amount,
        starts_at=coupon.starts_at,
        ends_at=coupon.ends_at,
        target_product_ids=[uuid.UUID(v) for v in coupon.target_product_ids],
        target_category_ids=[uuid.UUID(v) for v in coupon.target_category_ids],
        status=_wallet_status(member_coupon, coupon, now),
        issued_at=member_coupon.issued_at,
        used_at=member_coupon.used_at,
        order_id=member_coupon.order_id,
    )


def _coupon_view(coupon: Coupon, used_count: int) -> CouponView:
    return CouponView(
        id=coupon.id,
        code=coupon.code,
        name=coupon.name,
        kind=coupon.kind,  # type: ignore[arg-type]
        value=coupon.value,
        min_order_amount=coupon.min_order_amount,
        max_discount=coupon.max_discount,
        starts_at=coupon.starts_at,
        ends_at=coupon.ends_at,
        per_member_limit=coupon.per_member_limit,
        total_limit=coupon.total_limit,
        issued_count=coupon.issued_count,
        used_count=used_count,
        target_product_ids=[uuid.UUID(v) for v in coupon.target_product_ids],
        target_category_ids=[uuid.UUID(v) for v in coupon.target_category_ids],
        status=coupon.status,  # type: ignore[arg-type]
        created_at=coupon.created_at,
    )


# -- quoting and using ---------------------------------------------------------------------


async def quote_coupon(
    session: AsyncSession,
    clock: Clock,
    *,
    member_id: uuid.UUID,
    member_coupon_id: uuid.UUID | None,
    code: str | None,
    lines: Sequence[CouponLine],
    subtotal: int,
) -> CouponQuote:
    """What the coupon (a copy the member holds, or a code) takes off this order; writes nothing."""
    if (member_coupon_id is None) == (code is None):
        raise InvalidInput("Give either a coupon code or a coupon from your wallet.")
    now = clock.now()
    if member_coupon_id is not None:
        row = (
            await session.execute(
                select(MemberCoupon, Coupon)
                .join(Coupon, Coupon.id == MemberCoupon.coupon_id)
                .where(MemberCoupon.id == member_coupon_id, MemberCoupon.member_id == member_id)
            )
        ).first()
        # another member's coupon is answered like a missing one
        if row is None or row[0].status == "revoked":
            raise CouponNotFound()
        held, coupon = row
        if held.status != "available":
            raise CouponAlreadyUsed()
        _check_live(coupon, now)
        held_id: uuid.UUID | None = held.id
    else:
        assert code is not None
        coupon = await _coupon_by_code(session, code)
        _check_live(coupon, now)
        copies = await _copies(session, coupon.id, member_id)
        held_id = next((c.id for c in copies if c.status == "available"), None)
        if held_id is None:
            # nothing in the wallet: the code must still be claimable by this member
            if len(copies) >= coupon.per_member_limit:
                if any(c.status == "used" for c in copies):
                    raise CouponAlreadyUsed()
                raise CouponLimitReached(per_member_limit=coupon.per_member_limit)
            if coupon.total_limit is not None and coupon.issued_count >= coupon.total_limit:
                raise CouponExhausted()
    discount = _discount_of_order(coupon, lines, subtotal)
    return CouponQuote(
        coupon_id=coupon.id,
        member_coupon_id=held_id,
        code=coupon.code,
        name=coupon.name,
        discount=discount,
    )


async def redeem_coupon(
    session: AsyncSession,
    clock: Clock,
    *,
    member_id: uuid.UUID,
    member_coupon_id: uuid.UUID | None,
    code: str | None,
    lines: Sequence[CouponLine],
    subtotal: int,
    order_id: uuid.UUID,
) -> CouponQuote:
    """Use the coupon for an order, in the caller's placement transaction; exactly once."""
    quote = await quote_coupon(
        session,
        clock,
        member_id=member_id,
        member_coupon_id=member_coupon_id,
        code=code,
        lines=lines,
        subtotal=subtotal,
    )
    held_id = quote.member_coupon_id
    if held_id is None:
        assert quote.code is not None
        claimed = await claim_coupon(session, clock, member_id=member_id, code=quote.code)
        held_id = claimed.id
    # the conditional update is what makes two checkouts with one coupon impossible
    result = await session.execute(
        update(MemberCoupon)
        .where(
            MemberCoupon.id == held_id,
            MemberCoupon.member_id == member_id,
            MemberCoupon.status == "available",
        )
        .values(status="used", used_at=clock.now(), order_id=order_id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise CouponAlreadyUsed()
    return replace(quote, member_coupon_id=held_id)


async def release_coupon(session: AsyncSession, clock: Clock, *, order_id: uuid.UUID) -> bool:
    """Give back the coupon an order used (cancel, expiry, refund); True only the first time."""
    result = await session.execute(
        update(MemberCoupon)
        .where(MemberCoupon.order_id == order_id, MemberCoupon.status == "used")
        .values(status="available", used_at=None, order_id=None)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# -- claiming and issuing ------------------------------------------------------------------


async def _add_copy(
    session: AsyncSession,
    clock: Clock,
    coupon: Coupon,
    member_id: uuid.UUID,
    issued_by: uuid.UUID | None,
) -> MemberCoupon:
    held = await session.scalar(
        select(func.count())
        .select_from(MemberCoupon)
        .where(MemberCoupon.coupon_id == coupon.id, MemberCoupon.member_id == member_id)
    )
    held = held or 0
    if held >= coupon.per_member_limit:
        raise CouponLimitReached(per_member_limit=coupon.per_member_limit)
    copy = MemberCoupon(
        coupon_id=coupon.id,
        member_id=member_id,
        copy_number=held + 1,
        status="available",
        issued_at=clock.now(),
        issued_by=issued_by,
        extra={},
    )
    try:
        # a savepoint, so a lost race undoes the count too and leaves the caller's work intact
        async with session.begin_nested():
            counted = await session.execute(
                update(Coupon)
                .where(
                    Coupon.id == coupon.id,
                    or_(Coupon.total_limit.is_(None), Coupon.issued_count < Coupon.total_limit),
                )
                .values(issued_count=Coupon.issued_count + 1)
                .execution_options(synchronize_session=False)
            )
            if counted.rowcount != 1:  # type: ignore[attr-defined]
                raise CouponExhausted()
            session.add(copy)
            await session.flush()
    except IntegrityError as exc:
        # a concurrent claim of the same member took this copy number first
        raise CouponLimitReached(per_member_limit=coupon.per_member_limit) from exc
    return copy


async def claim_coupon(
    session: AsyncSession, clock: Clock, *, member_id: uuid.UUID, code: str
) -> MemberCouponView:
    """Put a copy of the coupon with this code in the member's wallet, within its limits."""
    now = clock.now()
    coupon = await _coupon_by_code(session, code)
    if coupon.status != "active":
        raise CouponDisabled()
    # claiming ahead of the start is allowed (announced coupons); after the end it is not
    if now >= coupon.ends_at:
        raise CouponExpired(ends_at=coupon.ends_at.isoformat())
    copy = await _add_copy(session, clock, coupon, member_id, None)
    return _member_coupon_view(copy, coupon, now)


async def issue_coupon(
    session: AsyncSession,
    clock: Clock,
    *,
    coupon_id: uuid.UUID,
    member_ids: Sequence[uuid.UUID],
    issued_by: uuid.UUID | None,
    ip: str | None = None,
) -> int:
    """Staff hand a copy to each member, within the same limits; returns how many were issued.

    Unknown members and members already at the per-member limit are skipped; when the total
    limit runs out, the members first in the list get the copies that are left.
    """
    now = clock.now()
    coupon = await session.scalar(
        select(Coupon)
        .where(Coupon.id == coupon_id)
        # the row lock orders this issue against concurrent claims (no-op on SQLite, whose
        # writers are serialised anyway)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if coupon is None:
        raise CouponNotFound()
    if coupon.status != "active":
        raise CouponDisabled()
    if now >= coupon.ends_at:
        raise CouponExpired(ends_at=coupon.ends_at.isoformat())
    wanted = list(dict.fromkeys(member_ids))
    # ids that name nobody get nothing (a copy in a wallet nobody owns would count toward limits)
    receivers = [m for m in wanted if await accounts.get_member_brief(session, m) is not None]
    held = dict(
        (
            await session.execute(
                select(MemberCoupon.member_id, func.count())
                .where(MemberCoupon.coupon_id == coupon.id, MemberCoupon.member_id.in_(receivers))
                .group_by(MemberCoupon.member_id)
            )
        ).all()
    )
    receivers = [m for m in receivers if held.get(m, 0) < coupon.per_member_limit]
    if coupon.total_limit is not None:
        receivers = receivers[: max(coupon.total_limit - coupon.issued_count, 0)]
    if receivers:
        counted = await session.execute(
            update(Coupon)
            .where(
                Coupon.id == coupon.id,
                or_(
                    Coupon.total_limit.is_(None),
                    Coupon.issued_count + len(receivers) <= Coupon.total_limit,
                ),
            )
            .values(issued_count=Coupon.issued_count + len(receivers))
            .execution_options(synchronize_session=False)
        )
        if counted.rowcount != 1:  # type: ignore[attr-defined]
            raise CouponExhausted()
        session.add_all(
            MemberCoupon(
                coupon_id=coupon.id,
                member_id=member_id,
                copy_number=held.get(member_id, 0) + 1,
                status="available",
                issued_at=now,
                issued_by=issued_by,
                extra={},
            )
            for member_id in receivers
        )
        await session.flush()
    record_audit(
        session,
        clock,
        actor_id=issued_by,
        action="coupon.issue",
        target_type="coupon",
        target_id=coupon.id,
        after={"requested": len(wanted), "issued": len(receivers)},
        ip=ip,
    )
    return len(receivers)


# -- staff management ----------------------------------------------------------------------


async def _used_counts(session: AsyncSession, coupon_ids: Collection[uuid.UUID]) -> dict[Any, int]:
    if not coupon_ids:
        return {}
    rows = await session.execute(
        select(MemberCoupon.coupon_id, func.count())
        .where(MemberCoupon.coupon_id.in_(list(coupon_ids)), MemberCoupon.status == "used")
        .group_by(MemberCoupon.coupon_id)
    )
    return dict(rows.all())


async def create_coupon(
    session: AsyncSession,
    clock: Clock,
    data: CouponCreate | Mapping[str, Any],
    *,
    actor_id: uuid.UUID | None = None,
    ip: str | None = None,
) -> CouponView:
    """A new coupon (staff, demo data); a taken code is 409 `coupon-code-taken`."""
    spec = data if isinstance(data, CouponCreate) else CouponCreate.model_validate(data)
    if spec.code is not None and await session.scalar(
        select(Coupon.id).where(Coupon.code == spec.code)
    ):
        raise CouponCodeTaken()
    coupon = Coupon(
        code=spec.code,
        name=spec.name,
        kind=spec.kind,
        value=spec.value,
        min_order_amount=spec.min_order_amount,
        max_discount=spec.max_discount,
        starts_at=spec.starts_at.astimezone(UTC),
        ends_at=spec.ends_at.astimezone(UTC),
        per_member_limit=spec.per_member_limit,
        total_limit=spec.total_limit,
        issued_count=0,
        target_product_ids=[str(v) for v in dict.fromkeys(spec.target_product_ids)],
        target_category_ids=[str(v) for v in dict.fromkeys(spec.target_category_ids)],
        status="active",
        created_at=clock.now(),
    )
    try:
        async with session.begin_nested():
            session.add(coupon)
            await session.flush()
    except IntegrityError as exc:  # the same code created at the same moment
        raise CouponCodeTaken() from exc
    view = _coupon_view(coupon, 0)
    record_audit(
        session,
        clock,
        actor_id=actor_id,
        action="coupon.create",
        target_type="coupon",
        target_id=coupon.id,
        after=view.model_dump(mode="json"),
        ip=ip,
    )
    return view


async def update_coupon(
    session: AsyncSession,
    clock: Clock,
    coupon_id: uuid.UUID,
    changes: CouponUpdate,
    *,
    actor_id: uuid.UUID | None = None,
    ip: str | None = None,
) -> CouponView:
    """Switch a coupon off or on, rename it, or move its window (staff)."""
    coupon = await session.scalar(
        select(Coupon)
        .where(Coupon.id == coupon_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if coupon is None:
        raise CouponNotFound()
    used = (await _used_counts(session, [coupon.id])).get(coupon.id, 0)
    before = _coupon_view(coupon, used).model_dump(mode="json")
    values = {
        name: value.astimezone(UTC) if isinstance(value, datetime) else value
        for name, value in changes.model_dump(exclude_unset=True).items()
    }
    starts_at = values.get("starts_at", coupon.starts_at)
    ends_at = values.get("ends_at", coupon.ends_at)
    if ends_at <= starts_at:
        raise InvalidInput("The coupon must end after it starts.")
    for name, value in values.items():
        setattr(coupon, name, " ".join(value.split()) if name == "name" else value)
    if not coupon.name:
        raise InvalidInput("The coupon needs a name.")
    await session.flush()
    view = _coupon_view(coupon, used)
    record_audit(
        session,
        clock,
        actor_id=actor_id,
        action="coupon.update",
        target_type="coupon",
        target_id=coupon.id,
        before=before,
        after=view.model_dump(mode="json"),
        ip=ip,
    )
    return view


async def get_coupon(session: AsyncSession, coupon_id: uuid.UUID) -> CouponView:
    coupon = await session.get(Coupon, coupon_id)
    if coupon is None:
        raise CouponNotFound()
    used = (await _used_counts(session, [coupon.id])).get(coupon.id, 0)
    return _coupon_view(coupon, used)


async def list_coupons(
    session: AsyncSession,
    *,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[CouponView]:
    """Every coupon, newest first, with how many were issued and used (staff)."""
    query = select(Coupon).order_by(Coupon.id.desc()).limit(limit + 1)
    if status is not None:
        query = query.where(Coupon.status == status)
    after = id_after(cursor)
    if after is not None:
        query = query.where(Coupon.id < after)
    coupons = list((await session.scalars(query)).all())
    page, more = coupons[:limit], len(coupons) > limit
    used = await _used_counts(session, [c.id for c in page])
    return Page[CouponView](
        items=[_coupon_view(c, used.get(c.id, 0)) for c in page],
        next_cursor=id_cursor(page[-1].id) if more else None,
    )


def _wallet_query(member_id: uuid.UUID, status: WalletStatus, now: datetime) -> Select[Any]:
    query = (
        select(MemberCoupon, Coupon)
        .join(Coupon, Coupon.id == MemberCoupon.coupon_id)
        .where(MemberCoupon.member_id == member_id)
    )
    if status == "used":
        return query.where(MemberCoupon.status == "used")
    query = query.where(MemberCoupon.status == "available")
    if status == "available":
        return query.where(Coupon.status == "active", Coupon.ends_at > now)
    return query.where(or_(Coupon.status != "active", Coupon.ends_at <= now))


async def list_member_coupons(
    session: AsyncSession,
    member_id: uuid.UUID,
    *,
    clock: Clock,
    status: WalletStatus = "available",
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[MemberCouponView]:
    """The member's coupons in one state (available, used or expired), newest first."""
    now = clock.now()
    query = _wallet_query(member_id, status, now).order_by(MemberCoupon.id.desc()).limit(limit + 1)
    after = id_after(cursor)
    if after is not None:
        query = query.where(MemberCoupon.id < after)
    rows = list((await session.execute(query)).all())
    page, more = rows[:limit], len(rows) > limit
    return Page[MemberCouponView](
        items=[_member_coupon_view(held, coupon, now) for held, coupon in page],
        next_cursor=id_cursor(page[-1][0].id) if more else None,
    )
