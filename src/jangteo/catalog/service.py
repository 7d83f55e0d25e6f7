"""Business rules of the catalog: brands, categories, products, variants, stock, images, search.

Other domains call `variant_snapshots`, `reserve_stock`, `release_stock` and `record_sales`
inside their own transaction. Every change of stock is a row of the `stock_movements` ledger,
once per (variant, reference), so the ledger of a variant always sums to its stock.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    delete,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.catalog.models import Brand, Category, Product, ProductImage, StockMovement, Variant
from jangteo.catalog.search import build_document, index_documents
from jangteo.core.audit import record_audit
from jangteo.core.clock import Clock
from jangteo.core.errors import InvalidInput, NotFound, define
from jangteo.core.ids import short_code, uuid7
from jangteo.core.korean import normalize
from jangteo.core.media import LocalMediaStorage, store_image
from jangteo.core.pagination import cursor_keys, decode_cursor, encode_cursor

OutOfStock = define("out-of-stock", 409, "The item is out of stock.")
InsufficientStock = define("insufficient-stock", 409, "There is not enough stock for this change.")
SlugTaken = define("slug-taken", 409, "This slug is already in use.")
SkuTaken = define("sku-taken", 409, "This SKU is already in use.")
DuplicateVariant = define("duplicate-variant", 409, "A variant with these options already exists.")
InvalidOptions = define(
    "invalid-options", 422, "The options do not match the product's option types."
)
NotSellable = define(
    "product-without-variants", 409, "A product needs an active variant before it can be sold."
)
BrandInUse = define("brand-in-use", 409, "The brand still has products for sale.")
CategoryInUse = define(
    "category-in-use", 409, "The category still has products for sale or subcategories."
)
InvalidCategoryMove = define(
    "invalid-category-move", 409, "A category cannot be moved under itself or too deep."
)
TooManyImages = define("too-many-images", 409, "The product already has the most images allowed.")

ProductStatus = Literal["draft", "active", "archived"]

MAX_CATEGORY_DEPTH = 6
MAX_IMAGES_PER_PRODUCT = 20
MEDIA_URL_PREFIX = "/media/products/"
_SLUG_SEPARATORS = re.compile(r"[^0-9a-z\uac00-\ud7a3]+")


# ---------------------------------------------------------------------------------------------
# what other domains read


@dataclass(frozen=True)
class VariantSnapshot:
    """A variant as an order line needs it, at the moment it is read."""

    id: uuid.UUID
    product_id: uuid.UUID
    product_name: str
    brand_name: str
    category_id: uuid.UUID
    options: dict[str, str]
    price: int
    list_price: int
    stock: int
    sellable: bool  # the product is active and the variant is active
    image_url: str | None


@dataclass(frozen=True)
class CategoryNode:
    id: uuid.UUID
    name: str
    slug: str
    position: int
    children: list[CategoryNode]


def effective_price(product: Product, variant: Variant) -> int:
    return product.price if variant.price is None else variant.price


def slugify(text: str) -> str:
    """A URL slug from a name; Hangul is kept as it is (`캐시미어-니트`)."""
    return _SLUG_SEPARATORS.sub("-", normalize(text)).strip("-")[:60].strip("-")


# ---------------------------------------------------------------------------------------------
# helpers


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _insert(session: AsyncSession, model: type) -> Any:
    return (sqlite_insert if _dialect(session) == "sqlite" else postgres_insert)(model)


def _as_uuid(ref: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(ref)
    except (ValueError, AttributeError, TypeError):
        return None


async def _free_slug(
    session: AsyncSession, model: type[Brand] | type[Category], name: str, given: str | None
) -> str:
    """The given slug if it is free (else SlugTaken), or one made from the name, made unique."""
    if given is not None:
        if await session.scalar(select(model.id).where(model.slug == given)) is not None:
            raise SlugTaken(slug=given)
        return given
    base = slugify(name) or short_code(8).lower()
    taken = set(
        (await session.scalars(select(model.slug).where(model.slug.startswith(base)))).all()
    )
    if base not in taken:
        return base
    for n in range(2, 1000):
        candidate = f"{base}-{n}"
        if candidate not in taken:
            return candidate
    return f"{base}-{short_code(6).lower()}"


async def _flush_unique(session: AsyncSession, conflict: type[Exception], **extra: Any) -> None:
    """Flush, turning a unique violation (a concurrent writer won the race) into `conflict`.

    The transaction cannot go on after the violation; raising makes the caller roll it back.
    """
    try:
        await session.flush()
    except IntegrityError as exc:
        raise conflict(**extra) from exc


def _brand_state(brand: Brand) -> dict[str, Any]:
    return {
        "name": brand.name,
        "slug": brand.slug,
        "name_en": brand.name_en,
        "description": brand.description,
        "status": brand.status,
    }


def _category_state(category: Category) -> dict[str, Any]:
    return {
        "name": category.name,
        "slug": category.slug,
        "parent_id": str(category.parent_id) if category.parent_id else None,
        "position": category.position,
        "status": category.status,
    }


def _product_state(product: Product) -> dict[str, Any]:
    return {
        "name": product.name,
        "brand_id": str(product.brand_id),
        "category_id": str(product.category_id),
        "description": product.description,
        "tags": list(product.tags),
        "status": product.status,
        "price": product.price,
        "list_price": product.list_price,
        "option_types": list(product.option_types),
    }


def _variant_state(variant: Variant) -> dict[str, Any]:
    return {
        "sku": variant.sku,
        "options": dict(variant.options),
        "price": variant.price,
        "status": variant.status,
        "position": variant.position,
    }


# ---------------------------------------------------------------------------------------------
# brands


async def find_brand(session: AsyncSession, ref: str, *, include_archived: bool = False) -> Brand:
    """A brand by id or slug; NotFound when there is none (or it is archived)."""
    brand_id = _as_uuid(ref)
    query = select(Brand).where(Brand.id == brand_id if brand_id else Brand.slug == ref)
    if not include_archived:
        query = query.where(Brand.status == "active")
    brand = await session.scalar(query)
    if brand is None:
        raise NotFound("The brand does not exist.")
    return brand


async def list_brands(
    session: AsyncSession,
    *,
    limit: int = 20,
    cursor: str | None = None,
    statuses: Sequence[str] = ("active",),
) -> tuple[list[Brand], str | None]:
    """Brands by name; the archived ones only when `statuses` asks for them (staff)."""
    query = select(Brand).where(Brand.status.in_(statuses)).order_by(Brand.name, Brand.id)
    after = decode_cursor(cursor)
    if after is not None:
        name, brand_id = cursor_keys(after, "brands", [str, uuid.UUID])
        query = query.where(or_(Brand.name > name, and_(Brand.name == name, Brand.id > brand_id)))
    rows = list((await session.scalars(query.limit(limit + 1))).all())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor({"s": "brands", "k": [rows[-1].name, str(rows[-1].id)]})
    return rows, next_cursor


async def create_brand(
    session: AsyncSession,
    clock: Clock,
    *,
    name: str,
    slug: str | None = None,
    name_en: str | None = None,
    description: str = "",
    actor_id: uuid.UUID | None = None,
    ip: str | None = None,
) -> Brand:
    brand = Brand(
        name=name,
        slug=await _free_slug(session, Brand, name, slug),
        name_en=name_en,
        description=description,
        status="active",
        created_at=clock.now(),
    )
    session.add(brand)
    await _flush_unique(session, SlugTaken, slug=brand.slug)
    record_audit(
        session,
        clock,
        actor_id=actor_id,
        action="catalog.brand.create",
        target_type="brand",
        target_id=brand.id,
        after=_brand_state(brand),
        ip=ip,
    )
    return brand


async def update_brand(
    session: AsyncSession,
    clock: Clock,
    brand_id: uuid.UUID,
    changes: dict[str, Any],
    *,
    actor_id: uuid.UUID | None = None,
    ip: str | None = None,
) -> Brand:
    """Apply `changes` (name, slug, name_en, description, status); reindexes its products."""
    brand = await session.get(Brand, brand_id)
    if brand is None:
        raise NotFound("The brand does not exist.")
    before = _brand_state(brand)
    if "slug" in changes and changes["slug"] != brand.slug:
        brand.slug = await _free_slug(session, Brand, brand.name, changes["slug"])
    if changes.get("status") == "archived" and brand.status != "archived":
        await _refuse_if_brand_sells(session, brand.id)
    for key in ("name", "name_en", "description", "status"):
        if key in changes:
            setattr(brand, key, changes[key])
    await _flush_unique(session, SlugTaken, slug=brand.slug)
    if before["name"] != brand.name or before["name_en"] != brand.name_en:
        product_ids = (
            await session.scalars(select(Product.id).where(Product.brand_id == brand.id))
        ).all()
        await reindex_products(session, product_ids)
    record_audit(
        session,
        clock,
        actor_id=actor_id,
        action="catalog.brand.update",
        target_type="brand",
        target_id=brand.id,
        before=before,
        after=_brand_state(brand),
        ip=ip,
    )
    return brand


async def _refuse_if_brand_sells(session: AsyncSession, brand_id: uuid.UUID) -> None:
    selling = await session.scalar(
        select(Product.id).where(Product.brand_id == brand_id, Product.status == "active").limit(1)
    )
    if selling is not None:
        raise BrandInUse()


# ---------------------------------------------------------------------------------------------
# categories


async def find_category(
    session: AsyncSession, ref: str, *, include_archived: bool = False
) -> Category:
    """A category by id or slug; NotFound when there is none (or it is archived)."""
    category_id = _as_uuid(ref)
    query = select(Category).where(
        Category.id == category_id if category_id else Category.slug == ref
    )
    if not include_archived:
        query = query.where(Category.status == "active")
    category = await session.scalar(query)
    if category is None:
        raise NotFound("The category does not exist.")
    return category


async def category_tree(session: AsyncSession) -> list[CategoryNode]:
    """The active categories as a tree, each level in position order."""
    rows = (
        await session.scalars(
            select(Category)
            .where(Category.status == "active")
            .order_by(Category.position, Category.name, Category.id)
        )
    ).all()
    children: dict[uuid.UUID | None, list[Category]] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)

    def build(parent_id: uuid.UUID | None) -> list[CategoryNode]:
        return [
            CategoryNode(c.id, c.name, c.slug, c.position, build(c.id))
            for c in children.get(parent_id, [])
        ]

    return build(None)


async def all_categories(session: AsyncSession) -> list[Category]:
    """Every category, archived ones included, in position order (staff build the tree)."""
    rows = await session.scalars(
        select(Category).order_by(Category.position, Category.name, Category.id)
    )
    return list(rows)


async def breadcrumb(session: AsyncSession, category: Category) -> list[Category]:
    """The category and its ancestors, root first."""
    ids = [uuid.UUID(part) for part in category.path.strip("/").split("/") if part]
    rows = {c.id: c for c in (await session.scalars(select(Category).where(Category.id.in_(ids))))}
    return [rows[i] for i in ids if i in rows]


async def create_category(
    session: AsyncSession,
    clock: Clock,
    *,
    name: str,
    slug: str | None = None,
    parent_id: uuid.UUID | None = None,
    position: int = 0,
    actor_id: uuid.UUID | None = None,
    ip: str | None = None,
) -> Category:
    category_id = uuid7()
    parent_path = "/"
    if parent_id is not None:
        parent = await session.get(Category, parent_id)
        if parent is None:
            raise InvalidInput("The parent category does not exist.")
        parent_path = parent.path
    if parent_path.count("/") > MAX_CATEGORY_DEPTH:
        raise InvalidCategoryMove()
    category = Category(
        id=category_id,
        parent_id=parent_id,
        name=name,
        slug=await _free_slug(session, Category, name, slug),
        path=f"{parent_path}{category_id}/",
        position=position,
        status="active",
        created_at=clock.now(),
    )
    session.add(category)
    await _flush_unique(session, SlugTaken, slug=category.slug)
    record_audit(
        session,
        clock,
        actor_id=actor_id,
        action="catalog.category.create",
        target_type="category",
        target_id=category.id,
        after=_category_state(category),
        ip=ip,
    )
    return category


async def update_category(
    session: AsyncSession,
    clock: Clock,
    category_id: uuid.UUID,
    changes: dict[str, Any],
    *,
    actor_id: uuid.UUID | None = None,
    ip: str | None = None,
) -> Category:
    """Apply `changes` (name, slug, position, parent_id, status); a move carries the subtree."""
    category = await session.get(Category, category_id)
    if category is None:
        raise NotFound("The category does not exist.")
    before = _category_state(category)
    if "slug" in changes and changes["slug"] != category.slug:
        category.slug = await _free_slug(session, Category, category.name, changes["slug"])
    if "parent_id" in changes and changes["parent_id"] != category.parent_id:
        await _move_category(session, category, changes["parent_id"])
    if changes.get("status") == "archived" and category.status != "archived":
        await _refuse_if_category_used(session, category)
    for key in ("name", "position", "status"):
        if key in changes:
            setattr(category, key, changes[key])
    await _flush_unique(session, SlugTaken, slug=category.slug)
    record_audit(
        session,
        clock,
        actor_id=actor_id,
        action="catalog.category.update",
        target_type="category",
        target_id=category.id,
        before=before,
        after=_category_state(category),
        ip=ip,
    )
    return category


async def _move_category(
    session: AsyncSession, category: Category, parent_id: uuid.UUID | None
) -> None:
    new_parent_path = "/"
    if parent_id is not None:
        parent = await session.get(Category, parent_id)
        if parent is None:
            raise InvalidInput("The parent category does not exist.")
        if parent.path.startswith(category.path):
            raise InvalidCategoryMove()
        new_parent_path = parent.path
    old_path = category.path
    new_path = f"{new_parent_path}{category.id}/"
    deepest = await session.scalar(
        select(func.max(func.length(Category.path))).where(Category.path.startswith(old_path))
    )
    levels_below = ((deepest or len(old_path)) - len(old_path)) // 37
    if new_path.count("/") - 1 + levels_below > MAX_CATEGORY_DEPTH:
        raise InvalidCategoryMove()
    await session.flush()
    await session.execute(
        update(Category)
        .where(Category.path.startswith(old_path))
        .values(path=literal(new_path) + func.substr(Category.path, len(old_path) + 1))
        .execution_options(synchronize_session=False)
    )
    # the moved category's own row was rewritten by the bulk UPDATE too; keep the object true
    category.parent_id = parent_id
    category.path = new_path


async def _refuse_if_category_used(session: AsyncSession, category: Category) -> None:
    child = await session.scalar(
        select(Category.id)
        .where(Category.parent_id == category.id, Category.status == "active")
        .limit(1)
    )
    selling = await session.scalar(
        select(Product.id)
        .join(Category, Category.id == Product.category_id)
        .where(Category.path.startswith(category.path), Product.status == "active")
        .limit(1)
    )
    if child is not None or selling is not None:
        raise CategoryInUse()


# ---------------------------------------------------------------------------------------------
# products and variants


def _canonical_options(option_types: Sequence[dict[str, Any]], options: dict[str, Any]) -> dict:
    """The options in the order of the option types, checked against their allowed values."""
    names = [t["name"] for t in option_types]
    if set(options) != set(names):
        raise InvalidOptions(expected=names)
    for option_type in option_types:
        if options[option_type["name"]] not in option_type["values"]:
            raise InvalidOptions(option=option_type["name"], allowed=option_type["values"])
    return {name: options[name] for name in names}


def _check_prices(price: int, list_price: int) -> None:
    if price < 0 or list_price < price:
        raise InvalidInput("The list price must be at least the price.")


async def _load_product(session: AsyncSession, product_id: uuid.UUID) -> Product:
    product = await session.get(Product, product_id)
    if product is None:
        raise NotFound("The product does not exist.")
    return product


async def create_product(
    session: AsyncSession,
    clock: Clock,
    *,
    brand_id: uuid.UUID,
    category_id: uuid.UUID,
    name: str,
    price: int,
    list_price: int | None = None,
    description: str = "",
    tags: Iterable[str] = (),
    option_types: Sequence[dict[str, Any]] = (),
    status: ProductStatus = "draft",
    variants: Sequence[dict[str, Any]] = (),
    actor_id: uuid.UUID | None = None,
    ip: str | None = None,
) -> Product:
    """A product with its variants (each `{options, stock, price?, sku?}`), indexed for search."""
    if await session.get(Brand, brand_id) is None:
        raise InvalidInput("The brand does not exist.")
    if await session.get(Category, category_id) is None:
        raise InvalidInput("The category does not exist.")
    list_price = price if list_price is None else list_price
    _check_prices(price, list_price)
    now = clock.now()
    product = Product(
        brand_id=brand_id,
        category_id=category_id,
        name=name,
        description=description,
        tags=list(dict.fromkeys(tags)),
        status="draft",
        price=price,
        list_price=list_price,
        option_types=[{"name": t["name"], "values": list(t["values"])} for t in option_types],
        sold_count=0,
        created_at=now,
        updated_at=now,
    )
    session.add(product)
    await session.flush()
    await _add_variants(session, product, variants, actor_id=actor_id, now=now)
    if status != "draft":
        await _set_status(session, product, status)
    await reindex_products(session, [product.id])
    record_audit(
        session,
        clock,
        actor_id=actor_id,
        action="catalog.product.create",
        target_type="product",
        target_id=product.id,
        after=_product_state(product),
        ip=ip,
    )
    return product


async def _add_variants(
    session: AsyncSession,
    product: Product,
    specs: Sequence[dict[str, Any]],
    *,
    actor_id: uuid.UUID | None,
    now: datetime,
) -> None:
    """The first variants of a new product, checked together and written in one flush."""
    seen: list[dict[str, Any]] = []
    skus = [spec["sku"] for spec in specs if spec.get("sku")]
    if len(set(skus)) != len(skus):
        raise SkuTaken()
    if skus:
        taken = await session.scalar(select(Variant.sku).where(Variant.sku.in_(skus)).limit(1))
        if taken is not None:
            raise SkuTaken(sku=taken)
    new: list[Variant] = []
    for position, spec in enumerate(specs):
        options = _canonical_options(product.option_types, spec.get("options") or {})
        if options in seen:
            raise DuplicateVariant(options=options)
        seen.append(options)
        stock, price = spec.get("stock", 0), spec.get("price")
        if stock < 0 or (price is not None and price < 0):
            raise InvalidInput("Stock and price cannot be negative.")
        new.append(
            Variant(
                id=uuid7(),
                product_id=product.id,
                sku=spec.get("sku") or f"JT-{short_code(10)}",
                options=options,
                price=price,
                stock=stock,
                status="active",
                position=position,
                created_at=now,
            )
        )
    session.add_all(new)
    await _flush_unique(session, SkuTaken)
    # the ledger rows after their variants: without relationships the flush would not order them
    session.add_all(
        StockMovement(
            variant_id=variant.id,
            delta=variant.stock,
            reason="variant.initial",
            reference=f"variant:{variant.id}:initial",
            actor_id=actor_id,
            created_at=now,
        )
        for variant in new
        if variant.stock
    )
    await session.flush()


async def _set_status(session: AsyncSession, product: Product, status: str) -> None:
    if status == "active":
        sellable = await session.scalar(
            select(Variant.id)
            .where(Variant.product_id == product.id, Variant.status == "active")
            .limit(1)
        )
        if sellable is None:
            raise NotSellable()
    product.status = status


async def update_product(
    session: AsyncSession,
    clock: Clock,
    product_id: uuid.UUID,
    changes: dict[str, Any],
    *,
    actor_id: uuid.UUID | None = None,
    ip: str | None = None,
) -> Product:
    """Apply `changes` (any field of create_product except variants)."""
    product = await _load_product(session, product_id)
    before = _product_state(product)
    if "brand_id" in changes and await session.get(Brand, changes["brand_id"]) is None:
        raise InvalidInput("The brand does not exist.")
    if "category_id" in changes and await session.get(Category, changes["category_id"]) is None:
        raise InvalidInput("The category does not exist.")
    price = changes.get("price", product.price)
    list_price = changes.get("list_price", product.list_price)
    if "price" in changes and "list_price" not in changes and product.list_price == product.price:
        list_price = price  # a product without a discount stays without one
    _check_prices(price, list_price)
    if "option_types" in changes:
        option_types = [
            {"name": t["name"], "values": list(t["values"])} for t in changes["option_types"]
        ]
        variants = (
            await session.scalars(select(Variant).where(Variant.product_id == product.id))
        ).all()
        for variant in variants:
            # every existing variant must still be a valid combination of the new option types
            variant.options = _canonical_options(option_types, variant.options)
        product.option_types = option_types
    for key in ("name", "description", "brand_id", "category_id"):
        if key in changes:
            setattr(product, key, changes[key])
    if "tags" in changes:
        product.tags = list(dict.fromkeys(changes["tags"]))
    product.price, product.list_price = price, list_price
    if "status" in changes and changes["status"] != product.status:
        await _set_status(session, product, changes["status"])
    product.updated_at = clock.now()
    await session.flush()
    after = _product_state(product)
    if any(before[k] != after[k] for k in ("name", "brand_id", "tags", "description")):
        await reindex_products(session, [product.id])
    record_audit(
        session,
        clock,
        actor_id=actor_id,
        action="catalog.product.update",
        target_type="product",
        target_id=product.id,
        before=before,
        after=after,
        ip=ip,
    )
    return product


async def archive_product(
    session: AsyncSession,
    clock: Clock,
    product_id: uuid.UUID,
    *,
    actor_id: uuid.UUID | None = None,
    ip: str | None = None,
) -> Product:
    return await update_product(
        session, clock, product_id, {"status": "archived"}, actor_id=actor_id, ip=ip
    )


async def add_variant(
    session: AsyncSession,
    clock: Clock,
    product_id: uuid.UUID,
    *,
    options: dict[str, Any],
    stock: int = 0,
    price: int | None = None,
    sku: str | None = None,
    actor_id: uuid.UUID | None = None,
    ip: str | None = None,
) -> Variant:
    """A new variant; its starting stock is the first row of its ledger."""
    product = await _load_product(session, product_id)
    options = _canonical_options(product.option_types, options)
    if stock < 0 or (price is not None and price < 0):
        raise InvalidInput("Stock and price cannot be negative.")
    existing = (
        await session.scalars(select(Variant).where(Variant.product_id == product.id))
    ).all()
    if any(v.options == options for v in existing):
        raise DuplicateVariant(options=options)
    if sku is not None and await session.scalar(select(Variant.id).where(Variant.sku == sku)):
        raise SkuTaken(sku=sku)
    now = clock.now()
    variant = Variant(
        product_id=product.id,
        sku=sku or f"JT-{short_code(10)}",
        options=options,
        price=price,
        stock=stock,
        status="active",
        position=len(existing),
        created_at=now,
    )
    session.add(variant)
    await _flush_unique(session, SkuTaken, sku=variant.sku)
    if stock:
        session.add(
            StockMovement(
                variant_id=variant.id,
                delta=stock,
                reason="variant.initial",
                reference=f"variant:{variant.id}:initial",
                actor_id=actor_id,
                created_at=now,
            )
        )
        await session.flush()
    record_audit(
        session,
        clock,
        actor_id=actor_id,
        action="catalog.variant.create",
        target_type="variant",
        target_id=variant.id,
        after={**_variant_state(variant), "stock": stock},
        ip=ip,
    )
    return variant


async def update_variant(
    session: AsyncSession,
    clock: Clock,
    variant_id: uuid.UUID,
    changes: dict[str, Any],
    *,
    actor_id: uuid.UUID | None = None,
    ip: str | None = None,
) -> Variant:
    """Apply `changes` (sku, options, price, status, position); stock changes go via the ledger."""
    variant = await session.get(Variant, variant_id)
    if variant is None:
        raise NotFound("The variant does not exist.")
    product = await _load_product(session, variant.product_id)
    before = _variant_state(variant)
    if "options" in changes:
        options = _canonical_options(product.option_types, changes["options"])
        clash = await session.scalars(
            select(Variant.options).where(
                Variant.product_id == product.id, Variant.id != variant.id
            )
        )
        if any(other == options for other in clash):
            raise DuplicateVariant(options=options)
        variant.options = options
    if "sku" in changes and changes["sku"] != variant.sku:
        if await session.scalar(select(Variant.id).where(Variant.sku == changes["sku"])):
            raise SkuTaken(sku=changes["sku"])
        variant.sku = changes["sku"]
    for key in ("price", "status", "position"):
        if key in changes:
            setattr(variant, key, changes[key])
    await _flush_unique(session, SkuTaken, sku=variant.sku)
    if variant.status != "active" and product.status == "active":
        # the last active variant cannot go while the product is for sale
        await _set_status(session, product, "active")
    record_audit(
        session,
        clock,
        actor_id=actor_id,
        action="catalog.variant.update",
        target_type="variant",
        target_id=variant.id,
        before=before,
        after=_variant_state(variant),
        ip=ip,
    )
    return variant


# ---------------------------------------------------------------------------------------------
# keyset helpers


def _cursor_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _after(columns: list[ColumnElement[Any]], ascending: list[bool], values: list[Any]) -> Any:
    """Rows strictly after `values` in the order of `columns`."""
    (first, second), (first_asc, second_asc) = columns, ascending
    first_after = first > values[0] if first_asc else first < values[0]
    second_after = second > values[1] if second_asc else second < values[1]
    return or_(first_after, and_(first == values[0], second_after))


async def _first_images(
    session: AsyncSession, product_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, ProductImage]:
    rows = (
        await session.scalars(
            select(ProductImage)
            .where(ProductImage.product_id.in_(list(product_ids)))
            .order_by(ProductImage.product_id, ProductImage.position, ProductImage.id)
        )
    ).all()
    first: dict[uuid.UUID, ProductImage] = {}
    for image in rows:
        first.setdefault(image.product_id, image)
    return first


# ---------------------------------------------------------------------------------------------
# search index


async def reindex_products(session: AsyncSession, product_ids: Iterable[uuid.UUID]) -> None:
    """Rewrite the search entries of these products from their current state."""
    ids = list(product_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = (
            await session.execute(
                select(
                    Product.id,
                    Product.name,
                    Product.description,
                    Product.tags,
                    Brand.name,
                    Brand.name_en,
                )
                .join(Brand, Brand.id == Product.brand_id)
                .where(Product.id.in_(chunk))
            )
        ).all()
        await index_documents(
            session,
            {
                row[0]: build_document(
                    name=row[1], brand_names=[row[4], row[5]], tags=row[3], description=row[2]
                )
                for row in rows
            },
        )


# ---------------------------------------------------------------------------------------------
# stock


def _merge_lines(lines: Iterable[tuple[uuid.UUID, int]]) -> dict[uuid.UUID, int]:
    merged: dict[uuid.UUID, int] = {}
    for variant_id, quantity in lines:
        if not isinstance(quantity, int) or quantity <= 0:
            raise InvalidInput("Quantities must be positive whole numbers.")
        merged[variant_id] = merged.get(variant_id, 0) + quantity
    return merged


async def _record_movement(
    session: AsyncSession,
    *,
    variant_id: uuid.UUID,
    delta: int,
    reason: str,
    reference: str,
    actor_id: uuid.UUID | None,
    now: datetime,
) -> bool:
    """Add a ledger row unless (variant, reference) is already there or the variant is unknown.

    INSERT … SELECT … ON CONFLICT DO NOTHING, so two transactions with the same reference
    cannot both record it (the second waits for the first, then does nothing).
    """
    source = select(
        literal(uuid7(), StockMovement.id.type),
        Variant.id,
        literal(delta),
        literal(reason),
        literal(reference),
        literal(actor_id, StockMovement.actor_id.type),
        literal(now, StockMovement.created_at.type),
    ).where(Variant.id == variant_id)
    statement = (
        _insert(session, StockMovement)
        .from_select(
            ["id", "variant_id", "delta", "reason", "reference", "actor_id", "created_at"], source
        )
        .on_conflict_do_nothing(index_elements=["variant_id", "reference"])
    )
    result = await session.execute(statement)
    return bool(result.rowcount)


async def _movement_delta(
    session: AsyncSession, variant_id: uuid.UUID, reference: str
) -> int | None:
    return await session.scalar(
        select(StockMovement.delta).where(
            StockMovement.variant_id == variant_id, StockMovement.reference == reference
        )
    )


async def _change_stock(session: AsyncSession, variant_id: uuid.UUID, delta: int) -> int | None:
    """Add `delta` to the stock unless that would go below zero; the new stock, or None."""
    result = await session.execute(
        update(Variant)
        .where(Variant.id == variant_id, Variant.stock >= -delta)
        .values(stock=Variant.stock + delta)
        .returning(Variant.stock)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one_or_none()


async def reserve_stock(
    session: AsyncSession,
    clock: Clock,
    lines: list[tuple[uuid.UUID, int]],
    *,
    reference: str,
    actor_id: uuid.UUID | None = None,
) -> None:
    """Take stock for every (variant, quantity), or raise OutOfStock for the first that lacks it.

    Variants are taken in id order so that concurrent orders never wait on each other in a
    cycle. A line already reserved under `reference` is not taken twice. On OutOfStock the
    caller's transaction must roll back (the earlier lines were already taken in it).
    """
    now = clock.now()
    for variant_id, quantity in sorted(_merge_lines(lines).items()):
        line_reference = f"{reference}:{variant_id}"
        recorded = await _record_movement(
            session,
            variant_id=variant_id,
            delta=-quantity,
            reason="order.reserve",
            reference=line_reference,
            actor_id=actor_id,
            now=now,
        )
        if not recorded:
            if await _movement_delta(session, variant_id, line_reference) is not None:
                continue  # reserved before under this reference
            raise OutOfStock(variant_id=str(variant_id))  # no such variant
        if await _change_stock(session, variant_id, -quantity) is None:
            raise OutOfStock(variant_id=str(variant_id))


async def release_stock(
    session: AsyncSession,
    clock: Clock,
    lines: list[tuple[uuid.UUID, int]],
    *,
    reference: str,
) -> bool:
    """Give back what `reserve_stock` took under `reference`, once: False if nothing was left to
    give back (already released, or never reserved). Never more than was reserved per line."""
    now = clock.now()
    released = False
    for variant_id, quantity in sorted(_merge_lines(lines).items()):
        reserved = await _movement_delta(session, variant_id, f"{reference}:{variant_id}")
        if reserved is None or reserved >= 0:
            continue
        quantity = min(quantity, -reserved)
        recorded = await _record_movement(
            session,
            variant_id=variant_id,
            delta=quantity,
            reason="order.release",
            reference=f"{reference}:{variant_id}:release",
            actor_id=None,
            now=now,
        )
        if recorded:
            await _change_stock(session, variant_id, quantity)
            released = True
    return released


StockChangeOutcome = Literal["applied", "already-applied", "insufficient-stock", "unknown-variant"]


async def apply_stock_change(
    session: AsyncSession,
    clock: Clock,
    variant_id: uuid.UUID,
    *,
    delta: int,
    reason: str,
    reference: str,
    actor_id: uuid.UUID | None,
) -> tuple[StockChangeOutcome, int | None]:
    """Change a variant's stock by `delta` once per `reference` (a ledger row and the stock).

    Returns what happened and the stock after it (the stock left when it was insufficient).
    Unlike `adjust_stock` it never raises for a refused row, so a batch can go on.
    """
    recorded = await _record_movement(
        session,
        variant_id=variant_id,
        delta=delta,
        reason=reason,
        reference=reference,
        actor_id=actor_id,
        now=clock.now(),
    )
    if not recorded:
        if await _movement_delta(session, variant_id, reference) is not None:
            return "already-applied", None
        return "unknown-variant", None
    stock = await _change_stock(session, variant_id, delta)
    if stock is None:
        await session.execute(
            delete(StockMovement).where(
                StockMovement.variant_id == variant_id, StockMovement.reference == reference
            )
        )
        available = await session.scalar(select(Variant.stock).where(Variant.id == variant_id))
        return "insufficient-stock", available
    return "applied", stock


async def stocks_by_sku(
    session: AsyncSession, skus: Iterable[str]
) -> dict[str, tuple[uuid.UUID, int]]:
    """`{sku: (variant id, stock)}` for the SKUs that exist, looked up in chunks."""
    wanted = list(dict.fromkeys(skus))
    found: dict[str, tuple[uuid.UUID, int]] = {}
    for start in range(0, len(wanted), 500):
        rows = await session.execute(
            select(Variant.sku, Variant.id, Variant.stock).where(
                Variant.sku.in_(wanted[start : start + 500])
            )
        )
        found.update({sku: (variant_id, stock) for sku, variant_id, stock in rows})
    return found


async def variant_stock(session: AsyncSession, variant_id: uuid.UUID) -> int | None:
    return await session.scalar(select(Variant.stock).where(Variant.id == variant_id))


async def record_sales(session: AsyncSession, quantities: dict[uuid.UUID, int]) -> None:
    """Count sold units per product (negative after a refund) for the `popular` order."""
    for product_id, quantity in sorted(quantities.items()):
        if not quantity:
            continue
        total = Product.sold_count + quantity
        await session.execute(
            update(Product)
            .where(Product.id == product_id)
            .values(sold_count=case((total < 0, 0), else_=total))
            .execution_options(synchronize_session=False)
        )


async def adjust_stock(
    session: AsyncSession,
    clock: Clock,
    variant_id: uuid.UUID,
    *,
    delta: int,
    reason: str,
    actor_id: uuid.UUID | None,
    reference: str | None = None,
    ip: str | None = None,
) -> tuple[int, StockMovement]:
    """A counted change of stock by staff (goods received, damaged, stock-take).

    InsufficientStock when it would take the stock below zero. Returns the new stock and the
    ledger row.
    """
    if delta == 0:
        raise InvalidInput("The change of stock cannot be zero.")
    current = await session.scalar(select(Variant.stock).where(Variant.id == variant_id))
    if current is None:
        raise NotFound("The variant does not exist.")
    stock = await _change_stock(session, variant_id, delta)
    if stock is None:
        latest = await session.scalar(select(Variant.stock).where(Variant.id == variant_id))
        raise InsufficientStock(available=latest)
    movement = StockMovement(
        variant_id=variant_id,
        delta=delta,
        reason=reason,
        reference=reference or f"adjustment:{uuid7()}",
        actor_id=actor_id,
        created_at=clock.now(),
    )
    session.add(movement)
    await _flush_unique(session, InvalidInput, detail="This reference was already used.")
    record_audit(
        session,
        clock,
        actor_id=actor_id,
        action="catalog.stock.adjust",
        target_type="variant",
        target_id=variant_id,
        before={"stock": stock - delta},
        after={"stock": stock, "delta": delta, "reason": reason},
        ip=ip,
    )
    return stock, movement


async def stock_movements(
    session: AsyncSession, variant_id: uuid.UUID, *, limit: int = 20, cursor: str | None = None
) -> tuple[list[StockMovement], str | None]:
    """The ledger of a variant, newest first."""
    if await session.get(Variant, variant_id) is None:
        raise NotFound("The variant does not exist.")
    query = select(StockMovement).where(StockMovement.variant_id == variant_id)
    after = decode_cursor(cursor)
    if after is not None:
        at, movement_id = cursor_keys(after, "movements", [datetime, uuid.UUID])
        query = query.where(
            _after([StockMovement.created_at, StockMovement.id], [False, False], [at, movement_id])
        )
    rows = list(
        (
            await session.scalars(
                query.order_by(StockMovement.created_at.desc(), StockMovement.id.desc()).limit(
                    limit + 1
                )
            )
        ).all()
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(
            {"s": "movements", "k": [last.created_at.isoformat(), str(last.id)]}
        )
    return rows, next_cursor


# ---------------------------------------------------------------------------------------------
# reading variants for other domains


async def variant_snapshots(
    session: AsyncSession, variant_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, VariantSnapshot]:
    """The variants that exist among `variant_ids`, as order lines need them."""
    ids = list(dict.fromkeys(variant_ids))
    if not ids:
        return {}
    rows = (
        await session.execute(
            select(Variant, Product, Brand.name)
            .join(Product, Product.id == Variant.product_id)
            .join(Brand, Brand.id == Product.brand_id)
            .where(Variant.id.in_(ids))
        )
    ).all()
    images = await _first_images(session, {row.Product.id for row in rows})
    snapshots: dict[uuid.UUID, VariantSnapshot] = {}
    for variant, product, brand_name in rows:
        price = effective_price(product, variant)
        snapshots[variant.id] = VariantSnapshot(
            id=variant.id,
            product_id=product.id,
            product_name=product.name,
            brand_name=brand_name,
            category_id=product.category_id,
            options=dict(variant.options),
            price=price,
            list_price=max(product.list_price, price),
            stock=variant.stock,
            sellable=product.status == "active" and variant.status == "active",
            image_url=images[product.id].url if product.id in images else None,
        )
    return snapshots


# ---------------------------------------------------------------------------------------------
# images


def _product_media(media_dir: Path) -> LocalMediaStorage:
    # `products/<name>` is served at MEDIA_URL_PREFIX + name, the URL kept in image rows
    return LocalMediaStorage(media_dir, url_prefix="/media/")


async def store_product_image(media_dir: Path, data: bytes, *, max_pixels: int) -> str:
    """Check and clean an uploaded image, store it under a new name; returns its URL path.

    The kind is decided by the content, never by the file name or declared type.
    """
    stored = await store_image(
        _product_media(media_dir), data, folder="products", max_pixels=max_pixels, thumb_sides=()
    )
    return stored.url


async def discard_stored_image(media_dir: Path, url: str) -> None:
    """Remove a stored upload no image row refers to (never written, or removed)."""
    if url.startswith(MEDIA_URL_PREFIX):
        await _product_media(media_dir).delete(url)


async def add_product_image(
    session: AsyncSession,
    clock: Clock,
    product_id: uuid.UUID,
    *,
    url: str,
    alt: str = "",
    actor_id: uuid.UUID | None = None,
    ip: str | None = None,
) -> ProductImage:
    """Attach an image (a stored upload or an https URL) after the product's other images."""
    product = await _load_product(session, product_id)
    count = await session.scalar(
        select(func.count()).select_from(ProductImage).where(ProductImage.product_id == product.id)
    )
    if (count or 0) >= MAX_IMAGES_PER_PRODUCT:
        raise TooManyImages(max_images=MAX_IMAGES_PER_PRODUCT)
    last = await session.scalar(
        select(func.max(ProductImage.position)).where(ProductImage.product_id == product.id)
    )
    image = ProductImage(
        product_id=product.id,
        url=url,
        alt=alt,
        position=0 if last is None else last + 1,
        created_at=clock.now(),
    )
    session.add(image)
    await session.flush()
    record_audit(
        session,
        clock,
        actor_id=actor_id,
        action="catalog.image.add",
        target_type="product",
        target_id=product.id,
        after={"image_id": str(image.id), "url": url, "alt": alt},
        ip=ip,
    )
    return image


