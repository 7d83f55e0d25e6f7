"""The rules of the community: spaces and who may read, write and join them; boards; posts and
comments with per-thread anonymous aliases; reactions, bookmarks, follows and blocks; hashtags;
feeds; activity points with daily caps and posting limits for new accounts.

Authorisation lives here, next to the rules: every function that reads or writes on behalf of
someone takes a `Viewer` (who, and whether they are staff) and checks it.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    and_,
    case,
    delete,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.accounts import service as accounts
from jangteo.catalog import service as catalog
from jangteo.community import notifications, search, trust_levels
from jangteo.community.models import (
    ActivityCount,
    Block,
    Board,
    Bookmark,
    ChatMessage,
    Comment,
    Follow,
    PollOption,
    Post,
    PostHashtag,
    ProductTag,
    Question,
    Reaction,
    Review,
    Space,
    SpaceMember,
    ThreadAlias,
)
from jangteo.core import rules as rules_store
from jangteo.core.audit import record_audit
from jangteo.core.clock import Clock, to_seoul
from jangteo.core.db import insert_if_new, plan_for_these_values
from jangteo.core.errors import Forbidden, InvalidInput, NotFound, define
from jangteo.core.ids import short_code
from jangteo.core.pagination import InvalidCursor, decode_cursor, encode_cursor, id_after, id_cursor
from jangteo.core.security import Principal

SpaceSlugTaken = define("space-slug-taken", 409, "A space with this address already exists.")
BoardSlugTaken = define("board-slug-taken", 409, "This space already has a board at this address.")
InviteCodeRequired = define(
    "invite-code-required", 403, "This space can only be joined with a valid invite code."
)
VerificationRequired = define(
    "verification-required", 403, "Only members with a delivered order can join this space."
)
BannedFromSpace = define("banned-from-space", 403, "You are banned from this space.")
MutedInSpace = define("muted-in-space", 403, "You are muted in this space for now.")
NotSpaceMember = define("not-space-member", 403, "Join this space to do that.")
BlockedByMember = define("blocked-by-member", 403, "This member does not accept your replies.")
PostingLimitReached = define(
    "posting-limit-reached", 429, "You have reached today's limit for new posts or comments."
)
ReplyTooDeep = define("reply-too-deep", 422, "Replies can only answer a top-level comment.")
CannotFollowSelf = define("cannot-follow-self", 422, "You cannot follow or block yourself.")

VISIBILITIES = ("public", "members_write", "members_only")
JOIN_POLICIES = ("open", "invite", "verified")
VERIFICATIONS = ("delivered_order", "staff_approval")
SPACE_ROLES = ("owner", "moderator", "member")
# "like" is the one reaction that counts toward ranking (trending, hot posts); the emoji set
# shows feelings without letting a pile of one emoji push a post up
REACTIONS = ("like", "heart", "fire", "clap", "sad")
RANKED_REACTION = "like"

_HASHTAG = re.compile(r"#([0-9A-Za-z_\uac00-\ud7a3]{1,30})")


@dataclass(frozen=True)
class Viewer:
    """Who is asking: a member (or None for a visitor) and whether they act as staff."""

    member_id: uuid.UUID | None
    staff: bool = False

    @classmethod
    def of(cls, principal: Principal | None) -> Viewer:
        """A signed-in member (staff only with the role and MFA), or a visitor for None."""
        if principal is None:
            return cls(member_id=None)
        staff = bool(principal.roles & {"staff", "admin"}) and principal.mfa
        return cls(member_id=principal.member_id, staff=staff)


@dataclass(frozen=True)
class ActivityRules:
    """Points for activity, daily posting limits per trust level and what earns trust. Defaults
    come from the settings (`community_<field>`); staff change them at runtime (`core.rules`)."""

    post_points: int = 10
    snap_points: int = 30
    review_points: int = 20
    photo_review_points: int = 50
    answer_bonus_points: int = 10
    daily_points_cap: int = 50
    # trust level 0, level 1, level 2 and up
    new_posts_per_day: int = 3
    new_comments_per_day: int = 20
    posts_per_day: int = 30
    comments_per_day: int = 300
    trusted_posts_per_day: int = 100
    trusted_comments_per_day: int = 1000
    # level 1: posts read on this many Seoul days; level 2: more of both, and likes received
    trust_basic_reads: int = 10
    trust_basic_days: int = 2
    trust_member_reads: int = 100
    trust_member_days: int = 10
    trust_member_likes: int = 10

    def posts_limit(self, level: int) -> int:
        return (
            (self.new_posts_per_day, self.posts_per_day)[level]
            if level < 2
            else (self.trusted_posts_per_day)
        )

    def comments_limit(self, level: int) -> int:
        return (
            (self.new_comments_per_day, self.comments_per_day)[level]
            if level < 2
            else (self.trusted_comments_per_day)
        )


def _check_activity_rules(wanted: ActivityRules) -> None:
    ordered = (
        ("new_posts_per_day", "posts_per_day", "trusted_posts_per_day"),
        ("new_comments_per_day", "comments_per_day", "trusted_comments_per_day"),
        ("trust_basic_reads", "trust_member_reads"),
        ("trust_basic_days", "trust_member_days"),
    )
    for names in ordered:
        values = [getattr(wanted, name) for name in names]
        if values != sorted(values):
            raise InvalidInput(
                "These rules must not decrease from one trust level to the next.",
                fields=list(names),
            )


# the community's rules as staff last set them, and their change (audited)
ACTIVITY_RULES = rules_store.RuleSet(
    "community", ActivityRules, "community_", _check_activity_rules
)
activity_rules = ACTIVITY_RULES.load
change_activity_rules = ACTIVITY_RULES.change


@dataclass(frozen=True)
class SpaceView:
    space: Space
    my_role: str | None
    my_status: str | None
    can_read: bool
    can_write: bool


@dataclass(frozen=True)
class Author:
    """How an author appears: their nickname, or their alias in an anonymous thread.

    `member_id` is None for anonymous authors unless the viewer is staff."""

    member_id: uuid.UUID | None
    name: str
    anonymous: bool


@dataclass(frozen=True)
class PostView:
    post: Post
    space: Space
    board: Board
    author: Author
    my_reactions: list[str]
    bookmarked: bool
    reactions: dict[str, int]


@dataclass(frozen=True)
class CommentView:
    comment: Comment
    author: Author
    my_reactions: list[str]


@dataclass
class FeedPage:
    items: list[PostView] = field(default_factory=list)
    next_cursor: str | None = None


# ---- small helpers --------------------------------------------------------------------------


def hashtags_in(text: str) -> list[str]:
    """The hashtags of a text, normalised (NFKC, lower case), in order, without repeats."""
    found = _HASHTAG.findall(unicodedata.normalize("NFKC", text))
    return list(dict.fromkeys(tag.lower() for tag in found))[:20]


def normalize_tag(tag: str) -> str:
    return unicodedata.normalize("NFKC", tag).lstrip("#").lower()


async def flush_unique(session: AsyncSession, conflict: type[Exception]) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise conflict() from exc


async def find_space(session: AsyncSession, ref: str | uuid.UUID) -> Space:
    try:
        space_id = ref if isinstance(ref, uuid.UUID) else uuid.UUID(ref)
        query = select(Space).where(Space.id == space_id)
    except ValueError:
        query = select(Space).where(Space.slug == ref)
    space = await session.scalar(query.where(Space.status == "active"))
    if space is None:
        raise NotFound("The space does not exist.")
    return space


async def _membership(
    session: AsyncSession, space_id: uuid.UUID, member_id: uuid.UUID | None
) -> SpaceMember | None:
    if member_id is None:
        return None
    return await session.scalar(
        select(SpaceMember).where(
            SpaceMember.space_id == space_id, SpaceMember.member_id == member_id
        )
    )


def _can_read(space: Space, membership: SpaceMember | None, viewer: Viewer) -> bool:
    if viewer.staff:
        return True
    if membership is not None and membership.status == "banned":
        return False
    if space.visibility == "members_only":
        return membership is not None and membership.status == "active"
    return True


def _can_write(space: Space, membership: SpaceMember | None, viewer: Viewer) -> bool:
    if viewer.member_id is None:
        return False
    if viewer.staff:
        return True
    if membership is not None and membership.status == "banned":
        return False
    if space.visibility == "public":
        return True
    return membership is not None and membership.status == "active"


def has_moderator_role(membership: SpaceMember | None, viewer: Viewer) -> bool:
    if viewer.staff:
        return True
    return (
        membership is not None
        and membership.status == "active"
        and membership.role in ("owner", "moderator")
    )


async def check_write(
    session: AsyncSession, clock: Clock, space: Space, viewer: Viewer
) -> SpaceMember | None:
    """The writer's membership, after checking they may write here now."""
    if viewer.member_id is None:
        raise NotSpaceMember()
    membership = await _membership(session, space.id, viewer.member_id)
    if membership is not None and membership.status == "banned" and not viewer.staff:
        raise BannedFromSpace()
    if not _can_write(space, membership, viewer):
        raise NotSpaceMember()
    if (
        membership is not None
        and membership.muted_until is not None
        and membership.muted_until > clock.now()
        and not viewer.staff
    ):
        raise MutedInSpace(until=membership.muted_until.isoformat())
    return membership


