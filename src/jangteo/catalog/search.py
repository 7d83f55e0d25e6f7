"""The product search index: Korean terms from core.korean, stored the same way on both databases.

SQLite keeps them in an FTS5 table (external content `search_product_docs`, kept in step by
triggers) ranked with bm25; PostgreSQL in a weighted tsvector with a GIN index ranked with
ts_rank. Neither database tokenizes Korean: the terms are already split, so both find the same.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import (
    Uuid,
    bindparam,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.core.fulltext import document_terms, tsvector_literal

# the tables are dialect-specific and made by migration 0002, outside Base.metadata
# field weights: a match in the name counts most, then brand, tags, description
SQLITE_RANK = "bm25(search_products, 10.0, 5.0, 3.0, 1.0)"

_SQLITE_UPSERT = text(
    "INSERT INTO search_product_docs (product_id, name, brand, tags, body) "
    "VALUES (:product_id, :name, :brand, :tags, :body) "
    "ON CONFLICT (product_id) DO UPDATE SET name = excluded.name, brand = excluded.brand, "
    "tags = excluded.tags, body = excluded.body"
).bindparams(bindparam("product_id", type_=Uuid))

# the term lists arrive as tsvector literals; the inner CAST makes the parameter plain text
_POSTGRES_UPSERT = text(
    "INSERT INTO search_products (product_id, document) VALUES (:product_id, "
    "setweight(CAST(CAST(:name AS TEXT) AS tsvector), 'A') || "
    "setweight(CAST(CAST(:brand AS TEXT) AS tsvector), 'B') || "
    "setweight(CAST(CAST(:tags AS TEXT) AS tsvector), 'C') || "
    "setweight(CAST(CAST(:body AS TEXT) AS tsvector), 'D')) "
    "ON CONFLICT (product_id) DO UPDATE SET document = excluded.document"
).bindparams(bindparam("product_id", type_=Uuid))


@dataclass(frozen=True)
class SearchDocument:
    """The terms of one product, per field."""

    name: list[str]
    brand: list[str]
    tags: list[str]
    body: list[str]


def build_document(
    *, name: str, brand_names: Iterable[str | None], tags: Iterable[str], description: str
) -> SearchDocument:
    return SearchDocument(
        name=document_terms(name),
        brand=document_terms(" ".join(b for b in brand_names if b)),
        tags=document_terms(" ".join(tags)),
        body=document_terms(description),
    )


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def index_documents(
    session: AsyncSession, documents: dict[uuid.UUID, SearchDocument]
) -> None:
    """Write (or rewrite) the index entries of these products in the caller's transaction."""
    if not documents:
        return
    if _dialect(session) == "sqlite":
        rows = [
            {
                "product_id": product_id,
                "name": " ".join(doc.name),
                "brand": " ".join(doc.brand),
                "tags": " ".join(doc.tags),
                "body": " ".join(doc.body),
            }
            for product_id, doc in documents.items()
        ]
        await session.execute(_SQLITE_UPSERT, rows)
        return
    rows = [
        {
            "product_id": product_id,
            "name": tsvector_literal(doc.name),
            "brand": tsvector_literal(doc.brand),
            "tags": tsvector_literal(doc.tags),
            "body": tsvector_literal(doc.body),
        }
        for product_id, doc in documents.items()
    ]
    await session.execute(_POSTGRES_UPSERT, rows)
