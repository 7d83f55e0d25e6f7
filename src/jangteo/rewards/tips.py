"""Tips to creators (AfreecaTV's balloons, YouTube's Super Chat): a member sends points or money to
the creator of a post or comment, with an optional message shown highlighted under it.

A points tip is paid at once from the tipper's wallet. A money tip is made `pending` and paid
through the payment provider (the same port as orders: the client authorises, we confirm the
amount); a declined payment leaves it `failed`. Once paid, the creator's earnings receive the
tip less the platform's fee, available at once (a tip is not returned). Each step happens once:
the wallet debit, the payment and the earnings entry are keyed by the tip's id.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.accounts import service as accounts
from jangteo.community import service as community
from jangteo.core import rules as rules_store
from jangteo.core.clock import Clock
from jangteo.core.db import Database
from jangteo.core.errors import Conflict, InvalidInput, NotFound, define
from jangteo.core.pagination import id_after, id_cursor
from jangteo.orders.payments import PaymentDeclined
from jangteo.rewards import creators, earnings
from jangteo.rewards.models import Tip

NotACreator = define("not-a-creator", 422, "Only creators receive tips.")
OwnContent = define("own-content", 422, "You cannot tip yourself.")


@dataclass(frozen=True)
class TipRules:
    """The least and most a tip may be (KRW or points) and the platform's fee (basis points)."""

    min_amount: int = 1_000
    max_amount: int = 500_000
    fee_bp: int = 1_000

    def fee_of(self, amount: int) -> int:
        return amount * self.fee_bp // 10_000


def _check_tip_rules(wanted: TipRules) -> None:
    if wanted.min_amount > wanted.max_amount:
        raise InvalidInput(
            "The least tip may not be more than the most.", fields=["min_amount", "max_amount"]
        )


# the tip rules as staff last set them, and their change (audited)
TIP_RULES = rules_store.RuleSet("tips", TipRules, "tips_", _check_tip_rules)
tip_rules = TIP_RULES.load
change_tip_rules = TIP_RULES.change


async def start_tip(
    session: AsyncSession,
    clock: Clock,
    tipper_id: uuid.UUID,
    *,
    target_type: str,
    target_id: uuid.UUID,
    amount: int,
    method: str,
    message: str | None,
    rules: TipRules,
) -> Tip:
    """A tip on a post or comment the tipper may read, to its creator; points are taken now,
    money waits for `pay_tip`."""
    if not rules.min_amount <= amount <= rules.max_amount:
        raise InvalidInput(
            f"A tip is between {rules.min_amount:,} and {rules.max_amount:,}.",
            fields=["amount"],
        )
    post_id, creator_id = await community.author_of(
        session, target_type, target_id, community.Viewer(member_id=tipper_id)
    )
    if creator_id == tipper_id:
        raise OwnContent()
    if await creators.tier_of(session, creator_id) == "none":
        raise NotACreator()
    tip = Tip(
        tipper_id=tipper_id,
        creator_id=creator_id,
        target_type=target_type,
        target_id=target_id,
        post_id=post_id,
        method=method,
        amount=amount,
        fee=rules.fee_of(amount),
        message=message or None,
        status="pending",
        created_at=clock.now(),
    )
    session.add(tip)
    await session.flush()
    if method == "points":
        await accounts.debit_points(
            session,
            clock,
            member_id=tipper_id,
            amount=amount,
            reason="tip.sent",
            reference=f"tip:{tip.id}",
        )
        await _paid(session, clock, tip)
    return tip


async def _paid(session: AsyncSession, clock: Clock, tip: Tip) -> None:
    tip.status, tip.paid_at = "paid", clock.now()
    await earnings.post(
        session,
        clock,
        tip.creator_id,
        kind="tip",
        available=tip.amount - tip.fee,
        reference=f"tip:{tip.id}",
    )


async def pay_tip(
    db: Database,
    clock: Clock,
    gateway: Any,
    tipper_id: uuid.UUID,
    tip_id: uuid.UUID,
    *,
    payment_key: str,
    amount: int,
) -> Tip:
    """Confirm a money tip's payment with the provider (outside any transaction: the provider
    may take seconds), then record it. A repeat after success answers the paid tip."""
    async with db.read() as session:
        tip = await session.get(Tip, tip_id)
        if tip is None or tip.tipper_id != tipper_id or tip.method != "money":
            raise NotFound("There is no such tip.")
        if tip.status == "paid":
            return tip
        if tip.status != "pending":
            raise Conflict("This tip can no longer be paid.")
        if amount != tip.amount:
            raise InvalidInput("The amount is not the tip's.", fields=["amount"])
    try:
        approval = await gateway.confirm(
            payment_key=payment_key,
            order_id=f"tip-{tip_id}",
            amount=amount,
            idempotency_key=f"tip-{tip_id}",
        )
    except PaymentDeclined:  # the tip is over; an outage leaves it pending for a retry
        async with db.write() as session:
            failed = await session.get(Tip, tip_id, with_for_update=True)
            if failed is not None and failed.status == "pending":
                failed.status = "failed"
        raise
    async with db.write() as session:
        tip = await session.get(Tip, tip_id, with_for_update=True)
        assert tip is not None
        if tip.status == "pending":
            tip.payment_key = approval.payment_key
            await _paid(session, clock, tip)
        return tip


async def tips_on_post(
    session: AsyncSession,
    post_id: uuid.UUID,
    viewer: community.Viewer,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[tuple[Tip, str]], str | None]:
    """The paid tips on a post and its comments, newest first, with the tippers' nicknames."""
    await community.readable_post(session, post_id, viewer)
    query = select(Tip).where(Tip.post_id == post_id, Tip.status == "paid")
    after = id_after(cursor)
    if after is not None:
        query = query.where(Tip.id < after)
    rows = list((await session.scalars(query.order_by(Tip.id.desc()).limit(limit + 1))).all())
    next_cursor = id_cursor(rows[limit - 1].id) if len(rows) > limit else None
    rows = rows[:limit]
    names = await accounts.nicknames(session, [t.tipper_id for t in rows])
    return [(t, names.get(t.tipper_id, "")) for t in rows], next_cursor


async def get_tip(session: AsyncSession, tipper_id: uuid.UUID, tip_id: uuid.UUID) -> Tip:
    tip = await session.get(Tip, tip_id)
    if tip is None or tip.tipper_id != tipper_id:
        raise NotFound("There is no such tip.")
    return tip
