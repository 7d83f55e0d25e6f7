"""The monthly settlement: a statement per creator of what became available up to the end of a
Seoul month (rewards released, less rewards taken back; tips and subscriptions net of the
platform's fees), 3.3 % income tax withheld for individuals, and the payout staff mark.

Each creator is settled in a transaction of their own: the statement (one per creator and
month, a unique key), the entries it settles (marked with its id) and the move of the amount from
available to settling. Running a month again, or after a crash between two creators, settles
only those not settled yet: nobody twice, nobody skipped.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.accounts import service as accounts
from jangteo.core.audit import record_audit
from jangteo.core.clock import SEOUL, Clock, to_seoul
from jangteo.core.db import Database, insert_if_new
from jangteo.core.errors import Conflict, InvalidInput, NotFound, define
from jangteo.core.pagination import id_after, id_cursor
from jangteo.rewards import earnings, subscriptions
from jangteo.rewards.models import (
    Creator,
    EarningsEntry,
    SettlementRun,
    Statement,
    Tip,
)

SETTLE_JOB = "rewards.settle-month"
SETTLE_EVERY_SECONDS = 6 * 3600
# entries whose available amount a statement settles
SETTLED_KINDS = ("reward_release", "reward_reversal", "tip", "subscription")

CreatorMfaRequired = define(
    "creator-mfa-required",
    409,
    "The creator must turn on two-factor authentication before being paid out.",
)


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The first moment of a Seoul month and of the next one."""
    try:
        first = datetime.strptime(month, "%Y-%m").replace(tzinfo=SEOUL)
    except ValueError as exc:
        raise InvalidInput("A month is written YYYY-MM.", fields=["month"]) from exc
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following


def previous_month(clock: Clock) -> str:
    first_of_this = to_seoul(clock.now()).replace(day=1)
    return (first_of_this - timedelta(days=1)).strftime("%Y-%m")


async def _unsettled_members(session: AsyncSession, until: datetime) -> list[uuid.UUID]:
    query = (
        select(EarningsEntry.member_id)
        .where(
            EarningsEntry.statement_id.is_(None),
            EarningsEntry.kind.in_(SETTLED_KINDS),
            EarningsEntry.created_at < until,
        )
        .distinct()
    )
    return sorted((await session.scalars(query)).all())


async def _settle_member(
    db: Database,
    clock: Clock,
    month: str,
    member_id: uuid.UUID,
    until: datetime,
    withholding_bp: int,
) -> Statement | None:
    """One creator's statement for the month, in one transaction; None when there is nothing
    to pay (what was taken back outweighs what was earned: it waits for later earnings)."""
    async with db.write() as session:
        if await session.scalar(
            select(Statement.id).where(Statement.month == month, Statement.member_id == member_id)
        ):
            return None
        entries = list(
            (
                await session.scalars(
                    select(EarningsEntry)
                    .where(
                        EarningsEntry.member_id == member_id,
                        EarningsEntry.statement_id.is_(None),
                        EarningsEntry.kind.in_(SETTLED_KINDS),
                        EarningsEntry.created_at < until,
                    )
                    .with_for_update()
                )
            ).all()
        )
        subtotal = sum(e.available_change for e in entries)
        if not entries or subtotal <= 0:
            return None
        by_kind: dict[str, int] = {}
        for entry in entries:
            by_kind[entry.kind] = by_kind.get(entry.kind, 0) + entry.available_change
        tip_ids = [uuid.UUID(e.reference.split(":", 1)[1]) for e in entries if e.kind == "tip"]
        tip_gross, tip_fees = 0, 0
        if tip_ids:
            tip_gross, tip_fees = (
                await session.execute(
                    select(
                        func.coalesce(func.sum(Tip.amount), 0), func.coalesce(func.sum(Tip.fee), 0)
                    ).where(Tip.id.in_(tip_ids))
                )
            ).one()
        charge_ids = [
            uuid.UUID(e.reference.split(":", 1)[1]) for e in entries if e.kind == "subscription"
        ]
        subscription_gross, subscription_fees = await subscriptions.charges_of(session, charge_ids)
        creator = await session.get(Creator, member_id)
        business = bool(creator and creator.business)
        withholding = 0 if business else subtotal * withholding_bp // 10_000
        statement = Statement(
            month=month,
            member_id=member_id,
            rewards=by_kind.get("reward_release", 0),
            reversals=-by_kind.get("reward_reversal", 0),
            tips=int(tip_gross),
            tip_fees=int(tip_fees),
            subscriptions=subscription_gross,
            subscription_fees=subscription_fees,
            subtotal=subtotal,
            withholding=withholding,
            payable=subtotal - withholding,
            status="open",
            created_at=clock.now(),
        )
        if not await insert_if_new(session, statement):
            return None  # another run settled this creator at the same moment
        await session.execute(
            update(EarningsEntry)
            .where(EarningsEntry.id.in_([e.id for e in entries]))
            .values(statement_id=statement.id)
            .execution_options(synchronize_session=False)
        )
        await earnings.post(
            session,
            clock,
            member_id,
            kind="settlement",
            available=-subtotal,
            settling=statement.payable,
            reference=f"settlement:{month}:{member_id}",
            statement_id=statement.id,
        )
        return statement


