"""Share links, the touches that lead buyers to products, and crediting an order to the author of
the content that led to it (Ohouse's 24-hour rule).

A touch is a visit through someone's share link, or a view of a post that tags a product (a
snap, a review, a question or a poll about it). When an order is placed, each line goes to the
author of the buyer's last touch of that product within the window before the order (last touch
wins), unless that content is the buyer's own. The reward is the line's total at the category's
rate (default otherwise), within a cap per order; it follows the order through the earnings
ledger (`rewards.earnings`): pending once paid, available after delivery and the return window,
taken back if the order is cancelled or refunded.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.accounts import service as accounts
from jangteo.catalog import service as catalog
from jangteo.community import service as community
from jangteo.core import jobs
from jangteo.core import rules as rules_store
from jangteo.core.audit import record_audit
from jangteo.core.clock import Clock
from jangteo.core.db import Database, insert_if_new
from jangteo.core.errors import DomainError, InvalidInput, NotFound, define
from jangteo.core.ids import short_code, uuid7
from jangteo.core.pagination import id_after, id_cursor
from jangteo.rewards import creators, earnings, referrals
from jangteo.rewards.models import (
    Attribution,
    CategoryRate,
    Creator,
    ShareLink,
    ShareVisit,
    Touch,
    VisitorLink,
)

CHANNELS = ("kakaotalk", "instagram", "facebook", "x", "band", "sms", "link", "other")
TARGETS = ("product", "post", "profile")
VISITS = "share-visits"
RELEASE_JOB = "rewards.release"
MIN_RATE_BP, MAX_RATE_BP = 100, 500  # 1 % to 5 %

NotShareable = define("not-shareable", 422, "This cannot be shared: it is not public.")


@dataclass(frozen=True)
class RewardRules:
    """The attribution window, the default rate (basis points), the cap per order (KRW) and the
    return window after delivery. Defaults from the settings (`rewards_<field>`), changed by
    staff at runtime."""

    window_minutes: int = 24 * 60
    default_rate_bp: int = 300
    cap_per_order: int = 30_000
    return_window_days: int = 7


# the reward rules as staff last set them, and their change (audited)
REWARD_RULES = rules_store.RuleSet("rewards", RewardRules, "rewards_")
reward_rules = REWARD_RULES.load
change_reward_rules = REWARD_RULES.change


async def category_rates(session: AsyncSession) -> dict[uuid.UUID, int]:
    rows = (await session.execute(select(CategoryRate.category_id, CategoryRate.rate_bp))).all()
    return dict(rows)  # type: ignore[arg-type]


async def set_category_rate(
    session: AsyncSession,
    clock: Clock,
    category_id: uuid.UUID,
    rate_bp: int | None,
    *,
    actor_id: uuid.UUID,
    ip: str | None = None,
) -> None:
    """A category's own rate (1–5 %), or with None back to the default; audited."""
    await catalog.find_category(session, str(category_id))
    if rate_bp is not None and not MIN_RATE_BP <= rate_bp <= MAX_RATE_BP:
        raise InvalidInput("A reward rate is between 1 % and 5 %.", fields=["rate_bp"])
    row = await session.get(CategoryRate, category_id, with_for_update=True)
    before = {"rate_bp": row.rate_bp if row else None}
    if rate_bp is None:
        if row is not None:
            await session.delete(row)
    elif row is None:
        session.add(
            CategoryRate(
                category_id=category_id,
                rate_bp=rate_bp,
                updated_at=clock.now(),
                updated_by=actor_id,
            )
        )
    else:
        row.rate_bp, row.updated_at, row.updated_by = rate_bp, clock.now(), actor_id
    record_audit(
        session,
        clock,
        actor_id=actor_id,
        action="rewards.category_rate.set",
        target_type="category",
        target_id=category_id,
        before=before,
        after={"rate_bp": rate_bp},
        ip=ip,
    )
    await session.flush()


# ---- share links ------------------------------------------------------------------------------


