"""HTTP API of the catalog: the public shop window and the staff back office, and /media."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile, status
from fastapi import Path as PathParam
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from jangteo.catalog import reads, schemas, service, stock_imports
from jangteo.core.deps import IdempotencyKey, PlatformDep, StaffMember, client_ip
from jangteo.core.errors import PayloadTooLarge
from jangteo.core.idempotency import request_fingerprint, run_once
from jangteo.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from jangteo.core.web import json_response

router = APIRouter(prefix="/api/v1")

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=500)]
PriceQuery = Annotated[int | None, Query(ge=0, le=schemas.MAX_PRICE)]


class MediaFiles:
    """Serves the media directory of the app that handles the request.

    Each app (and each test) may have its own `settings.media_dir`, so the directory is looked
    up per request rather than fixed when this module is imported.
    """

    def __init__(self) -> None:
        self._static: dict[Path, StaticFiles] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        directory = Path(scope["app"].state.settings.media_dir)
        if not await anyio.Path(directory).is_dir():  # nothing uploaded yet
            raise StarletteHTTPException(status_code=404)
        static = self._static.get(directory)
        if static is None:
            static = self._static[directory] = StaticFiles(directory=directory, check_dir=False)
        await static(scope, receive, send)


# not under /api/v1: the router's prefix applies only to routes added through its decorators
router.mount("/media", MediaFiles(), name="media")


# ---- shaping -----------------------------------------------------------------------------------


async def _admin_detail(platform: Any, product_id: uuid.UUID) -> dict[str, Any]:
    """The staff view of a product, read after the change is committed."""
    return await reads.product_detail(platform.db.reader, product_id, include_hidden=True)


def _brand(brand: Any) -> schemas.BrandOut:
    return schemas.BrandOut.model_validate(brand, from_attributes=True)


def _category(category: Any) -> schemas.CategoryOut:
    return schemas.CategoryOut.model_validate(category, from_attributes=True)


def _tree(nodes: list[service.CategoryNode]) -> list[schemas.CategoryNodeOut]:
    return [
        schemas.CategoryNodeOut(
            id=n.id, name=n.name, slug=n.slug, position=n.position, children=_tree(n.children)
        )
        for n in nodes
    ]


# ---- public ------------------------------------------------------------------------------------


@router.get("/products", response_model=schemas.ProductPage, tags=["catalog"])
async def list_products(
    platform: PlatformDep,
    q: Annotated[str | None, Query(max_length=100, description="Korean or English search")] = None,
    category: Annotated[str | None, Query(max_length=100, description="id or slug")] = None,
    brand: Annotated[str | None, Query(max_length=120, description="id or slug")] = None,
    min_price: PriceQuery = None,
    max_price: PriceQuery = None,
    in_stock: Annotated[
        bool | None, Query(description="true: only in stock; false: only sold out")
    ] = None,
    sort: Annotated[
        Literal["new", "price_asc", "price_desc", "popular", "relevance"] | None,
        Query(description="default new, or relevance with q"),
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    page = await reads.product_page(
        platform.db.reader,
        q=q,
        category=category,
        brand=brand,
        min_price=min_price,
        max_price=max_price,
        in_stock=in_stock,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )
    return json_response(page)


@router.get("/products/{product_id}", response_model=schemas.ProductDetail, tags=["catalog"])
async def get_product(platform: PlatformDep, product_id: uuid.UUID) -> Response:
    return json_response(await reads.product_detail(platform.db.reader, product_id))


@router.get("/brands", response_model=schemas.BrandPage, tags=["catalog"])
async def list_brands(
    platform: PlatformDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> schemas.BrandPage:
    async with platform.db.read() as session:
        brands, next_cursor = await service.list_brands(session, limit=limit, cursor=cursor)
    return schemas.BrandPage(items=[_brand(b) for b in brands], next_cursor=next_cursor)


@router.get("/brands/{ref}", response_model=schemas.BrandOut, tags=["catalog"])
async def get_brand(
    platform: PlatformDep, ref: Annotated[str, PathParam(max_length=120, description="id or slug")]
) -> schemas.BrandOut:
    async with platform.db.read() as session:
        return _brand(await service.find_brand(session, ref))


@router.get("/categories", response_model=schemas.CategoryTree, tags=["catalog"])
async def list_categories(platform: PlatformDep) -> schemas.CategoryTree:
    async with platform.db.read() as session:
        return schemas.CategoryTree(items=_tree(await service.category_tree(session)))


# ---- staff: brands and categories --------------------------------------------------------------


@router.get("/admin/brands", response_model=schemas.BrandPage, tags=["catalog admin"])
async def admin_list_brands(
    platform: PlatformDep,
    staff: StaffMember,
    status_: Annotated[Literal["active", "archived"] | None, Query(alias="status")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> schemas.BrandPage:
    """Every brand by name, archived ones included unless `status` says otherwise."""
    statuses = (status_,) if status_ else ("active", "archived")
    async with platform.db.read() as session:
        brands, next_cursor = await service.list_brands(
            session, limit=limit, cursor=cursor, statuses=statuses
        )
    return schemas.BrandPage(items=[_brand(b) for b in brands], next_cursor=next_cursor)


@router.get("/admin/brands/{brand_id}", response_model=schemas.BrandOut, tags=["catalog admin"])
async def admin_get_brand(
    platform: PlatformDep, staff: StaffMember, brand_id: uuid.UUID
) -> schemas.BrandOut:
    async with platform.db.read() as session:
        return _brand(await service.find_brand(session, str(brand_id), include_archived=True))


@router.get("/admin/categories", response_model=schemas.CategoryList, tags=["catalog admin"])
async def admin_list_categories(platform: PlatformDep, staff: StaffMember) -> schemas.CategoryList:
    """Every category, archived ones included, flat (each names its parent)."""
    async with platform.db.read() as session:
        return schemas.CategoryList(
            items=[_category(c) for c in await service.all_categories(session)]
        )


@router.post(
    "/admin/brands",
    response_model=schemas.BrandOut,
    status_code=status.HTTP_201_CREATED,
    tags=["catalog admin"],
)
async def create_brand(
    platform: PlatformDep, staff: StaffMember, body: schemas.BrandCreate, request: Request
) -> schemas.BrandOut:
    async with platform.db.write() as session:
        brand = await service.create_brand(
            session,
            platform.clock,
            **body.model_dump(),
            actor_id=staff.member_id,
            ip=client_ip(request),
        )
        return _brand(brand)


@router.patch("/admin/brands/{brand_id}", response_model=schemas.BrandOut, tags=["catalog admin"])
async def update_brand(
    platform: PlatformDep,
    staff: StaffMember,
    brand_id: uuid.UUID,
    body: schemas.BrandUpdate,
    request: Request,
) -> schemas.BrandOut:
    async with platform.db.write() as session:
        brand = await service.update_brand(
            session,
            platform.clock,
            brand_id,
            body.model_dump(exclude_unset=True, exclude_none=True),
            actor_id=staff.member_id,
            ip=client_ip(request),
        )
        return _brand(brand)


@router.post(
    "/admin/brands/{brand_id}/archive", response_model=schemas.BrandOut, tags=["catalog admin"]
)
async def archive_brand(
    platform: PlatformDep, staff: StaffMember, brand_id: uuid.UUID, request: Request
) -> schemas.BrandOut:
    async with platform.db.write() as session:
        brand = await service.update_brand(
            session,
            platform.clock,
            brand_id,
            {"status": "archived"},
            actor_id=staff.member_id,
            ip=client_ip(request),
        )
        return _brand(brand)


@router.post(
    "/admin/categories",
    response_model=schemas.CategoryOut,
    status_code=status.HTTP_201_CREATED,
    tags=["catalog admin"],
)
async def create_category(
    platform: PlatformDep, staff: StaffMember, body: schemas.CategoryCreate, request: Request
) -> schemas.CategoryOut:
    async with platform.db.write() as session:
        category = await service.create_category(
            session,
            platform.clock,
            **body.model_dump(),
            actor_id=staff.member_id,
            ip=client_ip(request),
        )
        return _category(category)


@router.patch(
    "/admin/categories/{category_id}", response_model=schemas.CategoryOut, tags=["catalog admin"]
)
async def update_category(
    platform: PlatformDep,
    staff: StaffMember,
    category_id: uuid.UUID,
    body: schemas.CategoryUpdate,
    request: Request,
) -> schemas.CategoryOut:
    changes = body.model_dump(exclude_unset=True)
    # only parent_id may be null on purpose (to the top level); other nulls mean "unchanged"
    changes = {k: v for k, v in changes.items() if v is not None or k == "parent_id"}
    async with platform.db.write() as session:
        category = await service.update_category(
            session,
            platform.clock,
            category_id,
            changes,
            actor_id=staff.member_id,
            ip=client_ip(request),
        )
        return _category(category)


@router.post(
    "/admin/categories/{category_id}/archive",
    response_model=schemas.CategoryOut,
    tags=["catalog admin"],
)
async def archive_category(
    platform: PlatformDep, staff: StaffMember, category_id: uuid.UUID, request: Request
) -> schemas.CategoryOut:
    async with platform.db.write() as session:
        category = await service.update_category(
            session,
            platform.clock,
            category_id,
            {"status": "archived"},
            actor_id=staff.member_id,
            ip=client_ip(request),
        )
        return _category(category)


# ---- staff: products and variants --------------------------------------------------------------


@router.get("/admin/products", response_model=schemas.AdminProductPage, tags=["catalog admin"])
async def admin_list_products(
    platform: PlatformDep,
    staff: StaffMember,
    status_: Annotated[Literal["draft", "active", "archived"] | None, Query(alias="status")] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    category: Annotated[str | None, Query(max_length=100)] = None,
    brand: Annotated[str | None, Query(max_length=120)] = None,
    sort: Literal["new", "price_asc", "price_desc", "popular", "relevance"] | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    statuses = (status_,) if status_ else ("draft", "active", "archived")
    page = await reads.product_page(
        platform.db.reader,
        q=q,
        category=category,
        brand=brand,
        sort=sort,
        limit=limit,
        cursor=cursor,
        statuses=statuses,
    )
    return json_response(page)


@router.get(
    "/admin/products/{product_id}", response_model=schemas.ProductDetail, tags=["catalog admin"]
)
async def admin_get_product(
    platform: PlatformDep, staff: StaffMember, product_id: uuid.UUID
) -> dict[str, Any]:
    return await _admin_detail(platform, product_id)


@router.post(
    "/admin/products",
    response_model=schemas.ProductDetail,
    status_code=status.HTTP_201_CREATED,
    tags=["catalog admin"],
)
async def create_product(
    platform: PlatformDep, staff: StaffMember, body: schemas.ProductCreate, request: Request
) -> dict[str, Any]:
    values = body.model_dump()
    async with platform.db.write() as session:
        product = await service.create_product(
            session, platform.clock, **values, actor_id=staff.member_id, ip=client_ip(request)
        )
        target = product.id
    return await _admin_detail(platform, target)


@router.patch(
    "/admin/products/{product_id}", response_model=schemas.ProductDetail, tags=["catalog admin"]
)
async def update_product(
    platform: PlatformDep,
    staff: StaffMember,
    product_id: uuid.UUID,
    body: schemas.ProductUpdate,
    request: Request,
) -> dict[str, Any]:
    async with platform.db.write() as session:
        await service.update_product(
            session,
            platform.clock,
            product_id,
            body.model_dump(exclude_unset=True, exclude_none=True),
            actor_id=staff.member_id,
            ip=client_ip(request),
        )
        target = product_id
    return await _admin_detail(platform, target)


@router.post(
    "/admin/products/{product_id}/archive",
    response_model=schemas.ProductDetail,
    tags=["catalog admin"],
)
async def archive_product(
    platform: PlatformDep, staff: StaffMember, product_id: uuid.UUID, request: Request
) -> dict[str, Any]:
    async with platform.db.write() as session:
        await service.archive_product(
            session, platform.clock, product_id, actor_id=staff.member_id, ip=client_ip(request)
        )
        target = product_id
    return await _admin_detail(platform, target)


@router.post(
    "/admin/products/{product_id}/variants",
    response_model=schemas.ProductDetail,
    status_code=status.HTTP_201_CREATED,
    tags=["catalog admin"],
)
async def add_variant(
    platform: PlatformDep,
    staff: StaffMember,
    product_id: uuid.UUID,
    body: schemas.VariantCreate,
    request: Request,
) -> dict[str, Any]:
    async with platform.db.write() as session:
        await service.add_variant(
            session,
            platform.clock,
            product_id,
            **body.model_dump(),
            actor_id=staff.member_id,
            ip=client_ip(request),
        )
        target = product_id
    return await _admin_detail(platform, target)


@router.patch(
    "/admin/variants/{variant_id}", response_model=schemas.ProductDetail, tags=["catalog admin"]
)
async def update_variant(
    platform: PlatformDep,
    staff: StaffMember,
    variant_id: uuid.UUID,
    body: schemas.VariantUpdate,
    request: Request,
) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    # a null price returns the variant to the product's price; other nulls mean "unchanged"
    changes = {k: v for k, v in changes.items() if v is not None or k == "price"}
    async with platform.db.write() as session:
        variant = await service.update_variant(
            session,
            platform.clock,
            variant_id,
            changes,
            actor_id=staff.member_id,
            ip=client_ip(request),
        )
        target = variant.product_id
    return await _admin_detail(platform, target)


@router.post(
    "/admin/variants/{variant_id}/stock-adjustments",
    response_model=schemas.StockAdjustmentResult,
    status_code=status.HTTP_201_CREATED,
    tags=["catalog admin"],
)
async def adjust_stock(
    platform: PlatformDep,
    staff: StaffMember,
    variant_id: uuid.UUID,
    body: schemas.StockAdjustment,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    async def operation(session: AsyncSession) -> dict[str, Any]:
        stock, movement = await service.adjust_stock(
            session,
            platform.clock,
            variant_id,
            delta=body.delta,
            reason=body.reason,
            actor_id=staff.member_id,
            ip=client_ip(request),
        )
        result = schemas.StockAdjustmentResult(
            variant_id=variant_id,
            stock=stock,
            movement=schemas.StockMovementOut.model_validate(movement, from_attributes=True),
        )
        return result.model_dump(mode="json")

    return await run_once(
        platform.db,
        platform.clock,
        scope=f"catalog.stock-adjustment:{variant_id}",
        owner=str(staff.member_id),
        key=idempotency_key,
        fingerprint=request_fingerprint(body.model_dump(mode="json")),
        operation=operation,
    )


@router.get(
    "/admin/variants/{variant_id}/stock-movements",
    response_model=schemas.StockMovementPage,
    tags=["catalog admin"],
)
async def list_stock_movements(
    platform: PlatformDep,
    staff: StaffMember,
    variant_id: uuid.UUID,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> schemas.StockMovementPage:
    async with platform.db.read() as session:
        rows, next_cursor = await service.stock_movements(
            session, variant_id, limit=limit, cursor=cursor
        )
    return schemas.StockMovementPage(
        items=[schemas.StockMovementOut.model_validate(r, from_attributes=True) for r in rows],
        next_cursor=next_cursor,
    )


# ---- staff: images -----------------------------------------------------------------------------


@router.post(
    "/admin/products/{product_id}/images",
    response_model=schemas.ImageOut,
    status_code=status.HTTP_201_CREATED,
    tags=["catalog admin"],
)
async def upload_image(
    platform: PlatformDep,
    staff: StaffMember,
    product_id: uuid.UUID,
    request: Request,
    file: Annotated[UploadFile, File(description="JPEG, PNG, WebP or GIF")],
    alt: Annotated[str, Form(max_length=200)] = "",
) -> schemas.ImageOut:
    settings = platform.settings
    data = await file.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise PayloadTooLarge(max_bytes=settings.max_upload_bytes)
    await _admin_detail(platform, product_id)  # 404 first
    url = await service.store_product_image(
        Path(settings.media_dir), data, max_pixels=settings.max_image_pixels
    )
    try:
        async with platform.db.write() as session:
            image = await service.add_product_image(
                session,
                platform.clock,
                product_id,
                url=url,
                alt=alt.strip(),
                actor_id=staff.member_id,
                ip=client_ip(request),
            )
            return schemas.ImageOut(
                id=image.id, url=image.url, alt=image.alt, position=image.position
            )
    except BaseException:
        await service.discard_stored_image(Path(settings.media_dir), url)
        raise


@router.post(
    "/admin/products/{product_id}/images/by-url",
    response_model=schemas.ImageOut,
    status_code=status.HTTP_201_CREATED,
    tags=["catalog admin"],
)
async def add_image_by_url(
    platform: PlatformDep,
    staff: StaffMember,
    product_id: uuid.UUID,
    body: schemas.ImageByUrl,
    request: Request,
) -> schemas.ImageOut:
    async with platform.db.write() as session:
        image = await service.add_product_image(
            session,
            platform.clock,
            product_id,
            url=str(body.url),
            alt=body.alt,
            actor_id=staff.member_id,
            ip=client_ip(request),
        )
        return schemas.ImageOut(id=image.id, url=image.url, alt=image.alt, position=image.position)


@router.delete(
    "/admin/products/{product_id}/images/{image_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["catalog admin"],
)
async def remove_image(
    platform: PlatformDep,
    staff: StaffMember,
    product_id: uuid.UUID,
    image_id: uuid.UUID,
    request: Request,
) -> None:
    async with platform.db.write() as session:
        url = await service.remove_product_image(
            session,
            platform.clock,
            product_id,
            image_id,
            actor_id=staff.member_id,
            ip=client_ip(request),
        )
    await service.discard_stored_image(Path(platform.settings.media_dir), url)


# ---- staff: bulk stock import ------------------------------------------------------------------


def _import_out(view: stock_imports.ImportView) -> schemas.StockImportOut:
    return schemas.StockImportOut.model_validate(view, from_attributes=True)


@router.post(
    "/admin/stock-imports",
    response_model=schemas.StockImportOut,
    status_code=status.HTTP_201_CREATED,
    tags=["catalog admin"],
)
async def create_stock_import(
    platform: PlatformDep,
    staff: StaffMember,
    request: Request,
    file: Annotated[UploadFile, File(description="CSV: sku,delta,reason or sku,stock,reason")],
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Upload a CSV of stock changes: every row is checked now, the valid ones are applied in
    the background (poll `GET /admin/stock-imports/{id}` for progress and the refused rows)."""
    settings = platform.settings
    data = await file.read(settings.stock_import_max_bytes + 1)
    if len(data) > settings.stock_import_max_bytes:
        raise PayloadTooLarge(max_bytes=settings.stock_import_max_bytes)
    filename = Path(file.filename or "stock.csv").name
    parsed = stock_imports.parse_stock_csv(data, max_rows=settings.stock_import_max_rows)

    async def operation(session: AsyncSession) -> dict[str, Any]:
        view = await stock_imports.create_stock_import(
            session,
            platform.clock,
            parsed=parsed,
            filename=filename,
            actor_id=staff.member_id,
            ip=client_ip(request),
        )
        return _import_out(view).model_dump(mode="json")

    return await run_once(
        platform.db,
        platform.clock,
        scope="catalog.stock-import",
        owner=str(staff.member_id),
        key=idempotency_key,
        fingerprint=request_fingerprint(
            {"sha256": hashlib.sha256(data).hexdigest(), "filename": filename}
        ),
        operation=operation,
    )


