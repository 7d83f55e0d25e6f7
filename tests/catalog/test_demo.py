"""The demo shop: generated in code, deterministic, searchable, loaded once."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from jangteo.catalog.models import Brand, Product, Variant
from jangteo.core.platform import Platform
from jangteo.demo import CATALOG, DEMO_PASSWORD, demo_products, seed_demo


def test_the_same_seed_makes_the_same_shop() -> None:
    first, again = demo_products(), demo_products()
    assert first == again
    assert demo_products(seed=7) != first
    assert len(first) >= 200
    assert all(p.price % 100 == 0 and p.list_price >= p.price >= 0 for p in first)
    assert any(p.list_price > p.price for p in first)
    assert len({p.name for p in first}) > 150
    stocks = [v["stock"] for p in first for v in p.variants]
    assert 0 in stocks and max(stocks) > 0
    assert {"패션", "뷰티", "리빙", "식품"} <= set(CATALOG)
    assert {"상의", "하의", "아우터", "니트"} <= set(CATALOG["패션"])


async def test_seeding_loads_a_searchable_shop_once(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    assert await seed_demo(platform, if_empty=True) is True
    async with platform.db.read() as session:
        products = await session.scalar(select(func.count()).select_from(Product))
        brands = (await session.scalars(select(Brand.name))).all()
        sold_out = await session.scalar(
            select(func.count()).select_from(Variant).where(Variant.stock == 0)
        )
    assert products is not None and products >= 200
    assert len(brands) >= 10
    assert any(name.isascii() for name in brands) and not all(name.isascii() for name in brands)
    assert sold_out

    tree = (await client.get("/api/v1/categories")).json()["items"]
    fashion = next(node for node in tree if node["name"] == "패션")
    assert {"상의", "하의", "아우터", "니트"} <= {child["name"] for child in fashion["children"]}

    knits = (await client.get("/api/v1/products", params={"q": "니트", "limit": 100})).json()
    assert len(knits["items"]) >= 5
    snaps = (await client.get("/api/v1/products", params={"q": "스냅"})).json()["items"]
    assert snaps and all("스냅" in item["name"] for item in snaps)
    page = (await client.get("/api/v1/products", params={"sort": "popular"})).json()
    assert page["next_cursor"] and page["items"][0]["image"]["url"].startswith("/media/")
    picture = await client.get(page["items"][0]["image"]["url"])
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"

    login = await client.post(
        "/api/v1/auth/token",
        json={"email": "minji@demo.jangteo.kr", "password": DEMO_PASSWORD},
    )
    assert login.status_code == 200, login.text

    assert await seed_demo(platform, if_empty=True) is False
    async with platform.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Product)) == products
