"""Tables of the catalog domain: brands, categories, products, variants, images, stock ledger."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jangteo.core.db import Base
from jangteo.core.ids import uuid7


class Brand(Base):
    __tablename__ = "brands"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    name: Mapped[str] = mapped_column(String(100), index=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name_en: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | archived
    created_at: Mapped[datetime]


class Category(Base):
    __tablename__ = "categories"
    __table_args__ = (Index("ix_categories_parent", "parent_id", "position"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("categories.id"))
    name: Mapped[str] = mapped_column(String(50))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    # "/<root id>/…/<own id>/": a subtree is every category whose path starts with this one's
    path: Mapped[str] = mapped_column(String(500), index=True)
    position: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | archived
    created_at: Mapped[datetime]


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint("list_price >= price", name="list_price_at_least_price"),
        CheckConstraint("sold_count >= 0", name="sold_count_not_negative"),
        # one index per public sort order, each ending in the id that makes it a total order
        Index("ix_products_new", "status", "created_at", "id"),
        Index("ix_products_price", "status", "price", "id"),
        Index("ix_products_popular", "status", "sold_count", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id"), index=True)
    category_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("categories.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(10), default="draft")  # draft|active|archived
    price: Mapped[int]
    list_price: Mapped[int]
    # [{"name": "사이즈", "values": ["S", "M"]}, …]; every variant picks one value of each
    option_types: Mapped[list[Any]] = mapped_column(default=list)
    sold_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Variant(Base):
    __tablename__ = "variants"
    __table_args__ = (CheckConstraint("stock >= 0", name="stock_not_negative"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    price: Mapped[int | None]  # None: the product's price
    stock: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | inactive
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]


class ProductImage(Base):
    __tablename__ = "product_images"
    __table_args__ = (Index("ix_product_images_product", "product_id", "position"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id"))
    url: Mapped[str] = mapped_column(String(1000))
    alt: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]


class StockMovement(Base):
    """The stock ledger: every change of a variant's stock, once per (variant, reference)."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        UniqueConstraint("variant_id", "reference"),
        Index("ix_stock_movements_variant", "variant_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    variant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("variants.id"))
    delta: Mapped[int]
    reason: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str] = mapped_column(String(250))
    actor_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime]


class StockImport(Base):
    """A CSV of stock changes uploaded by staff, checked row by row and applied in batches."""

    __tablename__ = "stock_imports"
    __table_args__ = (Index("ix_stock_imports_created", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    mode: Mapped[str] = mapped_column(String(10))  # delta | stock
    filename: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10))  # applying | done
    total_rows: Mapped[int]
    valid_rows: Mapped[int]
    invalid_rows: Mapped[int]
    applied_rows: Mapped[int] = mapped_column(default=0)
    # valid when uploaded, refused when applied (the stock changed in between)
    failed_rows: Mapped[int] = mapped_column(default=0)
    actor_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class StockImportRow(Base):
    """One data row of an import: what it asks, and what became of it."""

    __tablename__ = "stock_import_rows"
    __table_args__ = (
        UniqueConstraint("import_id", "row_number"),
        Index("ix_stock_import_rows_status", "import_id", "status", "row_number"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    import_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stock_imports.id", ondelete="CASCADE"))
    # the line of the file (the header is line 1), as a spreadsheet shows it
    row_number: Mapped[int]
    sku: Mapped[str] = mapped_column(String(64))
    variant_id: Mapped[uuid.UUID | None]
    quantity: Mapped[int | None]  # the change (delta mode) or the new stock (stock mode)
    reason: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10))  # pending | applied | invalid | failed
    error: Mapped[str | None] = mapped_column(String(40))
    stock_after: Mapped[int | None]
