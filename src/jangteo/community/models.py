"""Tables of the community domain: spaces and their members, boards, posts, comments, reactions,
bookmarks, follows, blocks, hashtags and the anonymous aliases of a thread."""

from __future__ import annotations

import uuid
from datetime import datetime

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
    kind: Mapped[str] = mapped_column(String(10), default="text")
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
