"""HTTP API of coupons: my coupons, claiming by code, staff management."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.core.deps import (
    CurrentMember,
    IdempotencyKey,
    PlatformDep,
    StaffMember,
    client_ip,
)
from jangteo.core.idempotency import request_fingerprint, run_once
from jangteo.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from jangteo.core.ratelimit import Limit
from jangteo.orders import coupons
from jangteo.orders.coupon_schemas import (
    ClaimCouponRequest,
    CouponCreate,
    CouponStatus,
    CouponUpdate,
    CouponView,
    IssueCouponRequest,
    IssueResult,
    MemberCouponOut,
    MemberCouponView,
    WalletStatus,
)

router = APIRouter(prefix="/api/v1", tags=["coupons"])

# guessing codes: a member gets this many unknown codes per window before being slowed down
CLAIM_MISSES = Limit("coupon-claim-miss", max_hits=20, window_seconds=600)

PageLimit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=200)]


def _locale(request: Request) -> str:
    return getattr(request.state, "locale", "ko")


def _with_label(view: MemberCouponView | dict[str, Any], locale: str) -> MemberCouponOut:
    data = view.model_dump() if isinstance(view, MemberCouponView) else view
    label = coupons.describe_discount(data["kind"], data["value"], data["max_discount"], locale)
    return MemberCouponOut.model_validate({**data, "discount_label": label})


@router.get("/coupons", response_model=Page[MemberCouponOut])
async def my_coupons(
    request: Request,
    platform: PlatformDep,
    member: CurrentMember,
    status: WalletStatus = "available",
    limit: PageLimit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[MemberCouponOut]:
    async with platform.db.read() as session:
        page = await coupons.list_member_coupons(
            session,
            member.member_id,
            clock=platform.clock,
            status=status,
            cursor=cursor,
            limit=limit,
        )
    locale = _locale(request)
    return Page[MemberCouponOut](
        items=[_with_label(item, locale) for item in page.items], next_cursor=page.next_cursor
    )


@router.post("/coupons/claim", response_model=MemberCouponOut, status_code=201)
async def claim_coupon(
    request: Request,
    body: ClaimCouponRequest,
    platform: PlatformDep,
    member: CurrentMember,
    idempotency_key: IdempotencyKey = None,
) -> MemberCouponOut:
    subject = str(member.member_id)
    await platform.limiter.check(CLAIM_MISSES, subject)

    async def claim(session: AsyncSession) -> dict[str, Any]:
        view = await coupons.claim_coupon(
            session, platform.clock, member_id=member.member_id, code=body.code
        )
        return view.model_dump(mode="json")

    try:
        answer = await run_once(
            platform.db,
            platform.clock,
            scope="coupons.claim",
            owner=subject,
            key=idempotency_key,
            fingerprint=request_fingerprint(body.model_dump(mode="json")),
            operation=claim,
        )
    except coupons.CouponNotFound:
        await platform.limiter.hit(CLAIM_MISSES, subject)
        raise
    return _with_label(answer, _locale(request))


# staff


@router.post("/admin/coupons", response_model=CouponView, status_code=201)
async def create_coupon(
    request: Request, body: CouponCreate, platform: PlatformDep, staff: StaffMember
) -> CouponView:
    async with platform.db.write() as session:
        return await coupons.create_coupon(
            session, platform.clock, body, actor_id=staff.member_id, ip=client_ip(request)
        )


@router.get("/admin/coupons", response_model=Page[CouponView])
async def list_coupons(
    platform: PlatformDep,
    staff: StaffMember,
    status: CouponStatus | None = None,
    limit: PageLimit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[CouponView]:
    async with platform.db.read() as session:
        return await coupons.list_coupons(session, status=status, cursor=cursor, limit=limit)


@router.get("/admin/coupons/{coupon_id}", response_model=CouponView)
async def get_coupon(coupon_id: uuid.UUID, platform: PlatformDep, staff: StaffMember) -> CouponView:
    async with platform.db.read() as session:
        return await coupons.get_coupon(session, coupon_id)


@router.patch("/admin/coupons/{coupon_id}", response_model=CouponView)
async def update_coupon(
    request: Request,
    coupon_id: uuid.UUID,
    body: CouponUpdate,
    platform: PlatformDep,
    staff: StaffMember,
) -> CouponView:
    async with platform.db.write() as session:
        return await coupons.update_coupon(
            session,
            platform.clock,
            coupon_id,
            body,
            actor_id=staff.member_id,
            ip=client_ip(request),
        )


@router.post("/admin/coupons/{coupon_id}/issue", response_model=IssueResult)
async def issue_coupon(
    request: Request,
    coupon_id: uuid.UUID,
    body: IssueCouponRequest,
    platform: PlatformDep,
    staff: StaffMember,
    idempotency_key: IdempotencyKey = None,
) -> IssueResult:
    member_ids = list(dict.fromkeys(body.member_ids))

    async def issue(session: AsyncSession) -> dict[str, Any]:
        issued = await coupons.issue_coupon(
            session,
            platform.clock,
            coupon_id=coupon_id,
            member_ids=member_ids,
            issued_by=staff.member_id,
            ip=client_ip(request),
        )
        return {"requested": len(member_ids), "issued": issued}

    answer = await run_once(
        platform.db,
        platform.clock,
        scope="coupons.issue",
        owner=str(staff.member_id),
        key=idempotency_key,
        fingerprint=request_fingerprint(
            {"coupon_id": str(coupon_id), **body.model_dump(mode="json")}
        ),
        operation=issue,
    )
    return IssueResult.model_validate(answer)