async def check_read(session: AsyncSession, space: Space, viewer: Viewer) -> SpaceMember | None:
    membership = await _membership(session, space.id, viewer.member_id)
    if not _can_read(space, membership, viewer):
        if membership is not None and membership.status == "banned":
            raise BannedFromSpace()
        raise NotSpaceMember()
    return membership


# ---- spaces ---------------------------------------------------------------------------------

# the shop's own space: product reviews, product questions, snaps and polls live on its boards
SHOP_SPACE = "shop"
SHOP_BOARDS = {
    "reviews": "상품 리뷰",
    "qna": "상품 Q&A",
    "snaps": "스타일 스냅",
    "polls": "골라줘",
    "launches": "신제품 런칭",
}
SYSTEM_OWNER = uuid.UUID(int=0)


async def shop_board(session: AsyncSession, clock: Clock, board_slug: str) -> Board:
    """A board of the shop's space, made on first use (public, open to everyone)."""
    space = await session.scalar(select(Space).where(Space.slug == SHOP_SPACE))
    now = clock.now()
    if space is None:
        space = Space(
            slug=SHOP_SPACE,
            name="장터 커뮤니티",
            visibility="public",
            join_policy="open",
            owner_id=SYSTEM_OWNER,
            created_at=now,
            updated_at=now,
        )
        if not await insert_if_new(session, space):
            space = (await session.scalars(select(Space).where(Space.slug == SHOP_SPACE))).one()
    board = await session.scalar(
        select(Board).where(Board.space_id == space.id, Board.slug == board_slug)
    )
    if board is None:
        board = Board(
            space_id=space.id,
            slug=board_slug,
            name=SHOP_BOARDS.get(board_slug, board_slug),
            position=list(SHOP_BOARDS).index(board_slug) if board_slug in SHOP_BOARDS else 99,
            created_at=now,
        )
        if not await insert_if_new(session, board):
            board = (
                await session.scalars(
                    select(Board).where(Board.space_id == space.id, Board.slug == board_slug)
                )
            ).one()
    return board


def _check_rules(visibility: str, join_policy: str, verification: str | None) -> None:
    if visibility not in VISIBILITIES:
        raise InvalidInput(f"visibility must be one of {', '.join(VISIBILITIES)}.")
    if join_policy not in JOIN_POLICIES:
        raise InvalidInput(f"join_policy must be one of {', '.join(JOIN_POLICIES)}.")
    if join_policy == "verified" and verification not in VERIFICATIONS:
        raise InvalidInput(f"A verified space needs verification: {', '.join(VERIFICATIONS)}.")


def _space_state(space: Space) -> dict[str, Any]:
    return {
        "name": space.name,
        "visibility": space.visibility,
        "join_policy": space.join_policy,
        "verification": space.verification,
        "status": space.status,
    }


async def create_space(
    session: AsyncSession,
    clock: Clock,
    *,
    owner_id: uuid.UUID,
    slug: str,
    name: str,
    description: str = "",
    visibility: str = "public",
    join_policy: str = "open",
    verification: str | None = None,
    ip: str | None = None,
) -> Space:
    """A new space owned by `owner_id`, with a first board ("자유게시판")."""
    _check_rules(visibility, join_policy, verification)
    now = clock.now()
    space = Space(
        slug=slug,
        name=name,
        description=description,
        visibility=visibility,
        join_policy=join_policy,
        verification=verification if join_policy == "verified" else None,
        invite_code=short_code(10) if join_policy == "invite" else None,
        owner_id=owner_id,
        member_count=1,
        created_at=now,
        updated_at=now,
    )
    session.add(space)
    await flush_unique(session, SpaceSlugTaken)
    session.add(
        SpaceMember(
            space_id=space.id,
            member_id=owner_id,
            role="owner",
            status="active",
            created_at=now,
            updated_at=now,
        )
    )
    session.add(Board(space_id=space.id, slug="free", name="자유게시판", created_at=now))
    await session.flush()
    record_audit(
        session,
        clock,
        actor_id=owner_id,
        action="community.space.create",
        target_type="space",
        target_id=space.id,
        after=_space_state(space),
        ip=ip,
    )
    return space


async def update_space(
    session: AsyncSession,
    clock: Clock,
    ref: str,
    viewer: Viewer,
    changes: dict[str, Any],
    *,
    ip: str | None = None,
) -> Space:
    """Change a space's name, description or rules (its owner, or staff)."""
    space = await find_space(session, ref)
    membership = await _membership(session, space.id, viewer.member_id)
    if not viewer.staff and (membership is None or membership.role != "owner"):
        raise Forbidden("Only the owner of the space or staff can change its rules.")
    before = _space_state(space)
    for key in ("name", "description", "visibility", "join_policy", "verification"):
        if key in changes:
            setattr(space, key, changes[key])
    _check_rules(space.visibility, space.join_policy, space.verification)
    if space.join_policy != "verified":
        space.verification = None
    if space.join_policy == "invite" and space.invite_code is None:
        space.invite_code = short_code(10)
    if changes.get("new_invite_code") and space.join_policy == "invite":
        space.invite_code = short_code(10)
    space.updated_at = clock.now()
    record_audit(
        session,
        clock,
        actor_id=viewer.member_id,
        action="community.space.update",
        target_type="space",
        target_id=space.id,
        before=before,
        after=_space_state(space),
        ip=ip,
    )
    return space


async def view_space(session: AsyncSession, ref: str, viewer: Viewer) -> SpaceView:
    space = await find_space(session, ref)
    membership = await _membership(session, space.id, viewer.member_id)
    return SpaceView(
        space=space,
        my_role=membership.role if membership and membership.status == "active" else None,
        my_status=membership.status if membership else None,
        can_read=_can_read(space, membership, viewer),
        can_write=_can_write(space, membership, viewer),
    )


async def list_spaces(
    session: AsyncSession, viewer: Viewer, *, mine: bool = False, limit: int, cursor: str | None
) -> tuple[list[SpaceView], str | None]:
    """Spaces by age (every space is listed, members-only ones too, without their posts)."""
    query = select(Space).where(Space.status == "active")
    if mine:
        if viewer.member_id is None:
            return [], None
        query = query.where(
            Space.id.in_(
                select(SpaceMember.space_id).where(
                    SpaceMember.member_id == viewer.member_id, SpaceMember.status == "active"
                )
            )
        )
    after = id_after(cursor)
    if after is not None:
        query = query.where(Space.id > after)
    spaces = list((await session.scalars(query.order_by(Space.id).limit(limit + 1))).all())
    next_cursor = id_cursor(spaces[limit - 1].id) if len(spaces) > limit else None
    spaces = spaces[:limit]
    memberships: dict[uuid.UUID, SpaceMember] = {}
    if viewer.member_id is not None and spaces:
        rows = await session.scalars(
            select(SpaceMember).where(
                SpaceMember.member_id == viewer.member_id,
                SpaceMember.space_id.in_([s.id for s in spaces]),
            )
        )
        memberships = {m.space_id: m for m in rows}
    views = []
    for space in spaces:
        membership = memberships.get(space.id)
        views.append(
            SpaceView(
                space=space,
                my_role=membership.role if membership and membership.status == "active" else None,
                my_status=membership.status if membership else None,
                can_read=_can_read(space, membership, viewer),
                can_write=_can_write(space, membership, viewer),
            )
        )
    return views, next_cursor


async def join_space(
    session: AsyncSession,
    clock: Clock,
    ref: str,
    viewer: Viewer,
    *,
    invite_code: str | None = None,
    has_delivered_order: bool = False,
) -> SpaceMember:
    """Join a space by its policy: at once (open), with the code (invite), after a delivered
    order or with a pending request that a moderator approves (verified)."""
    assert viewer.member_id is not None
    space = await find_space(session, ref)
    membership = await _membership(session, space.id, viewer.member_id)
    if membership is not None:
        if membership.status == "banned":
            raise BannedFromSpace()
        if membership.status in ("active", "pending"):
            return membership
    status = "active"
    if space.join_policy == "invite":
        if not invite_code or invite_code != space.invite_code:
            raise InviteCodeRequired()
    elif space.join_policy == "verified":
        if space.verification == "delivered_order":
            if not has_delivered_order:
                raise VerificationRequired()
        else:
            status = "pending"
    now = clock.now()
    if membership is None:
        membership = SpaceMember(
            space_id=space.id,
            member_id=viewer.member_id,
            role="member",
            status=status,
            created_at=now,
            updated_at=now,
        )
        session.add(membership)
    else:
        membership.status, membership.role, membership.updated_at = status, "member", now
    if status == "active":
        await _count_members(session, space.id, +1)
    await session.flush()
    return membership


async def grant_membership(
    session: AsyncSession, clock: Clock, space_id: uuid.UUID, member_id: uuid.UUID, *, on: bool
) -> None:
    """Let a member into a space or out of it on another domain's decision (a creator's paid
    subscribers), whatever its join policy; a ban stays a ban, the owner stays."""
    now = clock.now()
    membership = await session.scalar(
        select(SpaceMember)
        .where(SpaceMember.space_id == space_id, SpaceMember.member_id == member_id)
        .with_for_update()
    )
    if membership is None:
        if not on:
            return
        session.add(
            SpaceMember(
                space_id=space_id,
                member_id=member_id,
                role="member",
                status="active",
                created_at=now,
                updated_at=now,
            )
        )
        await _count_members(session, space_id, +1)
        return
    if membership.status == "banned" or membership.role == "owner":
        return
    was_active = membership.status == "active"
    membership.status, membership.updated_at = ("active" if on else "left"), now
    delta = on - was_active
    if delta:
        await _count_members(session, space_id, delta)


async def _count_members(session: AsyncSession, space_id: uuid.UUID, delta: int) -> None:
    await session.execute(
        update(Space)
        .where(Space.id == space_id)
        .values(member_count=Space.member_count + delta)
        .execution_options(synchronize_session=False)
    )


async def leave_space(session: AsyncSession, clock: Clock, ref: str, viewer: Viewer) -> None:
    space = await find_space(session, ref)
    membership = await _membership(session, space.id, viewer.member_id)
    if membership is None or membership.status not in ("active", "pending"):
        return
    if membership.role == "owner":
        raise Forbidden("The owner cannot leave the space; hand it over first.")
    if membership.status == "active":
        await _count_members(session, space.id, -1)
    membership.status, membership.updated_at = "left", clock.now()


async def _moderated_member(
    session: AsyncSession, ref: str, viewer: Viewer, member_id: uuid.UUID
) -> tuple[Space, SpaceMember]:
    space = await find_space(session, ref)
    if not has_moderator_role(await _membership(session, space.id, viewer.member_id), viewer):
        raise Forbidden("Only moderators of the space can do that.")
    target = await _membership(session, space.id, member_id)
    if target is None:
        raise NotFound("This member has no membership in the space.")
    if target.role == "owner" and not viewer.staff:
        raise Forbidden("The owner of the space cannot be moderated.")
    return space, target


async def moderate_member(
    session: AsyncSession,
    clock: Clock,
    ref: str,
    viewer: Viewer,
    member_id: uuid.UUID,
    *,
    action: str,
    reason: str | None = None,
    minutes: int | None = None,
    role: str | None = None,
    ip: str | None = None,
) -> SpaceMember:
    """approve or reject (a pending request; a rejected member may ask again), ban, unban,
    mute (for `minutes`), unmute, or set_role (owner only). Audited."""
    space, target = await _moderated_member(session, ref, viewer, member_id)
    now = clock.now()
    before = {"status": target.status, "role": target.role}
    was_active = target.status == "active"
    if action == "approve":
        if target.status != "pending":
            raise InvalidInput("Only a pending request can be approved.")
        target.status = "active"
    elif action == "reject":
        if target.status != "pending":
            raise InvalidInput("Only a pending request can be rejected.")
        target.status = "left"
    elif action == "ban":
        target.status, target.ban_reason = "banned", reason
    elif action == "unban":
        if target.status != "banned":
            raise InvalidInput("This member is not banned.")
        target.status, target.ban_reason = "left", None
    elif action == "mute":
        target.muted_until = now + timedelta(minutes=minutes or 60)
    elif action == "unmute":
        target.muted_until = None
    elif action == "set_role":
        owner = await _membership(session, space.id, viewer.member_id)
        if not viewer.staff and (owner is None or owner.role != "owner"):
            raise Forbidden("Only the owner can change roles.")
        if role not in ("moderator", "member") or target.status != "active":
            raise InvalidInput("role must be moderator or member, for an active member.")
        target.role = role
    else:
        raise InvalidInput("Unknown moderation action.")
    delta = (target.status == "active") - was_active
    if delta:
        await _count_members(session, space.id, delta)
    target.updated_at = now
    record_audit(
        session,
        clock,
        actor_id=viewer.member_id,
        action=f"community.member.{action}",
        target_type="space_member",
        target_id=target.id,
        before=before,
        after={
            "status": target.status,
            "role": target.role,
            "reason": reason,
            "muted_until": target.muted_until.isoformat() if target.muted_until else None,
        },
        ip=ip,
    )
    return target


async def list_space_members(
    session: AsyncSession,
    ref: str,
    viewer: Viewer,
    *,
    status: str = "active",
    limit: int,
    cursor: str | None,
) -> tuple[list[tuple[SpaceMember, str]], str | None]:
    """Members of a space with their nicknames; pending and banned lists for moderators."""
    space = await find_space(session, ref)
    membership = await check_read(session, space, viewer)
    if status != "active" and not has_moderator_role(membership, viewer):
        raise Forbidden("Only moderators can see pending and banned members.")
    query = select(SpaceMember).where(
        SpaceMember.space_id == space.id, SpaceMember.status == status
    )
    after = id_after(cursor)
    if after is not None:
        query = query.where(SpaceMember.id > after)
    rows = list((await session.scalars(query.order_by(SpaceMember.id).limit(limit + 1))).all())
    next_cursor = id_cursor(rows[limit - 1].id) if len(rows) > limit else None
    rows = rows[:limit]
    names = await accounts.member_briefs(session, [r.member_id for r in rows])
    return [
        (r, names[r.member_id].nickname if r.member_id in names else "") for r in rows
    ], next_cursor


# ---- boards ---------------------------------------------------------------------------------


async def create_board(
    session: AsyncSession,
    clock: Clock,
    ref: str,
    viewer: Viewer,
    *,
    slug: str,
    name: str,
    description: str = "",
    anonymous: bool = False,
) -> Board:
    space = await find_space(session, ref)
    if not has_moderator_role(await _membership(session, space.id, viewer.member_id), viewer):
        raise Forbidden("Only moderators of the space can add boards.")
    last = await session.scalar(select(func.max(Board.position)).where(Board.space_id == space.id))
    board = Board(
        space_id=space.id,
        slug=slug,
        name=name,
        description=description,
        anonymous=anonymous,
        position=(last or 0) + 1,
        created_at=clock.now(),
    )
    session.add(board)
    await flush_unique(session, BoardSlugTaken)
    return board


async def update_board(
    session: AsyncSession, ref: str, board_slug: str, viewer: Viewer, changes: dict[str, Any]
) -> Board:
    space = await find_space(session, ref)
    if not has_moderator_role(await _membership(session, space.id, viewer.member_id), viewer):
        raise Forbidden("Only moderators of the space can change boards.")
    board = await _board(session, space, board_slug)
    for key in ("name", "description", "anonymous", "position", "status"):
        if key in changes and changes[key] is not None:
            setattr(board, key, changes[key])
    return board


async def _board(session: AsyncSession, space: Space, slug: str) -> Board:
    board = await session.scalar(
        select(Board).where(Board.space_id == space.id, Board.slug == slug)
    )
    if board is None:
        raise NotFound("The board does not exist.")
    return board


async def list_boards(session: AsyncSession, ref: str, viewer: Viewer) -> list[Board]:
    space = await find_space(session, ref)
    await check_read(session, space, viewer)
    return list(
        (
            await session.scalars(
                select(Board)
                .where(Board.space_id == space.id, Board.status == "active")
                .order_by(Board.position, Board.id)
            )
        ).all()
    )


# ---- activity: limits and points ------------------------------------------------------------


async def count_activity(
    session: AsyncSession, clock: Clock, member_id: uuid.UUID, action: str
) -> ActivityCount:
    """Today's (Seoul) counter of an action, locked for this transaction."""
    day = to_seoul(clock.now()).date().isoformat()
    query = select(ActivityCount).where(
        ActivityCount.member_id == member_id,
        ActivityCount.day == day,
        ActivityCount.action == action,
    )
    counter = await session.scalar(query.with_for_update())
    if counter is None:
        counter = ActivityCount(member_id=member_id, day=day, action=action, count=0, points=0)
        if not await insert_if_new(session, counter):
            counter = (await session.scalars(query.with_for_update())).one()
    return counter


async def _take_allowance(
    session: AsyncSession,
    clock: Clock,
    member_id: uuid.UUID,
    action: str,
    rules: ActivityRules,
    *,
    staff: bool,
) -> ActivityCount:
    """Count one more post or comment today, refusing past the day's limit of the member's
    trust level (lower for new members until they have read around, as on Discourse)."""
    counter = await count_activity(session, clock, member_id, action)
    if not staff:
        level = await trust_levels.level_of(session, member_id, rules)
        limit = rules.posts_limit(level) if action == "post" else rules.comments_limit(level)
        if counter.count >= limit:
            raise PostingLimitReached(limit=limit)
    counter.count += 1
    return counter


async def reward(
    session: AsyncSession,
    clock: Clock,
    counter: ActivityCount,
    *,
    points: int,
    cap: int,
    reason: str,
    reference: str,
) -> int:
    """Activity points through the wallet, within the member's daily cap; the points given."""
    given = max(0, min(points, cap - counter.points))
    if given:
        counter.points += given
        await accounts.credit_points(
            session,
            clock,
            member_id=counter.member_id,
            amount=given,
            reason=reason,
            reference=reference,
        )
    return given


# ---- posts ----------------------------------------------------------------------------------


async def _index_hashtags(
    session: AsyncSession, post: Post, tags: Sequence[str], now: datetime
) -> None:
    await session.execute(delete(PostHashtag).where(PostHashtag.post_id == post.id))
    for tag in tags:
        session.add(PostHashtag(tag=tag, post_id=post.id, created_at=now))


async def create_post(
    session: AsyncSession,
    clock: Clock,
    ref: str,
    board_slug: str,
    viewer: Viewer,
    *,
    title: str,
    body: str,
    rules: ActivityRules,
    kind: str = "text",
    points: int | None = None,
) -> Post:
    """A post on a board; hashtags are read from the title and body. The kinds with more to
    them (question, poll, snap, review) add their own rows to the post made here; `points`
    overrides the activity points of a plain post."""
    assert viewer.member_id is not None
    space = await find_space(session, ref)
    board = await _board(session, space, board_slug)
    if board.status != "active":
        raise NotFound("The board does not exist.")
    await check_write(session, clock, space, viewer)
    counter = await _take_allowance(
        session, clock, viewer.member_id, "post", rules, staff=viewer.staff
    )
    now = clock.now()
    tags = hashtags_in(f"{title} {body}")
    post = Post(
        space_id=space.id,
        board_id=board.id,
        author_id=viewer.member_id,
        kind=kind,
        title=title,
        body=body,
        hashtags=tags,
        created_at=now,
        updated_at=now,
    )
    session.add(post)
    await session.flush()
    await _index_hashtags(session, post, tags, now)
    await search.index_post(session, post)
    if board.anonymous:
        session.add(ThreadAlias(post_id=post.id, member_id=viewer.member_id, number=0))
    if not board.anonymous:  # a mention would give the anonymous author away
        await notifications.notify_mentions(
            session, clock, f"{title} {body}", actor_id=viewer.member_id, post_id=post.id
        )
    await reward(
        session,
        clock,
        counter,
        points=rules.post_points if points is None else points,
        cap=rules.daily_points_cap,
        reason="커뮤니티 글 작성",
        reference=f"community-post:{post.id}",
    )
    await session.flush()
    return post


async def _post(session: AsyncSession, post_id: uuid.UUID) -> tuple[Post, Space, Board]:
    row = (
        await session.execute(
            select(Post, Space, Board)
            .join(Space, Space.id == Post.space_id)
            .join(Board, Board.id == Post.board_id)
            .where(Post.id == post_id)
        )
    ).first()
    if row is None or row[0].status == "deleted":
        raise NotFound("The post does not exist.")
    return row[0], row[1], row[2]


async def blocked_ids(session: AsyncSession, member_id: uuid.UUID | None) -> set[uuid.UUID]:
    """Members whose content `member_id` does not see: those they blocked."""
    if member_id is None:
        return set()
    rows = await session.scalars(select(Block.blocked_id).where(Block.blocker_id == member_id))
    return set(rows.all())


def not_blocked(author: Any, member_id: uuid.UUID) -> Any:
    """`author` is not someone `member_id` blocked (whose content is hidden from them); NOT
    EXISTS, which the planner turns into an anti-join, where NOT IN would not be."""
    return ~exists().where(Block.blocker_id == member_id, Block.blocked_id == author)


async def _blocks(session: AsyncSession, blocker_id: uuid.UUID, blocked_id: uuid.UUID) -> bool:
    return (
        await session.scalar(
            select(Block.id).where(Block.blocker_id == blocker_id, Block.blocked_id == blocked_id)
        )
    ) is not None


async def _authors(
    session: AsyncSession,
    viewer: Viewer,
    items: Sequence[tuple[uuid.UUID, uuid.UUID, bool]],
) -> dict[tuple[uuid.UUID, uuid.UUID], Author]:
    """(post, member, anonymous board) → how the member appears in that thread."""
    names = await accounts.nicknames(session, [member for _, member, _ in items])
    anonymous_posts = {post for post, _, anonymous in items if anonymous}
    aliases: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
    if anonymous_posts:
        rows = await session.execute(
            select(ThreadAlias.post_id, ThreadAlias.member_id, ThreadAlias.number).where(
                ThreadAlias.post_id.in_(anonymous_posts)
            )
        )
        aliases = {(p, m): n for p, m, n in rows}
    authors = {}
    for post_id, member_id, anonymous in items:
        if anonymous:
            number = aliases.get((post_id, member_id))
            name = "글쓴이" if number == 0 else f"익명{number}"
            authors[post_id, member_id] = Author(
                member_id=member_id if viewer.staff else None, name=name, anonymous=True
            )
        else:
            authors[post_id, member_id] = Author(
                member_id=member_id, name=names.get(member_id, ""), anonymous=False
            )
    return authors


async def post_views(
    session: AsyncSession, viewer: Viewer, rows: Sequence[tuple[Post, Space, Board]]
) -> list[PostView]:
    if not rows:
        return []
    ids = [post.id for post, _, _ in rows]
    authors = await _authors(
        session, viewer, [(post.id, post.author_id, board.anonymous) for post, _, board in rows]
    )
    counts: dict[uuid.UUID, dict[str, int]] = {}
    mine: dict[uuid.UUID, list[str]] = {}
    # the counts and the viewer's own reactions in one pass
    own = func.sum(case((Reaction.member_id == viewer.member_id, 1), else_=0))
    for target_id, kind, n, by_me in await session.execute(
        select(Reaction.target_id, Reaction.kind, func.count(), own)
        .where(Reaction.target_type == "post", Reaction.target_id.in_(ids))
        .group_by(Reaction.target_id, Reaction.kind)
    ):
        counts.setdefault(target_id, {})[kind] = n
        if by_me:
            mine.setdefault(target_id, []).append(kind)
    bookmarked: set[uuid.UUID] = set()
    if viewer.member_id is not None:
        bookmarked = set(
            (
                await session.scalars(
                    select(Bookmark.post_id).where(
                        Bookmark.member_id == viewer.member_id, Bookmark.post_id.in_(ids)
                    )
                )
            ).all()
        )
    return [
        PostView(
            post=post,
            space=space,
            board=board,
            author=authors[post.id, post.author_id],
            my_reactions=sorted(mine.get(post.id, [])),
            bookmarked=post.id in bookmarked,
            reactions=counts.get(post.id, {}),
        )
        for post, space, board in rows
    ]


async def readable_post(
    session: AsyncSession, post_id: uuid.UUID, viewer: Viewer
) -> tuple[Post, Space, Board]:
    """A post (not deleted) with its space and board, after checking the viewer may read it."""
    post, space, board = await _post(session, post_id)
    await check_read(session, space, viewer)
    return post, space, board


async def products_of_post(
    session: AsyncSession, post_id: uuid.UUID, viewer: Viewer
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """The author of a post the viewer may read and the products it leads to: tagged on a snap's
    photos, reviewed, asked about, or offered in a poll (for crediting sales to the author)."""
    post, _space, _board = await readable_post(session, post_id, viewer)
    found: list[uuid.UUID] = []
    for query in (
        select(ProductTag.product_id).where(ProductTag.post_id == post_id),
        select(Review.product_id).where(Review.post_id == post_id),
        select(Question.product_id).where(Question.post_id == post_id),
        select(PollOption.product_id).where(PollOption.post_id == post_id),
    ):
        found.extend(p for p in (await session.scalars(query)).all() if p is not None)
    return post.author_id, list(dict.fromkeys(found))


async def author_of(
    session: AsyncSession, target_type: str, target_id: uuid.UUID, viewer: Viewer
) -> tuple[uuid.UUID, uuid.UUID]:
    """(post id, author id) of a published post or comment the viewer may read: for tipping."""
    if target_type == "post":
        post, _space, _board = await readable_post(session, target_id, viewer)
        author = post.author_id
    else:
        comment, post, space = await _comment(session, target_id)
        await check_read(session, space, viewer)
        if comment.status != "published":
            raise NotFound("The comment does not exist.")
        author = comment.author_id
    if post.status != "published":
        raise NotFound("The post does not exist.")
    return post.id, author


@dataclass(frozen=True)
class ActivityStats:
    """What a member did in the community since a moment: for creator promotion."""

    posts: int = 0
    snaps: int = 0
    accepted_answers: int = 0
    likes_received: int = 0
    followers_gained: int = 0


async def activity_since(
    session: AsyncSession, member_ids: Sequence[uuid.UUID], since: datetime
) -> dict[uuid.UUID, ActivityStats]:
    """Each member's published posts and snaps, accepted answers, likes from others on their
    posts and new followers since `since` (members with none are left out)."""
    if not member_ids:
        return {}
    ids = list(member_ids)
    counts: dict[uuid.UUID, dict[str, int]] = {}

    def add(rows: Any, name: str) -> None:
        for member_id, n in rows:
            counts.setdefault(member_id, {})[name] = counts.get(member_id, {}).get(name, 0) + n

    published = (Post.author_id.in_(ids), Post.status == "published", Post.created_at >= since)
    add(
        await session.execute(
            select(Post.author_id, func.count())
            .where(*published, Post.kind != "snap")
            .group_by(Post.author_id)
        ),
        "posts",
    )
    add(
        await session.execute(
            select(Post.author_id, func.count())
            .where(*published, Post.kind == "snap")
            .group_by(Post.author_id)
        ),
        "snaps",
    )
    add(
        await session.execute(
            select(Question.answerer_id, func.count())
            .where(
                Question.answerer_id.in_(ids),
                Question.status == "accepted",
                Question.resolved_at >= since,
            )
            .group_by(Question.answerer_id)
        ),
        "accepted_answers",
    )
    add(
        await session.execute(
            select(Post.author_id, func.count())
            .select_from(Reaction)
            .join(Post, Post.id == Reaction.target_id)
            .where(
                Reaction.target_type == "post",
                Reaction.kind == RANKED_REACTION,
                Reaction.created_at >= since,
                Reaction.member_id != Post.author_id,
                Post.author_id.in_(ids),
            )
            .group_by(Post.author_id)
        ),
        "likes_received",
    )
    add(
        await session.execute(
            select(Follow.target_id, func.count())
            .where(
                Follow.target_type == "member",
                Follow.target_id.in_(ids),
                Follow.created_at >= since,
            )
            .group_by(Follow.target_id)
        ),
        "followers_gained",
    )
    return {member_id: ActivityStats(**values) for member_id, values in counts.items()}


async def active_authors(session: AsyncSession, since: datetime) -> list[uuid.UUID]:
    """Members who published a post since `since`."""
    query = (
        select(Post.author_id)
        .where(Post.status == "published", Post.created_at >= since)
        .distinct()
    )
    return list((await session.scalars(query)).all())


async def followers_after(
    session: AsyncSession, member_id: uuid.UUID, after: uuid.UUID | None, limit: int
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(follow id, follower id) of a member's followers in follow order, after `after`: for
    fanning a notice out in batches."""
    query = select(Follow.id, Follow.follower_id).where(
        Follow.target_type == "member", Follow.target_id == member_id
    )
    if after is not None:
        query = query.where(Follow.id > after)
    rows = await session.execute(query.order_by(Follow.id).limit(limit))
    return [(follow_id, follower_id) for follow_id, follower_id in rows]


async def follower_count(session: AsyncSession, member_id: uuid.UUID) -> int:
    return (await follow_counts(session, member_id))[0]


async def is_moderator(session: AsyncSession, space: Space, viewer: Viewer) -> bool:
    return has_moderator_role(await _membership(session, space.id, viewer.member_id), viewer)


async def get_post(session: AsyncSession, post_id: uuid.UUID, viewer: Viewer) -> PostView:
    post, space, board = await _post(session, post_id)
    await check_read(session, space, viewer)
    return (await post_views(session, viewer, [(post, space, board)]))[0]


async def real_author(
    session: AsyncSession,
    clock: Clock,
    post_id: uuid.UUID,
    viewer: Viewer,
    *,
    comment_id: uuid.UUID | None = None,
    reason: str,
    ip: str | None = None,
) -> uuid.UUID:
    """Who wrote an anonymous post or comment, for staff handling abuse; every look is audited."""
    if not viewer.staff:
        raise Forbidden()
    post, _, _ = await _post(session, post_id)
    author_id = post.author_id
    if comment_id is not None:
        comment = await session.get(Comment, comment_id)
        if comment is None or comment.post_id != post.id:
            raise NotFound("The comment does not exist.")
        author_id = comment.author_id
    record_audit(
        session,
        clock,
        actor_id=viewer.member_id,
        action="community.anonymous.reveal",
        target_type="comment" if comment_id else "post",
        target_id=comment_id or post_id,
        after={"author_id": str(author_id), "reason": reason},
        ip=ip,
    )
    return author_id


async def edit_post(
    session: AsyncSession,
    clock: Clock,
    post_id: uuid.UUID,
    viewer: Viewer,
    *,
    title: str | None,
    body: str | None,
    keeps_history: bool = False,
) -> Post:
    post, space, _ = await _post(session, post_id)
    if post.author_id != viewer.member_id:
        raise Forbidden("Only the author can edit this post.")
    if post.status != "published":
        raise Forbidden("A removed post cannot be edited.")
    if post.kind == "review" and not keeps_history:
        # a review's edits keep their history: they go through the reviews module
        raise InvalidInput("A review is edited through /api/v1/reviews/{id}.")
    await check_write(session, clock, space, viewer)
    if title is not None:
        post.title = title
    if body is not None:
        post.body = body
    now = clock.now()
    post.hashtags = hashtags_in(f"{post.title} {post.body}")
    await _index_hashtags(session, post, post.hashtags, post.created_at)
    post.edited_at = post.updated_at = now
    await search.index_post(session, post)
    return post


async def delete_post(
    session: AsyncSession, clock: Clock, post_id: uuid.UUID, viewer: Viewer
) -> None:
    post, _, _ = await _post(session, post_id)
    if post.author_id != viewer.member_id:
        raise Forbidden("Only the author can delete this post.")
    post.status, post.updated_at = "deleted", clock.now()
    await session.execute(delete(PostHashtag).where(PostHashtag.post_id == post.id))
    await search.index_post(session, post)


async def remove_post(
    session: AsyncSession,
    clock: Clock,
    post_id: uuid.UUID,
    viewer: Viewer,
    *,
    reason: str,
    ip: str | None = None,
) -> Post:
    """A moderator takes a post down for a policy violation; the reason stays visible."""
    post, space, _ = await _post(session, post_id)
    if not has_moderator_role(await _membership(session, space.id, viewer.member_id), viewer):
        raise Forbidden("Only moderators of the space can remove posts.")
    post.status, post.removed_reason, post.updated_at = "removed", reason, clock.now()
    await search.index_post(session, post)
    record_audit(
        session,
        clock,
        actor_id=viewer.member_id,
        action="community.post.remove",
        target_type="post",
        target_id=post.id,
        after={"reason": reason},
        ip=ip,
    )
    return post


# ---- comments -------------------------------------------------------------------------------


async def _alias_for(session: AsyncSession, post: Post, member_id: uuid.UUID) -> None:
    """Give a member their number in an anonymous thread the first time they comment."""
    existing = await session.scalar(
        select(ThreadAlias.id).where(
            ThreadAlias.post_id == post.id, ThreadAlias.member_id == member_id
        )
    )
    if existing is not None:
        return
    for _ in range(5):
        last = await session.scalar(
            select(func.max(ThreadAlias.number)).where(ThreadAlias.post_id == post.id)
        )
        alias = ThreadAlias(post_id=post.id, member_id=member_id, number=(last or 0) + 1)
        if await insert_if_new(session, alias):
            return
        # someone took that number at the same moment: take the next
    raise RuntimeError("could not number the thread alias")


async def save_comment(
    session: AsyncSession,
    clock: Clock,
    post: Post,
    *,
    author_id: uuid.UUID,
    body: str,
    parent_id: uuid.UUID | None = None,
    official: bool = False,
) -> Comment:
    """Store a comment and count it on its post; the caller has checked who may write it."""
    comment = Comment(
        post_id=post.id,
        parent_id=parent_id,
        author_id=author_id,
        body=body,
        official=official,
        created_at=clock.now(),
    )
    session.add(comment)
    await session.execute(
        update(Post)
        .where(Post.id == post.id)
        .values(comment_count=Post.comment_count + 1)
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    await search.index_post(session, post)
    return comment


async def add_comment(
    session: AsyncSession,
    clock: Clock,
    post_id: uuid.UUID,
    viewer: Viewer,
    *,
    body: str,
    parent_id: uuid.UUID | None,
    rules: ActivityRules,
) -> Comment:
    assert viewer.member_id is not None
    post, space, board = await _post(session, post_id)
    if post.status != "published":
        raise Forbidden("Comments are closed on a removed post.")
    await check_read(session, space, viewer)
    await check_write(session, clock, space, viewer)
    replied_to = post.author_id
    if parent_id is not None:
        parent = await session.get(Comment, parent_id)
        if parent is None or parent.post_id != post.id or parent.status == "deleted":
            raise NotFound("The comment does not exist.")
        if parent.parent_id is not None:
            raise ReplyTooDeep()
        replied_to = parent.author_id
    if replied_to != viewer.member_id and await _blocks(session, replied_to, viewer.member_id):
        raise BlockedByMember()
    await _take_allowance(session, clock, viewer.member_id, "comment", rules, staff=viewer.staff)
    if board.anonymous and viewer.member_id != post.author_id:
        await _alias_for(session, post, viewer.member_id)
    comment = await save_comment(
        session, clock, post, author_id=viewer.member_id, body=body, parent_id=parent_id
    )
    await notifications.notify(
        session,
        clock,
        member_id=replied_to,
        kind="reply" if parent_id else "comment",
        actor_id=viewer.member_id,
        post_id=post.id,
        comment_id=comment.id,
        data={"anonymous": board.anonymous},
    )
    if not board.anonymous:
        await notifications.notify_mentions(
            session,
            clock,
            body,
            actor_id=viewer.member_id,
            post_id=post.id,
            comment_id=comment.id,
            skip=[replied_to],
        )
    return comment


async def list_comments(
    session: AsyncSession,
    post_id: uuid.UUID,
    viewer: Viewer,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[CommentView], str | None]:
    """Comments in the order written (a reply follows its thread by `parent_id`), without
    those of members the viewer blocked."""
    post, space, board = await _post(session, post_id)
    await check_read(session, space, viewer)
    query = select(Comment).where(Comment.post_id == post.id, Comment.status != "deleted")
    if viewer.member_id is not None:
        query = query.where(not_blocked(Comment.author_id, viewer.member_id))
    after = id_after(cursor)
    if after is not None:
        query = query.where(Comment.id > after)
    rows = list((await session.scalars(query.order_by(Comment.id).limit(limit + 1))).all())
    next_cursor = id_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return await _comment_views(session, viewer, post, board, rows[:limit]), next_cursor


async def _comment_views(
    session: AsyncSession, viewer: Viewer, post: Post, board: Board, rows: Sequence[Comment]
) -> list[CommentView]:
    authors = await _authors(
        session, viewer, [(post.id, c.author_id, board.anonymous) for c in rows]
    )
    mine: dict[uuid.UUID, list[str]] = {}
    if viewer.member_id is not None and rows:
        for target_id, kind in await session.execute(
            select(Reaction.target_id, Reaction.kind).where(
                Reaction.target_type == "comment",
                Reaction.target_id.in_([c.id for c in rows]),
                Reaction.member_id == viewer.member_id,
            )
        ):
            mine.setdefault(target_id, []).append(kind)
    return [
        CommentView(
            comment=c, author=authors[post.id, c.author_id], my_reactions=mine.get(c.id, [])
        )
        for c in rows
    ]


async def get_comment(session: AsyncSession, comment_id: uuid.UUID, viewer: Viewer) -> CommentView:
    comment = await session.get(Comment, comment_id)
    if comment is None or comment.status == "deleted":
        raise NotFound("The comment does not exist.")
    post, space, board = await _post(session, comment.post_id)
    await check_read(session, space, viewer)
    return (await _comment_views(session, viewer, post, board, [comment]))[0]


async def _comment(session: AsyncSession, comment_id: uuid.UUID) -> tuple[Comment, Post, Space]:
    comment = await session.get(Comment, comment_id)
    if comment is None or comment.status == "deleted":
        raise NotFound("The comment does not exist.")
    post, space, _ = await _post(session, comment.post_id)
    return comment, post, space


async def edit_comment(
    session: AsyncSession, clock: Clock, comment_id: uuid.UUID, viewer: Viewer, *, body: str
) -> Comment:
    comment, _, space = await _comment(session, comment_id)
    if comment.author_id != viewer.member_id or comment.status != "published":
        raise Forbidden("Only the author can edit this comment.")
    await check_write(session, clock, space, viewer)
    comment.body, comment.edited_at = body, clock.now()
    await search.index_post_by_id(session, comment.post_id)
    return comment


async def delete_comment(
    session: AsyncSession,
    clock: Clock,
    comment_id: uuid.UUID,
    viewer: Viewer,
    *,
    reason: str | None = None,
    ip: str | None = None,
) -> None:
    """The author deletes their comment, or a moderator removes it with a reason."""
    comment, post, space = await _comment(session, comment_id)
    if comment.author_id == viewer.member_id:
        comment.status = "deleted"
    elif has_moderator_role(await _membership(session, space.id, viewer.member_id), viewer):
        comment.status, comment.removed_reason = "removed", reason or "운영 정책 위반"
        record_audit(
            session,
            clock,
            actor_id=viewer.member_id,
            action="community.comment.remove",
            target_type="comment",
            target_id=comment.id,
            after={"reason": comment.removed_reason},
            ip=ip,
        )
    else:
        raise Forbidden("Only the author or a moderator can delete this comment.")
    await session.execute(
        update(Post)
        .where(Post.id == post.id)
        .values(comment_count=Post.comment_count - 1)
        .execution_options(synchronize_session=False)
    )
    await search.index_post(session, post)


# ---- reactions and bookmarks ----------------------------------------------------------------


async def _readable_target(
    session: AsyncSession, target_type: str, target_id: uuid.UUID, viewer: Viewer
) -> Post:
    if target_type == "post":
        post, space, _ = await _post(session, target_id)
    else:
        _, post, space = await _comment(session, target_id)
    await check_read(session, space, viewer)
    return post


async def react(
    session: AsyncSession,
    clock: Clock,
    target_type: str,
    target_id: uuid.UUID,
    viewer: Viewer,
    kind: str,
    *,
    on: bool,
) -> bool:
    """Add (on) or take back a reaction; True when something changed. Repeats are no-ops."""
    assert viewer.member_id is not None
    if kind not in REACTIONS:
        raise InvalidInput(f"kind must be one of {', '.join(REACTIONS)}.")
    await _readable_target(session, target_type, target_id, viewer)
    model = Post if target_type == "post" else Comment
    if on:
        reaction = Reaction(
            target_type=target_type,
            target_id=target_id,
            member_id=viewer.member_id,
            kind=kind,
            created_at=clock.now(),
        )
        if not await insert_if_new(session, reaction):
            return False
        delta = 1
    else:
        result = await session.execute(
            delete(Reaction).where(
                Reaction.target_type == target_type,
                Reaction.target_id == target_id,
                Reaction.member_id == viewer.member_id,
                Reaction.kind == kind,
            )
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            return False
        delta = -1
    values: dict[str, Any] = {}
    if kind == RANKED_REACTION:
        values["like_count"] = model.like_count + delta
    if model is Post:
        values["reaction_count"] = Post.reaction_count + delta
    if values:
        await session.execute(
            update(model)
            .where(model.id == target_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    return True


async def set_bookmark(
    session: AsyncSession, clock: Clock, post_id: uuid.UUID, viewer: Viewer, *, on: bool
) -> None:
    assert viewer.member_id is not None
    await _readable_target(session, "post", post_id, viewer)
    if on:
        # bookmarked already when it is not new
        await insert_if_new(
            session, Bookmark(member_id=viewer.member_id, post_id=post_id, created_at=clock.now())
        )
    else:
        await session.execute(
            delete(Bookmark).where(
                Bookmark.member_id == viewer.member_id, Bookmark.post_id == post_id
            )
        )


# ---- follows and blocks ---------------------------------------------------------------------


async def follow(
    session: AsyncSession,
    clock: Clock,
    viewer: Viewer,
    target_type: str,
    target_id: uuid.UUID,
    *,
    on: bool,
) -> None:
    assert viewer.member_id is not None
    if target_type == "member":
        if target_id == viewer.member_id:
            raise CannotFollowSelf()
        if await accounts.get_member_brief(session, target_id) is None:
            raise NotFound("The member does not exist.")
    else:
        await catalog.find_brand(session, str(target_id))  # NotFound for an unknown brand
    if on:
        follow_row = Follow(
            follower_id=viewer.member_id,
            target_type=target_type,
            target_id=target_id,
            created_at=clock.now(),
        )
        if not await insert_if_new(session, follow_row):
            return  # following already
        if target_type == "member":
            await notifications.notify(
                session, clock, member_id=target_id, kind="follow", actor_id=viewer.member_id
            )
    else:
        await session.execute(
            delete(Follow).where(
                Follow.follower_id == viewer.member_id,
                Follow.target_type == target_type,
                Follow.target_id == target_id,
            )
        )


async def follow_list(
    session: AsyncSession,
    member_id: uuid.UUID,
    *,
    direction: str,
    limit: int,
    cursor: str | None,
) -> tuple[list[tuple[uuid.UUID, str]], str | None]:
    """A member's followers or the members they follow: (member id, nickname), newest first."""
    if await accounts.get_member_brief(session, member_id) is None:
        raise NotFound("The member does not exist.")
    if direction == "followers":
        query = select(Follow.id, Follow.follower_id).where(
            Follow.target_type == "member", Follow.target_id == member_id
        )
    else:
        query = select(Follow.id, Follow.target_id).where(
            Follow.follower_id == member_id, Follow.target_type == "member"
        )
    after = id_after(cursor)
    if after is not None:
        query = query.where(Follow.id < after)
    rows = list((await session.execute(query.order_by(Follow.id.desc()).limit(limit + 1))).all())
    next_cursor = id_cursor(rows[limit - 1][0]) if len(rows) > limit else None
    rows = rows[:limit]
    names = await accounts.member_briefs(session, [r[1] for r in rows])
    return [(r[1], names[r[1]].nickname) for r in rows if r[1] in names], next_cursor


async def brand_follow_state(
    session: AsyncSession, brand_id: uuid.UUID, viewer: Viewer
) -> tuple[int, bool]:
    """How many members follow a brand, and whether the viewer does."""
    await catalog.find_brand(session, str(brand_id))
    count = await session.scalar(
        select(func.count())
        .select_from(Follow)
        .where(Follow.target_type == "brand", Follow.target_id == brand_id)
    )
    following = viewer.member_id is not None and bool(
        await session.scalar(
            select(Follow.id).where(
                Follow.follower_id == viewer.member_id,
                Follow.target_type == "brand",
                Follow.target_id == brand_id,
            )
        )
    )
    return count or 0, following


async def followed_brands(
    session: AsyncSession, member_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[tuple[uuid.UUID, str, str]], str | None]:
    """The brands a member follows (id, slug, name), most recently followed first; a brand
    archived since is left out."""
    query = select(Follow.id, Follow.target_id).where(
        Follow.follower_id == member_id, Follow.target_type == "brand"
    )
    after = id_after(cursor)
    if after is not None:
        query = query.where(Follow.id < after)
    rows = list((await session.execute(query.order_by(Follow.id.desc()).limit(limit + 1))).all())
    next_cursor = id_cursor(rows[limit - 1][0]) if len(rows) > limit else None
    brands = []
    for _follow_id, brand_id in rows[:limit]:
        try:
            brand = await catalog.find_brand(session, str(brand_id))
        except NotFound:
            continue
        brands.append((brand.id, brand.slug, brand.name))
    return brands, next_cursor


async def follow_counts(session: AsyncSession, member_id: uuid.UUID) -> tuple[int, int]:
    followers = await session.scalar(
        select(func.count())
        .select_from(Follow)
        .where(Follow.target_type == "member", Follow.target_id == member_id)
    )
    following = await session.scalar(
        select(func.count())
        .select_from(Follow)
        .where(Follow.follower_id == member_id, Follow.target_type == "member")
    )
    return followers or 0, following or 0


async def block(
    session: AsyncSession, clock: Clock, viewer: Viewer, member_id: uuid.UUID, *, on: bool
) -> None:
    """Blocking hides the member's posts and comments from me and stops their replies to me;
    it also ends any follow between us."""
    assert viewer.member_id is not None
    if member_id == viewer.member_id:
        raise CannotFollowSelf()
    if await accounts.get_member_brief(session, member_id) is None:
        raise NotFound("The member does not exist.")
    if not on:
        await session.execute(
            delete(Block).where(Block.blocker_id == viewer.member_id, Block.blocked_id == member_id)
        )
        return
    row = Block(blocker_id=viewer.member_id, blocked_id=member_id, created_at=clock.now())
    if not await insert_if_new(session, row):
        return
    await session.execute(
        delete(Follow).where(
            Follow.target_type == "member",
            or_(
                and_(Follow.follower_id == viewer.member_id, Follow.target_id == member_id),
                and_(Follow.follower_id == member_id, Follow.target_id == viewer.member_id),
            ),
        )
    )


@dataclass(frozen=True)
class ProfileView:
    member_id: uuid.UUID
    nickname: str
    followers: int
    following: int
    i_follow: bool
    i_block: bool


async def profile(session: AsyncSession, viewer: Viewer, member_id: uuid.UUID) -> ProfileView:
    brief = await accounts.get_member_brief(session, member_id)
    if brief is None:
        raise NotFound("The member does not exist.")
    followers, following = await follow_counts(session, member_id)
    i_follow = i_block = False
    if viewer.member_id is not None:
        i_follow = (
            await session.scalar(
                select(Follow.id).where(
                    Follow.follower_id == viewer.member_id,
                    Follow.target_type == "member",
                    Follow.target_id == member_id,
                )
            )
        ) is not None
        i_block = await _blocks(session, viewer.member_id, member_id)
    return ProfileView(member_id, brief.nickname, followers, following, i_follow, i_block)


async def blocked_members(session: AsyncSession, viewer: Viewer) -> list[tuple[uuid.UUID, str]]:
    blocked = await blocked_ids(session, viewer.member_id)
    names = await accounts.member_briefs(session, blocked)
    return [(m, names[m].nickname) for m in blocked if m in names]


# ---- feeds ----------------------------------------------------------------------------------


async def readable_space_ids(session: AsyncSession, viewer: Viewer) -> Any:
    """A condition on Post.space_id: the spaces whose posts the viewer may read."""
    if viewer.staff:
        return Space.status == "active"
    readable = Space.visibility != "members_only"
    if viewer.member_id is None:
        return readable
    memberships = select(SpaceMember.space_id).where(
        SpaceMember.member_id == viewer.member_id, SpaceMember.status == "active"
    )
    banned = select(SpaceMember.space_id).where(
        SpaceMember.member_id == viewer.member_id, SpaceMember.status == "banned"
    )
    return and_(or_(readable, Space.id.in_(memberships)), Space.id.not_in(banned))


async def feed(
    session: AsyncSession,
    viewer: Viewer,
    *,
    space: str | None = None,
    board: str | None = None,
    author_id: uuid.UUID | None = None,
    hashtag: str | None = None,
    bookmarks: bool = False,
    limit: int,
    cursor: str | None,
) -> FeedPage:
    """Posts newest first, in a space (and board), by an author, with a hashtag, or bookmarked
    by the viewer (the home feeds are `community.reads`). The keyset on the post id (UUIDv7, in
    time order) keeps pages stable while new posts arrive."""
    await plan_for_these_values(session)
    query = (
        select(Post, Space, Board)
        .join(Space, Space.id == Post.space_id)
        .join(Board, Board.id == Post.board_id)
        .where(Post.status != "deleted", Space.status == "active")
    )
    if space is not None:
        found = await find_space(session, space)
        await check_read(session, found, viewer)
        query = query.where(Post.space_id == found.id)
        if board is not None:
            query = query.where(Post.board_id == (await _board(session, found, board)).id)
    else:
        query = query.where(await readable_space_ids(session, viewer))
    if author_id is not None:
        # an anonymous post does not appear on its author's profile
        query = query.where(Post.author_id == author_id, Board.anonymous.is_(False))
    if hashtag is not None:
        tagged = select(PostHashtag.post_id).where(PostHashtag.tag == normalize_tag(hashtag))
        query = query.where(Post.id.in_(tagged))
    if bookmarks:
        if viewer.member_id is None:
            return FeedPage()
        query = query.where(
            Post.id.in_(select(Bookmark.post_id).where(Bookmark.member_id == viewer.member_id))
        )
    if space is None or board is None:
        # removed posts keep their place (with the reason) only on their own board
        query = query.where(Post.status == "published")
    if viewer.member_id is not None:
        query = query.where(not_blocked(Post.author_id, viewer.member_id))
    after = id_after(cursor)
    if after is not None:
        query = query.where(Post.id < after)
    rows = list((await session.execute(query.order_by(Post.id.desc()).limit(limit + 1))).all())
    next_cursor = id_cursor(rows[limit - 1][0].id) if len(rows) > limit else None
    views = await post_views(session, viewer, [(r[0], r[1], r[2]) for r in rows[:limit]])
    return FeedPage(items=views, next_cursor=next_cursor)


TRENDING_HOURS = 72
TRENDING_CANDIDATES = 1000


def hot_score(likes: int, comments: int, age_hours: float) -> float:
    """Engagement that fades with age (Hacker News' gravity): a comment weighs two likes,
    and a post loses its place as hours pass unless people keep engaging with it. Emoji
    reactions other than "like" do not count, so that they cannot be piled up to rank."""
    return (likes + 2 * comments + 1) / (age_hours + 2) ** 1.5


async def trending(
    session: AsyncSession, clock: Clock, viewer: Viewer, *, limit: int, cursor: str | None
) -> FeedPage:
    """Readable posts of the last 72 hours by hot score. A page's cursor holds the moment the
    ranking was made and the position in it, so the next pages rank the same posts the same
    way while new posts and reactions arrive."""
    values = decode_cursor(cursor)
    newest: uuid.UUID | None = None  # the newest post of the ranking: later ones wait
    if values is None:
        moment, offset = clock.now(), 0
    else:
        try:
            moment = datetime.fromisoformat(str(values["t"]))
            offset = int(values["o"])
            newest = uuid.UUID(str(values["m"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidCursor() from exc
        if moment.tzinfo is None or offset < 0:
            raise InvalidCursor()
    query = (
        select(Post.id, Post.like_count, Post.comment_count, Post.created_at)
        .join(Space, Space.id == Post.space_id)
        .where(
            Post.status == "published",
            Space.status == "active",
            Post.created_at >= moment - timedelta(hours=TRENDING_HOURS),
            Post.created_at <= moment,
            await readable_space_ids(session, viewer),
        )
    )
    if newest is not None:
        query = query.where(Post.id <= newest)
    if viewer.member_id is not None:
        query = query.where(not_blocked(Post.author_id, viewer.member_id))
    rows = (await session.execute(query.order_by(Post.id.desc()).limit(TRENDING_CANDIDATES))).all()
    if not rows:
        return FeedPage()

    def rank(row: Any) -> tuple[float, uuid.UUID]:
        age_hours = (moment - row.created_at).total_seconds() / 3600
        return -hot_score(row.like_count, row.comment_count, age_hours), row.id

    ranked = sorted(rows, key=rank)
    chosen = [r.id for r in ranked[offset : offset + limit]]
    next_cursor = (
        encode_cursor({"t": moment.isoformat(), "o": offset + limit, "m": str(rows[0].id)})
        if len(ranked) > offset + limit
        else None
    )
    if not chosen:
        return FeedPage(next_cursor=None)
    found = {
        r[0].id: (r[0], r[1], r[2])
        for r in await session.execute(
            select(Post, Space, Board)
            .join(Space, Space.id == Post.space_id)
            .join(Board, Board.id == Post.board_id)
            .where(Post.id.in_(chosen))
        )
    }
    views = await post_views(session, viewer, [found[i] for i in chosen if i in found])
    return FeedPage(items=views, next_cursor=next_cursor)


async def trending_hashtags(
    session: AsyncSession, clock: Clock, *, hours: int = 24, limit: int = 10
) -> list[tuple[str, int]]:
    """The hashtags used on the most posts in the last `hours`."""
    since = clock.now() - timedelta(hours=hours)
    rows = await session.execute(
        select(PostHashtag.tag, func.count().label("n"))
        .join(Post, Post.id == PostHashtag.post_id)
        .where(PostHashtag.created_at >= since, Post.status == "published")
        .group_by(PostHashtag.tag)
        .order_by(func.count().desc(), PostHashtag.tag)
        .limit(limit)
    )
    return [(tag, n) for tag, n in rows]


# ---- reported content -----------------------------------------------------------------------

PREVIEW_LENGTH = 120


@dataclass(frozen=True)
class ReportedContent:
    """What staff see of a reported post, review, comment or chat message in the report queue."""

    author_id: uuid.UUID
    preview: str
    status: str
    post_id: uuid.UUID | None  # the post that holds it (itself for posts and reviews)


async def reported_content(
    session: AsyncSession, target_type: str, target_id: uuid.UUID
) -> ReportedContent | None:
    """The reported thing as it stands now (whatever its status), or None if there is none."""
    if target_type in ("post", "review"):
        post = await session.get(Post, target_id)
        if post is None or (target_type == "review") != (post.kind == "review"):
            return None
        text = f"{post.title} {post.body}".strip()
        return ReportedContent(post.author_id, text[:PREVIEW_LENGTH], post.status, post.id)
    if target_type == "comment":
        comment = await session.get(Comment, target_id)
        if comment is None:
            return None
        return ReportedContent(
            comment.author_id, comment.body[:PREVIEW_LENGTH], comment.status, comment.post_id
        )
    if target_type == "chat_message":
        message = await session.get(ChatMessage, target_id)
        if message is None:
            return None
        return ReportedContent(
            message.member_id, message.body[:PREVIEW_LENGTH], message.status, None
        )
    return None
