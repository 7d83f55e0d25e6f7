"""Products, brands and categories for tests, made through the catalog service layer."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.catalog import service
from jangteo.catalog.models import Variant
from jangteo.core.clock import Clock
from jangteo.core.errors import NotFound
from jangteo.core.platform import Platform


@dataclass
class ProductRef:
    """What a test needs to refer to a product it made (ids as the API shows them)."""

    product_id: str
    variant_ids: list[str]
    brand_id: str
    category_id: str


async def brand_named(session: AsyncSession, clock: Clock, name: str) -> uuid.UUID:
    """The id of the brand with this name, created if there is none yet."""
    slug = service.slugify(name)
    if slug:
        try:
            brand = await service.find_brand(session, slug, include_archived=True)
            if brand.name == name:
                return brand.id
        except NotFound:
            pass
    return (await service.create_brand(session, clock, name=name)).id


async def category_named(
    session: AsyncSession, clock: Clock, name: str, parent_id: uuid.UUID | None = None
) -> uuid.UUID:
    """The id of the category with this name, created (under `parent_id`) if there is none."""
    slug = service.slugify(name)
    if slug:
        try:
            category = await service.find_category(session, slug, include_archived=True)
            if category.name == name:
                return category.id
        except NotFound:
            pass
    return (await service.create_category(session, clock, name=name, parent_id=parent_id)).id


def _option_types(variants: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Option types covering every option value the variants use, in first-seen order."""
    values: dict[str, list[str]] = {}
    for spec in variants:
        for name, value in (spec.get("options") or {}).items():
            seen = values.setdefault(name, [])
            if value not in seen:
                seen.append(value)
    return [{"name": name, "values": vals} for name, vals in values.items()]


async def make_product(
    platform: Platform,
    *,
    name: str = "캐시미어 블렌드 니트",
    price: int = 39000,
    list_price: int | None = None,
    stock: int = 10,
    variants: Sequence[dict[str, Any]] | None = None,
    brand_name: str = "모노하우스",
    category_name: str = "니트",
    tags: Iterable[str] = (),
    description: str = "",
    status: str = "active",
) -> ProductRef:
    """A product with one variant holding `stock` (or the given `variants`, each
    `{options, stock, price?, sku?}`), in a brand and category found or made by name."""
    specs = list(variants) if variants is not None else [{"options": {}, "stock": stock}]
    async with platform.db.write() as session:
        brand_id = await brand_named(session, platform.clock, brand_name)
        category_id = await category_named(session, platform.clock, category_name)
        product = await service.create_product(
            session,
            platform.clock,
            brand_id=brand_id,
            category_id=category_id,
            name=name,
            price=price,
            list_price=list_price,
            description=description,
            tags=list(tags),
            option_types=_option_types(specs),
            status=status,  # type: ignore[arg-type]
            variants=specs,
        )
        variant_ids = (
            await session.scalars(
                select(Variant.id)
                .where(Variant.product_id == product.id)
                .order_by(Variant.position, Variant.id)
            )
        ).all()
        return ProductRef(
            product_id=str(product.id),
            variant_ids=[str(v) for v in variant_ids],
            brand_id=str(brand_id),
            category_id=str(category_id),
        )


async def variant_stock(platform: Platform, variant_id: str | uuid.UUID) -> int:
    """The stock of a variant as the catalog holds it."""
    async with platform.db.read() as session:
        snapshot = (await service.variant_snapshots(session, [uuid.UUID(str(variant_id))])).get(
            uuid.UUID(str(variant_id))
        )
    assert snapshot is not None, f"no variant {variant_id}"
    return snapshot.stock
