"""Catalog management: products (list, create, edit, archive), options and their stock,
images, brands and categories."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from fastapi import APIRouter
from starlette.datastructures import UploadFile
from starlette.responses import Response

from jangteo.web.client import ApiProblem
from jangteo.web.console.common import (
    CATALOG_STATUS_LABELS,
    PRODUCT_SORTS,
    PRODUCT_STATUS_LABELS,
    VARIANT_STATUS_LABELS,
    Staff,
    category_rows_as_tree,
    is_uuid,
    optional_number,
    problem_errors,
    query,
    render,
    require_staff,
    whole_number,
)
from jangteo.web.forms import FormErrors
from jangteo.web.i18n import N_
from jangteo.web.page import CheckedWeb, Web, WebDep, cursor
from jangteo.web.storefront.common import variant_label

router = APIRouter()

OPTIONS_FORMAT = N_(
    "Write one option per line as name: value, value (for example 사이즈: S, M, L)."
)
IMAGE_MISSING = N_("Choose an image file.")
PRODUCT_FIELDS = ("name", "brand_id", "category_id", "price", "list_price", "description", "tags")
# nested API fields shown next to the form field they come from
PRODUCT_PREFIXES = {"option_types": "options", "variants": "stock", "tags": "tags"}
MAX_IMAGE_BYTES = 10 * 1024 * 1024


def _not_found(web: Web) -> Response:
    return web.render("errors/404.html", status_code=404)


async def _brands(web: Web) -> list[dict[str, Any]]:
    page = await web.api.get("/api/v1/admin/brands", limit=100)
    return list(page["items"])


async def _categories(web: Web) -> list[dict[str, Any]]:
    rows = (await web.api.get("/api/v1/admin/categories"))["items"]
    return category_rows_as_tree(rows)


def parse_options(text: str) -> list[dict[str, Any]] | None:
    """`사이즈: S, M` lines → option types; None when a line is not `name: values`."""
    option_types = []
    for line in text.splitlines():
        if not line.strip():
            continue
        name, colon, values = line.partition(":")
        if not colon or not name.strip():
            return None
        option_types.append(
            {"name": name.strip(), "values": [v.strip() for v in values.split(",") if v.strip()]}
        )
    return option_types


def initial_variants(option_types: list[dict[str, Any]], stock: Any) -> list[dict[str, Any]]:
    """One variant for every combination of the option values, each with `stock`."""
    names = [t["name"] for t in option_types]
    combinations = itertools.product(*(t["values"] for t in option_types)) if names else [()]
    return [
        {"options": dict(zip(names, combo, strict=True)), "stock": stock} for combo in combinations
    ]


def _tags(text: str) -> list[str]:
    return [tag.strip().lstrip("#") for tag in text.replace("\n", ",").split(",") if tag.strip()]


# ---- products ----------------------------------------------------------------------------------


@router.get("/console/products")
async def products(web: WebDep) -> Response:
    staff = await require_staff(web)
    filters = {
        "q": query(web, "q"),
        "status": query(web, "status", allowed=PRODUCT_STATUS_LABELS),
        "category": query(web, "category", max_length=40),
        "brand": query(web, "brand", max_length=40),
        "sort": query(web, "sort", allowed=PRODUCT_SORTS),
    }
    brands, categories = await asyncio.gather(_brands(web), _categories(web))
    errors = FormErrors()
    try:
        page = await web.api.get(
            "/api/v1/admin/products",
            **{**filters, "sort": filters["sort"] or ("relevance" if filters["q"] else "new")},
            cursor=cursor(web),
            limit=20,
        )
    except ApiProblem as problem:
        # answered 200: htmx swaps only successful answers, and the filters show the mistake
        errors = problem_errors(web, problem, filters)
        page = {"items": [], "next_cursor": None}
    return render(
        web,
        "console/products.html",
        staff,
        products=page["items"],
        next_cursor=page["next_cursor"],
        filters=filters,
        brands=brands,
        categories=categories,
        sorts=PRODUCT_SORTS,
        status_labels=PRODUCT_STATUS_LABELS,
        errors=errors,
        paged=bool(cursor(web)),
    )


async def _product_form(
    web: Web,
    staff: Staff,
    *,
    values: dict[str, Any],
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    brands, categories = await asyncio.gather(_brands(web), _categories(web))
    return render(
        web,
        "console/product_new.html",
        staff,
        status_code=status_code,
        values=values,
        errors=errors or FormErrors(),
        brands=brands,
        categories=categories,
        status_labels=PRODUCT_STATUS_LABELS,
    )


@router.get("/console/products/new")
async def new_product_form(web: WebDep) -> Response:
    staff = await require_staff(web)
    return await _product_form(web, staff, values={"status": "draft", "stock": "0"})


@router.post("/console/products/new")
async def create_product(web: CheckedWeb) -> Response:
    staff = await require_staff(web)
    values = {name: await web.field(name) for name in (*PRODUCT_FIELDS, "status", "options")}
    values["stock"] = await web.field("stock")
    option_types = parse_options(values["options"])
    if option_types is None:
        errors = FormErrors()
        errors.add("options", web._(OPTIONS_FORMAT))
        return await _product_form(web, staff, values=values, errors=errors, status_code=422)
    body: dict[str, Any] = {
        "name": values["name"],
        "brand_id": values["brand_id"] or None,
        "category_id": values["category_id"] or None,
        "price": whole_number(values["price"]),
        "list_price": optional_number(values["list_price"]),
        "description": values["description"],
        "tags": _tags(values["tags"]),
        "status": values["status"] if values["status"] in {"draft", "active"} else "draft",
        "option_types": option_types,
        "variants": initial_variants(option_types, whole_number(values["stock"] or "0")),
    }
    try:
        product = await web.api.post("/api/v1/admin/products", json=body)
    except ApiProblem as problem:
        errors = problem_errors(
            web,
            problem,
            values,
            prefixes=PRODUCT_PREFIXES,
            code_fields={"product-without-variants": "status", "duplicate-variant": "options"},
        )
        return await _product_form(
            web, staff, values=values, errors=errors, status_code=problem.status
        )
    return web.redirect(f"/console/products/{product['id']}?notice=created")


async def _product_page(
    web: Web,
    staff: Staff,
    product_id: str,
    *,
    errors: FormErrors | None = None,
    form: str | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    product, brands, categories = await asyncio.gather(
        web.api.get(f"/api/v1/admin/products/{product_id}"), _brands(web), _categories(web)
    )
    variants = [
        {**v, "label": variant_label(v["options"], product["option_types"]) or web._("Default")}
        for v in product["variants"]
    ]
    return render(
        web,
        "console/product.html",
        staff,
        status_code=status_code,
        product=product,
        variants=variants,
        brands=brands,
        categories=categories,
        status_labels=PRODUCT_STATUS_LABELS,
        variant_status_labels=VARIANT_STATUS_LABELS,
        errors=errors or FormErrors(),
        failed_form=form,
        values=values or {},
        adjust_key=web.new_idempotency_key(),
    )


@router.get("/console/products/{product_id}")
async def product(product_id: str, web: WebDep) -> Response:
    staff = await require_staff(web)
    if not is_uuid(product_id):
        return _not_found(web)
    return await _product_page(web, staff, product_id)


@router.post("/console/products/{product_id}")
async def update_product(product_id: str, web: CheckedWeb) -> Response:
    staff = await require_staff(web)
    if not is_uuid(product_id):
        return _not_found(web)
    values = {name: await web.field(name) for name in (*PRODUCT_FIELDS, "status")}
    body: dict[str, Any] = {
        "name": values["name"],
        "brand_id": values["brand_id"] or None,
        "category_id": values["category_id"] or None,
        "price": whole_number(values["price"]),
        "list_price": whole_number(values["list_price"] or values["price"]),
        "description": values["description"],
        "tags": _tags(values["tags"]),
        "status": values["status"] or None,
    }
    try:
        await web.api.patch(f"/api/v1/admin/products/{product_id}", json=body)
    except ApiProblem as problem:
        errors = problem_errors(
            web,
            problem,
            values,
            prefixes=PRODUCT_PREFIXES,
            code_fields={"product-without-variants": "status"},
        )
        return await _product_page(
            web,
            staff,
            product_id,
            errors=errors,
            form="product",
            values=values,
            status_code=problem.status,
        )
    return web.redirect(f"/console/products/{product_id}?notice=saved")


@router.post("/console/products/{product_id}/archive")
async def archive_product(product_id: str, web: CheckedWeb) -> Response:
    await require_staff(web)
    if not is_uuid(product_id):
        return _not_found(web)
    await web.api.post(f"/api/v1/admin/products/{product_id}/archive")
    return web.redirect(f"/console/products/{product_id}?notice=archived")


# ---- options (variants) and their stock --------------------------------------------------------


@router.post("/console/products/{product_id}/variants")
async def add_variant(product_id: str, web: CheckedWeb) -> Response:
    staff = await require_staff(web)
    if not is_uuid(product_id):
        return _not_found(web)
    form = await web.form()
    options = {
        key.removeprefix("option:"): str(value).strip()
        for key, value in form.multi_items()
        if key.startswith("option:") and isinstance(value, str)
    }
    values = {name: await web.field(name) for name in ("sku", "price", "stock")}
    body = {
        "options": options,
        "sku": values["sku"] or None,
        "price": optional_number(values["price"]),
        "stock": whole_number(values["stock"] or "0"),
    }
    try:
        await web.api.post(f"/api/v1/admin/products/{product_id}/variants", json=body)
    except ApiProblem as problem:
        errors = problem_errors(
            web,
            problem,
            values,
            prefixes={"options": "options"},
            code_fields={
                "sku-taken": "sku",
                "duplicate-variant": "options",
                "invalid-options": "options",
            },
        )
        return await _product_page(
            web,
            staff,
            product_id,
            errors=errors,
            form="variant",
            values=values,
            status_code=problem.status,
        )
    return web.redirect(f"/console/products/{product_id}?notice=variant-added")


async def _variant_product(web: Web) -> str | None:
    product_id = await web.field("product_id")
    return product_id if is_uuid(product_id) else None


@router.post("/console/variants/{variant_id}")
async def update_variant(variant_id: str, web: CheckedWeb) -> Response:
    staff = await require_staff(web)
    product_id = await _variant_product(web)
    if not is_uuid(variant_id) or product_id is None:
        return _not_found(web)
    values = {name: await web.field(name) for name in ("price", "status")}
    body: dict[str, Any] = {"price": optional_number(values["price"])}
    if values["status"] in VARIANT_STATUS_LABELS:
        body["status"] = values["status"]
    try:
        await web.api.patch(f"/api/v1/admin/variants/{variant_id}", json=body)
    except ApiProblem as problem:
        errors = problem_errors(web, problem, values)
        return await _product_page(
            web,
            staff,
            product_id,
            errors=errors,
            form=f"variant-{variant_id}",
            values=values,
            status_code=problem.status,
        )
    return web.redirect(f"/console/products/{product_id}?notice=saved")


@router.post("/console/variants/{variant_id}/stock")
async def adjust_stock(variant_id: str, web: CheckedWeb) -> Response:
    staff = await require_staff(web)
    product_id = await _variant_product(web)
    if not is_uuid(variant_id) or product_id is None:
        return _not_found(web)
    values = {name: await web.field(name) for name in ("delta", "reason", "key")}
    body = {"delta": whole_number(values["delta"]), "reason": values["reason"]}
    try:
        await web.api.post(
            f"/api/v1/admin/variants/{variant_id}/stock-adjustments",
            json=body,
            headers={"Idempotency-Key": values["key"] or web.new_idempotency_key()},
        )
    except ApiProblem as problem:
        errors = problem_errors(web, problem, values, code_fields={"insufficient-stock": "delta"})
        return await _product_page(
            web,
            staff,
            product_id,
            errors=errors,
            form=f"stock-{variant_id}",
            values=values,
            status_code=problem.status,
        )
    return web.redirect(f"/console/products/{product_id}?notice=stock-adjusted#v-{variant_id}")


@router.get("/console/variants/{variant_id}/movements")
async def stock_movements(variant_id: str, web: WebDep) -> Response:
    staff = await require_staff(web)
    product_id = query(web, "product", max_length=40)
    if not is_uuid(variant_id) or not is_uuid(product_id):
        return _not_found(web)
    product, page = await asyncio.gather(
        web.api.get(f"/api/v1/admin/products/{product_id}"),
        web.api.get(
            f"/api/v1/admin/variants/{variant_id}/stock-movements", cursor=cursor(web), limit=30
        ),
    )
    variant = next((v for v in product["variants"] if v["id"] == variant_id), None)
    if variant is None:
        return _not_found(web)
    return render(
        web,
        "console/movements.html",
        staff,
        product=product,
        variant={**variant, "label": variant_label(variant["options"], product["option_types"])},
        movements=page["items"],
        next_cursor=page["next_cursor"],
        paged=bool(cursor(web)),
    )


# ---- images ------------------------------------------------------------------------------------


@router.post("/console/products/{product_id}/images")
async def upload_image(product_id: str, web: CheckedWeb) -> Response:
    staff = await require_staff(web)
    if not is_uuid(product_id):
        return _not_found(web)
    upload = (await web.form()).get("file")
    alt = await web.field("alt")
    errors = FormErrors()
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors.add("file", web._(IMAGE_MISSING))
        return await _product_page(
            web, staff, product_id, errors=errors, form="image", status_code=422
        )
    data = await upload.read(MAX_IMAGE_BYTES + 1)
    try:
        await web.api.call(
            "POST",
            f"/api/v1/admin/products/{product_id}/images",
            files={
                "file": (upload.filename, data, upload.content_type or "application/octet-stream")
            },
            data={"alt": alt},
        )
    except ApiProblem as problem:
        errors = problem_errors(
            web,
            problem,
            {"alt": alt},
            code_fields={
                "unsupported-image": "file",
                "image-too-large": "file",
                "payload-too-large": "file",
                "too-many-images": "file",
            },
        )
        return await _product_page(
            web,
            staff,
            product_id,
            errors=errors,
            form="image",
            values={"alt": alt},
            status_code=problem.status,
        )
    return web.redirect(f"/console/products/{product_id}?notice=image-added")


@router.post("/console/products/{product_id}/images/{image_id}/remove")
async def remove_image(product_id: str, image_id: str, web: CheckedWeb) -> Response:
    await require_staff(web)
    if not is_uuid(product_id) or not is_uuid(image_id):
        return _not_found(web)
    await web.api.delete(f"/api/v1/admin/products/{product_id}/images/{image_id}")
    return web.redirect(f"/console/products/{product_id}?notice=image-removed")


# ---- brands ------------------------------------------------------------------------------------

BRAND_FIELDS = ("name", "name_en", "slug", "description")


async def _brands_page(
    web: Web,
    staff: Staff,
    *,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    status = query(web, "status", allowed=CATALOG_STATUS_LABELS)
    page = await web.api.get("/api/v1/admin/brands", status=status, cursor=cursor(web), limit=50)
    return render(
        web,
        "console/brands.html",
        staff,
        status_code=status_code,
        brands=page["items"],
        next_cursor=page["next_cursor"],
        status=status,
        status_labels=CATALOG_STATUS_LABELS,
        values=values or {},
        errors=errors or FormErrors(),
        paged=bool(cursor(web)),
    )


@router.get("/console/brands")
async def brands(web: WebDep) -> Response:
    staff = await require_staff(web)
    return await _brands_page(web, staff)


def _brand_body(values: dict[str, str]) -> dict[str, Any]:
    return {
        "name": values["name"],
        "name_en": values["name_en"] or None,
        "slug": values["slug"] or None,
        "description": values["description"],
    }


@router.post("/console/brands")
async def create_brand(web: CheckedWeb) -> Response:
    staff = await require_staff(web)
    values = {name: await web.field(name) for name in BRAND_FIELDS}
    try:
        await web.api.post("/api/v1/admin/brands", json=_brand_body(values))
    except ApiProblem as problem:
        errors = problem_errors(web, problem, values, code_fields={"slug-taken": "slug"})
        return await _brands_page(
            web, staff, values=values, errors=errors, status_code=problem.status
        )
    return web.redirect("/console/brands?notice=created")


async def _brand_page(
    web: Web,
    staff: Staff,
    brand_id: str,
    *,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    brand = await web.api.get(f"/api/v1/admin/brands/{brand_id}")
    return render(
        web,
        "console/brand.html",
        staff,
        status_code=status_code,
        brand=brand,
        values=values or {k: brand.get(k) or "" for k in BRAND_FIELDS},
        errors=errors or FormErrors(),
        status_labels=CATALOG_STATUS_LABELS,
    )


@router.get("/console/brands/{brand_id}")
async def brand(brand_id: str, web: WebDep) -> Response:
    staff = await require_staff(web)
    if not is_uuid(brand_id):
        return _not_found(web)
    return await _brand_page(web, staff, brand_id)


@router.post("/console/brands/{brand_id}")
async def update_brand(brand_id: str, web: CheckedWeb) -> Response:
    staff = await require_staff(web)
    if not is_uuid(brand_id):
        return _not_found(web)
    values = {name: await web.field(name) for name in BRAND_FIELDS}
    body = {**_brand_body(values), "name_en": values["name_en"]}
    try:
        await web.api.patch(f"/api/v1/admin/brands/{brand_id}", json=body)
    except ApiProblem as problem:
        errors = problem_errors(web, problem, values, code_fields={"slug-taken": "slug"})
        return await _brand_page(
            web, staff, brand_id, values=values, errors=errors, status_code=problem.status
        )
    return web.redirect(f"/console/brands/{brand_id}?notice=saved")


@router.post("/console/brands/{brand_id}/{change}")
async def change_brand_status(brand_id: str, change: str, web: CheckedWeb) -> Response:
    staff = await require_staff(web)
    if not is_uuid(brand_id) or change not in {"archive", "restore"}:
        return _not_found(web)
    status = "archived" if change == "archive" else "active"
    try:
        await web.api.patch(f"/api/v1/admin/brands/{brand_id}", json={"status": status})
    except ApiProblem as problem:
        errors = problem_errors(web, problem)
        return await _brand_page(web, staff, brand_id, errors=errors, status_code=problem.status)
    notice = "archived" if change == "archive" else "restored"
    return web.redirect(f"/console/brands/{brand_id}?notice={notice}")


# ---- categories --------------------------------------------------------------------------------

CATEGORY_FIELDS = ("name", "slug", "parent_id", "position")


def _category_body(values: dict[str, str]) -> dict[str, Any]:
    return {
        "name": values["name"],
        "slug": values["slug"] or None,
        "parent_id": values["parent_id"] or None,
        "position": whole_number(values["position"] or "0"),
    }


async def _categories_page(
    web: Web,
    staff: Staff,
    *,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        web,
        "console/categories.html",
        staff,
        status_code=status_code,
        categories=await _categories(web),
        values=values or {"position": "0"},
        errors=errors or FormErrors(),
        status_labels=CATALOG_STATUS_LABELS,
    )


@router.get("/console/categories")
async def categories(web: WebDep) -> Response:
    staff = await require_staff(web)
    return await _categories_page(web, staff)


@router.post("/console/categories")
async def create_category(web: CheckedWeb) -> Response:
    staff = await require_staff(web)
    values = {name: await web.field(name) for name in CATEGORY_FIELDS}
    try:
        await web.api.post("/api/v1/admin/categories", json=_category_body(values))
    except ApiProblem as problem:
        errors = problem_errors(
            web,
            problem,
            values,
            code_fields={"slug-taken": "slug", "invalid-category-move": "parent_id"},
        )
        return await _categories_page(
            web, staff, values=values, errors=errors, status_code=problem.status
        )
    return web.redirect("/console/categories?notice=created")


async def _category_page(
    web: Web,
    staff: Staff,
    category_id: str,
    *,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    tree = await _categories(web)
    category = next((c for c in tree if str(c["id"]) == category_id), None)
    if category is None:
        return _not_found(web)
    current = {k: str(category.get(k) or "") for k in CATEGORY_FIELDS}
    return render(
        web,
        "console/category.html",
        staff,
        status_code=status_code,
        category=category,
        parents=_possible_parents(tree, category_id),
        values=values or current,
        errors=errors or FormErrors(),
        status_labels=CATALOG_STATUS_LABELS,
    )


def _possible_parents(tree: list[dict[str, Any]], category_id: str) -> list[dict[str, Any]]:
    """Every category but this one and its subcategories (it cannot move under itself)."""
    parents: list[dict[str, Any]] = []
    inside_depth: int | None = None
    for row in tree:
        if inside_depth is not None and row["depth"] > inside_depth:
            continue
        inside_depth = None
        if str(row["id"]) == category_id:
            inside_depth = row["depth"]
            continue
        parents.append(row)
    return parents


@router.get("/console/categories/{category_id}")
async def category(category_id: str, web: WebDep) -> Response:
    staff = await require_staff(web)
    if not is_uuid(category_id):
        return _not_found(web)
    return await _category_page(web, staff, category_id)


@router.post("/console/categories/{category_id}")
async def update_category(category_id: str, web: CheckedWeb) -> Response:
    staff = await require_staff(web)
    if not is_uuid(category_id):
        return _not_found(web)
    values = {name: await web.field(name) for name in CATEGORY_FIELDS}
    try:
        await web.api.patch(f"/api/v1/admin/categories/{category_id}", json=_category_body(values))
    except ApiProblem as problem:
        errors = problem_errors(
            web,
            problem,
            values,
            code_fields={"slug-taken": "slug", "invalid-category-move": "parent_id"},
        )
        return await _category_page(
            web, staff, category_id, values=values, errors=errors, status_code=problem.status
        )
    return web.redirect(f"/console/categories/{category_id}?notice=saved")


@router.post("/console/categories/{category_id}/{change}")
async def change_category_status(category_id: str, change: str, web: CheckedWeb) -> Response:
    staff = await require_staff(web)
    if not is_uuid(category_id) or change not in {"archive", "restore"}:
        return _not_found(web)
    status = "archived" if change == "archive" else "active"
    try:
        await web.api.patch(f"/api/v1/admin/categories/{category_id}", json={"status": status})
    except ApiProblem as problem:
        errors = problem_errors(web, problem)
        return await _category_page(
            web, staff, category_id, errors=errors, status_code=problem.status
        )
    notice = "archived" if change == "archive" else "restored"
    return web.redirect(f"/console/categories/{category_id}?notice={notice}")
