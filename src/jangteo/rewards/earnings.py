"""The creators' earnings ledger: every change is an entry with a unique reference (so that a
repeated event changes nothing), applied to the member's account in the same transaction.

Buckets: pending (earned, not final), available (may be settled), settling (in a monthly
statement, waiting for the payout), paid out. No bucket goes below zero: taking back more than
is available records the rest as owed, which later earnings settle first.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.core.clock import Clock, to_seoul
from jangteo.core.db import insert_if_new
from jangteo.rewards.models import EarningsAccount, EarningsEntry


@dataclass(frozen=True)
class Balance:
    pending: int
    available: int
    settling: int
    paid_out: int
    owed: int


async def _account(session: AsyncSession, clock: Clock, member_id: uuid.UUID) -> EarningsAccount:
    account = await session.get(EarningsAccount, member_id, with_for_update=True)
    if account is None:
        await insert_if_new(session, EarningsAccount(member_id=member_id, updated_at=clock.now()))
        account = await session.get(
            EarningsAccount, member_id, with_for_update=True, populate_existing=True
        )
        assert account is not None
    return account


async def post(
    session: AsyncSession,
    clock: Clock,
    member_id: uuid.UUID,
    *,
    kind: str,
    reference: str,
    pending: int = 0,
    available: int = 0,
    settling: int = 0,
    paid_out: int = 0,
    statement_id: uuid.UUID | None = None,
) -> bool:
    """Apply one change once (by reference); an increase of `available` settles what is owed
    first. Whether it was applied."""
    account = await _account(session, clock, member_id)
    owed_change = 0
    if available > 0 and account.owed:
        owed_change = -min(account.owed, available)
        available += owed_change
    entry = EarningsEntry(
        member_id=member_id,
        kind=kind,
        pending_change=pending,
        available_change=available,
        owed_change=owed_change,
        settling_change=settling,
        paid_out_change=paid_out,
        reference=reference,
        statement_id=statement_id,
        created_at=clock.now(),
    )
    if not await insert_if_new(session, entry):
        return False
    account.pending += pending
    account.available += available
    account.owed += owed_change
    account.settling += settling
    account.paid_out += paid_out
    if min(account.pending, account.available, account.settling) < 0:
        raise AssertionError(f"earnings of {member_id} would go below zero ({reference})")
    account.updated_at = clock.now()
    return True


async def take_back(
    session: AsyncSession, clock: Clock, member_id: uuid.UUID, amount: int, *, reference: str
) -> None:
    """Take back an amount that was available: from what is available, the rest owed."""
    account = await _account(session, clock, member_id)
    from_available = min(account.available, amount)
    entry = EarningsEntry(
        member_id=member_id,
        kind="reward_reversal",
        available_change=-from_available,
        owed_change=amount - from_available,
        reference=reference,
        created_at=clock.now(),
    )
    if not await insert_if_new(session, entry):
        return
    account.available -= from_available
    account.owed += amount - from_available
    account.updated_at = clock.now()


async def balance(session: AsyncSession, member_id: uuid.UUID) -> Balance:
    account = await session.get(EarningsAccount, member_id)
    if account is None:
        return Balance(0, 0, 0, 0, 0)
    return Balance(
        account.pending, account.available, account.settling, account.paid_out, account.owed
    )


async def daily_earned(
    session: AsyncSession, clock: Clock, member_id: uuid.UUID, days: int = 30
) -> list[tuple[str, int]]:
    """What the member earned on each of the last `days` Seoul days (new rewards, less the ones
    cancelled or taken back), oldest first, every day present."""
    today = to_seoul(clock.now()).date()
    first = today - timedelta(days=days - 1)
    rows = (
        await session.execute(
            select(
                EarningsEntry.created_at,
                EarningsEntry.kind,
                EarningsEntry.pending_change,
                EarningsEntry.available_change,
                EarningsEntry.owed_change,
            ).where(
                EarningsEntry.member_id == member_id,
                EarningsEntry.created_at >= clock.now() - timedelta(days=days + 1),
                EarningsEntry.kind.in_(("reward", "reward_cancel", "reward_reversal")),
            )
        )
    ).all()
    totals = {(first + timedelta(days=i)).isoformat(): 0 for i in range(days)}
    for created_at, _kind, pending, available, owed in rows:
        day = to_seoul(created_at).date().isoformat()
        if day in totals:
            # a reversal takes back from available and the rest as owed: both count against
            totals[day] += pending + available - owed
    return list(totals.items())
