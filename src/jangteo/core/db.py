"""Database engines, sessions and the declarative base shared by every domain."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, TypeDecorator, Uuid, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import NullPool

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


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # autocommit at the driver level: SQLAlchemy's "begin" event issues BEGIN itself
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


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
            self.read_engine = create_async_engine(url, pool_size=sqlite_pool_size, max_overflow=8)
            self.write_engine = create_async_engine(
                url, pool_size=1, max_overflow=0, pool_timeout=60
            )
            for engine in (self.read_engine, self.write_engine):
                event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
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

    async def dispose(self) -> None:
        await self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            await self.write_engine.dispose()


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
