"""HTTP API of settlements: staff run a month, read and export its statements and mark payouts;
creators read their own statements."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, StringConstraints

from jangteo.core.deps import CurrentMember, PlatformDep, StaffMember, client_ip
from jangteo.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from jangteo.rewards import settlements
from jangteo.rewards.models import SettlementRun, Statement
from jangteo.rewards.schemas import Request as Body

router = APIRouter(prefix="/api/v1", tags=["settlements"])

Month = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=500)]


class RunOut(BaseModel):
    month: str
    status: Literal["running", "done"]
    statements: int
    payable: int
    started_at: datetime
    finished_at: datetime | None


class StatementOut(BaseModel):
    """A creator's statement: rewards released, less rewards taken back, tips (gross) less the
    platform's tip fees, subscriptions, the subtotal moved out of available earnings, income tax
    withheld (3.3 % for individuals) and the amount paid out."""

    id: uuid.UUID
    month: str
    member_id: uuid.UUID
    nickname: str
    rewards: int
    reversals: int
    tips: int
    tip_fees: int
    subscriptions: int
    subscription_fees: int
    subtotal: int
    withholding: int
    payable: int
    status: Literal["open", "paid"]
    payout_reference: str | None
    paid_at: datetime | None
    created_at: datetime


class StatementPage(BaseModel):
    items: list[StatementOut]
    next_cursor: str | None


class Payout(Body):
    reference: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
    ]


class BusinessFlag(Body):
    business: bool


def _run_out(run: SettlementRun) -> RunOut:
    return RunOut(
        month=run.month,
        status=run.status,  # type: ignore[arg-type]
        statements=run.statements,
        payable=run.payable,
        started_at=run.started_at,
        finished_at=run.finished_at,
    )


def _statement_out(row: Statement, nickname: str) -> StatementOut:
    return StatementOut(
        id=row.id,
        month=row.month,
        member_id=row.member_id,
        nickname=nickname,
        rewards=row.rewards,
        reversals=row.reversals,
        tips=row.tips,
        tip_fees=row.tip_fees,
        subscriptions=row.subscriptions,
        subscription_fees=row.subscription_fees,
        subtotal=row.subtotal,
        withholding=row.withholding,
        payable=row.payable,
        status=row.status,  # type: ignore[arg-type]
        payout_reference=row.payout_reference,
        paid_at=row.paid_at,
        created_at=row.created_at,
    )


@router.post("/admin/settlements/{month}/run", response_model=RunOut)
async def run_month(platform: PlatformDep, _staff: StaffMember, month: Month) -> RunOut:
    """Settle an ended month now (the monthly job does it by itself); running it again settles
    only creators not settled yet."""
    run = await settlements.run_month(
        platform.db,
        platform.clock,
        month,
        withholding_bp=platform.settings.settlement_withholding_bp,
    )
    return _run_out(run)


@router.get("/admin/settlements", response_model=list[RunOut])
async def list_runs(platform: PlatformDep, _staff: StaffMember) -> list[RunOut]:
    async with platform.db.read() as session:
        return [_run_out(run) for run in await settlements.runs(session)]


@router.get("/admin/settlements/{month}/statements", response_model=StatementPage)
async def month_statements(
    platform: PlatformDep,
    _staff: StaffMember,
    month: Month,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> StatementPage:
    async with platform.db.read() as session:
        rows, next_cursor = await settlements.statements(
            session, month=month, limit=limit, cursor=cursor
        )
    return StatementPage(items=[_statement_out(r, n) for r, n in rows], next_cursor=next_cursor)


@router.get("/admin/settlements/{month}/statements.csv", response_class=Response)
async def month_csv(platform: PlatformDep, _staff: StaffMember, month: Month) -> Response:
    async with platform.db.read() as session:
        body = await settlements.statements_csv(session, month)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="statements-{month}.csv"'},
    )


@router.post("/admin/settlements/statements/{statement_id}/payout", response_model=StatementOut)
async def mark_paid(
    platform: PlatformDep,
    staff: StaffMember,
    statement_id: uuid.UUID,
    body: Payout,
    request: Request,
) -> StatementOut:
    """Record the transfer of a statement's payable amount (the bank's reference); refused
    until the creator has turned on two-factor authentication."""
    async with platform.db.write() as session:
        row = await settlements.mark_paid(
            session,
            platform.clock,
            statement_id,
            reference=body.reference,
            actor_id=staff.member_id,
            ip=client_ip(request),
        )
        rows, _ = await settlements.statements(
            session, member_id=row.member_id, limit=1, cursor=None
        )
        nickname = next((n for r, n in rows if r.id == row.id), "")
        return _statement_out(row, nickname)


@router.put("/admin/creators/{member_id}/business", status_code=204)
async def set_business(
    platform: PlatformDep, staff: StaffMember, member_id: uuid.UUID, body: BusinessFlag
) -> Response:
    """Whether a creator is a business (invoices its own taxes: nothing withheld)."""
    async with platform.db.write() as session:
        await settlements.set_business(
            session, platform.clock, member_id, body.business, actor_id=staff.member_id
        )
    return Response(status_code=204)


@router.get("/me/statements", response_model=StatementPage)
async def my_statements(
    platform: PlatformDep,
    member: CurrentMember,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> StatementPage:
    async with platform.db.read() as session:
        rows, next_cursor = await settlements.statements(
            session, member_id=member.member_id, limit=limit, cursor=cursor
        )
    return StatementPage(items=[_statement_out(r, n) for r, n in rows], next_cursor=next_cursor)