async def _target(
    session: AsyncSession, target_type: str, target_id: uuid.UUID
) -> tuple[str, list[uuid.UUID]]:
    """Where a share link leads and the products a visit touches; only what anyone may see."""
    if target_type == "product":
        cards = await catalog.product_cards(session, [target_id])
        if target_id not in cards or not cards[target_id].on_sale:
            raise NotFound("The product does not exist.")
        return f"/p/{target_id}", [target_id]
    if target_type == "post":
        try:
            _author, products = await community.products_of_post(
                session, target_id, community.Viewer(member_id=None)
            )
        except DomainError as exc:
            if exc.status != 403:
                raise
            raise NotShareable() from exc  # a visitor through the link could not read it
        return f"/community/p/{target_id}", products
    if await accounts.get_member_brief(session, target_id) is None:
        raise NotFound("The member does not exist.")
    return f"/community/u/{target_id}", []


async def share_link(
    session: AsyncSession,
    clock: Clock,
    member_id: uuid.UUID,
    *,
    target_type: str,
    target_id: uuid.UUID,
    channel: str,
) -> tuple[ShareLink, bool]:
    """The member's link to a target for a channel, made on first ask; whether it is new."""
    query = select(ShareLink).where(
        ShareLink.member_id == member_id,
        ShareLink.target_type == target_type,
        ShareLink.target_id == target_id,
        ShareLink.channel == channel,
    )
    existing = await session.scalar(query)
    if existing is not None:
        return existing, False
    path, products = await _target(session, target_type, target_id)
    for _attempt in range(5):
        link = ShareLink(
            code=short_code(8),
            member_id=member_id,
            target_type=target_type,
            target_id=target_id,
            channel=channel,
            path=path,
            product_ids=[str(p) for p in products],
            created_at=clock.now(),
        )
        if await insert_if_new(session, link):
            return link, True
        made = await session.scalar(query)  # the same ask at the same moment
        if made is not None:
            return made, False
    raise RuntimeError("no free share code after 5 tries")


async def my_share_links(
    session: AsyncSession, member_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[ShareLink], str | None]:
    query = select(ShareLink).where(ShareLink.member_id == member_id)
    after = id_after(cursor)
    if after is not None:
        query = query.where(ShareLink.id < after)
    rows = list((await session.scalars(query.order_by(ShareLink.id.desc()).limit(limit + 1))).all())
    next_cursor = id_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor


@dataclass(frozen=True)
class LinkInfo:
    id: uuid.UUID
    member_id: uuid.UUID
    channel: str
    path: str


class LinkCache:
    """Share links by code, kept in the process: a link never changes once made, so the
    redirect reads the database once per code and process (bounded: the oldest go first)."""

    def __init__(self, size: int = 50_000) -> None:
        self._links: dict[str, LinkInfo] = {}
        self._size = size

    async def get(self, db: Database, code: str) -> LinkInfo | None:
        link = self._links.get(code)
        if link is None:
            link = await link_by_code(db, code)
            if link is not None:
                if len(self._links) >= self._size:
                    del self._links[next(iter(self._links))]
                self._links[code] = link
        return link


