"""Test harness: every API test runs against embedded SQLite and against PostgreSQL + Redis.

Each test gets a database of its own, copied from a template migrated once per run (a file copy
on SQLite, CREATE DATABASE … TEMPLATE on PostgreSQL), a frozen clock and cheap argon2 settings.
Under CI=true a test that needs PostgreSQL or Redis fails when they are down instead of skipping.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest
import redis

from jangteo.app import create_app
from jangteo.bootstrap import build_platform
from jangteo.core.clock import FrozenClock
from jangteo.core.platform import Platform
from jangteo.migrate import upgrade
from jangteo.settings import Settings

PG_ADMIN_DSN = os.environ.get(
    "JANGTEO_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("JANGTEO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
BACKENDS = [b for b in os.environ.get("JANGTEO_TEST_BACKENDS", "sqlite,pg").split(",") if b]
RUN_ID = uuid.uuid4().hex[:8]


def _pg_async_url(dbname: str) -> str:
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{dbname}"


async def _services_up() -> str | None:
    """None when PostgreSQL and Redis answer, else what is missing."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:
        return f"Redis at {REDIS_URL}: {exc}"
    try:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=2)
        await conn.close()
    except Exception as exc:
        return f"PostgreSQL at {PG_ADMIN_DSN}: {exc}"
    return None


def _off_loop(coro_fn, *args):  # type: ignore[no-untyped-def]
    """Run an async admin step from a sync fixture, whether or not a loop is running here."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(coro_fn(*args))).result()


@pytest.fixture(scope="session")
def scaled_services() -> None:
    missing = _off_loop(_services_up)
    if missing:
        if IN_CI:
            pytest.fail(f"scaled tests need PostgreSQL and Redis under CI: {missing}")
        pytest.skip(f"PostgreSQL/Redis not available: {missing}")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
    return path


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_template(scaled_services: None) -> Iterator[str]:
    name = f"jangteo_tpl_{RUN_ID}"
    _off_loop(_pg_admin, f'CREATE DATABASE "{name}"')
    upgrade(_pg_async_url(name))
    yield name
    _off_loop(_pg_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Backend:
    name: str
    database_url: str
    redis_url: str | None
    redis_prefix: str


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    prefix = f"jt-test:{uuid.uuid4().hex[:10]}:"
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "jangteo.db"
        shutil.copyfile(template, path)
        yield Backend("sqlite", f"sqlite+aiosqlite:///{path}", None, prefix)
        return
    template = request.getfixturevalue("pg_template")
    name = f"jangteo_test_{RUN_ID}_{uuid.uuid4().hex[:8]}"
    _off_loop(_pg_admin, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield Backend("pg", _pg_async_url(name), REDIS_URL, prefix)
    finally:
        _off_loop(_pg_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
        client.close()


def make_settings(backend: Backend, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": "test",
        "var_dir": tmp_path / "var",
        "database_url": backend.database_url,
        "redis_url": backend.redis_url,
        "redis_prefix": backend.redis_prefix,
        "secret_key": "test-secret-key-" + "x" * 40,
        "argon2_time_cost": 1,
        "argon2_memory_cost_kib": 8,
        "argon2_parallelism": 1,
        "run_background_loops": False,
        "signup_bonus_points": 0,
        "catalog_cache_seconds": 0,
        "log_json": False,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 24, 3, 0, tzinfo=UTC))


@pytest.fixture
def settings(backend: Backend, tmp_path: Path) -> Settings:
    return make_settings(backend, tmp_path)


@pytest.fixture
async def platform(settings: Settings, clock: FrozenClock) -> AsyncIterator[Platform]:
    platform = build_platform(settings, clock)
    yield platform
    await platform.cache.close()
    await platform.pubsub.close()
    await platform.intake.close()
    await platform.db.dispose()


@pytest.fixture
async def client(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(platform.settings, platform=platform)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser journeys run last: Playwright's sync API keeps an event loop running in the main
    thread for as long as its browser lives, which the async tests cannot share."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)
