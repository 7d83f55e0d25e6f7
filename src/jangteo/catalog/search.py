"""The product search index: Korean terms from core.korean, stored the same way on both databases.

SQLite keeps them in an FTS5 table (external content `search_product_docs`, kept in step by
triggers) ranked with bm25; PostgreSQL in a weighted tsvector with a GIN index ranked with
ts_rank. Neither database tokenizes Korean: the terms are already split, so both find the same.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    Subquery,
    Table,
    Text,
    Uuid,
    bindparam,
    cast,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.core.korean import index_terms, query_terms

# not part of Base.metadata: these tables are dialect-specific and made by migration 0002
_search_metadata = MetaData()
SQLITE_DOCS = Table(
    "search_product_docs",
    _search_metadata,
    Column("id", Integer, primary_key=True),
    Column("product_id", Uuid),
    Column("name", Text),
    Column("brand", Text),
    Column("tags", Text),
    Column("body", Text),
)
SQLITE_FTS = table("search_products", column("rowid", Integer))
POSTGRES_INDEX = table("search_products", column("product_id", Uuid), column("document", TSVECTOR))

# field weights: a match in the name counts most, then brand, tags, description
SQLITE_RANK = "bm25(search_products, 10.0, 5.0, 3.0, 1.0)"
MAX_TERM_LENGTH = 60  # longer "words" are noise (hashes, URLs) and PostgreSQL limits lexemes
MAX_POSITION = 16383  # PostgreSQL keeps positions up to this

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
    def terms(text_: str) -> list[str]:
        return [t for t in index_terms(text_) if len(t) <= MAX_TERM_LENGTH]

    return SearchDocument(
        name=terms(name),
        brand=terms(" ".join(b for b in brand_names if b)),
        tags=terms(" ".join(tags)),
        body=terms(description),
    )


def _quote(term: str) -> str:
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(terms: Sequence[str]) -> str:
    """`'캐시':1 '시미':2 …`: each term quoted, with positions so that weights and repeats count."""
    return " ".join(
        f"{_quote(term)}:{min(position, MAX_POSITION)}"
        for position, term in enumerate(terms, start=1)
    )


def fts5_match(terms: list[tuple[str, bool]]) -> str:
    """`"니트" AND "nik"*`: every term required, Latin words as prefixes, all quoted."""
    parts = [
        '"' + term.replace('"', '""') + '"' + ("*" if prefix else "") for term, prefix in terms
    ]
    return " AND ".join(parts)


def tsquery_literal(terms: list[tuple[str, bool]]) -> str:
    """`'니트' & 'nik':*`, the same query for PostgreSQL."""
    return " & ".join(_quote(term) + (":*" if prefix else "") for term, prefix in terms)


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


def search_hits(session: AsyncSession, query: str) -> Subquery | None:
    """A subquery (product_id, score) of the products matching `query`, lower score = better.

    None when the query has no searchable term (only punctuation, say): nothing can match.
    """
    terms = query_terms(query)
    if not terms:
        return None
    if _dialect(session) == "sqlite":
        fts = literal_column("search_products")
        return (
            select(
                SQLITE_DOCS.c.product_id.label("product_id"),
                literal_column(SQLITE_RANK, Float).label("score"),
            )
            .select_from(SQLITE_FTS.join(SQLITE_DOCS, SQLITE_DOCS.c.id == SQLITE_FTS.c.rowid))
            .where(fts.op("MATCH")(bindparam("search_match", fts5_match(terms))))
            .subquery("hits")
        )
    tsquery = cast(bindparam("search_query", tsquery_literal(terms), type_=Text), TSQUERY)
    return (
        select(
            POSTGRES_INDEX.c.product_id.label("product_id"),
            # ts_rank is higher for better matches; negated so that both databases sort ascending
            (-func.ts_rank(POSTGRES_INDEX.c.document, tsquery, type_=Float)).label("score"),
        )
        .where(POSTGRES_INDEX.c.document.op("@@")(tsquery))
        .subquery("hits")
    )
