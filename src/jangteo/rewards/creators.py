"""The creator program: members become creators by steady activity (Musinsa's model), in tiers
that raise their reward rate; creators have a public profile with a product shelf.

The score counts the last 90 days: posts ×2, snaps ×5, accepted answers ×5, likes received ×1,
followers gained ×3 and sales credited ×10. A daily job sets each active member's tier from the
thresholds (neighbor, pro) and gives or takes the `creator` role with a notification; a tier
staff fixed (with a reason, audited) is left alone until they unlock it.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.accounts import service as accounts
from jangteo.catalog import service as catalog
from jangteo.community import notifications
from jangteo.community import service as community
from jangteo.core import rules as rules_store
from jangteo.core.audit import record_audit
from jangteo.core.clock import Clock
from jangteo.core.db import insert_if_new
from jangteo.core.errors import Forbidden, InvalidInput, NotFound
from jangteo.core.pagination import cursor_keys, decode_cursor, encode_cursor
from jangteo.rewards.models import Attribution, Creator, ShelfItem

TIERS = ("none", "neighbor", "pro")
REVIEW_JOB = "rewards.creator-review"
REVIEW_EVERY_SECONDS = 24 * 3600
SCORE_DAYS = 90
WEIGHTS = {
    "posts": 2,
    "snaps": 5,
    "accepted_answers": 5,
    "likes_received": 1,
    "followers_gained": 3,
    "sales": 10,
}
SHELF_SIZE = 30


@dataclass(frozen=True)
class CreatorRules:
    """Score thresholds of the tiers and their reward rates (basis points); defaults from the
    settings (`creators_<field>`), changed by staff at runtime."""

    neighbor_score: int = 100
    pro_score: int = 500
    neighbor_rate_bp: int = 300
    pro_rate_bp: int = 500

    def tier_for(self, score: int) -> str:
        if score >= self.pro_score:
            return "pro"
        return "neighbor" if score >= self.neighbor_score else "none"

    def rate_of(self, tier: str) -> int:
        return {"neighbor": self.neighbor_rate_bp, "pro": self.pro_rate_bp}.get(tier, 0)


def _check_creator_rules(wanted: CreatorRules) -> None:
    if wanted.pro_score <= wanted.neighbor_score:
        raise InvalidInput(
            "The pro tier needs a higher score than the neighbor tier.",
            fields=["neighbor_score", "pro_score"],
        )


# the creator program's rules as staff last set them, and their change (audited)
CREATOR_RULES = rules_store.RuleSet("creators", CreatorRules, "creators_", _check_creator_rules)
creator_rules = CREATOR_RULES.load
change_creator_rules = CREATOR_RULES.change


async def _creator(session: AsyncSession, clock: Clock, member_id: uuid.UUID) -> Creator:
    row = await session.get(Creator, member_id, with_for_update=True)
    if row is None:
        await insert_if_new(session, Creator(member_id=member_id, links=[], updated_at=clock.now()))
        row = await session.get(Creator, member_id, with_for_update=True, populate_existing=True)
        assert row is not None
    return row


async def is_locked(session: AsyncSession, member_id: uuid.UUID) -> bool:
    row = await session.get(Creator, member_id)
    return bool(row and row.locked)


async def list_creators(
    session: AsyncSession, *, tier: str | None, limit: int, cursor: str | None
) -> tuple[list[tuple[Creator, str]], str | None]:
    """Members in the program (scored at least once), highest score first, with nicknames."""
    query = select(Creator)
    if tier is not None:
        query = query.where(Creator.tier == tier)
    after = decode_cursor(cursor)
    if after is not None:
        score, member_id = cursor_keys(after, "creators", [int, uuid.UUID])
        query = query.where(
            or_(
                Creator.score < score,
                and_(Creator.score == score, Creator.member_id > member_id),
            )
        )
    query = query.order_by(Creator.score.desc(), Creator.member_id).limit(limit + 1)
    rows = list((await session.scalars(query)).all())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor({"s": "creators", "k": [last.score, str(last.member_id)]})
    names = await accounts.nicknames(session, [r.member_id for r in rows])
    return [(r, names.get(r.member_id, "")) for r in rows], next_cursor


async def tier_of(session: AsyncSession, member_id: uuid.UUID) -> str:
    row = await session.get(Creator, member_id)
    return row.tier if row else "none"


async def scores(
    session: AsyncSession, clock: Clock, member_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """The activity score of each member over the last 90 days."""
    since = clock.now() - timedelta(days=SCORE_DAYS)
    stats = await community.activity_since(session, member_ids, since)
    sales = dict(
        (
            await session.execute(
                select(Attribution.author_id, func.count())
                .where(
                    Attribution.author_id.in_(list(member_ids)),
                    Attribution.status.in_(("pending", "available")),
                    Attribution.placed_at >= since,
                )
                .group_by(Attribution.author_id)
            )
        ).all()
    )
    result: dict[uuid.UUID, int] = {}
    for member_id in member_ids:
        counts = dataclasses.asdict(stats.get(member_id, community.ActivityStats()))
        counts["sales"] = int(sales.get(member_id, 0))
        result[member_id] = sum(WEIGHTS[name] * n for name, n in counts.items())
    return result


async def _apply_tier(
    session: AsyncSession,
    clock: Clock,
    row: Creator,
    tier: str,
    *,
    actor_id: uuid.UUID | None,
    reason: str,
) -> bool:
    """Set a tier, the `creator` role with it, and tell the member; whether it changed."""
    if row.tier == tier:
        return False
    before = row.tier
    row.tier, row.updated_at = tier, clock.now()
    await accounts.grant_role(
        session,
        clock,
        row.member_id,
        "creator",
        on=tier != "none",
        actor_id=actor_id,
        reason=reason,
    )
    await notifications.notify(
        session,
        clock,
        member_id=row.member_id,
        kind="creator_tier",
        data={"tier": tier, "before": before},
    )
    record_audit(
        session,
        clock,
        actor_id=actor_id,
        action="rewards.creator.tier",
        target_type="member",
        target_id=row.member_id,
        before={"tier": before},
        after={"tier": tier, "score": row.score, "reason": reason, "locked": row.locked},
    )
    return True


async def review_tiers(session: AsyncSession, clock: Clock, rules: CreatorRules) -> dict[str, int]:
    """Score the members active in the last 90 days and the current creators; promote and
    demote. Counts of what happened."""
    since = clock.now() - timedelta(days=SCORE_DAYS)
    candidates = set(await community.active_authors(session, since))
    candidates |= set((await session.scalars(select(Creator.member_id))).all())
    candidates |= set(
        (
            await session.scalars(
                select(Attribution.author_id).where(Attribution.placed_at >= since).distinct()
            )
        ).all()
    )
    ordered = sorted(candidates)
    found = await scores(session, clock, ordered)
    done = {"scored": 0, "promoted": 0, "demoted": 0}
    for member_id in ordered:
        row = await _creator(session, clock, member_id)
        row.score, row.scored_at = found[member_id], clock.now()
        done["scored"] += 1
        if row.locked:
            continue
        wanted = rules.tier_for(row.score)
        before = TIERS.index(row.tier)
        if await _apply_tier(
            session, clock, row, wanted, actor_id=None, reason=f"score {row.score}"
        ):
            done["promoted" if TIERS.index(wanted) > before else "demoted"] += 1
    await session.flush()
    return done


async def override_tier(
    session: AsyncSession,
    clock: Clock,
    member_id: uuid.UUID,
    *,
    tier: str | None,
    reason: str,
    actor_id: uuid.UUID,
    rules: CreatorRules,
) -> Creator:
    """Staff fix a tier (locked against the job) or, with None, hand it back to the score."""
    if await accounts.get_member_brief(session, member_id) is None:
        raise NotFound("The member does not exist.")
    row = await _creator(session, clock, member_id)
    if tier is None:
        row.locked, row.lock_reason = False, None
        row.score = (await scores(session, clock, [member_id]))[member_id]
        await _apply_tier(
            session, clock, row, rules.tier_for(row.score), actor_id=actor_id, reason=reason
        )
    else:
        row.locked, row.lock_reason = True, reason
        changed = await _apply_tier(session, clock, row, tier, actor_id=actor_id, reason=reason)
        if not changed:  # the lock itself is the change worth auditing
            record_audit(
                session,
                clock,
                actor_id=actor_id,
                action="rewards.creator.tier",
                target_type="member",
                target_id=member_id,
                before={"tier": tier},
                after={"tier": tier, "reason": reason, "locked": True},
            )
    row.updated_at = clock.now()
    await session.flush()
    return row


# ---- profile and shelf ------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatorProfile:
    member_id: uuid.UUID
    nickname: str
    tier: str
    bio: str
    links: list[str]
    follower_count: int
    shelf: list[tuple[ShelfItem, catalog.ProductCard]]


async def profile(session: AsyncSession, member_id: uuid.UUID) -> CreatorProfile:
    """A creator's public page; NotFound for a member who is not a creator."""
    row = await session.get(Creator, member_id)
    brief = await accounts.get_member_brief(session, member_id)
    if row is None or row.tier == "none" or brief is None:
        raise NotFound("There is no such creator.")
    items = list(
        (
            await session.scalars(
                select(ShelfItem).where(ShelfItem.creator_id == member_id).order_by(ShelfItem.id)
            )
        ).all()
    )
    cards = await catalog.product_cards(session, [i.product_id for i in items])
    return CreatorProfile(
        member_id=member_id,
        nickname=brief.nickname,
        tier=row.tier,
        bio=row.bio,
        links=[str(link) for link in row.links],
        follower_count=await community.follower_count(session, member_id),
        shelf=[(i, cards[i.product_id]) for i in items if cards.get(i.product_id, None)],
    )


