"""Bulk stock import in the console: upload a CSV, watch the progress, read the refused rows."""

from __future__ import annotations

import asyncio
from pathlib import PurePath

from fastapi import APIRouter
from starlette.datastructures import UploadFile
from starlette.responses import Response

from jangteo.web.client import ApiProblem
from jangteo.web.console.common import (
    Staff,
    is_uuid,
    problem_errors,
    render,
    require_staff,
)
from jangteo.web.forms import FormErrors
from jangteo.web.i18n import N_
from jangteo.web.page import CheckedWeb, Web, WebDep, cursor

router = APIRouter()

FILE_MISSING = N_("Choose a CSV file.")
# the per-row problems of the API (catalog.stock_imports.ROW_ERRORS), as staff read them
ROW_ERROR_LABELS = {
    "bad-columns": N_("The row does not have the columns of the header."),
    "missing-sku": N_("The SKU is empty."),
    "unknown-sku": N_("No option has this SKU."),
    "bad-number": N_("The number is not a whole number in the allowed range."),
    "reason-too-long": N_("The reason is longer than 200 characters."),
    "duplicate-row": N_("This SKU is already on an earlier row."),
    "would-go-negative": N_("The stock would go below zero."),
}
MODE_LABELS = {"delta": N_("Change (+/−)"), "stock": N_("Set the count")}
STATUS_LABELS = {"applying": N_("Applying"), "done": N_("Done")}
# more than the API's limit, so that the API is the one to refuse a file that is too large
READ_LIMIT = 6 * 1024 * 1024


async def _imports_page(
    web: Web, staff: Staff, *, errors: FormErrors | None = None, status_code: int = 200
) -> Response:
    page = await web.api.get("/api/v1/admin/stock-imports", cursor=cursor(web), limit=20)
    return render(
        web,
        "console/stock_imports.html",
        staff,
        status_code=status_code,
        imports=page["items"],
        next_cursor=page["next_cursor"],
        upload_key=web.new_idempotency_key(),
        errors=errors or FormErrors(),
        mode_labels=MODE_LABELS,
        status_labels=STATUS_LABELS,
        paged=bool(cursor(web)),
    )


@router.get("/console/stock-imports")
async def stock_imports(web: WebDep) -> Response:
    staff = await require_staff(web)
    return await _imports_page(web, staff)


@router.post("/console/stock-imports")
async def upload(web: CheckedWeb) -> Response:
    staff = await require_staff(web)
    upload = (await web.form()).get("file")
    key = await web.field("key")
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors = FormErrors()
        errors.add("file", web._(FILE_MISSING))
        return await _imports_page(web, staff, errors=errors, status_code=422)
    data = await upload.read(READ_LIMIT)
    try:
        created = await web.api.call(
            "POST",
            "/api/v1/admin/stock-imports",
            files={"file": (PurePath(upload.filename).name, data, "text/csv")},
            headers={"Idempotency-Key": key or web.new_idempotency_key()},
        )
    except ApiProblem as problem:
        errors = problem_errors(
            web,
            problem,
            code_fields={
                "invalid-csv": "file",
                "too-many-rows": "file",
                "payload-too-large": "file",
            },
        )
        if problem.detail and problem.code == "invalid-csv":
            errors.fields["file"] = f"{errors.fields['file']} {web._(problem.detail)}"
        return await _imports_page(web, staff, errors=errors, status_code=problem.status)
    return web.redirect(f"/console/stock-imports/{created['id']}")


async def _import(web: Web, import_id: str) -> dict | None:
    if not is_uuid(import_id):
        return None
    return await web.api.get(f"/api/v1/admin/stock-imports/{import_id}")  # type: ignore[no-any-return]


@router.get("/console/stock-imports/{import_id}")
async def stock_import(import_id: str, web: WebDep) -> Response:
    staff = await require_staff(web)
    if not is_uuid(import_id):
        return web.render("errors/404.html", status_code=404)
    found, errors = await asyncio.gather(
        _import(web, import_id),
        web.api.get(
            f"/api/v1/admin/stock-imports/{import_id}/errors", cursor=cursor(web), limit=50
        ),
    )
    return render(
        web,
        "console/stock_import.html",
        staff,
        job=found,
        row_errors=errors["items"],
        next_cursor=errors["next_cursor"],
        error_labels=ROW_ERROR_LABELS,
        mode_labels=MODE_LABELS,
        status_labels=STATUS_LABELS,
        paged=bool(cursor(web)),
    )


@router.get("/console/stock-imports/{import_id}/progress")
async def progress(import_id: str, web: WebDep) -> Response:
    """The progress panel alone, polled by htmx while the import is applying."""
    staff = await require_staff(web)
    found = await _import(web, import_id)
    if found is None:
        return web.render("errors/404.html", status_code=404)
    return render(
        web,
        "console/_import_progress.html",
        staff,
        job=found,
        status_labels=STATUS_LABELS,
        mode_labels=MODE_LABELS,
    )
