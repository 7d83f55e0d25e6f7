"""Bulk stock changes from a CSV file: checked row by row on upload, applied in the background.

A file is `sku,delta,reason` (add or remove units) or `sku,stock,reason` (set the count). Every
row is checked when the file arrives (unknown SKU, bad number, stock that would go negative, a
SKU on two rows); the valid ones are applied by the `catalog.apply_stock_import` job, a batch per
run, each run scheduling the next. Each applied row is a stock ledger row with the reference
`import:<import id>:<row>`, so running a batch again never applies a row twice.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.catalog import service
from jangteo.catalog.models import StockImport, StockImportRow
from jangteo.core import jobs
from jangteo.core.audit import record_audit
from jangteo.core.clock import Clock
from jangteo.core.errors import NotFound, define
from jangteo.core.ids import uuid7
from jangteo.core.pagination import InvalidCursor, decode_cursor, encode_cursor

APPLY_JOB = "catalog.apply_stock_import"
MAX_STOCK = 1_000_000
MAX_REASON = 200
MAX_SKU = 64
DEFAULT_REASON = "stock import"
ERRORS_IN_PROGRESS = 20

InvalidCsv = define("invalid-csv", 422, "The file is not a CSV of stock changes.")
TooManyRows = define("too-many-rows", 422, "The file has too many rows.")

Mode = Literal["delta", "stock"]
HEADERS: dict[tuple[str, ...], Mode] = {
    ("sku", "delta", "reason"): "delta",
    ("sku", "delta"): "delta",
    ("sku", "stock", "reason"): "stock",
    ("sku", "stock"): "stock",
}
# what can be wrong with one row; the messages are msgids the console translates
ROW_ERRORS = {
    "bad-columns": "The row does not have the columns of the header.",
    "missing-sku": "The SKU is empty.",
    "unknown-sku": "No variant has this SKU.",
    "bad-number": "The number is not a whole number in the allowed range.",
    "reason-too-long": "The reason is longer than 200 characters.",
    "duplicate-row": "This SKU is already on an earlier row.",
    "would-go-negative": "The stock would go below zero.",
}
_INTEGER = re.compile(r"^[+-]?\d{1,9}$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+$")
# characters no text file has; their presence means a binary file was sent
_BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class ParsedRow:
    row_number: int
    sku: str
    quantity: int | None
    reason: str
    error: str | None


@dataclass(frozen=True)
class ParsedCsv:
    mode: Mode
    rows: list[ParsedRow]


@dataclass(frozen=True)
class RowError:
    row: int
    sku: str
    code: str
    message: str
    quantity: int | None
    stock: int | None


@dataclass(frozen=True)
class ImportView:
    id: uuid.UUID
    status: str
    mode: str
    filename: str
    total_rows: int
    valid_rows: int
    invalid_rows: int
    applied_rows: int
    failed_rows: int
    pending_rows: int
    progress: int  # percent of the valid rows handled (applied or refused)
    actor_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    errors: list[RowError]
    error_count: int


# ---- reading the file --------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else CP949: what Excel writes on a Korean Windows."""
    for encoding in ("utf-8-sig", "cp949"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _BINARY.search(text):
            break
        return text
    raise InvalidCsv("The file is not UTF-8 or CP949 text.")


def _parse_quantity(raw: str, mode: Mode) -> int | None:
    value = raw.strip()
    if _THOUSANDS.match(value):
        value = value.replace(",", "")
    if not _INTEGER.match(value):
        return None
    number = int(value)
    if mode == "stock":
        return number if 0 <= number <= MAX_STOCK else None
    return number if number != 0 and abs(number) <= MAX_STOCK else None


def _parse_row(row_number: int, cells: list[str], width: int, mode: Mode) -> ParsedRow:
    cells = [cell.strip() for cell in cells]
    while len(cells) > 2 and not cells[-1]:
        cells.pop()  # spreadsheets add empty columns at the end of a row
    sku = cells[0][:MAX_SKU] if cells else ""
    if not 2 <= len(cells) <= width:
        return ParsedRow(row_number, sku, None, "", "bad-columns")
    if not sku:
        return ParsedRow(row_number, "", None, "", "missing-sku")
    quantity = _parse_quantity(cells[1], mode)
    if quantity is None:
        return ParsedRow(row_number, sku, None, "", "bad-number")
    reason = cells[2] if len(cells) == 3 else ""
    if len(reason) > MAX_REASON:
        return ParsedRow(row_number, sku, quantity, "", "reason-too-long")
    if len(cells[0]) > MAX_SKU:
        return ParsedRow(row_number, sku, quantity, reason, "unknown-sku")
    return ParsedRow(row_number, sku, quantity, reason or DEFAULT_REASON, None)


def parse_stock_csv(data: bytes, *, max_rows: int) -> ParsedCsv:
    """The rows of an uploaded file, each checked on its own (not yet against the catalog).

    InvalidCsv when the file is not text, has no recognised header or no rows; TooManyRows
    above `max_rows` data rows. Blank lines are skipped; row numbers are the file's lines.
    """
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    mode: Mode | None = None
    width = 0
    rows: list[ParsedRow] = []
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if mode is None:
                header = tuple(cell.strip().lower() for cell in cells)
                if header not in HEADERS:
                    raise InvalidCsv(
                        "The first row must be sku,delta,reason or sku,stock,reason.",
                        header=list(header)[:5],
                    )
                mode, width = HEADERS[header], len(header)
                continue
            if len(rows) >= max_rows:
                raise TooManyRows(max_rows=max_rows)
            rows.append(_parse_row(reader.line_num, cells, width, mode))
    except csv.Error as exc:
        raise InvalidCsv("The file could not be read as CSV.") from exc
    if mode is None:
        raise InvalidCsv("The file is empty.")
    if not rows:
        raise InvalidCsv("The file has a header but no rows.")
    return ParsedCsv(mode=mode, rows=rows)


# ---- checking against the catalog and recording ------------------------------------------------


def _checked(parsed: ParsedCsv, stocks: dict[str, tuple[uuid.UUID, int]]) -> list[dict[str, Any]]:
    """The rows to store: each with its variant, or the first thing wrong with it."""
    seen: set[str] = set()
    checked: list[dict[str, Any]] = []
    for row in parsed.rows:
        error = row.error
        variant_id, stock_now = None, None
        if error is None and row.sku in seen:
            error = "duplicate-row"
        if row.sku:
            seen.add(row.sku)
        if error is None:
            found = stocks.get(row.sku)
            if found is None:
                error = "unknown-sku"
            else:
                variant_id, stock = found
                if parsed.mode == "delta" and stock + (row.quantity or 0) < 0:
                    error, stock_now = "would-go-negative", stock
        checked.append(
            {
                "id": uuid7(),
                "row_number": row.row_number,
                "sku": row.sku,
                "variant_id": variant_id,
                "quantity": row.quantity,
                "reason": row.reason,
                "status": "invalid" if error else "pending",
                "error": error,
                "stock_after": stock_now,
            }
        )
    return checked


def _job_key(import_id: uuid.UUID, run: int) -> str:
    # one key per run: the runner marks the running job done after its handler returns
    return f"{APPLY_JOB}:{import_id}:{run}"


async def create_stock_import(
    session: AsyncSession,
    clock: Clock,
    *,
    parsed: ParsedCsv,
    filename: str,
    actor_id: uuid.UUID | None,
    ip: str | None = None,
) -> ImportView:
    """Record an import with every row checked, and schedule its first batch at once."""
    now = clock.now()
    stocks = await service.stocks_by_sku(session, [r.sku for r in parsed.rows if r.sku])
    rows = _checked(parsed, stocks)
    valid = sum(1 for r in rows if r["status"] == "pending")
    record = StockImport(
        id=uuid7(),
        mode=parsed.mode,
        filename=filename[:200] or "stock.csv",
        status="applying" if valid else "done",
        total_rows=len(rows),
        valid_rows=valid,
        invalid_rows=len(rows) - valid,
        applied_rows=0,
        failed_rows=0,
        actor_id=actor_id,
        created_at=now,
        updated_at=now,
        finished_at=None if valid else now,
    )
    session.add(record)
    await session.flush()
    for row in rows:
        row["import_id"] = record.id
    for start in range(0, len(rows), 1000):
        await session.execute(insert(StockImportRow), rows[start : start + 1000])
    if valid:
        await jobs.schedule(
            session, APPLY_JOB, _job_key(record.id, 0), now, {"import_id": str(record.id), "run": 0}
        )
    record_audit(
        session,
        clock,
        actor_id=actor_id,
        action="catalog.stock_import.create",
        target_type="stock_import",
        target_id=record.id,
        after={
            "filename": record.filename,
            "mode": record.mode,
            "total_rows": record.total_rows,
            "valid_rows": record.valid_rows,
            "invalid_rows": record.invalid_rows,
        },
        ip=ip,
    )
    return await import_view(session, record)


async def _record(session: AsyncSession, import_id: uuid.UUID) -> StockImport:
    record = await session.get(StockImport, import_id, populate_existing=True)
    if record is None:
        raise NotFound("The stock import does not exist.")
    return record


# ---- applying ----------------------------------------------------------------------------------


async def _apply_row(
    session: AsyncSession, clock: Clock, record: StockImport, row: StockImportRow
) -> None:
    assert row.variant_id is not None and row.quantity is not None
    delta = row.quantity
    if record.mode == "stock":
        current = await service.variant_stock(session, row.variant_id)
        if current is None:
            row.status, row.error = "failed", "unknown-sku"
            return
        delta = row.quantity - current
        if delta == 0:
            row.status, row.stock_after = "applied", current
            return
    outcome, stock = await service.apply_stock_change(
        session,
        clock,
        row.variant_id,
        delta=delta,
        reason=row.reason,
        reference=f"import:{record.id}:{row.row_number}",
        actor_id=record.actor_id,
    )
    if outcome in {"applied", "already-applied"}:
        row.status = "applied"
        row.stock_after = stock if stock is not None else row.stock_after
    elif outcome == "insufficient-stock":
        row.status, row.error, row.stock_after = "failed", "would-go-negative", stock
    else:
        row.status, row.error = "failed", "unknown-sku"


async def apply_stock_import_batch(
    session: AsyncSession,
    clock: Clock,
    *,
    import_id: uuid.UUID,
    batch_rows: int,
    run: int = 0,
) -> int:
    """Apply the next `batch_rows` pending rows of an import; schedules the next run while
    rows remain. Returns how many rows are still pending."""
    record = await _record(session, import_id)
    pending = list(
        (
            await session.scalars(
                select(StockImportRow)
                .where(StockImportRow.import_id == import_id, StockImportRow.status == "pending")
                .order_by(StockImportRow.row_number)
                .limit(batch_rows)
            )
        ).all()
    )
    for row in pending:
        await _apply_row(session, clock, record, row)
    await session.flush()
    counts = dict(
        (
            await session.execute(
                select(StockImportRow.status, func.count())
                .where(StockImportRow.import_id == import_id)
                .group_by(StockImportRow.status)
            )
        ).all()
    )
    now = clock.now()
    remaining = int(counts.get("pending", 0))
    values: dict[str, Any] = {
        "applied_rows": int(counts.get("applied", 0)),
        "failed_rows": int(counts.get("failed", 0)),
        "updated_at": now,
    }
    if remaining:
        await jobs.schedule(
            session,
            APPLY_JOB,
            _job_key(import_id, run + 1),
            now,
            {"import_id": str(import_id), "run": run + 1},
        )
    elif record.status != "done":
        values.update(status="done", finished_at=now)
        record_audit(
            session,
            clock,
            actor_id=record.actor_id,
            action="catalog.stock_import.finish",
            target_type="stock_import",
            target_id=import_id,
            before={"status": record.status},
            after={
                "status": "done",
                "applied_rows": values["applied_rows"],
                "failed_rows": values["failed_rows"],
            },
        )
    await session.execute(
        update(StockImport)
        .where(StockImport.id == import_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return remaining


# ---- reading -----------------------------------------------------------------------------------


def _row_error(row: StockImportRow) -> RowError:
    code = row.error or "bad-number"
    return RowError(
        row=row.row_number,
        sku=row.sku,
        code=code,
        message=ROW_ERRORS.get(code, code),
        quantity=row.quantity,
        stock=row.stock_after,
    )


def _errors_query(import_id: uuid.UUID) -> Any:
    return select(StockImportRow).where(
        StockImportRow.import_id == import_id, StockImportRow.status.in_(("invalid", "failed"))
    )


async def import_view(
    session: AsyncSession, record: StockImport, *, with_errors: bool = True
) -> ImportView:
    first_errors: list[StockImportRow] = []
    if with_errors and record.invalid_rows + record.failed_rows:
        query = _errors_query(record.id).order_by(StockImportRow.row_number)
        first_errors = list((await session.scalars(query.limit(ERRORS_IN_PROGRESS))).all())
    handled = record.applied_rows + record.failed_rows
    pending = max(record.valid_rows - handled, 0) if record.status != "done" else 0
    progress = 100 if not record.valid_rows else min(100, handled * 100 // record.valid_rows)
    return ImportView(
        id=record.id,
        status=record.status,
        mode=record.mode,
        filename=record.filename,
        total_rows=record.total_rows,
        valid_rows=record.valid_rows,
        invalid_rows=record.invalid_rows,
        applied_rows=record.applied_rows,
        failed_rows=record.failed_rows,
        pending_rows=pending,
        progress=100 if record.status == "done" else progress,
        actor_id=record.actor_id,
        created_at=record.created_at,
        updated_at=record.updated_at,
        finished_at=record.finished_at,
        errors=[_row_error(r) for r in first_errors],
        error_count=record.invalid_rows + record.failed_rows,
    )


async def get_stock_import(session: AsyncSession, import_id: uuid.UUID) -> ImportView:
    return await import_view(session, await _record(session, import_id))


async def list_stock_imports(
    session: AsyncSession, *, limit: int = 20, cursor: str | None = None
) -> tuple[list[ImportView], str | None]:
    """Imports newest first."""
    query = select(StockImport)
    after = decode_cursor(cursor)
    if after is not None:
        try:
            at, last_id = datetime.fromisoformat(str(after["t"])), uuid.UUID(str(after["id"]))
        except (KeyError, ValueError) as exc:
            raise InvalidCursor() from exc
        query = query.where(
            (StockImport.created_at < at)
            | ((StockImport.created_at == at) & (StockImport.id < last_id))
        )
    rows = list(
        (
            await session.scalars(
                query.order_by(StockImport.created_at.desc(), StockImport.id.desc()).limit(
                    limit + 1
                )
            )
        ).all()
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor({"t": rows[-1].created_at.isoformat(), "id": str(rows[-1].id)})
    return [await import_view(session, r, with_errors=False) for r in rows], next_cursor


async def list_import_errors(
    session: AsyncSession, import_id: uuid.UUID, *, limit: int = 50, cursor: str | None = None
) -> tuple[list[RowError], str | None]:
    """The rows that were refused (on upload or when applied), in file order."""
    await _record(session, import_id)
    query = _errors_query(import_id)
    after = decode_cursor(cursor)
    if after is not None:
        try:
            query = query.where(StockImportRow.row_number > int(after["row"]))
        except (KeyError, ValueError, TypeError) as exc:
            raise InvalidCursor() from exc
    rows = list(
        (await session.scalars(query.order_by(StockImportRow.row_number).limit(limit + 1))).all()
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor({"row": rows[-1].row_number})
    return [_row_error(r) for r in rows], next_cursor
