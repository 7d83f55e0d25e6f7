"""Korean text: normalising, and the terms that search indexes and queries are made of.

Korean words are short (니트, 스냅) and written joined (캐시미어니트), so words alone cannot be
indexed. Like Lucene's CJK analyzer we index overlapping character bigrams of every Hangul run
(and its single syllables, so one-syllable queries work), plus the nouns kiwipiepy finds, plus
Latin and digit words in lower case. A query matches when all of its bigrams are present, which
makes `캐시미어 니트`, `캐시미어니트` and `니트 캐시미어` equivalent.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_HANGUL = "\uac00-\ud7a3\u3131-\u318e"
_RUN = re.compile(rf"[{_HANGUL}]+|[0-9a-z]+")
_IS_HANGUL = re.compile(rf"[{_HANGUL}]")
_NOUN_TAGS = {"NNG", "NNP", "SL"}


def normalize(text: str) -> str:
    """NFKC, lower case, single spaces: the form every comparison and index works on."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return " ".join(text.split())


@lru_cache(maxsize=1)
def _kiwi():  # type: ignore[no-untyped-def]
    from kiwipiepy import Kiwi

    return Kiwi()


def nouns(text: str) -> list[str]:
    """Nouns (and foreign words) of `text` according to kiwipiepy, normalised."""
    text = normalize(text)
    if not _IS_HANGUL.search(text):
        return []
    return [
        normalize(tok.form)
        for tok in _kiwi().tokenize(text)
        if tok.tag in _NOUN_TAGS and len(tok.form) >= 2
    ]


def _bigrams(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


def index_terms(text: str, *, with_nouns: bool = True) -> list[str]:
    """The terms a document is indexed under (repeats kept: they count toward relevance)."""
    terms: list[str] = []
    normalized = normalize(text)
    for run in _RUN.findall(normalized):
        if _IS_HANGUL.match(run):
            terms.extend(run)  # unigrams
            terms.extend(_bigrams(run))
        else:
            terms.append(run)
    if with_nouns:
        terms.extend(n for n in nouns(normalized) if n not in terms)
    return terms


def query_terms(query: str) -> list[tuple[str, bool]]:
    """The terms a query requires, each with whether it may match as a prefix.

    Hangul runs become their bigrams (one syllable stays itself); Latin and digit words match
    as prefixes so that `nik` finds `Nike`.
    """
    seen: set[str] = set()
    terms: list[tuple[str, bool]] = []
    for run in _RUN.findall(normalize(query)):
        parts = ([run] if len(run) == 1 else _bigrams(run)) if _IS_HANGUL.match(run) else [run]
        prefix = not _IS_HANGUL.match(run)
        for part in parts:
            if part not in seen:
                seen.add(part)
                terms.append((part, prefix))
    return terms


def highlight_spans(text: str, query: str) -> list[tuple[int, int]]:
    """Character spans of `text` that a query matched, for highlighting in result lists."""
    lowered = unicodedata.normalize("NFKC", text).lower()
    spans: list[tuple[int, int]] = []
    for run in _RUN.findall(normalize(query)):
        start = lowered.find(run)
        while start != -1:
            spans.append((start, start + len(run)))
            start = lowered.find(run, start + len(run))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
