"""Tables of the rewards domain: share links and their visits, the touches that lead a buyer to a
product, the orders credited to authors, and the creators' earnings ledger."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jangteo.core.db import Base
from jangteo.core.ids import uuid7


class ShareLink(Base):
    """A member's short link to a product, a post or a profile, per channel shared to."""

    __tablename__ = "rewards_share_links"
    __table_args__ = (
        UniqueConstraint("member_id", "target_type", "target_id", "channel"),
        Index("ix_rewards_share_links_member", "member_id", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    member_id: Mapped[uuid.UUID]
    target_type: Mapped[str] = mapped_column(String(10))  # product | post | profile
    target_id: Mapped[uuid.UUID]
    channel: Mapped[str] = mapped_column(String(20))
    # where the link leads, and the products a visit through it is a touch of
    path: Mapped[str] = mapped_column(String(200))
    product_ids: Mapped[list[Any]]
    visit_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]


class ShareVisit(Base):
    """One visit through a share link, stored from the intake (`entry_id` makes it once)."""

    __tablename__ = "rewards_share_visits"
    __table_args__ = (Index("ix_rewards_share_visits_link", "link_id", "visited_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    entry_id: Mapped[str] = mapped_column(String(40), unique=True)
    link_id: Mapped[uuid.UUID]
    visitor_id: Mapped[str | None] = mapped_column(String(40))
    member_id: Mapped[uuid.UUID | None]
    channel: Mapped[str] = mapped_column(String(20))
    referrer: Mapped[str | None] = mapped_column(String(500))
    utm_source: Mapped[str | None] = mapped_column(String(100))
    utm_medium: Mapped[str | None] = mapped_column(String(100))
    utm_campaign: Mapped[str | None] = mapped_column(String(100))
    visited_at: Mapped[datetime]


class Touch(Base):
    """A buyer-to-be (member, or browser by its visitor id) met a product through someone's
    content or link: what the last-touch rule looks back on at order placement."""

    __tablename__ = "rewards_touches"
    __table_args__ = (
        Index("ix_rewards_touches_member", "member_id", "product_id", "touched_at"),
        Index("ix_rewards_touches_visitor", "visitor_id", "product_id", "touched_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    member_id: Mapped[uuid.UUID | None]
    visitor_id: Mapped[str | None] = mapped_column(String(40))
    product_id: Mapped[uuid.UUID]
    author_id: Mapped[uuid.UUID]  # who is credited: the content's author or the link's sharer
    source_type: Mapped[str] = mapped_column(String(12))  # share_link | post
    source_id: Mapped[uuid.UUID]
    touched_at: Mapped[datetime]


class VisitorLink(Base):
    """A browser's visitor id seen signed in as a member: its anonymous touches are theirs."""

    __tablename__ = "rewards_visitor_links"
    __table_args__ = (Index("ix_rewards_visitor_links_member", "member_id"),)

    visitor_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    member_id: Mapped[uuid.UUID]
    linked_at: Mapped[datetime]


class CategoryRate(Base):
    """The reward rate of a category, in basis points (100 = 1 %), overriding the default."""

    __tablename__ = "rewards_category_rates"

    category_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    rate_bp: Mapped[int]
    updated_at: Mapped[datetime]
    updated_by: Mapped[uuid.UUID | None]


class Attribution(Base):
    """An order line credited to an author. `placed` until the order is paid, then `pending` in
    the author's earnings, `available` once delivered and past the return window; `cancelled`
    before that, `reversed` after."""

    __tablename__ = "rewards_attributions"
    __table_args__ = (
        UniqueConstraint("order_id", "variant_id"),
        Index("ix_rewards_attributions_author", "author_id", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    order_id: Mapped[uuid.UUID]
    order_number: Mapped[str] = mapped_column(String(40))
    variant_id: Mapped[uuid.UUID]
    product_id: Mapped[uuid.UUID]
    buyer_id: Mapped[uuid.UUID]
    author_id: Mapped[uuid.UUID]
    touch_id: Mapped[uuid.UUID]
    source_type: Mapped[str] = mapped_column(String(12))
    source_id: Mapped[uuid.UUID]
    line_total: Mapped[int] = mapped_column(BigInteger)
    rate_bp: Mapped[int]
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12))
    touched_at: Mapped[datetime]
    placed_at: Mapped[datetime]
    available_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class EarningsAccount(Base):
    """A member's earnings: pending (not yet final), available (may be paid out), paid out, and
    owed (taken back after it was available and spent: settled from future earnings)."""

    __tablename__ = "rewards_earnings_accounts"

    member_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    pending: Mapped[int] = mapped_column(BigInteger, default=0)
    available: Mapped[int] = mapped_column(BigInteger, default=0)
    # settled in a statement, waiting for staff to mark the payout
    settling: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_out: Mapped[int] = mapped_column(BigInteger, default=0)
    owed: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime]


class EarningsEntry(Base):
    """One change of an earnings account, once per reference."""

    __tablename__ = "rewards_earnings_entries"
    __table_args__ = (
        Index("ix_rewards_earnings_entries_member", "member_id", "created_at"),
        Index("ix_rewards_earnings_entries_unsettled", "statement_id", "member_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    member_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(20))  # reward | reward_release | reward_reversal …
    pending_change: Mapped[int] = mapped_column(BigInteger, default=0)
    available_change: Mapped[int] = mapped_column(BigInteger, default=0)
    owed_change: Mapped[int] = mapped_column(BigInteger, default=0)
    settling_change: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_out_change: Mapped[int] = mapped_column(BigInteger, default=0)
    reference: Mapped[str] = mapped_column(String(120), unique=True)
    # the statement that settled this entry's available amount
    statement_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime]


class Tip(Base):
    """A tip to a creator on a post or a comment, in points or money, with an optional message
    shown highlighted. Money tips wait for the payment (`pending`) before they count."""

    __tablename__ = "rewards_tips"
    __table_args__ = (
        Index("ix_rewards_tips_post", "post_id", "status", "id"),
        Index("ix_rewards_tips_creator", "creator_id", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    tipper_id: Mapped[uuid.UUID]
    creator_id: Mapped[uuid.UUID]
    target_type: Mapped[str] = mapped_column(String(10))  # post | comment
    target_id: Mapped[uuid.UUID]
    post_id: Mapped[uuid.UUID]
    method: Mapped[str] = mapped_column(String(10))  # points | money
    amount: Mapped[int] = mapped_column(BigInteger)
    fee: Mapped[int] = mapped_column(BigInteger)
    message: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10))  # pending | paid | failed
    payment_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]


class Creator(Base):
    """A member's standing in the creator program: tier by the activity score of the last 90 days
    (or fixed by staff with a reason), and the public profile."""

    __tablename__ = "rewards_creators"

    member_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tier: Mapped[str] = mapped_column(String(10), default="none")  # none | neighbor | pro
    score: Mapped[int] = mapped_column(default=0)
    locked: Mapped[bool] = mapped_column(default=False)
    lock_reason: Mapped[str | None] = mapped_column(String(200))
    # a business creator issues invoices; an individual's payouts have income tax withheld
    business: Mapped[bool] = mapped_column(default=False)
    bio: Mapped[str] = mapped_column(String(1000), default="")
    links: Mapped[list[Any]]
    scored_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class ShelfItem(Base):
    """A product on a creator's shelf, with their note."""

    __tablename__ = "rewards_shelf_items"
    __table_args__ = (
        UniqueConstraint("creator_id", "product_id"),
        Index("ix_rewards_shelf_items_creator", "creator_id", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    creator_id: Mapped[uuid.UUID]
    product_id: Mapped[uuid.UUID]
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime]


class Notice(Base):
    """A creator's notice to their followers (a notice channel)."""

    __tablename__ = "rewards_notices"
    __table_args__ = (Index("ix_rewards_notices_creator", "creator_id", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    creator_id: Mapped[uuid.UUID]
    title: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(String(1000))
    recipients: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]


class NoticeMute(Base):
    """A follower who does not want a creator's notices."""

    __tablename__ = "rewards_notice_mutes"

    member_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    creator_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    created_at: Mapped[datetime]


class SubscriptionPlan(Base):
    """A creator's monthly subscription tier: a name, a price and what subscribers get."""

    __tablename__ = "rewards_subscription_plans"
    __table_args__ = (Index("ix_rewards_subscription_plans_creator", "creator_id", "price"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    creator_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(40))
    price: Mapped[int] = mapped_column(BigInteger)
    benefits: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | retired
    # the members-only space where the creator posts for subscribers
    space_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime]


class Subscription(Base):
    """A member's paid subscription to a creator: renewed monthly with the card registered for
    it; a failed renewal gives a grace period, then it lapses; a cancelled one keeps access to
    the end of the period paid for."""

    __tablename__ = "rewards_subscriptions"
    __table_args__ = (
        UniqueConstraint("member_id", "creator_id"),
        Index("ix_rewards_subscriptions_due", "status", "current_period_end"),
        Index("ix_rewards_subscriptions_creator", "creator_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    member_id: Mapped[uuid.UUID]
    creator_id: Mapped[uuid.UUID]
    plan_id: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(String(10))  # active | grace | lapsed | ended
    cancel_at_period_end: Mapped[bool] = mapped_column(default=False)
    billing_key: Mapped[str] = mapped_column(String(200))
    customer_key: Mapped[str] = mapped_column(String(64))
    current_period_start: Mapped[datetime]
    current_period_end: Mapped[datetime]
    grace_until: Mapped[datetime | None]
    failed_attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SubscriptionCharge(Base):
    """One charge of a subscription period; paid once per period (the provider's idempotency
    key names the period and the attempt)."""

    __tablename__ = "rewards_subscription_charges"
    __table_args__ = (
        UniqueConstraint("subscription_id", "period_start", "attempt"),
        Index("ix_rewards_subscription_charges_sub", "subscription_id", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    subscription_id: Mapped[uuid.UUID]
    period_start: Mapped[datetime]
    attempt: Mapped[int]
    amount: Mapped[int] = mapped_column(BigInteger)
    fee: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10))  # paid | failed
    payment_key: Mapped[str | None] = mapped_column(String(200))
    failure_code: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime]


class SettlementRun(Base):
    """The monthly settlement of one Seoul month: a statement per creator with earnings."""

    __tablename__ = "rewards_settlement_runs"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    status: Mapped[str] = mapped_column(String(10))  # running | done
    statements: Mapped[int] = mapped_column(default=0)
    payable: Mapped[int] = mapped_column(BigInteger, default=0)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class Statement(Base):
    """What a creator is paid for a month: rewards, tips and subscriptions (net of fees), less
    what was taken back and the income tax withheld for individuals."""

    __tablename__ = "rewards_statements"
    __table_args__ = (
        UniqueConstraint("month", "member_id"),
        Index("ix_rewards_statements_member", "member_id", "month"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    month: Mapped[str] = mapped_column(String(7))
    member_id: Mapped[uuid.UUID]
    rewards: Mapped[int] = mapped_column(BigInteger)
    reversals: Mapped[int] = mapped_column(BigInteger)
    tips: Mapped[int] = mapped_column(BigInteger)
    tip_fees: Mapped[int] = mapped_column(BigInteger)
    subscriptions: Mapped[int] = mapped_column(BigInteger)
    subscription_fees: Mapped[int] = mapped_column(BigInteger)
    subtotal: Mapped[int] = mapped_column(BigInteger)
    withholding: Mapped[int] = mapped_column(BigInteger)
    payable: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10))  # open | paid
    payout_reference: Mapped[str | None] = mapped_column(String(100))
    paid_by: Mapped[uuid.UUID | None]
    paid_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class InviteCode(Base):
    """A member's invite code for the referral program, made on first ask."""

    __tablename__ = "rewards_invite_codes"

    member_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    created_at: Mapped[datetime]


class Referral(Base):
    """An invitee entered an inviter's code. `pending` until the invitee's first order is
    delivered, then `rewarded` (points to both) or `refused` with the abuse rule that matched."""

    __tablename__ = "rewards_referrals"
    __table_args__ = (
        Index("ix_rewards_referrals_inviter", "inviter_id", "id"),
        Index("ix_rewards_referrals_status", "status", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    inviter_id: Mapped[uuid.UUID]
    invitee_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    code: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(10))  # pending | rewarded | refused
    # self | same_device | same_address | same_payment_method
    refusal_reason: Mapped[str | None] = mapped_column(String(20))
    order_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]


class VisitorSighting(Base):
    """Every member a browser (visitor id) was linked to, kept where `VisitorLink` keeps only
    the latest: two members on one browser is what the referral program's device rule looks for."""

    __tablename__ = "rewards_visitor_sightings"
    __table_args__ = (Index("ix_rewards_visitor_sightings_member", "member_id"),)

    visitor_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    first_seen_at: Mapped[datetime]
