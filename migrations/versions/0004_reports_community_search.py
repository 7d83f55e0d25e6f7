"""reports; community search index (FTS5 on SQLite, tsvector + GIN on PostgreSQL)

Revision ID: 0004
Revises: 0003

The reports table is what autogenerate would write for jangteo.trust.models. The search index
is by hand, as in 0002: one entry per published post holding the terms of
jangteo.core.korean.index_terms for its title, hashtags, body and comments, already split.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SQLITE_UP = [
    # the term strings, kept because an external-content FTS5 table needs the old values to
    # delete a row; the triggers keep the index in step with every insert, update and delete
    """
    CREATE TABLE search_community_docs (
        id INTEGER PRIMARY KEY,
        post_id CHAR(32) NOT NULL UNIQUE REFERENCES community_posts (id) ON DELETE CASCADE,
        title TEXT NOT NULL,
        hashtags TEXT NOT NULL,
        body TEXT NOT NULL,
        comments TEXT NOT NULL
    )
    """,
    """
    CREATE VIRTUAL TABLE search_community USING fts5(
        title, hashtags, body, comments,
        content = 'search_community_docs', content_rowid = 'id',
        tokenize = "unicode61 remove_diacritics 0"
    )
    """,
    """
    CREATE TRIGGER search_community_docs_ai AFTER INSERT ON search_community_docs BEGIN
        INSERT INTO search_community (rowid, title, hashtags, body, comments)
        VALUES (new.id, new.title, new.hashtags, new.body, new.comments);
    END
    """,
    """
    CREATE TRIGGER search_community_docs_ad AFTER DELETE ON search_community_docs BEGIN
        INSERT INTO search_community (search_community, rowid, title, hashtags, body, comments)
        VALUES ('delete', old.id, old.title, old.hashtags, old.body, old.comments);
    END
    """,
    """
    CREATE TRIGGER search_community_docs_au AFTER UPDATE ON search_community_docs BEGIN
        INSERT INTO search_community (search_community, rowid, title, hashtags, body, comments)
        VALUES ('delete', old.id, old.title, old.hashtags, old.body, old.comments);
        INSERT INTO search_community (rowid, title, hashtags, body, comments)
        VALUES (new.id, new.title, new.hashtags, new.body, new.comments);
    END
    """,
]

SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS search_community_docs_au",
    "DROP TRIGGER IF EXISTS search_community_docs_ad",
    "DROP TRIGGER IF EXISTS search_community_docs_ai",
    "DROP TABLE IF EXISTS search_community",
    "DROP TABLE IF EXISTS search_community_docs",
]

POSTGRES_UP = [
    """
    CREATE TABLE search_community (
        post_id UUID PRIMARY KEY REFERENCES community_posts (id) ON DELETE CASCADE,
        document TSVECTOR NOT NULL
    )
    """,
    "CREATE INDEX ix_search_community_document ON search_community USING GIN (document)",
]

POSTGRES_DOWN = ["DROP TABLE IF EXISTS search_community"]


def _search_statements(up: bool) -> list[str]:
    if op.get_bind().dialect.name == "sqlite":
        return SQLITE_UP if up else SQLITE_DOWN
    return POSTGRES_UP if up else POSTGRES_DOWN


def upgrade() -> None:
    op.create_table(
        "trust_reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("reporter_id", sa.Uuid(), nullable=False),
        sa.Column("target_type", sa.String(length=20), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("handled_by", sa.Uuid(), nullable=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_reports")),
        sa.UniqueConstraint(
            "reporter_id",
            "target_type",
            "target_id",
            name=op.f("uq_trust_reports_reporter_id_target_type_target_id"),
        ),
    )
    with op.batch_alter_table("trust_reports", schema=None) as batch_op:
        batch_op.create_index("ix_trust_reports_queue", ["status", "id"], unique=False)
        batch_op.create_index(
            "ix_trust_reports_target", ["target_type", "target_id", "status"], unique=False
        )
    for statement in _search_statements(up=True):
        op.execute(statement)


def downgrade() -> None:
    for statement in _search_statements(up=False):
        op.execute(statement)
    with op.batch_alter_table("trust_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_trust_reports_target")
        batch_op.drop_index("ix_trust_reports_queue")
    op.drop_table("trust_reports")