async def link_by_code(db: Database, code: str) -> LinkInfo | None:
    """A share link by its code, straight from the driver."""
    rows = await db.reader.fetch(
        "SELECT id, member_id, channel, path FROM rewards_share_links WHERE code = $1", code
    )
    if not rows:
        return None
    row = rows[0]
    return LinkInfo(
        id=_uuid(row[0]), member_id=_uuid(row[1]), channel=str(row[2]), path=str(row[3])
    )


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def store_visits(db: Database, entries: Sequence[tuple[str, dict[str, str]]]) -> None:
    """Store visits from the intake in one transaction: each visit once (by entry id), a touch
    of every product its link leads to, and the links' visit counts."""
    async with db.write() as session:
        ids = [entry_id for entry_id, _fields in entries]
        seen = set(
            (
                await session.scalars(
                    select(ShareVisit.entry_id).where(ShareVisit.entry_id.in_(ids))
                )
            ).all()
        )
        fresh = [(i, f) for i, f in entries if i not in seen]
        if not fresh:
            return
        link_ids = {uuid.UUID(f["link"]) for _i, f in fresh}
        links = {
            link.id: link
            for link in (
                await session.scalars(select(ShareLink).where(ShareLink.id.in_(link_ids)))
            ).all()
        }
        visits: list[dict[str, Any]] = []
        touches: list[dict[str, Any]] = []
        counts: dict[uuid.UUID, int] = {}
        for entry_id, fields in fresh:
            link = links.get(uuid.UUID(fields["link"]))
            if link is None:
                continue
            at = _time(fields["at"])
            member = uuid.UUID(fields["member"]) if fields.get("member") else None
            visitor = fields.get("visitor") or None
            visits.append(
                {
                    "id": uuid7(),
                    "entry_id": entry_id,
                    "link_id": link.id,
                    "visitor_id": visitor,
                    "member_id": member,
                    "channel": link.channel,
                    "referrer": (fields.get("referrer") or None),
                    "utm_source": fields.get("utm_source") or None,
                    "utm_medium": fields.get("utm_medium") or None,
                    "utm_campaign": fields.get("utm_campaign") or None,
                    "visited_at": at,
                }
            )
            counts[link.id] = counts.get(link.id, 0) + 1
            for product in link.product_ids:
                touches.append(
                    {
                        "id": uuid7(),
                        "member_id": member,
                        "visitor_id": visitor,
                        "product_id": uuid.UUID(str(product)),
                        "author_id": link.member_id,
                        "source_type": "share_link",
                        "source_id": link.id,
                        "touched_at": at,
                    }
                )
        if visits:
            await session.execute(insert(ShareVisit), visits)
        if touches:
            await session.execute(insert(Touch), touches)
        for link_id, n in counts.items():
            await session.execute(
                update(ShareLink)
                .where(ShareLink.id == link_id)
                .values(visit_count=ShareLink.visit_count + n)
            )


async def count_visits(session: AsyncSession, link_id: uuid.UUID | None = None) -> int:
    query = select(func.count()).select_from(ShareVisit)
    if link_id is not None:
        query = query.where(ShareVisit.link_id == link_id)
    return await session.scalar(query) or 0


# ---- touches and visitors ---------------------------------------------------------------------


async def touch_post(
    session: AsyncSession,
    clock: Clock,
    post_id: uuid.UUID,
    *,
    member_id: uuid.UUID | None,
    visitor_id: str | None,
) -> int:
    """The viewer saw a post: a touch of each product it tags, credited to its author (none for
    their own post). The number of touches recorded."""
    if member_id is None and visitor_id is None:
        return 0
    author_id, products = await community.products_of_post(
        session, post_id, community.Viewer(member_id=member_id)
    )
    if author_id == member_id:
        return 0
    return await _touch(session, clock, products, author_id, "post", post_id, member_id, visitor_id)


async def touch_shelf(
    session: AsyncSession,
    clock: Clock,
    creator_id: uuid.UUID,
    *,
    member_id: uuid.UUID | None,
    visitor_id: str | None,
) -> int:
    """The viewer saw a creator's shelf: a touch of each product on it, credited to them."""
    if (member_id is None and visitor_id is None) or member_id == creator_id:
        return 0
    products = await creators.shelf_products(session, creator_id)
    return await _touch(
        session, clock, products, creator_id, "shelf", creator_id, member_id, visitor_id
    )


async def _touch(
    session: AsyncSession,
    clock: Clock,
    products: Sequence[uuid.UUID],
    author_id: uuid.UUID,
    source_type: str,
    source_id: uuid.UUID,
    member_id: uuid.UUID | None,
    visitor_id: str | None,
) -> int:
    if not products:
        return 0
    now = clock.now()
    rows = [
        {
            "id": uuid7(),
            "member_id": member_id,
            "visitor_id": visitor_id if member_id is None else None,
            "product_id": product,
            "author_id": author_id,
            "source_type": source_type,
            "source_id": source_id,
            "touched_at": now,
        }
        for product in products
    ]
    await session.execute(insert(Touch), rows)
    return len(rows)


async def link_visitor(
    session: AsyncSession, clock: Clock, member_id: uuid.UUID, visitor_id: str
) -> None:
    """The browser `visitor_id` is the member's (they signed in on it); the latest sign-in wins."""
    await referrals.note_visitor(session, clock, member_id, visitor_id)
    row = await session.get(VisitorLink, visitor_id, with_for_update=True)
    if row is None:
        if await insert_if_new(
            session, VisitorLink(visitor_id=visitor_id, member_id=member_id, linked_at=clock.now())
        ):
            return
        row = await session.get(
            VisitorLink, visitor_id, with_for_update=True, populate_existing=True
        )
        assert row is not None
    if row.member_id != member_id:
        row.member_id, row.linked_at = member_id, clock.now()


