"""The database plumbing: SQLite statements on the event loop, the lean reader on both backends."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from jangteo.core.platform import Platform
from jangteo.core.reader import id_text, json_value


async def test_waiting_for_the_sqlite_write_lock_leaves_the_event_loop_free(
    platform: Platform,
) -> None:
    """Statements run on the loop thread, but BEGIN IMMEDIATE (which may wait for another
    process's lock) does not: while it waits, other requests keep being served."""
    if not platform.db.is_sqlite:
        pytest.skip("the write lock is SQLite's")
    async with platform.db.write() as session:  # the app's connection is open (and WAL on)
        await session.execute(text("SELECT 1"))
    path = platform.db.reader.path  # type: ignore[attr-defined]
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    ticks = 0
    written = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not written.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    async def write() -> None:
        async with platform.db.write() as session:
            await session.execute(text("CREATE TABLE lock_probe (n INTEGER)"))
        written.set()

    async def release_later() -> None:
        await asyncio.sleep(0.3)
        other.execute("COMMIT")

    await asyncio.gather(ticker(), write(), release_later())
    other.close()
    assert ticks >= 15  # the loop ticked all through the 0.3 s wait
    async with platform.db.read() as session:
        assert (await session.execute(text("SELECT count(*) FROM lock_probe"))).scalar() == 0


async def test_reader_gives_the_same_values_on_both_databases(platform: Platform) -> None:
    reader = platform.db.reader
    moment = datetime(2026, 11, 24, 3, 0, 0, 123456, tzinfo=UTC)
    some_id = uuid.uuid4()
    async with platform.db.write() as session:
        await session.execute(
            text("CREATE TABLE probe (id UUID, at TIMESTAMP WITH TIME ZONE, doc TEXT)")
            if not platform.db.is_sqlite
            else text("CREATE TABLE probe (id CHAR(32), at DATETIME, doc TEXT)")
        )
    # rows written the way the ORM writes them
    async with platform.db.write() as session:
        await session.execute(
            text("INSERT INTO probe VALUES (:id, :at, :doc)"),
            {
                "id": reader.id_param(some_id),
                "at": reader.time_param(moment),
                "doc": '{"사이즈": "M"}',
            },
        )
    rows = await reader.fetch(
        "SELECT id, at, doc FROM probe WHERE id = $1 AND at = $2",
        reader.id_param(some_id),
        reader.time_param(moment),
    )
    assert len(rows) == 1
    row_id, at, doc = rows[0]
    assert id_text(row_id) == str(some_id)
    assert reader.time_value(at) == moment
    assert json_value(doc) == {"사이즈": "M"}
    assert json_value(None) is None
