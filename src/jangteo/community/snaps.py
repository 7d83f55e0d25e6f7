"""Styling snaps: members' photos (checked, cleaned of metadata, thumbnailed), posts made of them
with the shop's products tagged on the pictures, and the snaps that tag a product.

A photo is uploaded on its own, before the post it belongs to exists. Rather than keep a table of
pending uploads, the upload answers a signed token naming the stored files, their size and the
uploader, valid for a day: a post takes tokens, never URLs, so a member can attach only photos
they uploaded themselves and nobody can point a post at a file or address of their choosing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.catalog import service as catalog
from jangteo.community import service
from jangteo.community.models import Board, Post, PostImage, ProductTag, Space
from jangteo.community.snap_schemas import TagIn
from jangteo.core.clock import Clock
from jangteo.core.errors import InvalidInput, NotFound, define
from jangteo.core.ids import uuid7
from jangteo.core.media import MediaStorage, store_image
from jangteo.core.pagination import id_after, id_cursor
from jangteo.core.security import TokenSigner

InvalidImageToken = define(
    "invalid-image-token", 422, "A photo is not one of your uploads, or its upload has expired."
)
TaggedProductUnavailable = define(
    "tagged-product-unavailable", 422, "A tagged product does not exist or is not on sale."
)

UPLOAD_FOLDER = "community"
THUMBNAIL_SIDE = 480
_CLAIM_KIND = "community-image"
_ALGORITHM = "HS256"


@dataclass(frozen=True)
class UploadedImage:
    """A stored photo as its token describes it."""

    url: str
    thumbnail_url: str
    width: int
    height: int


@dataclass(frozen=True)
class ImageUpload:
    token: str
    image: UploadedImage
    expires_at: datetime


@dataclass(frozen=True)
class TagView:
    tag: ProductTag
    product: catalog.ProductCard


@dataclass(frozen=True)
class ImageView:
    image: PostImage
    tags: list[TagView]


@dataclass(frozen=True)
class SnapView:
    post: service.PostView
    images: list[ImageView]  # none for a removed post


# ---- uploads and their tokens ---------------------------------------------------------------


def _token_key(signer: TokenSigner) -> str:
    # a key of its own, derived from the app's secret, so an image token can never pass for an
    # access token or the other way round
    return signer.keyed_hash("community-image-token-key")


def issue_image_token(
    signer: TokenSigner, member_id: uuid.UUID, image: UploadedImage, expires_at: datetime
) -> str:
    claims = {
        "typ": _CLAIM_KIND,
        "sub": str(member_id),
        "url": image.url,
        "thumb": image.thumbnail_url,
        "w": image.width,
        "h": image.height,
        "exp": int(expires_at.timestamp()),
    }
    return jwt.encode(claims, _token_key(signer), algorithm=_ALGORITHM)


def read_image_tokens(
    signer: TokenSigner,
    clock: Clock,
    member_id: uuid.UUID,
    tokens: Sequence[str],
    *,
    pointer: str = "/body/images",
) -> list[UploadedImage]:
    """The photos behind `tokens`, each checked to be signed here, unexpired and uploaded by
    `member_id`; InvalidImageToken names the first that is not."""
    images = []
    now = clock.now().timestamp()
    for index, token in enumerate(tokens):
        try:
            claims = jwt.decode(
                token,
                _token_key(signer),
                algorithms=[_ALGORITHM],
                # expiry is checked against the injected clock below, not the wall clock
                options={"verify_exp": False, "require": ["sub", "exp", "url", "thumb"]},
            )
            valid = (
                claims.get("typ") == _CLAIM_KIND
                and claims["sub"] == str(member_id)
                and claims["exp"] > now
            )
            image = UploadedImage(
                str(claims["url"]), str(claims["thumb"]), int(claims["w"]), int(claims["h"])
            )
        except (jwt.PyJWTError, KeyError, TypeError, ValueError):
            valid = False
        if not valid:
            raise InvalidImageToken(errors=[{"pointer": f"{pointer}/{index}"}])
        images.append(image)
    return images


async def upload_image(
    storage: MediaStorage,
    signer: TokenSigner,
    clock: Clock,
    member_id: uuid.UUID,
    data: bytes,
    *,
    max_pixels: int,
    max_bytes: int,
    token_ttl_seconds: int,
) -> ImageUpload:
    """Store a member's photo, cleaned of its metadata (EXIF with GPS, XMP, comments), with a
    thumbnail, and the token that attaches it to a post of theirs."""
    stored = await store_image(
        storage,
        data,
        folder=UPLOAD_FOLDER,
        max_pixels=max_pixels,
        max_bytes=max_bytes,
        thumb_sides=(THUMBNAIL_SIDE,),
    )
    image = UploadedImage(
        stored.url, stored.thumbnails[THUMBNAIL_SIDE], stored.width, stored.height
    )
    expires_at = clock.now() + timedelta(seconds=token_ttl_seconds)
    return ImageUpload(issue_image_token(signer, member_id, image, expires_at), image, expires_at)


async def attach_images(
    session: AsyncSession, clock: Clock, post_id: uuid.UUID, images: Sequence[UploadedImage]
) -> list[PostImage]:
    now = clock.now()
    rows = [
        PostImage(
            post_id=post_id,
            position=position,
            url=image.url,
            thumbnail_url=image.thumbnail_url,
            width=image.width,
            height=image.height,
            created_at=now,
        )
        for position, image in enumerate(images)
    ]
    session.add_all(rows)
    await session.flush()
    return rows


async def post_images(
    session: AsyncSession, post_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[PostImage]]:
    """The photos of each post, in order."""
    found: dict[uuid.UUID, list[PostImage]] = {}
    if not post_ids:
        return found
    rows = await session.scalars(
        select(PostImage)
        .where(PostImage.post_id.in_(list(post_ids)))
        .order_by(PostImage.post_id, PostImage.position)
    )
    for image in rows:
        found.setdefault(image.post_id, []).append(image)
    return found


# ---- snaps ----------------------------------------------------------------------------------


async def _check_tags(session: AsyncSession, tags: Sequence[TagIn]) -> None:
    """Every tagged product exists and is on sale, and a tagged variant is one of its own."""
    cards = await catalog.product_cards(session, [t.product_id for t in tags])
    variants = await catalog.variant_snapshots(
        session, [t.variant_id for t in tags if t.variant_id is not None]
    )
    errors = []
    for index, tag in enumerate(tags):
        card = cards.get(tag.product_id)
        if card is None or not card.on_sale:
            errors.append({"pointer": f"/body/tags/{index}/product_id"})
        elif tag.variant_id is not None:
            variant = variants.get(tag.variant_id)
            if variant is None or variant.product_id != tag.product_id:
                errors.append({"pointer": f"/body/tags/{index}/variant_id"})
    if errors:
        raise TaggedProductUnavailable(errors=errors)


async def create_snap(
    session: AsyncSession,
    clock: Clock,
    viewer: service.Viewer,
    *,
    title: str,
    body: str,
    images: Sequence[UploadedImage],
    tags: Sequence[TagIn],
    space: str | None,
    board: str | None,
    rules: service.ActivityRules,
    max_images: int,
) -> Post:
    """A snap on the shop's snaps board (or a board of `space`), with its photos and tags;
    points as for a post, at the snap's rate."""
    if len(images) > max_images:
        raise InvalidInput("A post has more photos than allowed.", max_images=max_images)
    if any(tag.image >= len(images) for tag in tags):
        raise InvalidInput("A tag points at a photo the snap does not have.")
    await _check_tags(session, tags)
    if space is None:
        await service.shop_board(session, clock, "snaps")
        space, board = service.SHOP_SPACE, "snaps"
    post = await service.create_post(
        session,
        clock,
        space,
        board or "free",
        viewer,
        title=title,
        body=body,
        rules=rules,
        kind="snap",
        points=rules.snap_points,
    )
    rows = await attach_images(session, clock, post.id, images)
    # tags are read back in id order; ids made in one millisecond are not in order by themselves
    ids = sorted(uuid7() for _ in tags)
    session.add_all(
        ProductTag(
            id=tag_id,
            post_id=post.id,
            image_id=rows[tag.image].id,
            product_id=tag.product_id,
            variant_id=tag.variant_id,
            x=tag.x,
            y=tag.y,
        )
        for tag_id, tag in zip(ids, tags, strict=True)
    )
    await session.flush()
    return post


