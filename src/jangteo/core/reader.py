"""A lean path for the hottest reads: hand-written SQL straight on the database driver.

Every visitor reads product pages. Through the ORM each query costs far more in Python than the
database spends answering it, so those reads use one hand-written statement each, run here: on
SQLite on a per-process connection in the event-loop thread (a read in WAL mode never waits for a
writer), on PostgreSQL through an asyncpg pool with its prepared-statement cache.

SQL is written with PostgreSQL's `$1` placeholders. Values cross the boundary through the methods
below, so that both databases give the same Python values: SQLite keeps ids as 32 hex digits,
times as naive UTC text and JSON as text; PostgreSQL gives uuids, aware datetimes and JSON text.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import make_url

_PLACEHOLDER = re.compile(r"\$(\d+)")

# the JSON functions of each database, for lists aggregated inside one row (`doc` turns a JSON
# text column into JSON on SQLite; PostgreSQL's json columns are JSON already)
JSON_FUNCTIONS = {
    "sqlite": {"array": "json_array", "agg": "json_group_array", "doc": "json"},
    "postgresql": {"array": "json_build_array", "agg": "json_agg", "doc": ""},
}
# "the column is one of the ids in parameter {p}", for a parameter made by `ids_param`
IN_IDS = {
    "sqlite": "IN (SELECT value FROM json_each({p}))",
    "postgresql": "= ANY({p}::uuid[])",
}


def id_text(value: Any) -> str:
    """The canonical text of an id read from either database (a uuid, or 32 hex digits)."""
    if isinstance(value, str):
        if len(value) == 32:
            return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
        return value
    return str(value)


def json_value(value: Any) -> Any:
    """A JSON column or aggregate: text on both databases, or None."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


class Reader:
    dialect: str

    async def fetch(
        self, sql: str, *args: Any, plan_for_values: bool = False
    ) -> list[Sequence[Any]]:
        """The rows of one statement. `plan_for_values`: plan it for these values every time,
        for a statement whose best plan depends on them (see core.db.plan_for_these_values)."""
        raise NotImplementedError

    def ids_param(self, values: Sequence[uuid.UUID]) -> Any:
        """A list of ids as one parameter, for a test written with `IN_IDS`."""
        raise NotImplementedError

    def id_param(self, value: uuid.UUID) -> Any:
        raise NotImplementedError

    def time_param(self, value: datetime) -> Any:
        raise NotImplementedError

    @staticmethod
    def time_value(value: Any) -> datetime:
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        return value if value.tzinfo is UTC else value.astimezone(UTC)

    async def close(self) -> None:
        raise NotImplementedError


class SqliteReader(Reader):
    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = None
        self._statements: dict[str, str] = {}

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, cached_statements=256
        )
        connection.execute("PRAGMA query_only=ON")
        connection.execute("PRAGMA busy_timeout=10000")
        self._connection = connection
        return connection

    async def fetch(
        self, sql: str, *args: Any, plan_for_values: bool = False
    ) -> list[Sequence[Any]]:
        statement = self._statements.get(sql)
        if statement is None:
            statement = self._statements[sql] = _PLACEHOLDER.sub(r"?\1", sql)
        connection = self._connection or self._connect()
        # one statement is one read snapshot: consistent without an explicit transaction
        return connection.execute(statement, args).fetchall()

    def id_param(self, value: uuid.UUID) -> str:
        return value.hex

    def ids_param(self, values: Sequence[uuid.UUID]) -> str:
        return orjson.dumps([v.hex for v in values]).decode()

    def time_param(self, value: datetime) -> str:
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class PostgresReader(Reader):
    dialect = "postgresql"

    def __init__(self, url: str, pool_size: int) -> None:
        self.dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.pool_size = max(pool_size, 1)
        # two pools: statements planned once and reused (most reads), and statements planned
        # for their values each time (prepared statements would otherwise settle on one plan)
        self._pools: dict[bool, Any] = {}
        self._opening = asyncio.Lock()

    async def _open(self, plan_for_values: bool) -> Any:
        import asyncpg

        async with self._opening:
            if plan_for_values not in self._pools:
                # JIT compilation pays off for long analytic queries; for these short reads it
                # only adds tens of milliseconds whenever a plan's estimate crosses its threshold
                settings = {"jit": "off"}
                if plan_for_values:
                    settings["plan_cache_mode"] = "force_custom_plan"
                self._pools[plan_for_values] = await asyncpg.create_pool(
                    self.dsn,
                    min_size=1,
                    max_size=self.pool_size,
                    reset=_keep_session,
                    server_settings=settings,
                )
        return self._pools[plan_for_values]

    async def fetch(
        self, sql: str, *args: Any, plan_for_values: bool = False
    ) -> list[Sequence[Any]]:
        pool = self._pools.get(plan_for_values) or await self._open(plan_for_values)
        return await pool.fetch(sql, *args)  # type: ignore[no-any-return]

    def ids_param(self, values: Sequence[uuid.UUID]) -> list[uuid.UUID]:
        return list(values)

    def id_param(self, value: uuid.UUID) -> uuid.UUID:
        return value

    def time_param(self, value: datetime) -> datetime:
        return value

    async def close(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.close()


async def _keep_session(connection: Any) -> None:
    """The reader only runs single SELECTs, which leave no session state behind: skip the reset
    statements asyncpg would otherwise send each time a connection goes back to the pool."""


def reader_for(url: str, pool_size: int) -> Reader:
    if url.startswith("sqlite"):
        return SqliteReader(make_url(url).database or ":memory:")
    return PostgresReader(url, pool_size)
