"""The public catalog: product lists (filters, sorts, cursors), details, brands, categories."""

from __future__ import annotations

import uuid

import httpx
import pytest
from tests.factories.catalog import category_named, make_product

from jangteo.catalog import service
from jangteo.core.platform import Platform


async def names(client: httpx.AsyncClient, **params: object) -> list[str]:
    response = await client.get("/api/v1/products", params=params)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


async def walk(client: httpx.AsyncClient, **params: object) -> list[str]:
    """Every page of a list, following next_cursor to the end."""
    seen: list[str] = []
    cursor = None
    for _ in range(100):
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/api/v1/products", params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= int(params.get("limit", 20))  # type: ignore[call-overload]
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("the cursor never ended")


async def make_fashion_tree(platform: Platform) -> dict[str, uuid.UUID]:
    async with platform.db.write() as session:
        fashion = await category_named(session, platform.clock, "패션")
        tops = await category_named(session, platform.clock, "상의", fashion)
        knits = await category_named(session, platform.clock, "니트", tops)
        beauty = await category_named(session, platform.clock, "뷰티")
    return {"패션": fashion, "상의": tops, "니트": knits, "뷰티": beauty}


async def test_a_product_list_item_has_what_a_shop_shows(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    ref = await make_product(
        platform, name="캐시미어 블렌드 니트", price=39000, list_price=59000, tags=["겨울", "선물"]
    )
    async with platform.db.write() as session:
        await service.add_product_image(
            session,
            platform.clock,
            uuid.UUID(ref.product_id),
            url="https://cdn.example.com/knit.jpg",
            alt="니트 앞면",
        )
    body = (await client.get("/api/v1/products")).json()
    assert body["next_cursor"] is None
    assert body["items"] == [
        {
            "id": ref.product_id,
            "name": "캐시미어 블렌드 니트",
            "brand": {"id": ref.brand_id, "name": "모노하우스"},
            "price": 39000,
            "list_price": 59000,
            "discount_rate": 33,
            "image": {"url": "https://cdn.example.com/knit.jpg", "alt": "니트 앞면"},
            "in_stock": True,
            "tags": ["겨울", "선물"],
            "highlights": [],
        }
    ]


async def test_only_active_products_are_public(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    await make_product(platform, name="판매중")
    draft = await make_product(platform, name="준비중", status="draft")
    assert await names(client) == ["판매중"]
    response = await client.get(f"/api/v1/products/{draft.product_id}")
    assert response.status_code == 404
    assert response.json()["code"] == "not-found"


async def test_category_filter_takes_id_or_slug_and_includes_the_subtree(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    tree = await make_fashion_tree(platform)
    await make_product(platform, name="니트 조끼", category_name="니트")
    await make_product(platform, name="티셔츠", category_name="상의")
    await make_product(platform, name="립밤", category_name="뷰티")

    assert sorted(await names(client, category="패션")) == ["니트 조끼", "티셔츠"]
    assert sorted(await names(client, category=str(tree["패션"]))) == ["니트 조끼", "티셔츠"]
    assert await names(client, category=str(tree["니트"])) == ["니트 조끼"]
    assert await names(client, category="뷰티") == ["립밤"]

    unknown = await client.get("/api/v1/products", params={"category": "없는-카테고리"})
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "not-found"
    unknown_id = await client.get("/api/v1/products", params={"category": str(uuid.uuid4())})
    assert unknown_id.status_code == 404


async def test_brand_price_and_stock_filters(platform: Platform, client: httpx.AsyncClient) -> None:
    nike = await make_product(platform, name="러닝화", price=89000, brand_name="Nike")
    await make_product(platform, name="니트", price=39000)
    await make_product(platform, name="품절 셔츠", price=29000, stock=0)
    await make_product(
        platform,
        name="사이즈 일부 품절 바지",
        price=49000,
        variants=[
            {"options": {"사이즈": "S"}, "stock": 0},
            {"options": {"사이즈": "M"}, "stock": 2},
        ],
    )

    assert await names(client, brand=nike.brand_id) == ["러닝화"]
    assert await names(client, brand="nike") == ["러닝화"]  # the slug
    assert sorted(await names(client, min_price=39000, max_price=50000)) == [
        "니트",
        "사이즈 일부 품절 바지",
    ]
    assert await names(client, max_price=29000) == ["품절 셔츠"]
    assert "품절 셔츠" not in await names(client, in_stock="true")
    assert "사이즈 일부 품절 바지" in await names(client, in_stock="true")
    assert await names(client, in_stock="false") == ["품절 셔츠"]
    response = await client.get("/api/v1/products", params={"brand": "no-such-brand"})
    assert response.status_code == 404


async def test_every_sort_orders_as_named(platform: Platform, client: httpx.AsyncClient) -> None:
    first = await make_product(platform, name="가", price=30000)
    platform.clock.advance(minutes=1)  # type: ignore[attr-defined]
    second = await make_product(platform, name="나", price=10000)
    platform.clock.advance(minutes=1)  # type: ignore[attr-defined]
    third = await make_product(platform, name="다", price=20000)
    async with platform.db.write() as session:
        await service.record_sales(
            session, {uuid.UUID(second.product_id): 5, uuid.UUID(first.product_id): 2}
        )

    assert await names(client) == ["다", "나", "가"]  # new by default
    assert await names(client, sort="new") == ["다", "나", "가"]
    assert await names(client, sort="price_asc") == ["나", "다", "가"]
    assert await names(client, sort="price_desc") == ["가", "다", "나"]
    assert await names(client, sort="popular") == ["나", "가", "다"]
    assert third.product_id


@pytest.mark.parametrize("sort", ["new", "price_asc", "price_desc", "popular"])
async def test_cursor_pages_walk_every_product_once_in_order(
    platform: Platform, client: httpx.AsyncClient, sort: str
) -> None:
    prices = [10000, 20000, 20000, 20000, 5000, 5000, 70000, 20000, 0, 99000, 20000]
    made = []
    for n, price in enumerate(prices):
        made.append(await make_product(platform, name=f"상품 {n}", price=price))
        if n % 3 == 0:
            platform.clock.advance(seconds=1)  # type: ignore[attr-defined]
    async with platform.db.write() as session:
        await service.record_sales(
            session, {uuid.UUID(ref.product_id): n % 4 for n, ref in enumerate(made)}
        )

    walked = await walk(client, sort=sort, limit=3)
    assert len(walked) == len(prices)
    assert set(walked) == {ref.product_id for ref in made}
    one_page = [
        i["id"]
        for i in (await client.get(f"/api/v1/products?sort={sort}&limit=100")).json()["items"]
    ]
    assert walked == one_page


async def test_a_cursor_of_another_sort_or_garbage_is_refused(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    for n in range(3):
        await make_product(platform, name=f"상품 {n}")
    first = (await client.get("/api/v1/products", params={"limit": 1})).json()
    assert first["next_cursor"]
    for params in (
        {"cursor": first["next_cursor"], "sort": "price_asc"},
        {"cursor": "not-a-cursor"},
        {"cursor": "eyJzIjoibmV3IiwiayI6WzEsMl19"},  # {"s":"new","k":[1,2]}
        {"cursor": "W10"},  # []
    ):
        response = await client.get("/api/v1/products", params=params)
        assert response.status_code == 400, params
        assert response.json()["code"] == "invalid-cursor"


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"limit": "many"},
        {"min_price": -1},
        {"max_price": 10**12},
        {"min_price": "싸게"},
        {"sort": "cheapest"},
        {"in_stock": "maybe"},
        {"category": "x" * 101},
        {"cursor": "c" * 501},
    ],
)
async def test_bad_list_parameters_are_422(client: httpx.AsyncClient, params: dict) -> None:
    response = await client.get("/api/v1/products", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation-error"


async def test_contradictory_list_parameters_are_422(client: httpx.AsyncClient) -> None:
    inverted = await client.get("/api/v1/products", params={"min_price": 5, "max_price": 1})
    assert inverted.status_code == 422
    assert inverted.json()["code"] == "invalid-input"
    relevance = await client.get("/api/v1/products", params={"sort": "relevance"})
    assert relevance.status_code == 422


async def test_product_detail_shows_variants_options_images_and_breadcrumb(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    tree = await make_fashion_tree(platform)
    ref = await make_product(
        platform,
        name="울 블렌드 니트",
        price=45000,
        list_price=50000,
        category_name="니트",
        description="<b>부드러운</b> 울 니트 🧶",
        variants=[
            {"options": {"사이즈": "S", "색상": "블랙"}, "stock": 3},
            {"options": {"사이즈": "M", "색상": "블랙"}, "stock": 0, "price": 47000},
        ],
    )
    async with platform.db.write() as session:
        for n in range(2):
            await service.add_product_image(
                session,
                platform.clock,
                uuid.UUID(ref.product_id),
                url=f"https://cdn.example.com/{n}.jpg",
                alt=f"사진 {n}",
            )
    response = await client.get(f"/api/v1/products/{ref.product_id}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "울 블렌드 니트"
    assert body["description"] == "<b>부드러운</b> 울 니트 🧶"
    assert body["brand"] == {"id": ref.brand_id, "name": "모노하우스"}
    assert [c["name"] for c in body["breadcrumb"]] == ["패션", "상의", "니트"]
    assert body["category"]["id"] == str(tree["니트"])
    assert body["option_types"] == [
        {"name": "사이즈", "values": ["S", "M"]},
        {"name": "색상", "values": ["블랙"]},
    ]
    assert body["discount_rate"] == 10
    assert body["in_stock"] is True
    variants = {v["options"]["사이즈"]: v for v in body["variants"]}
    assert variants["S"] == {
        "id": ref.variant_ids[0],
        "sku": variants["S"]["sku"],
        "options": {"사이즈": "S", "색상": "블랙"},
        "price": 45000,
        "stock": 3,
        "in_stock": True,
        "status": "active",
    }
    assert variants["M"]["price"] == 47000
    assert variants["M"]["in_stock"] is False
    assert [i["url"] for i in body["images"]] == [
        "https://cdn.example.com/0.jpg",
        "https://cdn.example.com/1.jpg",
    ]


async def test_unknown_product_is_404_and_a_malformed_id_is_422(
    client: httpx.AsyncClient,
) -> None:
    missing = await client.get(f"/api/v1/products/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["code"] == "not-found"
    for bad in ("123", "not-a-uuid", "' OR 1=1 --", "%F0%9F%A7%B6"):
        response = await client.get(f"/api/v1/products/{bad}")
        assert response.status_code == 422, bad
        assert response.json()["code"] == "validation-error"


async def test_brands_are_listed_in_pages(platform: Platform, client: httpx.AsyncClient) -> None:
    brand_names = ["Nike", "모노하우스", "무신사 스탠다드", "Aurora", "오로라", "B&B"]
    for name in brand_names:
        await make_product(platform, name=f"{name} 상품", brand_name=name)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        body = (await client.get("/api/v1/brands", params=params)).json()
        seen += [b["name"] for b in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(brand_names)
    one = (await client.get("/api/v1/brands", params={"limit": 100})).json()["items"][0]
    assert set(one) == {"id", "name", "slug", "name_en", "description", "status"}
    by_slug = await client.get("/api/v1/brands/nike")
    assert by_slug.status_code == 200 and by_slug.json()["name"] == "Nike"
    assert (await client.get(f"/api/v1/brands/{uuid.uuid4()}")).status_code == 404


async def test_categories_come_as_a_tree(platform: Platform, client: httpx.AsyncClient) -> None:
    tree = await make_fashion_tree(platform)
    body = (await client.get("/api/v1/categories")).json()
    roots = {node["name"]: node for node in body["items"]}
    assert set(roots) == {"패션", "뷰티"}
    fashion = roots["패션"]
    assert fashion["id"] == str(tree["패션"])
    assert [c["name"] for c in fashion["children"]] == ["상의"]
    assert [c["name"] for c in fashion["children"][0]["children"]] == ["니트"]
    assert roots["뷰티"]["children"] == []
