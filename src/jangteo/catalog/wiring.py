"""Adds the catalog domain's adapters, scheduled jobs and event subscribers to a platform."""

from __future__ import annotations

import uuid
from typing import Any

from jangteo.catalog import stock_imports
from jangteo.core.platform import Platform


def register(platform: Platform) -> None:
    async def apply_stock_import(payload: dict[str, Any]) -> None:
        # one batch per run and transaction; the batch schedules the next run while rows remain
        async with platform.db.write() as session:
            await stock_imports.apply_stock_import_batch(
                session,
                platform.clock,
                import_id=uuid.UUID(payload["import_id"]),
                batch_rows=platform.settings.stock_import_batch_rows,
                run=int(payload.get("run", 0)),
            )

    platform.jobs.register(stock_imports.APPLY_JOB, apply_stock_import)
