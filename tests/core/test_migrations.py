"""The migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from jangteo.core.platform import Platform
from jangteo.schema import metadata


async def test_migrated_schema_matches_the_models(platform: Platform) -> None:
    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_object": lambda obj, name, type_, reflected, compare_to: (
                    not (type_ == "table" and name is not None and name.startswith("search_"))
                ),
            },
        )
        return compare_metadata(context, metadata)

    async with platform.db.engine.connect() as connection:
        changes = await connection.run_sync(diff)
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert changes == []
    assert {"outbox_events", "scheduled_jobs", "idempotency_records", "alembic_version"} <= tables