async def last_touches(
    session: AsyncSession,
    buyer_id: uuid.UUID,
    product_ids: Sequence[uuid.UUID],
    *,
    since: datetime,
    until: datetime,
) -> dict[uuid.UUID, Touch]:
    """The buyer's last touch of each product in (since, until]: as a member, or through any
    browser they signed in on. One statement for the whole order: a buyer's touches within a
    day are few, so all of them are read and the latest per product kept."""
    window = (
        Touch.product_id.in_(list(product_ids)),
        Touch.touched_at > since,
        Touch.touched_at <= until,
    )
    # two index range reads in one statement (an OR of both would defeat the indexes)
    as_member = select(Touch).where(Touch.member_id == buyer_id, *window)
    as_browser = (
        select(Touch)
        .join(VisitorLink, VisitorLink.visitor_id == Touch.visitor_id)
        .where(VisitorLink.member_id == buyer_id, *window)
    )
    query = select(Touch).from_statement(union_all(as_member, as_browser))
    latest: dict[uuid.UUID, Touch] = {}
    for touch in (await session.scalars(query)).all():
        known = latest.get(touch.product_id)
        if known is None or (touch.touched_at, touch.id) > (known.touched_at, known.id):
            latest[touch.product_id] = touch
    return latest


# ---- attribution ------------------------------------------------------------------------------


async def creator_rates(
    session: AsyncSession, author_ids: Sequence[uuid.UUID], rules: creators.CreatorRules
) -> dict[uuid.UUID, int]:
    """The reward rates of the creators among `author_ids`, by their tier."""
    query = select(Creator.member_id, Creator.tier).where(
        Creator.member_id.in_(list(author_ids)), Creator.tier != "none"
    )
    return {member_id: rules.rate_of(tier) for member_id, tier in (await session.execute(query))}


@dataclass(frozen=True)
class Rules:
    """What attribution needs: the reward rules and the creator tiers' rates."""

    reward: RewardRules
    creator: creators.CreatorRules


async def rules_now(session: AsyncSession, settings: Any) -> Rules:
    return Rules(
        await reward_rules(session, settings), await creators.creator_rules(session, settings)
    )


