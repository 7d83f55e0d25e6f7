"""Overselling is impossible: many buyers at once against little stock or a limited coupon,
in one process and across two server processes sharing one PostgreSQL database."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.factories.accounts import Member, make_staff, signup_member
from tests.factories.catalog import make_product
from tests.factories.coupons import make_coupon
from tests.factories.orders import order_body, post_order, stock_of
from tests.serving import free_port

from jangteo.core.platform import Platform
from jangteo.settings import Settings

BUYERS = 50
STOCK = 10


async def _members(client: httpx.AsyncClient, count: int) -> list[Member]:
    # a few at a time: sign-up is not what this test measures
    members: list[Member] = []
    for start in range(0, count, 10):
        members += await asyncio.gather(
            *(signup_member(client) for _ in range(min(10, count - start)))
        )
    return members


async def _all_orders(client: httpx.AsyncClient, staff: Member) -> list[dict]:
    response = await client.get(
        "/api/v1/admin/orders", params={"limit": 100}, headers=staff.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return response.json()["items"]


def _outcomes(answers: list[httpx.Response]) -> Counter[tuple[int, str | None]]:
    return Counter(
        (a.status_code, None if a.status_code == 201 else a.json().get("code")) for a in answers
    )


async def test_fifty_buyers_ten_in_stock_exactly_ten_orders(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    product = await make_product(platform, name="한정판 스니커즈", price=129000, stock=STOCK)
    variant = product.variant_ids[0]
    buyers = await _members(client, BUYERS)

    answers = await asyncio.gather(
        *(post_order(client, buyer, order_body(variant)) for buyer in buyers)
    )

    assert _outcomes(answers) == {(201, None): STOCK, (409, "out-of-stock"): BUYERS - STOCK}
    assert await stock_of(client, product.product_id, variant) == 0
    orders = await _all_orders(client, staff)
    assert len(orders) == STOCK
    winners = {a.json()["id"] for a in answers if a.status_code == 201}
    assert {o["id"] for o in orders} == winners
    assert len({o["member_id"] for o in orders}) == STOCK


async def test_fifty_buyers_one_coupon_for_ten_exactly_ten_orders(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    product = await make_product(platform, price=30000, stock=1000)
    variant = product.variant_ids[0]
    coupon = await make_coupon(platform, value=5000, total_limit=STOCK)
    buyers = await _members(client, BUYERS)

    answers = await asyncio.gather(
        *(post_order(client, b, order_body(variant, coupon_code=coupon.code)) for b in buyers)
    )

    assert _outcomes(answers) == {(201, None): STOCK, (409, "coupon-exhausted"): BUYERS - STOCK}
    orders = await _all_orders(client, staff)
    assert len(orders) == STOCK
    assert {o["total"] for o in orders} == {30000 - 5000 + 3000}
    # the losers' stock went back with their rolled-back transactions
    assert await stock_of(client, product.product_id, variant) == 1000 - STOCK
    view = await client.get(f"/api/v1/admin/coupons/{coupon.id}", headers=staff.headers)
    assert view.json()["issued_count"] == STOCK


def _server_env(settings: Settings, var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JANGTEO_")}
    env.update(
        {
            "JANGTEO_ENV": "test",
            "JANGTEO_DATABASE_URL": settings.database_url,
            "JANGTEO_REDIS_URL": settings.redis_url or "",
            "JANGTEO_REDIS_PREFIX": settings.redis_prefix,
            "JANGTEO_SECRET_KEY": settings.secret_key,
            "JANGTEO_ARGON2_TIME_COST": str(settings.argon2_time_cost),
            "JANGTEO_ARGON2_MEMORY_COST_KIB": str(settings.argon2_memory_cost_kib),
            "JANGTEO_ARGON2_PARALLELISM": str(settings.argon2_parallelism),
            "JANGTEO_RUN_BACKGROUND_LOOPS": "false",
            "JANGTEO_LOG_JSON": "false",
            "JANGTEO_VAR_DIR": str(var_dir),
            "JANGTEO_PG_POOL_SIZE": "10",
        }
    )
    return env


@contextlib.contextmanager
def _servers(settings: Settings, tmp_path: Path, count: int) -> Iterator[list[str]]:
    """`count` uvicorn processes of the app on free ports; terminated when the block ends."""
    processes: list[subprocess.Popen[bytes]] = []
    urls: list[str] = []
    env = _server_env(settings, tmp_path / "var")
    try:
        for n in range(count):
            port = free_port()
            log = (tmp_path / f"server-{n}.log").open("wb")
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        "jangteo.app:create_app",
                        "--factory",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(port),
                        "--log-level",
                        "warning",
                    ],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 60
        for process, url in zip(processes, urls, strict=True):
            while True:
                if process.poll() is not None:
                    raise AssertionError(f"server {url} exited; see {tmp_path}/server-*.log")
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise AssertionError(f"server {url} did not answer /healthz in time")
                time.sleep(0.1)  # polling a subprocess with a deadline, not waiting on time
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def test_two_server_processes_still_sell_exactly_the_stock(
    backend, settings: Settings, platform: Platform, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    if backend.name != "pg":
        pytest.skip("two processes share a database only on PostgreSQL")
    staff = await make_staff(platform, client)
    product = await make_product(platform, name="두 서버 한정 상품", price=9900, stock=STOCK)
    variant = product.variant_ids[0]

    with _servers(settings, tmp_path, 2) as urls:
        async with (
            httpx.AsyncClient(base_url=urls[0], timeout=60) as first,
            httpx.AsyncClient(base_url=urls[1], timeout=60) as second,
        ):
            # the servers run on the real clock, so members log in through them
            buyers = await _members(first, BUYERS)
            answers = await asyncio.gather(
                *(
                    post_order(first if n % 2 else second, buyer, order_body(variant))
                    for n, buyer in enumerate(buyers)
                )
            )
            stock = await stock_of(second, product.product_id, variant)
            per_server = Counter(n % 2 for n, a in enumerate(answers) if a.status_code == 201)

    assert _outcomes(answers) == {(201, None): STOCK, (409, "out-of-stock"): BUYERS - STOCK}
    assert stock == 0
    assert sum(per_server.values()) == STOCK
    assert len(await _all_orders(client, staff)) == STOCK