async def _own_creator(session: AsyncSession, clock: Clock, member_id: uuid.UUID) -> Creator:
    row = await session.get(Creator, member_id)
    if row is None or row.tier == "none":
        raise Forbidden("Only creators have a profile and a shelf.")
    return await _creator(session, clock, member_id)


async def edit_profile(
    session: AsyncSession,
    clock: Clock,
    member_id: uuid.UUID,
    *,
    bio: str | None,
    links: list[str] | None,
) -> None:
    row = await _own_creator(session, clock, member_id)
    if bio is not None:
        row.bio = bio
    if links is not None:
        row.links = links
    row.updated_at = clock.now()


async def put_on_shelf(
    session: AsyncSession, clock: Clock, member_id: uuid.UUID, product_id: uuid.UUID, note: str
) -> None:
    """Put a product on sale on the creator's shelf (or change its note)."""
    await _own_creator(session, clock, member_id)
    cards = await catalog.product_cards(session, [product_id])
    if product_id not in cards or not cards[product_id].on_sale:
        raise NotFound("The product does not exist.")
    item = await session.scalar(
        select(ShelfItem).where(
            ShelfItem.creator_id == member_id, ShelfItem.product_id == product_id
        )
    )
    if item is not None:
        item.note = note
        return
    count = await session.scalar(
        select(func.count()).select_from(ShelfItem).where(ShelfItem.creator_id == member_id)
    )
    if (count or 0) >= SHELF_SIZE:
        raise InvalidInput(f"A shelf holds at most {SHELF_SIZE} products.")
    session.add(
        ShelfItem(creator_id=member_id, product_id=product_id, note=note, created_at=clock.now())
    )
    await session.flush()


async def take_off_shelf(
    session: AsyncSession, member_id: uuid.UUID, product_id: uuid.UUID
) -> None:
    item = await session.scalar(
        select(ShelfItem).where(
            ShelfItem.creator_id == member_id, ShelfItem.product_id == product_id
        )
    )
    if item is not None:
        await session.delete(item)


async def shelf_products(session: AsyncSession, creator_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        (
            await session.scalars(
                select(ShelfItem.product_id).where(ShelfItem.creator_id == creator_id)
            )
        ).all()
    )
