"""Database engines, sessions and the declarative base shared by every domain."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy import JSON, DateTime, MetaData, TypeDecorator, Uuid, event, make_url, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import NullPool

from jangteo.core.reader import Reader, reader_for

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012
        datetime: UTCDateTime(),
        uuid.UUID: Uuid(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
        list[str]: JSON(),
    }


def _sqlite_connect(path: str) -> sqlite3.Connection:
    """A connection set up for the app. Runs in aiosqlite's thread: turning on WAL (once per
    database file, it is kept in the file) may have to wait for another writer."""
    connection = sqlite3.connect(path, check_same_thread=False, timeout=10)
    if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA foreign_keys=ON")
    connection.execute("PRAGMA busy_timeout=10000")
    return connection


def _driver_autocommit(dbapi_connection: Any, _record: Any) -> None:
    # autocommit at the driver level: SQLAlchemy's "begin" event issues BEGIN itself
    dbapi_connection.isolation_level = None


class InlineSqliteConnection(aiosqlite.Connection):
    """An aiosqlite connection that runs its statements on the calling (event-loop) thread.

    A SQLite statement takes microseconds; handing each one to aiosqlite's thread and back costs
    far more than running it. The one statement that can wait — BEGIN, which takes the write lock
    that another process may hold for a while — still goes to the thread, so a lock wait never
    blocks the event loop. Reads in WAL mode never wait for writers.
    """

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        if args and isinstance(args[0], str) and args[0].startswith("BEGIN IMMEDIATE"):
            return await super()._execute(fn, *args, **kwargs)
        return fn(*args, **kwargs)


def _inline_creator(url: str) -> Any:
    path = make_url(url).database or ":memory:"

    async def create() -> InlineSqliteConnection:
        connector = partial(_sqlite_connect, path)
        return await InlineSqliteConnection(connector, 64)

    return create


class Database:
    """The engines of one database.

    On SQLite writes take the database lock when they begin (BEGIN IMMEDIATE) through a
    single-connection engine, so two writers queue instead of failing on a lock upgrade;
    reads use their own pool and run alongside in WAL mode. On PostgreSQL both are one engine.
    """

    def __init__(self, url: str, *, pool_size: int = 10, sqlite_pool_size: int = 8) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.read_engine = create_async_engine(
                url,
                pool_size=sqlite_pool_size,
                max_overflow=8,
                async_creator=_inline_creator(url),
            )
            self.write_engine = create_async_engine(
                url,
                pool_size=1,
                max_overflow=0,
                pool_timeout=60,
                async_creator=_inline_creator(url),
            )
            for engine in (self.read_engine, self.write_engine):
                event.listen(engine.sync_engine, "connect", _driver_autocommit)
            event.listen(
                self.read_engine.sync_engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN")
            )
            event.listen(
                self.write_engine.sync_engine,
                "begin",
                lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"),
            )
        else:
            kwargs: dict[str, Any] = (
                {"poolclass": NullPool}
                if pool_size == 0
                else {"pool_size": pool_size, "max_overflow": pool_size, "pool_pre_ping": True}
            )
            self.read_engine = self.write_engine = create_async_engine(url, **kwargs)
        # hand-written SQL for the hottest public reads (see core.reader)
        self.reader: Reader = reader_for(url, max(2, pool_size // 2))
        self._read = async_sessionmaker(self.read_engine, expire_on_commit=False)
        self._write = async_sessionmaker(self.write_engine, expire_on_commit=False)

    @property
    def engine(self) -> AsyncEngine:
        return self.write_engine

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reading; it never commits."""
        async with self._read() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commits when the block ends, rolls back on any exception."""
        async with self._write() as session, session.begin():
            yield session

    async def analyze(self) -> None:
        """Refresh the query planner's statistics, after a bulk load: a fresh PostgreSQL table
        looks empty to the planner until autovacuum gets to it, and gets plans made for that."""
        async with self.write() as session:
            await session.execute(text("ANALYZE"))

    async def dispose(self) -> None:
        await self.reader.close()
        await self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            await self.write_engine.dispose()


async def insert_if_new(session: AsyncSession, row: Any) -> bool:
    """Insert a row unless it breaks a unique key (someone made it first); whether it was new.

    The row joins the session inside the savepoint, so that a collision takes it back out: a
    row added before would stay pending and fail the whole transaction at the next flush.
    """
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        return False
    return True


async def plan_for_these_values(session: AsyncSession) -> None:
    """Have PostgreSQL plan this transaction's statements for their actual values.

    Prepared statements switch to one generic plan after a few runs; for a query whose best plan
    depends on the value (a member who follows 500 active accounts, or 3 quiet ones), the generic
    plan can be a hundred times slower. Costs a fraction of a millisecond of planning per query.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def is_serialization_failure(exc: BaseException) -> bool:
    """Whether a database error means "try the transaction again" (deadlock, lock timeout)."""
    if isinstance(exc, OperationalError) and "locked" in str(exc).lower():
        return True
    if isinstance(exc, DBAPIError):
        code = getattr(getattr(exc.orig, "__cause__", None), "sqlstate", None) or getattr(
            exc.orig, "sqlstate", None
        )
        return code in {"40001", "40P01"}
    return False