async def remove_product_image(
    session: AsyncSession,
    clock: Clock,
    product_id: uuid.UUID,
    image_id: uuid.UUID,
    *,
    actor_id: uuid.UUID | None = None,
    ip: str | None = None,
) -> str:
    """Detach an image; returns its URL so that a stored upload can be removed after commit."""
    image = await session.get(ProductImage, image_id)
    if image is None or image.product_id != product_id:
        raise NotFound("The image does not exist.")
    await session.delete(image)
    await session.flush()
    record_audit(
        session,
        clock,
        actor_id=actor_id,
        action="catalog.image.remove",
        target_type="product",
        target_id=product_id,
        before={"image_id": str(image_id), "url": image.url},
        ip=ip,
    )
    return image.url


async def count_products(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Product)) or 0)


async def active_product_names(
    session: AsyncSession, product_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The names of those of `product_ids` that are on sale; others are left out."""
    ids = set(product_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(Product.id, Product.name).where(Product.id.in_(ids), Product.status == "active")
    )
    return {product_id: name for product_id, name in rows}


@dataclass(frozen=True)
class ProductCard:
    """A product as a link to it shows it: name, price from, first picture, on sale or not."""

    id: uuid.UUID
    name: str
    price: int
    image: str | None
    on_sale: bool


async def product_cards(
    session: AsyncSession, product_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, ProductCard]:
    """The products among `product_ids` that exist (drafts and archived ones too, marked not
    on sale), in two queries."""
    ids = list(dict.fromkeys(product_ids))
    if not ids:
        return {}
    products = (await session.scalars(select(Product).where(Product.id.in_(ids)))).all()
    images = await _first_images(session, [p.id for p in products])
    return {
        p.id: ProductCard(
            id=p.id,
            name=p.name,
            price=p.price,
            image=images[p.id].url if p.id in images else None,
            on_sale=p.status == "active",
        )
        for p in products
    }
