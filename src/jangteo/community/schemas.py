"""Request and response models of the community API: the public contract."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Slug = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=2,
        max_length=80,
        pattern=r"^[0-9a-z\uac00-\ud7a3]+(-[0-9a-z\uac00-\ud7a3]+)*$",
    ),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)]
Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000)]
CommentBody = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=3000)
]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Visibility = Literal["public", "members_write", "members_only"]
JoinPolicy = Literal["open", "invite", "verified"]
Verification = Literal["delivered_order", "staff_approval"]
ReactionKind = Literal["like", "heart", "fire", "clap", "sad"]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- spaces and boards ------------------------------------------------------------------------


class SpaceCreate(Request):
    slug: Slug
    name: Name
    description: Description = ""
    visibility: Visibility = "public"
    join_policy: JoinPolicy = "open"
    verification: Verification | None = None


class SpaceUpdate(Request):
    name: Name | None = None
    description: Description | None = None
    visibility: Visibility | None = None
    join_policy: JoinPolicy | None = None
    verification: Verification | None = None
    new_invite_code: bool = False


class SpaceOut(BaseModel):
    id: uuid.UUID
    slug: str
    name: str
    description: str
    visibility: str
    join_policy: str
    verification: str | None
    member_count: int
    my_role: str | None = Field(description="owner, moderator or member when I am a member")
    my_status: str | None = Field(description="active, pending, banned or left")
    can_read: bool
    can_write: bool
    invite_code: str | None = Field(None, description="shown to the space's moderators only")
    created_at: datetime


class SpacePage(BaseModel):
    items: list[SpaceOut]
    next_cursor: str | None


class JoinRequest(Request):
    invite_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = (
        None
    )


class MembershipOut(BaseModel):
    member_id: uuid.UUID
    nickname: str = ""
    role: str
    status: str
    muted_until: datetime | None


class MembershipPage(BaseModel):
    items: list[MembershipOut]
    next_cursor: str | None


class Moderation(Request):
    action: Literal["approve", "reject", "ban", "unban", "mute", "unmute", "set_role"]
    reason: Reason | None = None
    minutes: Annotated[int, Field(ge=1, le=60 * 24 * 365)] | None = None
    role: Literal["moderator", "member"] | None = None


class BoardCreate(Request):
    slug: Slug
    name: Name
    description: Description = ""
    anonymous: bool = False


class BoardUpdate(Request):
    name: Name | None = None
    description: Description | None = None
    anonymous: bool | None = None
    position: Annotated[int, Field(ge=0, le=1000)] | None = None
    status: Literal["active", "archived"] | None = None


class BoardOut(BaseModel):
    id: uuid.UUID
    slug: str
    name: str
    description: str
    anonymous: bool
    position: int


class BoardList(BaseModel):
    items: list[BoardOut]


# ---- posts and comments -----------------------------------------------------------------------


ImageToken = Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class ImageOut(BaseModel):
    id: uuid.UUID
    url: str
    thumbnail_url: str
    width: int
    height: int


class PostCreate(Request):
    title: Title = ""
    body: Body
    images: Annotated[list[ImageToken], Field(max_length=10)] = Field(
        default_factory=list,
        description="tokens of photos uploaded with POST /api/v1/community/images",
    )


class PostUpdate(Request):
    title: Title | None = None
    body: Body | None = None


class AuthorOut(BaseModel):
    id: uuid.UUID | None = Field(description="null for an anonymous author (unless you are staff)")
    name: str
    anonymous: bool


class SpaceRef(BaseModel):
    id: uuid.UUID
    slug: str
    name: str


class BoardRef(BaseModel):
    slug: str
    name: str
    anonymous: bool


class PostOut(BaseModel):
    id: uuid.UUID
    kind: str
    space: SpaceRef
    board: BoardRef
    author: AuthorOut
    title: str
    body: str = Field(description="empty when the post was removed")
    hashtags: list[str]
    status: str = Field(description="published or removed")
    removed_reason: str | None
    comment_count: int
    like_count: int
    reactions: dict[str, int]
    my_reactions: list[str]
    bookmarked: bool
    created_at: datetime
    edited_at: datetime | None


class PostDetailOut(PostOut):
    """A post by itself: with a text post's photos (feeds leave them out)."""

    images: list[ImageOut] = Field(default_factory=list)


class PostPage(BaseModel):
    items: list[PostOut]
    next_cursor: str | None


class CommentCreate(Request):
    body: CommentBody
    parent_id: uuid.UUID | None = None


class CommentUpdate(Request):
    body: CommentBody


class CommentOut(BaseModel):
    id: uuid.UUID
    post_id: uuid.UUID
    parent_id: uuid.UUID | None
    author: AuthorOut
    body: str
    status: str
    removed_reason: str | None
    like_count: int
    official: bool = Field(description="an answer from the shop or the brand")
    my_reactions: list[str]
    created_at: datetime
    edited_at: datetime | None


class CommentPage(BaseModel):
    items: list[CommentOut]
    next_cursor: str | None


class RemoveRequest(Request):
    reason: Reason


class RevealRequest(Request):
    reason: Reason
    comment_id: uuid.UUID | None = None


class RevealOut(BaseModel):
    author_id: uuid.UUID


class ReactionChange(BaseModel):
    changed: bool


# ---- people -----------------------------------------------------------------------------------


class MemberRef(BaseModel):
    id: uuid.UUID
    nickname: str


class MemberRefPage(BaseModel):
    items: list[MemberRef]
    next_cursor: str | None


class BrandRef(BaseModel):
    id: uuid.UUID
    slug: str
    name: str


class BrandRefPage(BaseModel):
    items: list[BrandRef]
    next_cursor: str | None


class BrandFollowers(BaseModel):
    brand_id: uuid.UUID
    follower_count: int
    following: bool


class ProfileOut(BaseModel):
    id: uuid.UUID
    nickname: str
    followers: int
    following: int
    i_follow: bool
    i_block: bool


class HashtagCount(BaseModel):
    tag: str
    posts: int


class HashtagList(BaseModel):
    items: list[HashtagCount]
