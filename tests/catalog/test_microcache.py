"""The per-process micro-cache of public catalog answers."""

from __future__ import annotations

from pathlib import Path

import httpx
from tests.conftest import Backend, make_settings
from tests.factories.accounts import make_staff
from tests.factories.catalog import make_product

from jangteo.app import create_app
from jangteo.bootstrap import build_platform
from jangteo.core.clock import FrozenClock
from jangteo.core.microcache import MicroCache


async def test_public_answers_are_held_until_a_staff_write(
    backend: Backend, tmp_path: Path, clock: FrozenClock
) -> None:
    platform = build_platform(make_settings(backend, tmp_path, catalog_cache_seconds=60), clock)
    app = create_app(platform.settings, platform=platform)
    cache: MicroCache = app.state.microcache
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as client:
            product = await make_product(platform, stock=5)
            path = f"/api/v1/products/{product.product_id}"
            first = await client.get(path)
            again = await client.get(path)
            assert first.status_code == again.status_code == 200
            assert cache.hits == 1
            assert again.json() == first.json()
            # each answer still has its own request id and the security headers
            assert again.headers["x-request-id"] != first.headers["x-request-id"]
            assert again.headers["x-content-type-options"] == "nosniff"
            # English is cached apart from Korean
            await client.get(path, headers={"Accept-Language": "en"})
            assert cache.hits == 1

            staff = await make_staff(platform, client)
            variant = product.variant_ids[0]
            adjusted = await client.post(
                f"/api/v1/admin/variants/{variant}/stock-adjustments",
                json={"delta": 3, "reason": "입고"},
                headers=staff.headers,
            )
            assert adjusted.status_code == 201, adjusted.text
            fresh = await client.get(path)
            assert fresh.json()["variants"][0]["stock"] == 8
            # errors are never cached
            missing = "/api/v1/products/01a20d87-0000-7000-8000-000000000000"
            assert (await client.get(missing)).status_code == 404
            assert (await client.get(missing)).status_code == 404
            assert cache.hits == 1
    finally:
        await platform.cache.close()
        await platform.db.dispose()


async def test_answers_that_depend_on_the_viewer_are_never_cached(
    backend: Backend, tmp_path: Path, clock: FrozenClock
) -> None:
    """A product's reviews and snaps carry the viewer's own votes and hide what they blocked:
    they sit below /api/v1/products but are not public answers."""
    platform = build_platform(make_settings(backend, tmp_path, catalog_cache_seconds=60), clock)
    app = create_app(platform.settings, platform=platform)
    cache: MicroCache = app.state.microcache
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as client:
            product = await make_product(platform, stock=5)
            for path in (
                f"/api/v1/products/{product.product_id}/reviews",
                f"/api/v1/products/{product.product_id}/snaps",
            ):
                assert (await client.get(path)).status_code == 200
                assert (await client.get(path)).status_code == 200
            assert cache.hits == 0
            await client.get("/api/v1/categories")
            await client.get("/api/v1/categories")
            assert cache.hits == 1
    finally:
        await platform.cache.close()
        await platform.db.dispose()
