"""Searching community posts by their title, hashtags, body and comments, in Korean.

The same engine as the catalog's product search: the terms of jangteo.core.korean (Hangul
bigrams and syllables, nouns, Latin words), kept per post in an FTS5 table ranked with bm25 on
SQLite and in a weighted tsvector with a GIN index ranked with ts_rank on PostgreSQL (migration
0004). Only published posts are indexed: a deleted or removed post leaves the index at once.
The community service reindexes a post in its own transaction whenever the post or one of its
comments changes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    Subquery,
    Table,
    Text,
    Uuid,
    and_,
    bindparam,
    cast,
    column,
    delete,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.community import service
from jangteo.community.models import Board, Comment, Post, Space
from jangteo.core.fulltext import document_terms, fts5_match, tsquery_literal, tsvector_literal
from jangteo.core.korean import highlight_spans, normalize, query_terms
from jangteo.core.pagination import cursor_keys, decode_cursor, encode_cursor

# not part of Base.metadata: these tables are dialect-specific and made by migration 0004
_search_metadata = MetaData()
SQLITE_DOCS = Table(
    "search_community_docs",
    _search_metadata,
    Column("id", Integer, primary_key=True),
    Column("post_id", Uuid),
    Column("title", Text),
    Column("hashtags", Text),
    Column("body", Text),
    Column("comments", Text),
)
SQLITE_FTS = table("search_community", column("rowid", Integer))
POSTGRES_INDEX = table("search_community", column("post_id", Uuid), column("document", TSVECTOR))

# field weights: a match in the title counts most, then hashtags, body, comments
SQLITE_RANK = "bm25(search_community, 10.0, 5.0, 3.0, 1.0)"
# a thread's first comments carry its topic; a very long thread is not indexed past them
MAX_COMMENTS = 300
CURSOR_TAG = "relevance"

_SQLITE_UPSERT = text(
    "INSERT INTO search_community_docs (post_id, title, hashtags, body, comments) "
    "VALUES (:post_id, :title, :hashtags, :body, :comments) "
    "ON CONFLICT (post_id) DO UPDATE SET title = excluded.title, "
    "hashtags = excluded.hashtags, body = excluded.body, comments = excluded.comments"
).bindparams(bindparam("post_id", type_=Uuid))

# the term lists arrive as tsvector literals; the inner CAST makes the parameter plain text
_POSTGRES_UPSERT = text(
    "INSERT INTO search_community (post_id, document) VALUES (:post_id, "
    "setweight(CAST(CAST(:title AS TEXT) AS tsvector), 'A') || "
    "setweight(CAST(CAST(:hashtags AS TEXT) AS tsvector), 'B') || "
    "setweight(CAST(CAST(:body AS TEXT) AS tsvector), 'C') || "
    "setweight(CAST(CAST(:comments AS TEXT) AS tsvector), 'D')) "
    "ON CONFLICT (post_id) DO UPDATE SET document = excluded.document"
).bindparams(bindparam("post_id", type_=Uuid))


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def index_post(session: AsyncSession, post: Post) -> None:
    """Write (or rewrite, or drop) the index entry of a post in the caller's transaction, from
    the post as it stands in the session and its published comments."""
    sqlite = _dialect(session) == "sqlite"
    if post.status != "published":
        target = SQLITE_DOCS.c.post_id if sqlite else POSTGRES_INDEX.c.post_id
        await session.execute(delete(target.table).where(target == post.id))
        return
    comments = (
        await session.scalars(
            select(Comment.body)
            .where(Comment.post_id == post.id, Comment.status == "published")
            .order_by(Comment.id)
            .limit(MAX_COMMENTS)
        )
    ).all()
    fields = {
        "title": document_terms(post.title),
        "hashtags": document_terms(" ".join(post.hashtags)),
        "body": document_terms(post.body),
        # bigrams find the words of comments; the morphological pass is kept for the post
        # itself, as it would run over every comment each time one is added
        "comments": document_terms("\n".join(comments), with_nouns=False),
    }
    if sqlite:
        row = {name: " ".join(terms) for name, terms in fields.items()}
        await session.execute(_SQLITE_UPSERT, {"post_id": post.id, **row})
        return
    row = {name: tsvector_literal(terms) for name, terms in fields.items()}
    await session.execute(_POSTGRES_UPSERT, {"post_id": post.id, **row})


async def index_post_by_id(session: AsyncSession, post_id: uuid.UUID) -> None:
    """`index_post` for a post known by its id (one already in the session costs no query)."""
    post = await session.get(Post, post_id)
    if post is not None:
        await index_post(session, post)


def _hits(session: AsyncSession, terms: list[tuple[str, bool]]) -> Subquery:
    """(post_id, score) of the posts matching every term; lower score = better."""
    if _dialect(session) == "sqlite":
        fts = literal_column("search_community")
        return (
            select(
                SQLITE_DOCS.c.post_id.label("post_id"),
                literal_column(SQLITE_RANK, Float).label("score"),
            )
            .select_from(SQLITE_FTS.join(SQLITE_DOCS, SQLITE_DOCS.c.id == SQLITE_FTS.c.rowid))
            .where(fts.op("MATCH")(bindparam("search_match", fts5_match(terms))))
            .subquery("hits")
        )
    tsquery = cast(bindparam("search_query", tsquery_literal(terms), type_=Text), TSQUERY)
    return (
        select(
            POSTGRES_INDEX.c.post_id.label("post_id"),
            # ts_rank is higher for better matches; negated so that both databases sort ascending
            (-func.ts_rank(POSTGRES_INDEX.c.document, tsquery, type_=Float)).label("score"),
        )
        .where(POSTGRES_INDEX.c.document.op("@@")(tsquery))
        .subquery("hits")
    )


@dataclass(frozen=True)
class SearchHit:
    view: service.PostView
    # character spans of the title and the body that the query matched
    title_spans: list[tuple[int, int]]
    body_spans: list[tuple[int, int]]


@dataclass
class SearchPage:
    items: list[SearchHit] = field(default_factory=list)
    next_cursor: str | None = None


async def search_posts(
    session: AsyncSession,
    viewer: service.Viewer,
    q: str,
    *,
    space: str | None = None,
    limit: int,
    cursor: str | None,
) -> SearchPage:
    """Published posts matching `q`, best first, among those the viewer may read and without
    the members they blocked. The keyset is (score, post id), so pages do not overlap."""
    query_text = normalize(q)
    terms = query_terms(query_text)
    if not terms:
        return SearchPage()
    hits = _hits(session, terms)
    query: Any = (
        select(Post, Space, Board, hits.c.score)
        .join(hits, hits.c.post_id == Post.id)
        .join(Space, Space.id == Post.space_id)
        .join(Board, Board.id == Post.board_id)
        .where(Post.status == "published", Space.status == "active")
    )
    if space is not None:
        found = await service.find_space(session, space)
        await service.check_read(session, found, viewer)
        query = query.where(Post.space_id == found.id)
    else:
        query = query.where(await service.readable_space_ids(session, viewer))
    blocked = await service.blocked_ids(session, viewer.member_id)
    if blocked:
        query = query.where(Post.author_id.not_in(blocked))
    after = decode_cursor(cursor)
    if after is not None:
        score, post_id = cursor_keys(after, CURSOR_TAG, [float, uuid.UUID])
        query = query.where(
            or_(hits.c.score > score, and_(hits.c.score == score, Post.id > post_id))
        )
    rows = list(
        (await session.execute(query.order_by(hits.c.score, Post.id).limit(limit + 1))).all()
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor({"s": CURSOR_TAG, "k": [float(last[3]), str(last[0].id)]})
    views = await service.post_views(session, viewer, [(r[0], r[1], r[2]) for r in rows])
    return SearchPage(
        items=[
            SearchHit(
                view=view,
                title_spans=highlight_spans(view.post.title, query_text),
                body_spans=highlight_spans(view.post.body, query_text),
            )
            for view in views
        ],
        next_cursor=next_cursor,
    )