async def run_month(
    db: Database,
    clock: Clock,
    month: str,
    *,
    withholding_bp: int,
    after_each: Callable[[Statement], Any] | None = None,
) -> SettlementRun:
    """Settle a finished month for every creator with unsettled earnings; safe to run again."""
    _first, following = month_bounds(month)
    if following > clock.now():
        raise Conflict("A month is settled once it has ended.")
    async with db.write() as session:
        run = await session.get(SettlementRun, month)
        if run is None:
            await insert_if_new(
                session, SettlementRun(month=month, status="running", started_at=clock.now())
            )
        members = await _unsettled_members(session, following)
    for member_id in members:
        statement = await _settle_member(db, clock, month, member_id, following, withholding_bp)
        if statement is not None and after_each is not None:
            after_each(statement)
    async with db.write() as session:
        run = await session.get(SettlementRun, month, with_for_update=True)
        assert run is not None
        count, payable = (
            await session.execute(
                select(func.count(), func.coalesce(func.sum(Statement.payable), 0)).where(
                    Statement.month == month
                )
            )
        ).one()
        run.statements, run.payable = int(count), int(payable)
        run.status, run.finished_at = "done", clock.now()
        return run


async def settle_due(db: Database, clock: Clock, *, withholding_bp: int) -> SettlementRun | None:
    """The recurring job: settle last month unless that is done."""
    month = previous_month(clock)
    async with db.read() as session:
        run = await session.get(SettlementRun, month)
    if run is not None and run.status == "done":
        return None
    return await run_month(db, clock, month, withholding_bp=withholding_bp)


async def mark_paid(
    session: AsyncSession,
    clock: Clock,
    statement_id: uuid.UUID,
    *,
    reference: str,
    actor_id: uuid.UUID,
    ip: str | None = None,
) -> Statement:
    """Staff record the bank transfer of a statement; the creator must have turned on
    two-factor authentication first."""
    statement = await session.get(Statement, statement_id, with_for_update=True)
    if statement is None:
        raise NotFound("There is no such statement.")
    if statement.status == "paid":
        raise Conflict("This statement is paid out already.")
    profile = await accounts.get_profile(session, statement.member_id)
    if not profile.mfa_enabled:
        raise CreatorMfaRequired()
    await earnings.post(
        session,
        clock,
        statement.member_id,
        kind="payout",
        settling=-statement.payable,
        paid_out=statement.payable,
        reference=f"payout:{statement.id}",
        statement_id=statement.id,
    )
    statement.status, statement.payout_reference = "paid", reference
    statement.paid_by, statement.paid_at = actor_id, clock.now()
    record_audit(
        session,
        clock,
        actor_id=actor_id,
        action="rewards.statement.paid",
        target_type="statement",
        target_id=statement.id,
        before={"status": "open"},
        after={"status": "paid", "payable": statement.payable, "reference": reference},
        ip=ip,
    )
    return statement


async def runs(session: AsyncSession) -> list[SettlementRun]:
    return list(
        (await session.scalars(select(SettlementRun).order_by(SettlementRun.month.desc()))).all()
    )


async def statements(
    session: AsyncSession,
    *,
    month: str | None = None,
    member_id: uuid.UUID | None = None,
    limit: int,
    cursor: str | None,
) -> tuple[list[tuple[Statement, str]], str | None]:
    """Statements of a month or of a creator, newest first, with nicknames."""
    query = select(Statement)
    if month is not None:
        month_bounds(month)
        query = query.where(Statement.month == month)
    if member_id is not None:
        query = query.where(Statement.member_id == member_id)
    after = id_after(cursor)
    if after is not None:
        query = query.where(Statement.id < after)
    rows = list((await session.scalars(query.order_by(Statement.id.desc()).limit(limit + 1))).all())
    next_cursor = id_cursor(rows[limit - 1].id) if len(rows) > limit else None
    rows = rows[:limit]
    names = await accounts.nicknames(session, [r.member_id for r in rows])
    return [(r, names.get(r.member_id, "")) for r in rows], next_cursor


CSV_COLUMNS = (
    "month",
    "member_id",
    "nickname",
    "rewards",
    "reversals",
    "tips",
    "tip_fees",
    "subscriptions",
    "subscription_fees",
    "subtotal",
    "withholding",
    "payable",
    "status",
    "payout_reference",
)


async def statements_csv(session: AsyncSession, month: str) -> str:
    """Every statement of a month as CSV (UTF-8 with a BOM, so spreadsheet programs read the
    Korean nicknames)."""
    month_bounds(month)
    rows = list(
        (
            await session.scalars(
                select(Statement).where(Statement.month == month).order_by(Statement.member_id)
            )
        ).all()
    )
    names = await accounts.nicknames(session, [r.member_id for r in rows])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        values = {**{c: getattr(r, c, "") for c in CSV_COLUMNS}, "nickname": names.get(r.member_id)}
        writer.writerow(["" if values[c] is None else values[c] for c in CSV_COLUMNS])
    return "\ufeff" + out.getvalue()


async def set_business(
    session: AsyncSession,
    clock: Clock,
    member_id: uuid.UUID,
    business: bool,
    *,
    actor_id: uuid.UUID,
) -> None:
    """Staff record whether a creator is a business (no income tax withheld); audited."""
    creator = await session.get(Creator, member_id, with_for_update=True)
    if creator is None:
        raise NotFound("There is no such creator.")
    before = creator.business
    creator.business, creator.updated_at = business, clock.now()
    record_audit(
        session,
        clock,
        actor_id=actor_id,
        action="rewards.creator.business",
        target_type="member",
        target_id=member_id,
        before={"business": before},
        after={"business": business},
    )
