"""Request and response models of the catalog API: the public contract."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    field_validator,
)

MAX_PRICE = 100_000_000  # 1억 원: more is a typing mistake, not a product
MAX_STOCK = 1_000_000

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Slug = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        max_length=80,
        pattern=r"^[0-9a-z\uac00-\ud7a3]+(-[0-9a-z\uac00-\ud7a3]+)*$",
    ),
]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30)]
OptionValue = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30)]
Sku = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
Price = Annotated[int, Field(ge=0, le=MAX_PRICE)]


def _unique(values: list[Any]) -> list[Any]:
    if len(set(values)) != len(values):
        raise ValueError("values must be unique")
    return values


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- brands and categories ---------------------------------------------------------------------


class BrandCreate(Request):
    name: Name
    slug: Slug | None = None
    name_en: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    description: str = Field(default="", max_length=2000)


class BrandUpdate(Request):
    name: Name | None = None
    slug: Slug | None = None
    name_en: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    description: str | None = Field(default=None, max_length=2000)
    status: Literal["active", "archived"] | None = None


class BrandRef(BaseModel):
    id: uuid.UUID
    name: str


class BrandOut(BaseModel):
    id: uuid.UUID
    name: str
    slug: str
    name_en: str | None
    description: str
    status: str


class CategoryCreate(Request):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
    slug: Slug | None = None
    parent_id: uuid.UUID | None = None
    position: int = Field(default=0, ge=0, le=10_000)


class CategoryUpdate(Request):
    name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)] | None
    ) = None
    slug: Slug | None = None
    parent_id: uuid.UUID | None = None  # null moves the category to the top level
    position: int | None = Field(default=None, ge=0, le=10_000)
    status: Literal["active", "archived"] | None = None


class CategoryRef(BaseModel):
    id: uuid.UUID
    name: str
    slug: str


class CategoryOut(CategoryRef):
    parent_id: uuid.UUID | None
    position: int
    status: str


class CategoryList(BaseModel):
    items: list[CategoryOut]


class CategoryNodeOut(BaseModel):
    id: uuid.UUID
    name: str
    slug: str
    position: int
    children: list[CategoryNodeOut]


class CategoryTree(BaseModel):
    items: list[CategoryNodeOut]


# ---- products and variants ---------------------------------------------------------------------


class OptionType(Request):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
    values: Annotated[
        list[OptionValue], Field(min_length=1, max_length=50), AfterValidator(_unique)
    ]


class VariantCreate(Request):
    options: dict[OptionValue, OptionValue] = Field(default_factory=dict, max_length=3)
    stock: int = Field(default=0, ge=0, le=MAX_STOCK)
    price: Price | None = None
    sku: Sku | None = None


class VariantUpdate(Request):
    options: dict[OptionValue, OptionValue] | None = Field(default=None, max_length=3)
    price: Price | None = None
    sku: Sku | None = None
    status: Literal["active", "inactive"] | None = None
    position: int | None = Field(default=None, ge=0, le=10_000)


class ProductCreate(Request):
    brand_id: uuid.UUID
    category_id: uuid.UUID
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    description: str = Field(default="", max_length=20_000)
    tags: Annotated[list[Tag], Field(max_length=20)] = Field(default_factory=list)
    price: Price
    list_price: Price | None = None
    option_types: Annotated[list[OptionType], Field(max_length=3)] = Field(default_factory=list)
    status: Literal["draft", "active"] = "draft"
    variants: Annotated[list[VariantCreate], Field(max_length=200)] = Field(default_factory=list)

    @field_validator("option_types")
    @classmethod
    def _distinct_option_names(cls, value: list[OptionType]) -> list[OptionType]:
        _unique([t.name for t in value])
        return value


class ProductUpdate(Request):
    brand_id: uuid.UUID | None = None
    category_id: uuid.UUID | None = None
    name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
        | None
    ) = None
    description: str | None = Field(default=None, max_length=20_000)
    tags: Annotated[list[Tag], Field(max_length=20)] | None = None
    price: Price | None = None
    list_price: Price | None = None
    option_types: Annotated[list[OptionType], Field(max_length=3)] | None = None
    status: Literal["draft", "active", "archived"] | None = None

    @field_validator("option_types")
    @classmethod
    def _distinct_option_names(cls, value: list[OptionType] | None) -> list[OptionType] | None:
        if value is not None:
            _unique([t.name for t in value])
        return value


class Span(BaseModel):
    start: int
    end: int


class ImageRef(BaseModel):
    url: str
    alt: str


class ImageOut(ImageRef):
    id: uuid.UUID
    position: int


class ProductSummary(BaseModel):
    id: uuid.UUID
    name: str
    brand: BrandRef
    price: int
    list_price: int
    discount_rate: int
    image: ImageRef | None
    in_stock: bool
    tags: list[str]
    highlights: list[Span] = Field(
        default_factory=list, description="Spans of the name the search query matched."
    )


class AdminProductSummary(ProductSummary):
    status: str


class ProductPage(BaseModel):
    items: list[ProductSummary]
    next_cursor: str | None


class AdminProductPage(BaseModel):
    items: list[AdminProductSummary]
    next_cursor: str | None


class VariantOut(BaseModel):
    id: uuid.UUID
    sku: str
    options: dict[str, str]
    price: int
    stock: int
    in_stock: bool
    status: str


class OptionTypeOut(BaseModel):
    name: str
    values: list[str]


class ProductDetail(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    tags: list[str]
    status: str
    brand: BrandRef
    category: CategoryRef
    breadcrumb: list[CategoryRef]
    price: int
    list_price: int
    discount_rate: int
    in_stock: bool
    option_types: list[OptionTypeOut]
    variants: list[VariantOut]
    images: list[ImageOut]
    created_at: datetime
    updated_at: datetime


class BrandPage(BaseModel):
    items: list[BrandOut]
    next_cursor: str | None


# ---- stock and images --------------------------------------------------------------------------


class StockAdjustment(Request):
    delta: int = Field(ge=-MAX_STOCK, le=MAX_STOCK, description="Units added (+) or removed (-).")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class StockMovementOut(BaseModel):
    id: uuid.UUID
    delta: int
    reason: str
    reference: str
    actor_id: uuid.UUID | None
    created_at: datetime


class StockAdjustmentResult(BaseModel):
    variant_id: uuid.UUID
    stock: int
    movement: StockMovementOut


class StockMovementPage(BaseModel):
    items: list[StockMovementOut]
    next_cursor: str | None


def _https_only(url: HttpUrl) -> HttpUrl:
    if url.scheme != "https":
        raise ValueError("only https URLs are allowed")
    return url


class ImageByUrl(Request):
    url: Annotated[HttpUrl, AfterValidator(_https_only)]
    alt: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""

    @field_validator("url")
    @classmethod
    def _not_too_long(cls, value: HttpUrl) -> HttpUrl:
        if len(str(value)) > 1000:
            raise ValueError("the URL is too long")
        return value


# ---- bulk stock import -------------------------------------------------------------------------


class StockImportError(BaseModel):
    row: int = Field(description="The line of the file (the header is line 1).")
    sku: str
    code: str = Field(description="unknown-sku, bad-number, would-go-negative, duplicate-row, …")
    message: str
    quantity: int | None
    stock: int | None = Field(description="The stock left, when the row would take it below 0.")


class StockImportOut(BaseModel):
    id: uuid.UUID
    status: Literal["applying", "done"]
    mode: Literal["delta", "stock"]
    filename: str
    total_rows: int
    valid_rows: int
    invalid_rows: int
    applied_rows: int
    failed_rows: int
    pending_rows: int
    progress: int = Field(description="Percent of the valid rows handled.")
    actor_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    errors: list[StockImportError] = Field(description="The first refused rows, in file order.")
    error_count: int


class StockImportPage(BaseModel):
    items: list[StockImportOut]
    next_cursor: str | None


class StockImportErrorPage(BaseModel):
    items: list[StockImportError]
    next_cursor: str | None
