"""Shop window pages: home, category listing with filters, search, product."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from jangteo.web.client import ApiProblem
from jangteo.web.forms import FormErrors
from jangteo.web.page import CheckedWeb, WebDep
from jangteo.web.storefront.common import (
    PAGE_SIZE,
    SORTS,
    cart_count,
    highlighted,
    is_uuid,
    notice,
    variant_label,
)
from jangteo.web.storefront.creators import is_creator, my_account, put_on_shelf
from jangteo.web.storefront.rewards import product_open_graph

router = APIRouter()
FILTERS = ("brand", "min_price", "max_price", "in_stock", "sort")


async def _public(web: Any, path: str, **params: Any) -> Any:
    return await web.api.call("GET", path, params=params, auth=False)


def _find_category(nodes: list[dict[str, Any]], ref: str, trail: list[dict[str, Any]]) -> Any:
    for node in nodes:
        if ref in (node["slug"], str(node["id"])):
            return node, [*trail, node]
        found = _find_category(node["children"], ref, [*trail, node])
        if found is not None:
            return found
    return None


@router.get("/", include_in_schema=False)
async def home(web: WebDep) -> Response:
    newest, popular, categories, count = await asyncio.gather(
        _public(web, "/api/v1/products", sort="new", limit=8),
        _public(web, "/api/v1/products", sort="popular", limit=8),
        _public(web, "/api/v1/categories"),
        cart_count(web),
    )
    return web.render(
        "shop/home.html",
        newest=newest["items"],
        popular=popular["items"],
        categories=categories["items"],
        cart_count=count,
        notice=notice(web),
    )


def _filters(web: Any) -> dict[str, str]:
    params = web.request.query_params
    return {name: params.get(name, "").strip()[:100] for name in FILTERS}


async def _product_page(web: Any, **params: Any) -> tuple[dict[str, Any], FormErrors]:
    """One page of products, or no products and the API's complaint about the filters."""
    try:
        page = await _public(web, "/api/v1/products", limit=PAGE_SIZE, **params)
        return page, FormErrors()
    except ApiProblem as problem:
        if problem.status >= 500:
            raise
        return {"items": [], "next_cursor": None}, FormErrors.from_problem(
            problem, web.locale, params
        )


@router.get("/c/{ref}", include_in_schema=False)
async def category(ref: str, web: WebDep) -> Response:
    tree, brands, count = await asyncio.gather(
        _public(web, "/api/v1/categories"),
        _public(web, "/api/v1/brands", limit=100),
        cart_count(web),
    )
    found = _find_category(tree["items"], ref[:100], [])
    if found is None:
        return web.render("errors/404.html", status_code=404)
    node, trail = found
    filters = _filters(web)
    params = {
        "category": node["id"],
        "cursor": web.request.query_params.get("cursor", "")[:500],
        "brand": filters["brand"],
        "min_price": filters["min_price"],
        "max_price": filters["max_price"],
        "in_stock": "true" if filters["in_stock"] else "",
        "sort": filters["sort"] if filters["sort"] in SORTS else "",
    }
    page, errors = await _product_page(web, **params)
    template = "shop/_results.html" if web.is_htmx else "shop/category.html"
    return web.render(
        template,
        category=node,
        trail=trail,
        brands=brands["items"],
        filters=filters,
        sorts=SORTS,
        products=page["items"],
        next_cursor=page["next_cursor"],
        errors=errors,
        cart_count=count,
        highlighted=highlighted,
    )


@router.get("/search", include_in_schema=False)
async def search(web: WebDep) -> Response:
    q = web.request.query_params.get("q", "").strip()[:100]
    filters = _filters(web)
    count = await cart_count(web)
    products: list[dict[str, Any]] = []
    next_cursor = None
    errors = FormErrors()
    if q:
        sort = filters["sort"] if filters["sort"] in SORTS else ""
        page, errors = await _product_page(
            web,
            q=q,
            sort=sort,
            in_stock="true" if filters["in_stock"] else "",
            cursor=web.request.query_params.get("cursor", "")[:500],
        )
        products, next_cursor = page["items"], page["next_cursor"]
    template = "shop/_results.html" if web.is_htmx else "shop/search.html"
    return web.render(
        template,
        q=q,
        filters=filters,
        sorts=SORTS,
        products=products,
        next_cursor=next_cursor,
        errors=errors,
        cart_count=count,
        highlighted=highlighted,
    )


@router.get("/p/{product_id}", include_in_schema=False)
async def product(product_id: str, web: WebDep) -> Response:
    if not is_uuid(product_id):
        return web.render("errors/404.html", status_code=404)
    # only a signed-in member costs the extra call that tells whether they are a creator
    detail, count, account = await asyncio.gather(
        _public(web, f"/api/v1/products/{product_id}"), cart_count(web), my_account(web)
    )
    shelf = ({"note": ""}, FormErrors()) if is_creator(account) else None
    return render_product(web, detail, cart_count=count, shelf=shelf)


@router.post("/p/{product_id}/shelf", include_in_schema=False)
async def shelve(product_id: str, web: CheckedWeb) -> Response:
    """A creator puts the product on their shelf, with a note."""
    web.require_member()
    if not is_uuid(product_id):
        return web.render("errors/404.html", status_code=404)
    note = await web.field("note")
    refused = await put_on_shelf(web, product_id, note)
    if refused is None:
        return web.redirect(f"/p/{product_id}?notice=shelved")
    errors, status_code = refused
    detail, count = await asyncio.gather(
        _public(web, f"/api/v1/products/{product_id}"), cart_count(web)
    )
    return render_product(
        web, detail, cart_count=count, shelf=({"note": note}, errors), status_code=status_code
    )


def render_product(
    web: Any,
    detail: dict[str, Any],
    *,
    cart_count: int | None,
    errors: FormErrors | None = None,
    chosen: dict[str, str] | None = None,
    shelf: tuple[dict[str, str], FormErrors] | None = None,
    status_code: int = 200,
) -> Response:
    """`shelf`: the values and errors of the creator's "add to my shelf" form, None to hide it."""
    variants = [
        {**v, "label": variant_label(v["options"], detail["option_types"])}
        for v in detail["variants"]
        if v.get("status", "active") == "active"
    ]
    selectable = [v for v in variants if v["in_stock"]]
    return web.render(
        "shop/product.html",
        status_code=status_code,
        product=detail,
        variants=variants,
        single_variant=selectable[0] if len(variants) == 1 and selectable else None,
        cart_count=cart_count,
        errors=errors or FormErrors(),
        chosen=chosen or {},
        notice=notice(web),
        og=product_open_graph(web, detail),
        shelf=shelf,
    )
