"""Korean product search through GET /api/v1/products?q=…, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest
from tests.factories.accounts import make_staff
from tests.factories.catalog import make_product

from jangteo.core.fulltext import fts5_match, tsquery_literal, tsvector_literal
from jangteo.core.platform import Platform


async def search(client: httpx.AsyncClient, q: str, **params: object) -> list[str]:
    response = await client.get("/api/v1/products", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


async def test_a_word_finds_it_inside_a_joined_compound(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    await make_product(platform, name="캐시미어니트")
    await make_product(platform, name="무신사스냅후기")
    await make_product(platform, name="린넨 셔츠")

    assert await search(client, "니트") == ["캐시미어니트"]
    assert await search(client, "스냅") == ["무신사스냅후기"]
    assert await search(client, "캐시미어") == ["캐시미어니트"]
    assert await search(client, "셔츠") == ["린넨 셔츠"]
    assert await search(client, "패딩") == []


async def test_two_words_match_joined_or_apart_in_either_order(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    await make_product(platform, name="캐시미어니트")
    await make_product(platform, name="캐시미어 머플러")
    await make_product(platform, name="울 니트 조끼")

    assert await search(client, "캐시미어 니트") == ["캐시미어니트"]
    assert await search(client, "니트 캐시미어") == ["캐시미어니트"]
    assert await search(client, "캐시미어니트") == ["캐시미어니트"]
    assert sorted(await search(client, "니트")) == ["울 니트 조끼", "캐시미어니트"]


async def test_a_one_syllable_query_works(platform: Platform, client: httpx.AsyncClient) -> None:
    await make_product(platform, name="아기 옷 선물세트")
    await make_product(platform, name="가죽 백팩")
    await make_product(platform, name="린넨 셔츠")

    assert await search(client, "옷") == ["아기 옷 선물세트"]
    assert await search(client, "백") == ["가죽 백팩"]


async def test_name_matches_rank_above_description_only_matches(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    await make_product(
        platform,
        name="데일리 코튼 셔츠",
        description="니트처럼 부드러운 촉감의 셔츠입니다. 니트 대신 입기 좋아요.",
    )
    await make_product(platform, name="메리노 울 니트", description="따뜻한 겨울 상의")
    await make_product(platform, name="와이드 데님 팬츠", description="편안한 바지")

    assert await search(client, "니트") == ["메리노 울 니트", "데일리 코튼 셔츠"]
    # an explicit sort still keeps to the matches
    assert await search(client, "니트", sort="price_asc") != []


async def test_english_brand_names_match_in_any_case_and_as_prefixes(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    await make_product(platform, name="에어 러닝화", brand_name="Nike")
    await make_product(platform, name="캔버스 스니커즈", brand_name="모노하우스")

    for query in ("nike", "NIKE", "Nike", "nik", "nike 러닝"):
        assert await search(client, query) == ["에어 러닝화"], query
    assert await search(client, "adidas") == []


async def test_tags_and_korean_brand_names_are_searched(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    await make_product(
        platform, name="오버핏 후드", brand_name="무신사 스탠다드", tags=["데일리룩"]
    )
    await make_product(platform, name="기본 반팔티", brand_name="모노하우스")

    assert await search(client, "스탠다드") == ["오버핏 후드"]
    assert await search(client, "데일리룩") == ["오버핏 후드"]


# (query, whether 캐시미어니트 is found): punctuation is never syntax, words are all required
QUERIES_THAT_MUST_NOT_BREAK = [
    ("'", False),
    ('"', False),
    ("*", False),
    ("OR", False),
    (":", False),
    ("&", False),
    ("!", False),
    ("니트' OR 1=1 --", False),
    ('"니트"', True),
    ("니트*", True),
    ("NEAR(니트", False),
    ("-니트", True),
    ("^니트", True),
    ("(니트)", True),
    ("\\", False),
    ("니트 & | ! <-> :*", True),
    ("'; DROP TABLE products; --", False),
    ("<script>alert(1)</script>", False),
    ("🧶 니트", True),
    ("AND", False),
    ("NOT 니트", False),
    ("\x00니트", True),
]


@pytest.mark.parametrize(("query", "found"), QUERIES_THAT_MUST_NOT_BREAK)
async def test_special_characters_never_break_the_search(
    platform: Platform, client: httpx.AsyncClient, query: str, found: bool
) -> None:
    await make_product(platform, name="캐시미어니트")
    await make_product(platform, name="or and not near")
    response = await client.get("/api/v1/products", params={"q": query})
    assert response.status_code == 200, response.text
    names = [item["name"] for item in response.json()["items"]]
    assert ("캐시미어니트" in names) is found, (query, names)


async def test_search_keeps_to_the_other_filters(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    cheap = await make_product(platform, name="코튼 니트", price=19000, brand_name="Nike")
    await make_product(platform, name="울 니트", price=59000, brand_name="모노하우스")
    await make_product(platform, name="앙고라 니트", price=39000, stock=0, category_name="아우터")

    assert await search(client, "니트", max_price=20000) == ["코튼 니트"]
    assert await search(client, "니트", brand=cheap.brand_id) == ["코튼 니트"]
    assert await search(client, "니트", category="아우터") == ["앙고라 니트"]
    assert await search(client, "니트", in_stock="false") == ["앙고라 니트"]
    assert await search(client, "니트", sort="price_desc") == [
        "울 니트",
        "앙고라 니트",
        "코튼 니트",
    ]
    assert await search(client, "니트", sort="price_asc", min_price=30000) == [
        "앙고라 니트",
        "울 니트",
    ]


async def test_relevance_pages_walk_every_match_once(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    names = [f"니트 {n}호" for n in range(7)] + ["니트 니트 니트", "셔츠 (니트 아님)"]
    for name in names:
        await make_product(platform, name=name, description="니트" if "셔츠" in name else "")
    await make_product(platform, name="린넨 바지")

    seen: list[str] = []
    cursor = None
    for _ in range(20):
        params = {"q": "니트", "limit": 2, **({"cursor": cursor} if cursor else {})}
        body = (await client.get("/api/v1/products", params=params)).json()
        seen += [item["name"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(names)
    assert len(seen) == len(set(seen))
    one_page = await search(client, "니트", limit=100)
    assert seen == one_page


async def test_highlights_mark_the_matched_words_of_the_name(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    await make_product(platform, name="캐시미어 블렌드 니트")
    body = (await client.get("/api/v1/products", params={"q": "니트 캐시미어"})).json()
    item = body["items"][0]
    spans = [item["name"][s["start"] : s["end"]] for s in item["highlights"]]
    assert spans == ["캐시미어", "니트"]
    plain = (await client.get("/api/v1/products")).json()["items"][0]
    assert plain["highlights"] == []


async def test_the_index_follows_renames_and_hides_archived_products(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    staff = await make_staff(platform, client)
    ref = await make_product(platform, name="캐시미어니트", brand_name="Nike")
    path = f"/api/v1/admin/products/{ref.product_id}"

    renamed = await client.patch(path, json={"name": "메리노 가디건"}, headers=staff.headers)
    assert renamed.status_code == 200, renamed.text
    assert await search(client, "니트") == []
    assert await search(client, "가디건") == ["메리노 가디건"]

    brand = await client.patch(
        f"/api/v1/admin/brands/{ref.brand_id}",
        json={"name": "나이키", "name_en": "Swoosh"},
        headers=staff.headers,
    )
    assert brand.status_code == 200, brand.text
    assert await search(client, "swoosh") == ["메리노 가디건"]
    assert await search(client, "나이키") == ["메리노 가디건"]
    assert await search(client, "nike") == []

    archived = await client.post(f"{path}/archive", headers=staff.headers)
    assert archived.status_code == 200, archived.text
    assert await search(client, "가디건") == []


async def test_an_overlong_query_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/products", params={"q": "니" * 101})
    assert response.status_code == 422
    assert response.json()["code"] == "validation-error"


def test_query_and_document_literals_are_quoted() -> None:
    assert fts5_match([("니트", False), ("nik", True)]) == '"니트" AND "nik"*'
    assert fts5_match([('a"b', False)]) == '"a""b"'
    assert tsquery_literal([("니트", False), ("nik", True)]) == "'니트' & 'nik':*"
    assert tsquery_literal([("it's", False)]) == "'it''s'"
    assert tsvector_literal(["캐시", "시미", "캐시"]) == "'캐시':1 '시미':2 '캐시':3"