async def _snap_views(
    session: AsyncSession, viewer: service.Viewer, rows: Sequence[tuple[Post, Space, Board]]
) -> list[SnapView]:
    posts = await service.post_views(session, viewer, rows)
    shown = [view.post.id for view in posts if view.post.status == "published"]
    images = await post_images(session, shown)
    tags: dict[uuid.UUID, list[ProductTag]] = {}
    if shown:
        for row in await session.scalars(
            select(ProductTag).where(ProductTag.post_id.in_(shown)).order_by(ProductTag.id)
        ):
            if row.image_id is not None:
                tags.setdefault(row.image_id, []).append(row)
    cards = await catalog.product_cards(
        session, [t.product_id for group in tags.values() for t in group]
    )
    return [
        SnapView(
            post=view,
            images=[
                ImageView(
                    image=image,
                    tags=[
                        TagView(t, cards[t.product_id])
                        for t in tags.get(image.id, [])
                        if t.product_id in cards
                    ],
                )
                for image in images.get(view.post.id, [])
            ],
        )
        for view in posts
    ]


async def get_snap(session: AsyncSession, post_id: uuid.UUID, viewer: service.Viewer) -> SnapView:
    post, space, board = await service.readable_post(session, post_id, viewer)
    if post.kind != "snap":
        raise NotFound("The snap does not exist.")
    return (await _snap_views(session, viewer, [(post, space, board)]))[0]


async def product_snaps(
    session: AsyncSession,
    viewer: service.Viewer,
    product_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[SnapView], str | None]:
    """Published snaps tagging a product, newest first: only those in spaces the viewer may
    read, without the posts of members they blocked."""
    if product_id not in await catalog.product_cards(session, [product_id]):
        raise NotFound("The product does not exist.")
    tagged = select(ProductTag.post_id).where(ProductTag.product_id == product_id)
    query = (
        select(Post, Space, Board)
        .join(Space, Space.id == Post.space_id)
        .join(Board, Board.id == Post.board_id)
        .where(
            Post.id.in_(tagged),
            Post.kind == "snap",
            Post.status == "published",
            Space.status == "active",
            await service.readable_space_ids(session, viewer),
        )
    )
    blocked = await service.blocked_ids(session, viewer.member_id)
    if blocked:
        query = query.where(Post.author_id.not_in(blocked))
    after = id_after(cursor)
    if after is not None:
        query = query.where(Post.id < after)
    rows = list((await session.execute(query.order_by(Post.id.desc()).limit(limit + 1))).all())
    next_cursor = id_cursor(rows[limit - 1][0].id) if len(rows) > limit else None
    views = await _snap_views(session, viewer, [(r[0], r[1], r[2]) for r in rows[:limit]])
    return views, next_cursor