@router.get("/admin/stock-imports", response_model=schemas.StockImportPage, tags=["catalog admin"])
async def list_stock_imports(
    platform: PlatformDep, staff: StaffMember, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> schemas.StockImportPage:
    async with platform.db.read() as session:
        views, next_cursor = await stock_imports.list_stock_imports(
            session, limit=limit, cursor=cursor
        )
    return schemas.StockImportPage(items=[_import_out(v) for v in views], next_cursor=next_cursor)


@router.get(
    "/admin/stock-imports/{import_id}",
    response_model=schemas.StockImportOut,
    tags=["catalog admin"],
)
async def get_stock_import(
    platform: PlatformDep, staff: StaffMember, import_id: uuid.UUID
) -> schemas.StockImportOut:
    """Progress of an import, and its first refused rows."""
    async with platform.db.read() as session:
        return _import_out(await stock_imports.get_stock_import(session, import_id))


@router.get(
    "/admin/stock-imports/{import_id}/errors",
    response_model=schemas.StockImportErrorPage,
    tags=["catalog admin"],
)
async def list_stock_import_errors(
    platform: PlatformDep,
    staff: StaffMember,
    import_id: uuid.UUID,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> schemas.StockImportErrorPage:
    """Every refused row of an import, in file order."""
    async with platform.db.read() as session:
        rows, next_cursor = await stock_imports.list_import_errors(
            session, import_id, limit=limit, cursor=cursor
        )
    return schemas.StockImportErrorPage(
        items=[schemas.StockImportError.model_validate(r, from_attributes=True) for r in rows],
        next_cursor=next_cursor,
    )
