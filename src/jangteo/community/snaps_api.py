"""HTTP API of community photos and styling snaps: uploads, snaps with product tags, and the
snaps that tag a product (the product page's community tab)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, UploadFile, status

from jangteo.community import service, snaps
from jangteo.community import snap_schemas as schemas
from jangteo.community.api import _post_out, _viewer, image_out
from jangteo.core.deps import CurrentMember, IdempotencyKey, OptionalMember, PlatformDep
from jangteo.core.errors import PayloadTooLarge
from jangteo.core.idempotency import request_fingerprint, run_once
from jangteo.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from jangteo.core.ratelimit import Limit

router = APIRouter(prefix="/api/v1", tags=["community"])

LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=500)]


def snap_out(view: snaps.SnapView) -> schemas.SnapOut:
    return schemas.SnapOut(
        post=_post_out(view.post),
        images=[
            schemas.SnapImageOut(
                **image_out(i.image).model_dump(),
                tags=[
                    schemas.TagOut(
                        product=schemas.ProductCardOut(
                            id=t.product.id,
                            name=t.product.name,
                            price=t.product.price,
                            image=t.product.image,
                            on_sale=t.product.on_sale,
                        ),
                        variant_id=t.tag.variant_id,
                        x=t.tag.x,
                        y=t.tag.y,
                    )
                    for t in i.tags
                ],
            )
            for i in view.images
        ],
    )


@router.post(
    "/community/images", response_model=schemas.UploadOut, status_code=status.HTTP_201_CREATED
)
async def upload_image(
    platform: PlatformDep,
    member: CurrentMember,
    file: Annotated[UploadFile, File(description="JPEG, PNG, WebP or GIF")],
) -> schemas.UploadOut:
    """Upload a photo for a snap or a review: its metadata (EXIF, GPS) is stripped. Attach it
    by the token answered here."""
    settings = platform.settings
    await platform.limiter.hit(
        Limit("community-image-upload", settings.community_image_uploads_per_hour, 3600),
        str(member.member_id),
    )
    data = await file.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise PayloadTooLarge(max_bytes=settings.max_upload_bytes)
    upload = await snaps.upload_image(
        platform.adapters["media"],
        platform.signer,
        platform.clock,
        member.member_id,
        data,
        max_pixels=settings.max_image_pixels,
        max_bytes=settings.max_upload_bytes,
        token_ttl_seconds=settings.community_image_token_ttl_seconds,
    )
    return schemas.UploadOut(
        token=upload.token,
        url=upload.image.url,
        thumbnail_url=upload.image.thumbnail_url,
        width=upload.image.width,
        height=upload.image.height,
        expires_at=upload.expires_at,
    )


@router.post("/snaps", response_model=schemas.SnapOut, status_code=status.HTTP_201_CREATED)
async def create_snap(
    platform: PlatformDep,
    member: CurrentMember,
    body: schemas.SnapCreate,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """A snap earns activity points, so a retry with the same Idempotency-Key answers the
    first snap again instead of posting (and paying) twice."""
    viewer = _viewer(member)
    settings = platform.settings
    images = snaps.read_image_tokens(platform.signer, platform.clock, member.member_id, body.images)

    async def operation(session: Any) -> dict[str, Any]:
        post = await snaps.create_snap(
            session,
            platform.clock,
            viewer,
            title=body.title,
            body=body.body,
            images=images,
            tags=body.tags,
            space=body.space,
            board=body.board,
            rules=await service.activity_rules(session, platform.settings),
            max_images=settings.community_max_post_images,
        )
        return snap_out(await snaps.get_snap(session, post.id, viewer)).model_dump(mode="json")

    return await run_once(
        platform.db,
        platform.clock,
        scope="community.snaps.create",
        owner=str(member.member_id),
        key=idempotency_key,
        fingerprint=request_fingerprint(body.model_dump(mode="json")),
        operation=operation,
    )


@router.get("/snaps/{post_id}", response_model=schemas.SnapOut)
async def get_snap(
    platform: PlatformDep, principal: OptionalMember, post_id: uuid.UUID
) -> schemas.SnapOut:
    async with platform.db.read() as session:
        return snap_out(await snaps.get_snap(session, post_id, _viewer(principal)))


@router.get("/products/{product_id}/snaps", response_model=schemas.SnapPage)
async def product_snaps(
    platform: PlatformDep,
    principal: OptionalMember,
    product_id: uuid.UUID,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> schemas.SnapPage:
    """Snaps that tag the product, newest first, as the viewer may see them."""
    async with platform.db.read() as session:
        views, next_cursor = await snaps.product_snaps(
            session, _viewer(principal), product_id, limit=limit, cursor=cursor
        )
    return schemas.SnapPage(items=[snap_out(v) for v in views], next_cursor=next_cursor)