async def attribute_order(
    session: AsyncSession, clock: Clock, payload: dict[str, Any], all_rules: Rules
) -> list[Attribution]:
    """Credit the order's lines to the authors of the buyer's last touches (once per order)."""
    order_id = uuid.UUID(payload["order_id"])
    existing = list(
        (await session.scalars(select(Attribution).where(Attribution.order_id == order_id))).all()
    )
    if existing:
        return existing
    rules = all_rules.reward
    buyer = uuid.UUID(payload["member_id"])
    placed_at = _time(payload.get("placed_at") or payload["at"])
    since = placed_at - timedelta(minutes=rules.window_minutes)
    lines = payload["lines"]
    found = await last_touches(
        session,
        buyer,
        [uuid.UUID(line["product_id"]) for line in lines],
        since=since,
        until=placed_at,
    )
    touches: list[tuple[dict[str, Any], Touch]] = []
    for line in lines:
        touch = found.get(uuid.UUID(line["product_id"]))
        if touch is not None and touch.author_id != buyer:  # not the buyer's own content
            touches.append((line, touch))
    if not touches:
        return []
    rates = await category_rates(session)
    tier_rates = await creator_rates(session, [t.author_id for _l, t in touches], all_rules.creator)
    left = rules.cap_per_order
    made: list[Attribution] = []
    for line, touch in touches:
        product = uuid.UUID(line["product_id"])
        category = uuid.UUID(line["category_id"]) if line.get("category_id") else None
        rate = rates.get(category, rules.default_rate_bp) if category else rules.default_rate_bp
        # a creator's tier may pay more than the category does
        rate = max(rate, tier_rates.get(touch.author_id, 0))
        total = int(line.get("line_total") or line["unit_price"] * line["quantity"])
        amount = min(total * rate // 10_000, left)
        if amount <= 0:
            continue
        left -= amount
        attribution = Attribution(
            order_id=order_id,
            order_number=payload["number"],
            variant_id=uuid.UUID(line["variant_id"]),
            product_id=product,
            buyer_id=buyer,
            author_id=touch.author_id,
            touch_id=touch.id,
            source_type=touch.source_type,
            source_id=touch.source_id,
            line_total=total,
            rate_bp=rate,
            amount=amount,
            status="placed",
            touched_at=touch.touched_at,
            placed_at=placed_at,
            available_at=None,
            updated_at=clock.now(),
        )
        session.add(attribution)
        made.append(attribution)
    await session.flush()
    return made


async def _attributions(session: AsyncSession, order_id: uuid.UUID) -> list[Attribution]:
    query = (
        select(Attribution)
        .where(Attribution.order_id == order_id)
        .order_by(Attribution.id)
        .with_for_update()
    )
    return list((await session.scalars(query)).all())


async def order_paid(
    session: AsyncSession, clock: Clock, payload: dict[str, Any], rules: Rules
) -> None:
    """Paid: each credited line becomes pending earnings of its author."""
    await attribute_order(session, clock, payload, rules)
    for attribution in await _attributions(session, uuid.UUID(payload["order_id"])):
        if attribution.status != "placed":
            continue
        attribution.status, attribution.updated_at = "pending", clock.now()
        await earnings.post(
            session,
            clock,
            attribution.author_id,
            kind="reward",
            pending=attribution.amount,
            reference=f"reward:{attribution.id}",
        )


def _release_key(order_id: uuid.UUID | str) -> str:
    return f"reward-release:{order_id}"


async def order_delivered(
    session: AsyncSession, clock: Clock, payload: dict[str, Any], rules: Rules
) -> None:
    """Delivered: the rewards become available when the return window has passed."""
    order_id = payload["order_id"]
    if not await _attributions(session, uuid.UUID(order_id)):
        return
    release_at = _time(payload["at"]) + timedelta(days=rules.reward.return_window_days)
    await jobs.schedule(
        session, RELEASE_JOB, _release_key(order_id), release_at, {"order_id": order_id}
    )


async def release(session: AsyncSession, clock: Clock, order_id: uuid.UUID) -> int:
    """Past the return window: pending rewards of the order become available. The amount."""
    released = 0
    for attribution in await _attributions(session, order_id):
        if attribution.status != "pending":
            continue
        attribution.status = "available"
        attribution.available_at = attribution.updated_at = clock.now()
        await earnings.post(
            session,
            clock,
            attribution.author_id,
            kind="reward_release",
            pending=-attribution.amount,
            available=attribution.amount,
            reference=f"reward-release:{attribution.id}",
        )
        released += attribution.amount
    return released


async def order_withdrawn(session: AsyncSession, clock: Clock, payload: dict[str, Any]) -> None:
    """Cancelled or refunded: no reward; one already available is taken back."""
    order_id = uuid.UUID(payload["order_id"])
    for attribution in await _attributions(session, order_id):
        was = attribution.status
        if was in ("cancelled", "reversed"):
            continue
        attribution.updated_at = clock.now()
        if was == "placed":
            attribution.status = "cancelled"
        elif was == "pending":
            attribution.status = "cancelled"
            await earnings.post(
                session,
                clock,
                attribution.author_id,
                kind="reward_cancel",
                pending=-attribution.amount,
                reference=f"reward-cancel:{attribution.id}",
            )
        else:
            attribution.status = "reversed"
            await earnings.take_back(
                session,
                clock,
                attribution.author_id,
                attribution.amount,
                reference=f"reward-reversal:{attribution.id}",
            )
    await jobs.cancel(session, _release_key(order_id))


async def attributions_of(
    session: AsyncSession, author_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[Attribution], str | None]:
    """The orders credited to an author, newest first."""
    query = select(Attribution).where(Attribution.author_id == author_id)
    after = id_after(cursor)
    if after is not None:
        query = query.where(Attribution.id < after)
    rows = list(
        (await session.scalars(query.order_by(Attribution.id.desc()).limit(limit + 1))).all()
    )
    next_cursor = id_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor
