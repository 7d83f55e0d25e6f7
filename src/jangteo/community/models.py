"""Tables of the community domain: spaces and their members, boards, posts, comments, reactions,
bookmarks, follows, blocks, hashtags and the anonymous aliases of a thread."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jangteo.core.db import Base
from jangteo.core.ids import uuid7


class Space(Base):
    """A community with its own rules: who reads, who writes, who may join."""

    __tablename__ = "community_spaces"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    # public: anyone reads, any member of the shop writes; members_write: anyone reads, members
    # of the space write; members_only: only members of the space read and write
    visibility: Mapped[str] = mapped_column(String(16))
    # open: join at once; invite: with the invite code; verified: after a check (below)
    join_policy: Mapped[str] = mapped_column(String(10))
    # for verified spaces: delivered_order (has received an order) or staff_approval
    verification: Mapped[str | None] = mapped_column(String(20))
    invite_code: Mapped[str | None] = mapped_column(String(40), unique=True)
    owner_id: Mapped[uuid.UUID]
    member_count: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | archived
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SpaceMember(Base):
    __tablename__ = "community_space_members"
    __table_args__ = (
        UniqueConstraint("space_id", "member_id"),
        Index("ix_community_space_members_member", "member_id", "status"),
        Index("ix_community_space_members_list", "space_id", "status", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    space_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("community_spaces.id"))
    member_id: Mapped[uuid.UUID]
    role: Mapped[str] = mapped_column(String(10))  # owner | moderator | member
    status: Mapped[str] = mapped_column(String(10))  # active | pending | banned | left
    muted_until: Mapped[datetime | None]
    ban_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Board(Base):
    __tablename__ = "community_boards"
    __table_args__ = (UniqueConstraint("space_id", "slug"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    space_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("community_spaces.id"))
    slug: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    # authors shown as a per-thread alias (글쓴이, 익명1, 익명2 …) instead of their nickname
    anonymous: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | archived
    created_at: Mapped[datetime]


class Post(Base):
    __tablename__ = "community_posts"
    __table_args__ = (
        Index("ix_community_posts_space", "space_id", "status", "id"),
        Index("ix_community_posts_board", "board_id", "status", "id"),
        Index("ix_community_posts_author", "author_id", "status", "id"),
        Index("ix_community_posts_recent", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    space_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("community_spaces.id"))
    board_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("community_boards.id"))
    author_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(10), default="text")  # text|question|poll|snap|review
    title: Mapped[str] = mapped_column(String(120), default="")
    body: Mapped[str] = mapped_column(Text)
    hashtags: Mapped[list[str]] = mapped_column(default=list)
    # published | deleted (by its author) | removed (by a moderator, with the reason shown)
    status: Mapped[str] = mapped_column(String(10), default="published")
    removed_reason: Mapped[str | None] = mapped_column(String(200))
    comment_count: Mapped[int] = mapped_column(default=0)
    like_count: Mapped[int] = mapped_column(default=0)
    reaction_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    edited_at: Mapped[datetime | None]


class Comment(Base):
    __tablename__ = "community_comments"
    __table_args__ = (Index("ix_community_comments_post", "post_id", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    post_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("community_posts.id"))
    # replies are one level deep: a reply's parent is always a top-level comment
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("community_comments.id"))
    author_id: Mapped[uuid.UUID]
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="published")
    removed_reason: Mapped[str | None] = mapped_column(String(200))
    like_count: Mapped[int] = mapped_column(default=0)
    # an answer from the shop or the brand, shown apart from members' comments
    official: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    edited_at: Mapped[datetime | None]


class ThreadAlias(Base):
    """The alias of one member in one anonymous thread: the post's author is 0 (글쓴이), the
    others are numbered in the order they first comment, so a thread reads consistently."""

    __tablename__ = "community_thread_aliases"
    __table_args__ = (
        UniqueConstraint("post_id", "member_id"),
        UniqueConstraint("post_id", "number"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    post_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("community_posts.id"))
    member_id: Mapped[uuid.UUID]
    number: Mapped[int]


class Reaction(Base):
    __tablename__ = "community_reactions"
    __table_args__ = (UniqueConstraint("target_type", "target_id", "member_id", "kind"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    target_type: Mapped[str] = mapped_column(String(10))  # post | comment
    target_id: Mapped[uuid.UUID]
    member_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime]


class Bookmark(Base):
    __tablename__ = "community_bookmarks"
    __table_args__ = (
        UniqueConstraint("member_id", "post_id"),
        Index("ix_community_bookmarks_list", "member_id", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    member_id: Mapped[uuid.UUID]
    post_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("community_posts.id"))
    created_at: Mapped[datetime]


class Follow(Base):
    __tablename__ = "community_follows"
    __table_args__ = (
        UniqueConstraint("follower_id", "target_type", "target_id"),
        Index("ix_community_follows_target", "target_type", "target_id", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    follower_id: Mapped[uuid.UUID]
    target_type: Mapped[str] = mapped_column(String(10))  # member | brand
    target_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime]


class Block(Base):
    __tablename__ = "community_blocks"
    __table_args__ = (
        UniqueConstraint("blocker_id", "blocked_id"),
        Index("ix_community_blocks_blocked", "blocked_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    blocker_id: Mapped[uuid.UUID]
    blocked_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime]


class PostHashtag(Base):
    __tablename__ = "community_post_hashtags"
    __table_args__ = (
        UniqueConstraint("tag", "post_id"),
        Index("ix_community_post_hashtags_recent", "created_at", "tag"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    tag: Mapped[str] = mapped_column(String(60))
    post_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("community_posts.id"))
    created_at: Mapped[datetime]


class ActivityCount(Base):
    """How many times a member did a rewarded or limited thing on one Seoul day, for the daily
    caps on activity points and the posting limits of new accounts."""

    __tablename__ = "community_activity_counts"
    __table_args__ = (UniqueConstraint("member_id", "day", "action"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    member_id: Mapped[uuid.UUID]
    day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD in Asia/Seoul
    action: Mapped[str] = mapped_column(String(20))
    count: Mapped[int] = mapped_column(default=0)
    points: Mapped[int] = mapped_column(default=0)


class MemberTrust(Base):
    """A member's trust level (Discourse's model): 0 new, 1 basic, 2 member are earned by reading
    posts on distinct days and by likes received; 3 leader only by staff. A level set by staff
    is locked against automatic change."""

    __tablename__ = "community_member_trust"

    member_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    level: Mapped[int] = mapped_column(default=0)
    locked: Mapped[bool] = mapped_column(default=False)
    posts_read: Mapped[int] = mapped_column(default=0)
    days_visited: Mapped[int] = mapped_column(default=0)
    last_visit_day: Mapped[str | None] = mapped_column(String(10))  # YYYY-MM-DD in Asia/Seoul
    updated_at: Mapped[datetime]


class PostRead(Base):
    """A post a member has read, once: what counts toward their trust level."""

    __tablename__ = "community_post_reads"

    member_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    post_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    created_at: Mapped[datetime]


# ---- kinds of post: questions, polls, snaps, reviews ---------------------------------------


class Question(Base):
    """A question post, optionally about a product, with a points bounty held from the asker's
    wallet until an answer is accepted (paid to its author) or the question expires (refunded)."""

    __tablename__ = "community_questions"
    __table_args__ = (
        Index("ix_community_questions_product", "product_id", "post_id"),
        Index("ix_community_questions_open", "status", "expires_at"),
    )

    post_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("community_posts.id"), primary_key=True)
    product_id: Mapped[uuid.UUID | None]
    bounty: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | accepted | expired
    accepted_comment_id: Mapped[uuid.UUID | None]
    answerer_id: Mapped[uuid.UUID | None]
    bonus: Mapped[int] = mapped_column(default=0)  # the platform's extra on acceptance
    expires_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]


class Poll(Base):
    """A "골라줘" poll: 2–4 options, one vote per member, changeable until the deadline."""

    __tablename__ = "community_polls"

    post_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("community_posts.id"), primary_key=True)
    closes_at: Mapped[datetime]
    # always | after_vote | after_close: when the counts are shown
    results_visibility: Mapped[str] = mapped_column(String(12), default="always")
    vote_count: Mapped[int] = mapped_column(default=0)


class PollOption(Base):
    __tablename__ = "community_poll_options"
    __table_args__ = (
        UniqueConstraint("post_id", "position"),
        Index("ix_community_poll_options_product", "product_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    post_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("community_polls.post_id"))
    position: Mapped[int]
    label: Mapped[str] = mapped_column(String(100))
    product_id: Mapped[uuid.UUID | None]
    vote_count: Mapped[int] = mapped_column(default=0)


class PollVote(Base):
    __tablename__ = "community_poll_votes"
    __table_args__ = (UniqueConstraint("post_id", "member_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    post_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("community_polls.post_id"))
    member_id: Mapped[uuid.UUID]
    option_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("community_poll_options.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PostImage(Base):
    """A photo of a post (a snap, a review), stored through core.media with its thumbnails."""

    __tablename__ = "community_post_images"
    __table_args__ = (Index("ix_community_post_images_post", "post_id", "position"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    post_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("community_posts.id"))
    position: Mapped[int]
    url: Mapped[str] = mapped_column(String(500))
    thumbnail_url: Mapped[str] = mapped_column(String(500))
    width: Mapped[int]
    height: Mapped[int]
    created_at: Mapped[datetime]


class ProductTag(Base):
    """A product (or one variant of it) tagged on a post's photo at a point (x, y in 0…1)."""

    __tablename__ = "community_product_tags"
    __table_args__ = (
        Index("ix_community_product_tags_product", "product_id", "post_id"),
        Index("ix_community_product_tags_post", "post_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    post_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("community_posts.id"))
    image_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("community_post_images.id"))
    product_id: Mapped[uuid.UUID]
    variant_id: Mapped[uuid.UUID | None]
    x: Mapped[float]
    y: Mapped[float]


class Review(Base):
    """A review of one order line: one per line, "verified purchase" only for a delivered line
    of the author's own order."""

    __tablename__ = "community_reviews"
    __table_args__ = (
        UniqueConstraint("order_line_id"),
        Index("ix_community_reviews_product", "product_id", "post_id"),
    )

    post_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("community_posts.id"), primary_key=True)
    order_line_id: Mapped[uuid.UUID]
    product_id: Mapped[uuid.UUID]
    variant_id: Mapped[uuid.UUID | None]
    rating: Mapped[int]
    verified: Mapped[bool] = mapped_column(default=False)
    helpful_count: Mapped[int] = mapped_column(default=0)


