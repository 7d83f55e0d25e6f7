"""product search index (FTS5 on SQLite, tsvector + GIN on PostgreSQL)

Revision ID: 0002
Revises: 0001

Autogenerate cannot express either, and ignores tables named search_*, so this one is by hand.
Both hold the terms of jangteo.core.korean.index_terms, already split: the database never
tokenizes Korean itself, so the two behave alike.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SQLITE_UP = [
    # the term strings, kept because an external-content FTS5 table needs the old values to
    # delete a row; the triggers keep the index in step with every insert, update and delete
    """
    CREATE TABLE search_product_docs (
        id INTEGER PRIMARY KEY,
        product_id CHAR(32) NOT NULL UNIQUE REFERENCES products (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        brand TEXT NOT NULL,
        tags TEXT NOT NULL,
        body TEXT NOT NULL
    )
    """,
    """
    CREATE VIRTUAL TABLE search_products USING fts5(
        name, brand, tags, body,
        content = 'search_product_docs', content_rowid = 'id',
        tokenize = "unicode61 remove_diacritics 0"
    )
    """,
    """
    CREATE TRIGGER search_product_docs_ai AFTER INSERT ON search_product_docs BEGIN
        INSERT INTO search_products (rowid, name, brand, tags, body)
        VALUES (new.id, new.name, new.brand, new.tags, new.body);
    END
    """,
    """
    CREATE TRIGGER search_product_docs_ad AFTER DELETE ON search_product_docs BEGIN
        INSERT INTO search_products (search_products, rowid, name, brand, tags, body)
        VALUES ('delete', old.id, old.name, old.brand, old.tags, old.body);
    END
    """,
    """
    CREATE TRIGGER search_product_docs_au AFTER UPDATE ON search_product_docs BEGIN
        INSERT INTO search_products (search_products, rowid, name, brand, tags, body)
        VALUES ('delete', old.id, old.name, old.brand, old.tags, old.body);
        INSERT INTO search_products (rowid, name, brand, tags, body)
        VALUES (new.id, new.name, new.brand, new.tags, new.body);
    END
    """,
]

SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS search_product_docs_au",
    "DROP TRIGGER IF EXISTS search_product_docs_ad",
    "DROP TRIGGER IF EXISTS search_product_docs_ai",
    "DROP TABLE IF EXISTS search_products",
    "DROP TABLE IF EXISTS search_product_docs",
]

POSTGRES_UP = [
    """
    CREATE TABLE search_products (
        product_id UUID PRIMARY KEY REFERENCES products (id) ON DELETE CASCADE,
        document TSVECTOR NOT NULL
    )
    """,
    "CREATE INDEX ix_search_products_document ON search_products USING GIN (document)",
]

POSTGRES_DOWN = ["DROP TABLE IF EXISTS search_products"]


def _statements(up: bool) -> list[str]:
    if op.get_bind().dialect.name == "sqlite":
        return SQLITE_UP if up else SQLITE_DOWN
    return POSTGRES_UP if up else POSTGRES_DOWN


def upgrade() -> None:
    for statement in _statements(up=True):
        op.execute(statement)


def downgrade() -> None:
    for statement in _statements(up=False):
        op.execute(statement)
