"""Property: any sequence of earning, spending, refunds, replays and expiry keeps the ledger exact.

Runs against the service layer on one platform per backend; each example uses a new member, so
examples do not disturb each other. A small model of FIFO lots predicts every balance.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.accounts._support import ledger_state

from jangteo.accounts import service
from jangteo.core.clock import FrozenClock
from jangteo.core.errors import DomainError
from jangteo.core.platform import Platform

# few distinct expiries and short waits, so lots overlap and expire mid-sequence often
earn = st.tuples(st.just("earn"), st.integers(1, 500), st.integers(1, 3))
spend = st.tuples(st.just("spend"), st.integers(1, 700), st.just(0))
refund = st.tuples(st.just("refund"), st.integers(0, 20), st.just(0))
replay = st.tuples(st.just("replay"), st.integers(0, 20), st.integers(1, 1000))
wait = st.tuples(st.just("wait"), st.integers(1, 2), st.just(0))
operations = st.lists(
    st.one_of(earn, earn, spend, spend, wait, refund, replay), min_size=1, max_size=15
)


@dataclass
class WalletModel:
    """What the balance must be: lots as [expires_at, remaining], spent soonest-expiring first."""

    lots: list[list[object]] = field(default_factory=list)
    balance: int = 0
    spends: list[tuple[str, int]] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    refunded: set[str] = field(default_factory=set)

    def expire(self, now: datetime) -> None:
        for lot in self.lots:
            if lot[0] <= now and lot[1]:  # type: ignore[operator]
                self.balance -= lot[1]  # type: ignore[operator]
                lot[1] = 0

    def earn(self, amount: int, expires_at: datetime) -> None:
        self.lots.append([expires_at, amount])
        self.balance += amount

    def spend(self, amount: int, now: datetime) -> bool:
        self.expire(now)
        if amount > self.balance:
            return False
        self.balance -= amount
        left = amount
        for lot in sorted(self.lots, key=lambda lot: lot[0]):  # type: ignore[arg-type, return-value]
            take = min(left, lot[1])  # type: ignore[type-var]
            lot[1] -= take  # type: ignore[operator]
            left -= take
        return True


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
async def test_ledger_stays_exact_under_any_sequence(
    platform: Platform, clock: FrozenClock, ops: list[tuple[str, int, int]]
) -> None:
    async with platform.db.write() as session:
        member = await service.create_member(
            session,
            clock,
            email=f"prop-{uuid.uuid4().hex[:12]}@example.com",
            nickname=f"p{uuid.uuid4().hex[:12]}",
            password_hash="not-used",
        )
    member_id = member.id
    model = WalletModel()

    for step, (kind, number, extra) in enumerate(ops):
        now = clock.now()
        async with platform.db.write() as session:
            if kind == "earn":
                reference = f"earn:{step}"
                expires_at = now + timedelta(days=extra)
                balance = await service.credit_points(
                    session,
                    clock,
                    member_id=member_id,
                    amount=number,
                    reason="reward",
                    reference=reference,
                    expires_at=expires_at,
                )
                model.earn(number, expires_at)
                model.references.append(reference)
            elif kind == "spend":
                reference = f"spend:{step}"
                try:
                    balance = await service.debit_points(
                        session,
                        clock,
                        member_id=member_id,
                        amount=number,
                        reason="order",
                        reference=reference,
                    )
                    spent = True
                except DomainError as exc:
                    assert exc.slug == "insufficient-points"
                    spent = False
                    balance = model.balance
                assert spent == model.spend(number, now)
                if spent:
                    model.spends.append((reference, number))
                    model.references.append(reference)
            elif kind == "refund" and model.spends:
                reference, amount = model.spends[number % len(model.spends)]
                balance = await service.credit_points(
                    session,
                    clock,
                    member_id=member_id,
                    amount=amount,
                    reason="refund",
                    reference=f"refund:{reference}",
                )
                if reference not in model.refunded:  # a second refund of it changes nothing
                    model.refunded.add(reference)
                    model.earn(amount, now + timedelta(days=365))
            elif kind == "replay" and model.references:
                # the same reference with any amount is a no-op
                reference = model.references[number % len(model.references)]
                if reference.startswith("earn"):
                    balance = await service.credit_points(
                        session,
                        clock,
                        member_id=member_id,
                        amount=extra,
                        reason="reward",
                        reference=reference,
                    )
                else:
                    balance = await service.debit_points(
                        session,
                        clock,
                        member_id=member_id,
                        amount=extra,
                        reason="order",
                        reference=reference,
                    )
            elif kind == "wait":
                clock.advance(days=number)
                await service.expire_points(session, clock)
                model.expire(clock.now())
                balance = await service.points_balance(session, member_id)
            else:
                balance = await service.points_balance(session, member_id)
        assert balance == model.balance >= 0

    state = await ledger_state(platform, member_id)
    assert state["balance"] == state["legs"] == state["lots"] == model.balance
    assert state["unbalanced_txns"] == 0
