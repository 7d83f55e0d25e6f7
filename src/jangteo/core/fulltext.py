"""The query and document syntax of the two full-text engines, for terms made by core.korean.

Neither database tokenizes Korean here: the terms are split already, and these functions only
quote them for SQLite FTS5 and for a PostgreSQL tsvector/tsquery, so both find the same.
"""

from __future__ import annotations

from collections.abc import Sequence

from jangteo.core.korean import index_terms

MAX_TERM_LENGTH = 60  # longer "words" are noise (hashes, URLs) and PostgreSQL limits lexemes
MAX_POSITION = 16383  # PostgreSQL keeps positions up to this


def document_terms(text: str, *, with_nouns: bool = True) -> list[str]:
    """The terms a text is indexed under, without the over-long ones."""
    return [t for t in index_terms(text, with_nouns=with_nouns) if len(t) <= MAX_TERM_LENGTH]


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
    return " AND ".join(
        '"' + term.replace('"', '""') + '"' + ("*" if prefix else "") for term, prefix in terms
    )


def tsquery_literal(terms: list[tuple[str, bool]]) -> str:
    """`'니트' & 'nik':*`, the same query for PostgreSQL."""
    return " & ".join(_quote(term) + (":*" if prefix else "") for term, prefix in terms)
