"""Shop window pages: home, category listing with filters and paging, search, product."""

from __future__ import annotations

import httpx
from tests.factories.catalog import make_product
from tests.web._support import text_of

from jangteo.core.platform import Platform


async def test_home_shows_new_and_popular_products_and_categories_in_korean(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    await make_product(platform, name="캐시미어 블렌드 니트", price=39000, list_price=49000)

    response = await client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="ko">' in response.text
    page = text_of(response.text)
    assert "신상품" in page and "지금 인기 있는" in page and "카테고리" in page
    assert "캐시미어 블렌드 니트" in page
    assert "39,000원" in page and "49,000원" in page and "20%" in page
    assert 'href="/c/' in response.text


async def test_empty_shop_home_has_empty_states(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert "아직 상품이 없습니다." in response.text


async def test_english_switch_is_remembered_in_a_cookie(client: httpx.AsyncClient) -> None:
    english = await client.get("/?lang=en")
    assert english.status_code == 200
    assert '<html lang="en">' in english.text and "New arrivals" in english.text
    assert "jt_lang=en" in english.headers["set-cookie"]

    again = await client.get("/cart")
    assert "Your cart is empty." in again.text

    korean = await client.get("/?lang=ko")
    assert "신상품" in korean.text


async def test_category_listing_filters_by_brand_price_and_stock_and_sorts(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    await make_product(platform, name="라운드 니트", price=20000, brand_name="모노하우스")
    await make_product(platform, name="터틀넥 니트", price=60000, brand_name="Nordwind")
    await make_product(platform, name="품절 니트", price=30000, stock=0, brand_name="모노하우스")

    everything = text_of((await client.get("/c/니트?sort=price_asc")).text)
    assert everything.index("라운드 니트") < everything.index("품절 니트")
    assert everything.index("품절 니트") < everything.index("터틀넥 니트")

    by_brand = text_of((await client.get("/c/니트?brand=nordwind")).text)
    assert "터틀넥 니트" in by_brand and "라운드 니트" not in by_brand

    by_price = text_of((await client.get("/c/니트?min_price=25000&max_price=70000")).text)
    assert "터틀넥 니트" in by_price and "품절 니트" in by_price and "라운드 니트" not in by_price

    in_stock = text_of((await client.get("/c/니트?in_stock=1")).text)
    assert "품절 니트" not in in_stock and "라운드 니트" in in_stock


async def test_bad_filter_values_show_the_apis_errors_instead_of_failing(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    await make_product(platform, name="라운드 니트")

    response = await client.get("/c/니트?min_price=-5&max_price=abc")

    assert response.status_code == 200
    page = text_of(response.text)
    assert "0 이상의 숫자를 입력해 주세요." in page
    assert "정수를 입력해 주세요." in page
    assert 'aria-invalid="true"' in response.text


async def test_listing_pages_with_a_more_link_until_every_product_was_shown(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    for n in range(26):
        await make_product(platform, name=f"데일리 니트 {n:02d}", price=10000 + n * 100)

    seen: list[str] = []
    url: str | None = "/c/니트?sort=price_asc"
    while url:
        response = await client.get(url, headers={"HX-Request": "true"})
        assert response.status_code == 200
        assert "<header" not in response.text  # htmx gets only the results
        page = text_of(response.text)
        seen += [f"{n:02d}" for n in range(26) if f"데일리 니트 {n:02d}" in page]
        found = [part for part in response.text.split('hx-get="')[1:] if "cursor=" in part]
        url = found[0].split('"')[0].replace("&amp;", "&") if found else None
    assert seen == [f"{n:02d}" for n in range(26)]


async def test_unknown_category_is_the_404_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/c/없는-카테고리")
    assert response.status_code == 404
    assert "페이지를 찾을 수 없습니다" in response.text


async def test_search_highlights_korean_matches(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    await make_product(platform, name="캐시미어니트 가디건")
    await make_product(platform, name="와이드 데님 팬츠", category_name="하의")

    response = await client.get("/search", params={"q": "니트"})

    assert response.status_code == 200
    assert "<mark>니트</mark>" in response.text
    assert "캐시미어" in response.text and "와이드 데님 팬츠" not in response.text
    assert "‘니트’ 검색 결과" in response.text


async def test_search_escapes_html_and_survives_sql_like_queries(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    await make_product(platform, name="캐시미어 니트")
    for query in ["<script>alert(1)</script>", "' OR 1=1 --", '"*:&!', "😀 니트"]:
        response = await client.get("/search", params={"q": query})
        assert response.status_code == 200, query
        assert "<script>alert(1)</script>" not in response.text

    empty = await client.get("/search?q=")
    assert "무엇을 찾고 계신가요?" in empty.text
    nothing = await client.get("/search", params={"q": "존재하지않는상품명"})
    assert "검색 결과가 없습니다." in nothing.text


async def test_product_page_shows_options_stock_price_and_image_alt(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    product = await make_product(
        platform,
        name="캐시미어 블렌드 니트",
        price=39000,
        list_price=52000,
        variants=[
            {"options": {"사이즈": "S"}, "stock": 0},
            {"options": {"사이즈": "M"}, "stock": 3},
            {"options": {"사이즈": "L"}, "stock": 40},
        ],
    )

    response = await client.get(f"/p/{product.product_id}")

    assert response.status_code == 200
    html = response.text
    assert '<label for="f-variant">옵션 (사이즈)</label>' in html
    assert f'<option value="{product.variant_ids[0]}" disabled' in html
    assert "S (품절)" in text_of(html)
    assert "M (3개 남음)" in text_of(html)
    assert "39,000원" in html and "52,000원" in html and "25%" in html
    assert 'alt="캐시미어 블렌드 니트"' in html or 'aria-label="캐시미어 블렌드 니트"' in html
    assert '<label for="f-quantity">' in html
    assert "구매 가능" in html


async def test_unknown_or_malformed_product_is_the_404_page(client: httpx.AsyncClient) -> None:
    for path in ["/p/01900000-0000-7000-8000-000000000000", "/p/not-a-uuid"]:
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "페이지를 찾을 수 없습니다" in response.text


async def test_unknown_page_is_html_for_browsers_and_problem_json_for_the_api(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/no-such-page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")

    api = await client.get("/api/v1/no-such-thing")
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"


async def test_static_files_and_vendor_scripts_are_served(client: httpx.AsyncClient) -> None:
    css = await client.get("/static/css/site.css")
    assert css.status_code == 200 and "--brand" in css.text
    home = await client.get("/")
    assert '<script src="/static/vendor/htmx.min.js" defer></script>' in home.text
    assert "cdn" not in home.text.lower()
