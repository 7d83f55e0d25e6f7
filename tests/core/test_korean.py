"""Korean text normalising and search terms (pure functions, no database)."""

from __future__ import annotations

from jangteo.core.korean import highlight_spans, index_terms, normalize, query_terms


def test_normalize_folds_width_case_and_spaces() -> None:
    assert normalize("  ＮＩＫＥ   캐시미어\t니트 ") == "nike 캐시미어 니트"


def test_joined_words_are_indexed_by_their_bigrams() -> None:
    terms = set(index_terms("무신사스냅후기", with_nouns=False))
    assert {"스냅", "후기", "무신"} <= terms
    assert all(term in terms for term, _ in query_terms("스냅"))


def test_spacing_variants_ask_for_the_same_bigrams() -> None:
    joined = {t for t, _ in query_terms("캐시미어니트")}
    spaced = {t for t, _ in query_terms("캐시미어 니트")}
    assert spaced <= joined
    assert spaced <= set(index_terms("캐시미어니트", with_nouns=False))


def test_one_syllable_queries_use_unigrams() -> None:
    assert query_terms("옷") == [("옷", False)]
    assert "옷" in index_terms("겨울옷 세일", with_nouns=False)


def test_latin_words_are_prefixes_in_lower_case() -> None:
    assert query_terms("NIK") == [("nik", True)]
    assert "nike" in index_terms("Nike 에어", with_nouns=False)


def test_nouns_from_kiwi_are_added() -> None:
    assert "캐시미어" in index_terms("캐시미어 니트를 샀어요")


def test_query_punctuation_is_dropped() -> None:
    assert query_terms("'; DROP TABLE --") == [("drop", True), ("table", True)]
    assert query_terms("*:&!") == []


def test_highlight_spans_cover_each_query_word() -> None:
    assert highlight_spans("캐시미어 블렌드 니트", "니트 캐시미어") == [(0, 4), (9, 11)]
