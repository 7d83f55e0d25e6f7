"""HTTP API of tips: send one in points or money, pay a money tip, the tips on a post, and the
rules staff set."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status

from jangteo.community import service as community
from jangteo.core import rules as rules_store
from jangteo.core.deps import (
    CurrentMember,
    IdempotencyKey,
    OptionalMember,
    PlatformDep,
    StaffMember,
    client_ip,
)
from jangteo.core.idempotency import request_fingerprint, run_once
from jangteo.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from jangteo.rewards import schemas, tips
from jangteo.rewards.models import Tip

router = APIRouter(prefix="/api/v1", tags=["tips"])


def tip_out(tip: Tip) -> schemas.TipOut:
    return schemas.TipOut(
        id=tip.id,
        creator_id=tip.creator_id,
        post_id=tip.post_id,
        target_type=tip.target_type,
        target_id=tip.target_id,
        method=tip.method,
        amount=tip.amount,
        fee=tip.fee,
        message=tip.message,
        status=tip.status,  # type: ignore[arg-type]
        order_id=f"tip-{tip.id}",
        created_at=tip.created_at,
    )


@router.post("/tips", response_model=schemas.TipOut, status_code=status.HTTP_201_CREATED)
async def send_tip(
    platform: PlatformDep,
    member: CurrentMember,
    body: schemas.TipCreate,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Tip the creator of a post or comment. In points it is paid at once from your wallet; in
    money it is `pending` until you pay it (`POST /tips/{id}/payment`) for `order_id`. A retry
    with the same Idempotency-Key answers the first tip."""

    async def operation(session: Any) -> dict[str, Any]:
        rules = await tips.tip_rules(session, platform.settings)
        tip = await tips.start_tip(
            session,
            platform.clock,
            member.member_id,
            target_type=body.target_type,
            target_id=body.target_id,
            amount=body.amount,
            method=body.method,
            message=body.message,
            rules=rules,
        )
        return tip_out(tip).model_dump(mode="json")

    return await run_once(
        platform.db,
        platform.clock,
        scope="rewards.tips.send",
        owner=str(member.member_id),
        key=idempotency_key,
        fingerprint=request_fingerprint(body.model_dump(mode="json")),
        operation=operation,
    )


@router.post("/tips/{tip_id}/payment", response_model=schemas.TipOut)
async def pay_tip(
    platform: PlatformDep, member: CurrentMember, tip_id: uuid.UUID, body: schemas.TipPayment
) -> schemas.TipOut:
    """Confirm the payment of a money tip the provider authorised. Declined: the tip fails
    (402); the provider unreachable: try again (503)."""
    tip = await tips.pay_tip(
        platform.db,
        platform.clock,
        platform.adapters["payments"],
        member.member_id,
        tip_id,
        payment_key=body.payment_key,
        amount=body.amount,
    )
    return tip_out(tip)


@router.get("/tips/{tip_id}", response_model=schemas.TipOut)
async def get_tip(
    platform: PlatformDep, member: CurrentMember, tip_id: uuid.UUID
) -> schemas.TipOut:
    async with platform.db.read() as session:
        return tip_out(await tips.get_tip(session, member.member_id, tip_id))


@router.get("/posts/{post_id}/tips", response_model=schemas.PostTipPage)
async def post_tips(
    platform: PlatformDep,
    principal: OptionalMember,
    post_id: uuid.UUID,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> schemas.PostTipPage:
    """The tips on a post and its comments, newest first, with their messages."""
    async with platform.db.read() as session:
        rows, next_cursor = await tips.tips_on_post(
            session, post_id, community.Viewer.of(principal), limit=limit, cursor=cursor
        )
    return schemas.PostTipPage(
        items=[
            schemas.PostTip(
                id=tip.id,
                tipper_nickname=name,
                amount=tip.amount,
                message=tip.message,
                target_type=tip.target_type,
                target_id=tip.target_id,
                created_at=tip.created_at,
            )
            for tip, name in rows
        ],
        next_cursor=next_cursor,
    )


@router.get("/tips-rules", response_model=schemas.TipRulesOut)
async def get_tip_rules(platform: PlatformDep) -> schemas.TipRulesOut:
    async with platform.db.read() as session:
        return schemas.TipRulesOut(
            **dataclasses.asdict(await tips.tip_rules(session, platform.settings))
        )


@router.patch("/admin/tips/rules", response_model=schemas.TipRulesOut)
async def change_tip_rules(
    platform: PlatformDep, staff: StaffMember, body: schemas.TipRulesChange, request: Request
) -> schemas.TipRulesOut:
    changes = rules_store.requested(body)
    async with platform.db.write() as session:
        rules = await tips.change_tip_rules(
            session,
            platform.clock,
            platform.settings,
            changes,
            actor_id=staff.member_id,
            ip=client_ip(request),
        )
    return schemas.TipRulesOut(**dataclasses.asdict(rules))
