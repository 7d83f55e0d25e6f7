"""Bulk stock imports for tests: uploading a CSV as staff and running the import's jobs."""

from __future__ import annotations

import uuid

import httpx
from tests.factories.accounts import Member

from jangteo.core.platform import Platform


async def upload_csv(
    client: httpx.AsyncClient,
    staff: Member,
    content: str | bytes,
    *,
    filename: str = "stock.csv",
    key: str | None = None,
    content_type: str = "text/csv",
) -> httpx.Response:
    """POST a CSV to the import endpoint with a fresh Idempotency-Key (or `key`)."""
    data = content.encode() if isinstance(content, str) else content
    return await client.post(
        "/api/v1/admin/stock-imports",
        files={"file": (filename, data, content_type)},
        headers={**staff.headers, "Idempotency-Key": key or uuid.uuid4().hex},
    )


async def run_jobs_until_idle(platform: Platform, *, max_runs: int = 100) -> int:
    """Run due jobs until none is left; how many runs that took."""
    for runs in range(max_runs):
        if not await platform.jobs.run_due():
            return runs
    raise AssertionError("jobs still due after max_runs runs")


async def import_progress(client: httpx.AsyncClient, staff: Member, import_id: str) -> dict:
    response = await client.get(f"/api/v1/admin/stock-imports/{import_id}", headers=staff.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())
