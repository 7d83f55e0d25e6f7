"""Alembic environment: one history for SQLite and PostgreSQL, run through async engines."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

from jangteo.core.db import UTCDateTime
from jangteo.schema import metadata
from jangteo.settings import Settings

config = context.config


def _include(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    # search indexes are dialect-specific and managed by hand in their own migration
    return not (
        type_ == "table"
        and reflected
        and compare_to is None
        and name is not None
        and name.startswith("search_")
    )


def _render_item(type_, obj, autogen_context):  # type: ignore[no-untyped-def]
    # our UTC wrapper is a plain timezone-aware DateTime in the schema
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=_include,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    url = config.attributes.get("database_url") or Settings().database_url
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_async())
