"""Bulk stock import from CSV: per-row checks, background batches, progress, idempotency."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update
from tests.conftest import Backend, make_settings
from tests.factories.accounts import Member, make_staff, signup_member
from tests.factories.catalog import make_product, variant_stock
from tests.factories.stock_imports import import_progress, run_jobs_until_idle, upload_csv

from jangteo.catalog import stock_imports
from jangteo.catalog.models import StockImportRow
from jangteo.core.platform import Platform
from jangteo.settings import Settings

BATCH = 2


@pytest.fixture
def settings(backend: Backend, tmp_path: Path) -> Settings:
    # small batches, so that progress between runs can be seen with a handful of rows
    return make_settings(backend, tmp_path, stock_import_batch_rows=BATCH)


async def _variants(platform: Platform, *stocks: int) -> list[tuple[str, str]]:
    """Variants holding the given stocks: (id, SKU) of each, in that order."""
    tag = uuid.uuid4().hex[:6].upper()
    specs = [
        {"options": {"사이즈": str(n)}, "stock": stock, "sku": f"IMP{tag}-{n}"}
        for n, stock in enumerate(stocks, start=1)
    ]
    product = await make_product(platform, name=f"가져오기 상품 {tag}", variants=specs)
    return [(v, spec["sku"]) for v, spec in zip(product.variant_ids, specs, strict=True)]


async def _movements(client: httpx.AsyncClient, staff: Member, variant_id: str) -> list[dict]:
    response = await client.get(
        f"/api/v1/admin/variants/{variant_id}/stock-movements",
        headers=staff.headers,
        params={"limit": 100},
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_valid_rows_are_applied_once_in_the_background(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    (a, sku_a), (b, sku_b), (c, sku_c) = await _variants(platform, 5, 10, 0)
    skus = [sku_a, sku_b, sku_c]
    csv = f"sku,delta,reason\n{skus[0]},+7,입고 📦\n{skus[1]},-4,파손\n{skus[2]},12,\n"

    created = await upload_csv(client, staff, csv)

    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "applying" and body["mode"] == "delta"
    assert (body["total_rows"], body["valid_rows"], body["invalid_rows"]) == (3, 3, 0)
    assert body["errors"] == [] and body["progress"] == 0
    # nothing changes until the job runs
    assert [await variant_stock(platform, v) for v in (a, b, c)] == [5, 10, 0]

    await run_jobs_until_idle(platform)

    assert [await variant_stock(platform, v) for v in (a, b, c)] == [12, 6, 12]
    done = await import_progress(client, staff, body["id"])
    assert done["status"] == "done" and done["progress"] == 100
    assert (done["applied_rows"], done["failed_rows"], done["pending_rows"]) == (3, 0, 0)
    movement = (await _movements(client, staff, a))[0]
    assert movement["reference"] == f"import:{body['id']}:2"
    assert movement["reason"] == "입고 📦" and movement["delta"] == 7
    assert movement["actor_id"] == staff.id
    assert (await _movements(client, staff, c))[0]["reason"] == "stock import"


async def test_every_bad_row_is_reported_and_the_good_ones_still_apply(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    made = await _variants(platform, 3, 1, 1, 1, 8, 1, 8)
    (a, sa), (_, sb), (_, sc), (_, sd), (e, se), (_, sf), (g, sg) = made
    lines = [
        "sku,delta,reason",
        f"{sa},2,ok",  # 2
        "NO-SUCH-SKU,1,unknown",  # 3
        f"{sb},abc,letters",  # 4
        f"{sc},0,zero",  # 5
        f"{sd},1.5,fraction",  # 6
        f"{se},-9,too many out",  # 7
        f"{sa},1,again",  # 8
        ",4,no sku",  # 9
        f"{sf},1,a,b,c",  # 10
        "'; DROP TABLE variants; --,1,sql",  # 11
        f"{sg},-8,all out",  # 12
    ]
    created = await upload_csv(client, staff, "\n".join(lines) + "\n")

    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["total_rows"], body["valid_rows"], body["invalid_rows"]) == (11, 2, 9)
    codes = {e["row"]: e["code"] for e in body["errors"]}
    assert codes == {
        3: "unknown-sku",
        4: "bad-number",
        5: "bad-number",
        6: "bad-number",
        7: "would-go-negative",
        8: "duplicate-row",
        9: "missing-sku",
        10: "bad-columns",
        11: "unknown-sku",
    }
    negative = next(e for e in body["errors"] if e["row"] == 7)
    assert negative["sku"] == se and negative["quantity"] == -9 and negative["stock"] == 8
    assert all(e["message"] for e in body["errors"])

    await run_jobs_until_idle(platform)

    assert [await variant_stock(platform, v) for v in (a, e, g)] == [5, 8, 0]
    errors = await client.get(
        f"/api/v1/admin/stock-imports/{body['id']}/errors",
        headers=staff.headers,
        params={"limit": 5},
    )
    assert errors.status_code == 200
    first = errors.json()
    assert [e["row"] for e in first["items"]] == [3, 4, 5, 6, 7]
    rest = await client.get(
        f"/api/v1/admin/stock-imports/{body['id']}/errors",
        headers=staff.headers,
        params={"cursor": first["next_cursor"]},
    )
    assert [e["row"] for e in rest.json()["items"]] == [8, 9, 10, 11]


async def test_stock_mode_sets_the_count_and_a_row_refused_when_applied_is_reported(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    made = await _variants(platform, 4, 9, 2)
    (a, b, c), skus = [v for v, _ in made], [s for _, s in made]
    csv = f"SKU,Stock,Reason\n{skus[0]},20,재고 실사\n{skus[1]},9,\n{skus[2]},-1,음수\n"

    body = (await upload_csv(client, staff, csv)).json()
    assert body["mode"] == "stock" and body["valid_rows"] == 2
    assert body["errors"][0]["code"] == "bad-number" and body["errors"][0]["row"] == 4
    await run_jobs_until_idle(platform)

    assert [await variant_stock(platform, v) for v in (a, b, c)] == [20, 9, 2]
    assert (await _movements(client, staff, a))[0]["delta"] == 16

    # a delta row valid on upload but refused when applied: the stock sold meanwhile
    later = (await upload_csv(client, staff, f"sku,delta,reason\n{skus[1]},-9,반품\n")).json()
    adjust = await client.post(
        f"/api/v1/admin/variants/{b}/stock-adjustments",
        json={"delta": -5, "reason": "판매"},
        headers=staff.headers,
    )
    assert adjust.status_code == 201
    await run_jobs_until_idle(platform)

    report = await import_progress(client, staff, later["id"])
    assert report["status"] == "done"
    assert (report["applied_rows"], report["failed_rows"]) == (0, 1)
    assert report["errors"][0]["code"] == "would-go-negative"
    assert report["errors"][0]["stock"] == 4
    assert await variant_stock(platform, b) == 4


async def test_progress_shows_batches_as_the_job_reschedules_itself(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    made = await _variants(platform, 1, 1, 1, 1, 1)
    variants, skus = [v for v, _ in made], [s for _, s in made]
    csv = "sku,delta,reason\n" + "".join(f"{s},1,입고\n" for s in skus)
    body = (await upload_csv(client, staff, csv)).json()

    seen = []
    for _ in range(3):
        assert await platform.jobs.run_due() == 1
        progress = await import_progress(client, staff, body["id"])
        seen.append((progress["status"], progress["applied_rows"], progress["progress"]))

    assert seen == [("applying", 2, 40), ("applying", 4, 80), ("done", 5, 100)]
    assert await platform.jobs.run_due() == 0
    assert [await variant_stock(platform, v) for v in variants] == [2] * 5
    listed = await client.get("/api/v1/admin/stock-imports", headers=staff.headers)
    assert [i["id"] for i in listed.json()["items"]] == [body["id"]]


async def test_a_retry_or_a_rerun_never_applies_a_row_twice(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    made = await _variants(platform, 10, 10, 10)
    (a, b, c), skus = [v for v, _ in made], [s for _, s in made]
    csv = "sku,delta,reason\n" + "".join(f"{s},3,입고\n" for s in skus)

    # the same upload sent three times at once with one key is one import
    answers = await asyncio.gather(*(upload_csv(client, staff, csv, key="once") for _ in range(3)))
    assert {r.status_code for r in answers} <= {201, 409}
    ids = {r.json()["id"] for r in answers if r.status_code == 201}
    assert len(ids) == 1
    import_id = ids.pop()
    again = await upload_csv(client, staff, csv, key="once")
    assert again.status_code == 201 and again.json()["id"] == import_id
    other = await upload_csv(client, staff, csv + f"{skus[0]},1,x\n", key="once")
    assert other.status_code == 422 and other.json()["code"] == "idempotency-key-reused"
    await run_jobs_until_idle(platform)
    assert [await variant_stock(platform, v) for v in (a, b, c)] == [13, 13, 13]

    # a worker that died after applying but before recording it: the rows run again
    async with platform.db.write() as session:
        await session.execute(
            update(StockImportRow)
            .where(StockImportRow.import_id == uuid.UUID(import_id))
            .values(status="pending", stock_after=None)
        )
        await stock_imports.apply_stock_import_batch(
            session, platform.clock, import_id=uuid.UUID(import_id), batch_rows=10
        )
    assert [await variant_stock(platform, v) for v in (a, b, c)] == [13, 13, 13]
    assert len(await _movements(client, staff, a)) == 2  # the initial stock and the import
    report = await import_progress(client, staff, import_id)
    assert (report["status"], report["applied_rows"]) == ("done", 3)


async def test_only_staff_with_two_factor_authentication_may_import(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    csv = "sku,delta,reason\nX,1,y\n"
    member = await signup_member(client)
    staff_without_mfa = await make_staff(platform, client, mfa=False)

    anonymous = await client.post(
        "/api/v1/admin/stock-imports", files={"file": ("s.csv", csv.encode(), "text/csv")}
    )
    assert anonymous.status_code == 401
    as_member = await upload_csv(client, member, csv)
    assert as_member.status_code == 403 and as_member.json()["code"] == "forbidden"
    no_mfa = await upload_csv(client, staff_without_mfa, csv)
    assert no_mfa.status_code == 403 and no_mfa.json()["code"] == "mfa-required"
    listing = await client.get("/api/v1/admin/stock-imports", headers=member.headers)
    assert listing.status_code == 403


async def test_oversized_garbage_and_malformed_uploads_are_refused(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    limit = platform.settings.stock_import_max_bytes

    too_big = await upload_csv(client, staff, "sku,delta,reason\n" + "x" * limit)
    assert too_big.status_code == 413 and too_big.json()["code"] == "payload-too-large"

    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
    for content in (png, b"", b"name,price\nknit,1000\n", b"sku,delta,reason\n", "가나다".encode()):
        refused = await upload_csv(client, staff, content, filename="x.png")
        assert refused.status_code == 422, content
        assert refused.json()["code"] == "invalid-csv"

    rows = platform.settings.stock_import_max_rows
    many = "sku,delta,reason\n" + "A,1,x\n" * (rows + 1)
    too_many = await upload_csv(client, staff, many)
    assert too_many.status_code == 422 and too_many.json()["code"] == "too-many-rows"

    json_body = await client.post(
        "/api/v1/admin/stock-imports", json={"sku": "A"}, headers=staff.headers
    )
    assert json_body.status_code == 422
    unknown = await client.get(f"/api/v1/admin/stock-imports/{uuid.uuid4()}", headers=staff.headers)
    assert unknown.status_code == 404 and unknown.json()["code"] == "not-found"
    not_an_id = await client.get("/api/v1/admin/stock-imports/123", headers=staff.headers)
    assert not_an_id.status_code == 422
    listed = await client.get("/api/v1/admin/stock-imports", headers=staff.headers)
    assert listed.json()["items"] == []


async def test_a_korean_excel_file_in_cp949_is_read(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    ((variant, sku),) = await _variants(platform, 1)
    content = f'sku,delta,reason\r\n{sku},"1,000",봄 시즌 입고\r\n,,\r\n'.encode("cp949")

    body = (await upload_csv(client, staff, content)).json()
    assert body["valid_rows"] == 1 and body["total_rows"] == 1
    await run_jobs_until_idle(platform)

    assert await variant_stock(platform, variant) == 1001
    assert (await _movements(client, staff, variant))[0]["reason"] == "봄 시즌 입고"