class ReviewRevision(Base):
    """What a review said before each edit."""

    __tablename__ = "community_review_revisions"
    __table_args__ = (Index("ix_community_review_revisions_post", "post_id", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    post_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("community_reviews.post_id"))
    rating: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class HelpfulVote(Base):
    __tablename__ = "community_helpful_votes"
    __table_args__ = (UniqueConstraint("post_id", "member_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    post_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("community_reviews.post_id"))
    member_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime]


# ---- notifications --------------------------------------------------------------------------


class Notification(Base):
    """An in-app notification: a reply, a mention, an accepted answer, a new follower …"""

    __tablename__ = "community_notifications"
    __table_args__ = (
        Index("ix_community_notifications_list", "member_id", "id"),
        Index("ix_community_notifications_unread", "member_id", "read_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    member_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[uuid.UUID | None]
    post_id: Mapped[uuid.UUID | None]
    comment_id: Mapped[uuid.UUID | None]
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    read_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


# ---- topic chat rooms -----------------------------------------------------------------------


class ChatRoom(Base):
    """An open chat room on a topic inside a space; who may join follows the space's rules."""

    __tablename__ = "community_chat_rooms"
    __table_args__ = (UniqueConstraint("space_id", "slug"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    space_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("community_spaces.id"))
    slug: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(80))
    topic: Mapped[str] = mapped_column(String(200), default="")
    # seconds a member waits between two messages (0: off), set by moderators in busy hours
    slow_mode_seconds: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | archived
    created_at: Mapped[datetime]


class ChatMessage(Base):
    __tablename__ = "community_chat_messages"
    __table_args__ = (Index("ix_community_chat_messages_room", "room_id", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    room_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("community_chat_rooms.id"))
    member_id: Mapped[uuid.UUID]
    body: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(10), default="visible")  # visible | deleted
    deleted_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime]


class ChatSanction(Base):
    """A mute (no sending until `until`) or a ban (no entry) of a member in one room."""

    __tablename__ = "community_chat_sanctions"
    __table_args__ = (UniqueConstraint("room_id", "member_id", "kind"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    room_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("community_chat_rooms.id"))
    member_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(10))  # mute | ban
    until: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[uuid.UUID]
    created_at: Mapped[datetime]


# ---- offline meetups ------------------------------------------------------------------------


class Meetup(Base):
    """A club meeting offline in a series of sessions (a running crew, a film club …)."""

    __tablename__ = "community_meetups"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    space_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("community_spaces.id"))
    host_id: Mapped[uuid.UUID]
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    topic: Mapped[str] = mapped_column(String(40), default="")
    # a coupon (orders' coupons) given to each attendee once checked in
    perk_coupon_id: Mapped[uuid.UUID | None]
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | cancelled
    created_at: Mapped[datetime]


class MeetupSession(Base):
    __tablename__ = "community_meetup_sessions"
    __table_args__ = (Index("ix_community_meetup_sessions_meetup", "meetup_id", "starts_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    meetup_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("community_meetups.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    place: Mapped[str] = mapped_column(String(200))
    capacity: Mapped[int]
    confirmed_count: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | cancelled
    created_at: Mapped[datetime]


class MeetupRsvp(Base):
    """A place in a session: confirmed (within capacity) or on the waitlist in arrival order,
    promoted when a confirmed member cancels; checked in by staff at the door."""

    __tablename__ = "community_rsvps"
    __table_args__ = (
        UniqueConstraint("session_id", "member_id"),
        Index("ix_community_rsvps_queue", "session_id", "status", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("community_meetup_sessions.id"))
    member_id: Mapped[uuid.UUID]
    # confirmed | waitlisted | cancelled | checked_in
    status: Mapped[str] = mapped_column(String(12))
    checked_in_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
