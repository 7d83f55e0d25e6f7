"""Reading products: the result lists (filters, sorts, Korean search) and the product page.

These are the shop's hottest reads, so each is one hand-written statement on the lean reader
(core.reader) shaped straight into the API's JSON; one statement is also one consistent snapshot.
The same SQL serves both databases except for the search hits and the JSON functions.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from jangteo.catalog.search import SQLITE_RANK
from jangteo.core.errors import InvalidInput, NotFound
from jangteo.core.fulltext import fts5_match, tsquery_literal
from jangteo.core.korean import highlight_spans, normalize, query_terms
from jangteo.core.pagination import cursor_keys, decode_cursor, encode_cursor
from jangteo.core.reader import JSON_FUNCTIONS, Reader, id_text, json_value

Sort = Literal["new", "price_asc", "price_desc", "popular", "relevance"]

# (column, ascending); the id last makes every order total, so keyset cursors are stable
_SORT_KEYS: dict[str, list[tuple[str, bool]]] = {
    "new": [("p.created_at", False), ("p.id", False)],
    "price_asc": [("p.price", True), ("p.id", True)],
    "price_desc": [("p.price", False), ("p.id", False)],
    "popular": [("p.sold_count", False), ("p.id", False)],
    "relevance": [("h.score", True), ("p.id", True)],
}
_CURSOR_TYPES: dict[str, type] = {
    "p.created_at": datetime,
    "p.price": int,
    "p.sold_count": int,
    "h.score": float,
    "p.id": uuid.UUID,
}

_HITS = {
    "sqlite": (
        "SELECT d.product_id AS product_id, " + SQLITE_RANK + " AS score "
        "FROM search_products JOIN search_product_docs d ON d.id = search_products.rowid "
        "WHERE search_products MATCH {q}"
    ),
    # ts_rank is higher for better matches; negated so that both databases sort ascending
    "postgresql": (
        "SELECT s.product_id AS product_id, -ts_rank(s.document, CAST({q} AS tsquery)) AS score "
        "FROM search_products s WHERE s.document @@ CAST({q} AS tsquery)"
    ),
}


def _detail_sql(dialect: str, include_hidden: bool) -> str:
    fn = JSON_FUNCTIONS[dialect]
    variant_filter = "" if include_hidden else " AND v.status = 'active'"
    return (
        "SELECT p.id, p.name, p.description, p.tags, p.status, p.price, p.list_price, "
        "p.option_types, p.created_at, p.updated_at, b.id, b.name, "
        f"(SELECT {fn['agg']}({fn['array']}(v.id, v.sku, {fn['doc']}(v.options), v.price, "
        "v.stock, v.status, v.position)) "
        f"FROM variants v WHERE v.product_id = p.id{variant_filter}), "
        f"(SELECT {fn['agg']}({fn['array']}(i.id, i.url, i.alt, i.position)) "
        "FROM product_images i WHERE i.product_id = p.id), "
        f"(SELECT {fn['agg']}({fn['array']}(k.id, k.name, k.slug, length(k.path))) "
        "FROM categories k WHERE substr(c.path, 1, length(k.path)) = k.path) "
        "FROM products p JOIN brands b ON b.id = p.brand_id "
        "JOIN categories c ON c.id = p.category_id WHERE p.id = $1"
    )


# the whole product page in one statement: variants, images and the category path aggregated
_DETAIL_SQL = {
    (dialect, hidden): _detail_sql(dialect, hidden)
    for dialect in JSON_FUNCTIONS
    for hidden in (False, True)
}


def discount_rate(price: int, list_price: int) -> int:
    """Whole percent off the list price, rounded down (as shops show it)."""
    if list_price <= 0 or price >= list_price:
        return 0
    return (list_price - price) * 100 // list_price


@dataclass
class _Params:
    """Positional parameters, numbered as they are added."""

    values: list[Any]

    def add(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


_LOOKUPS = {
    (table, column): f"SELECT id, {path} FROM {table} WHERE {column} = $1 AND status = 'active'"
    for table, path in (("categories", "path"), ("brands", "NULL"))
    for column in ("id", "slug")
}


async def _lookup(reader: Reader, table: str, ref: str, what: str) -> Sequence[Any]:
    """(id, path or None) of an active category or brand given by id or slug; else NotFound."""
    try:
        key: Any = reader.id_param(uuid.UUID(ref))
        column = "id"
    except (ValueError, AttributeError):
        key, column = ref, "slug"
    rows = await reader.fetch(_LOOKUPS[table, column], key)
    if not rows:
        raise NotFound(f"The {what} does not exist.")
    return rows[0]


def _param(reader: Reader, value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return reader.id_param(value)
    if isinstance(value, datetime):
        return reader.time_param(value)
    return value


async def product_page(
    reader: Reader,
    *,
    q: str | None = None,
    category: str | None = None,
    brand: str | None = None,
    min_price: int | None = None,
    max_price: int | None = None,
    in_stock: bool | None = None,
    sort: Sort | None = None,
    limit: int = 20,
    cursor: str | None = None,
    statuses: Sequence[str] = ("active",),
) -> dict[str, Any]:
    """One page of products matching the search and filters, in a stable keyset order:
    `{items, next_cursor}` as the API answers it (with `status` on each item for staff).

    With `q` the default order is relevance; `in_stock` true keeps products with an active
    variant in stock, false keeps the sold-out ones. Unknown category/brand → NotFound.
    """
    q = normalize(q or "") or None
    sort = sort or ("relevance" if q else "new")
    if sort == "relevance" and not q:
        raise InvalidInput("Sorting by relevance needs a search query.")
    if min_price is not None and max_price is not None and min_price > max_price:
        raise InvalidInput("min_price must not be above max_price.")
    after = decode_cursor(cursor)
    keys = _SORT_KEYS[sort]
    after_values = (
        cursor_keys(after, sort, [_CURSOR_TYPES[column] for column, _ in keys])
        if after is not None
        else None
    )

    fn = JSON_FUNCTIONS[reader.dialect]
    params = _Params([])
    joins = ""
    if q:
        terms = query_terms(q)
        if not terms:
            return {"items": [], "next_cursor": None}
        match = fts5_match(terms) if reader.dialect == "sqlite" else tsquery_literal(terms)
        hits = _HITS[reader.dialect].format(q=params.add(match))
        joins = f" JOIN ({hits}) h ON h.product_id = p.id"
    where = [f"p.status IN ({', '.join(params.add(s) for s in statuses)})"]
    if category:
        _, path = await _lookup(reader, "categories", category, "category")
        # a path holds only hex digits, dashes and slashes: nothing LIKE would read as a wildcard
        subtree = params.add(path + "%")
        where.append(
            f"p.category_id IN (SELECT k.id FROM categories k WHERE k.path LIKE {subtree})"
        )
    if brand:
        brand_id, _ = await _lookup(reader, "brands", brand, "brand")
        where.append(f"p.brand_id = {params.add(brand_id)}")
    if min_price is not None:
        where.append(f"p.price >= {params.add(min_price)}")
    if max_price is not None:
        where.append(f"p.price <= {params.add(max_price)}")
    stocked = (
        "EXISTS (SELECT 1 FROM variants v WHERE v.product_id = p.id "
        "AND v.status = 'active' AND v.stock > 0)"
    )
    if in_stock is not None:
        where.append(stocked if in_stock else f"NOT {stocked}")
    if after_values is not None:
        (first, first_asc), (second, second_asc) = keys
        one, two = (params.add(_param(reader, v)) for v in after_values)
        where.append(
            f"({first} {'>' if first_asc else '<'} {one} OR "
            f"({first} = {one} AND {second} {'>' if second_asc else '<'} {two}))"
        )
    order = ", ".join(f"{column} {'ASC' if asc else 'DESC'}" for column, asc in keys)
    # built from this module's constants; every value travels as a parameter
    sql = (
        "SELECT p.id, p.name, p.price, p.list_price, p.tags, p.status, b.id, b.name, "
        f"(SELECT {fn['array']}(i.url, i.alt) FROM product_images i WHERE i.product_id = p.id "
        "ORDER BY i.position, i.id LIMIT 1), "
        f"{stocked}, {keys[0][0]} "
        f"FROM products p JOIN brands b ON b.id = p.brand_id{joins} "
        f"WHERE {' AND '.join(where)} ORDER BY {order} LIMIT {params.add(limit + 1)}"
    )
    rows = await reader.fetch(sql, *params.values)

    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        first_key = last[10]
        if keys[0][0] == "p.created_at":
            first_key = reader.time_value(first_key).isoformat()
        next_cursor = encode_cursor({"s": sort, "k": [first_key, id_text(last[0])]})
    admin = tuple(statuses) != ("active",)
    items = []
    for row in rows:
        image = json_value(row[8])
        item = {
            "id": id_text(row[0]),
            "name": row[1],
            "brand": {"id": id_text(row[6]), "name": row[7]},
            "price": row[2],
            "list_price": row[3],
            "discount_rate": discount_rate(row[2], row[3]),
            "image": {"url": image[0], "alt": image[1] or ""} if image else None,
            "in_stock": bool(row[9]),
            "tags": json_value(row[4]),
            "highlights": [{"start": s, "end": e} for s, e in highlight_spans(row[1], q)]
            if q
            else [],
        }
        if admin:
            item["status"] = row[5]
        items.append(item)
    return {"items": items, "next_cursor": next_cursor}


async def product_detail(
    reader: Reader, product_id: uuid.UUID, *, include_hidden: bool = False
) -> dict[str, Any]:
    """A product page: the product with its brand, category path, variants and images.

    The public (include_hidden False) sees only active products and their active variants.
    """
    rows = await reader.fetch(
        _DETAIL_SQL[reader.dialect, include_hidden], reader.id_param(product_id)
    )
    if not rows or (not include_hidden and rows[0][4] != "active"):
        raise NotFound("The product does not exist.")
    row = rows[0]
    price = row[5]
    # aggregates carry their order key; sorting here keeps the order exact on both databases
    variants = sorted(json_value(row[12]) or [], key=lambda v: (v[6], id_text(v[0])))
    images = sorted(json_value(row[13]) or [], key=lambda i: (i[3], id_text(i[0])))
    path = [
        {"id": id_text(k[0]), "name": k[1], "slug": k[2]}
        for k in sorted(json_value(row[14]) or [], key=lambda k: k[3])
    ]
    return {
        "id": id_text(row[0]),
        "name": row[1],
        "description": row[2],
        "tags": json_value(row[3]),
        "status": row[4],
        "brand": {"id": id_text(row[10]), "name": row[11]},
        "category": path[-1],
        "breadcrumb": path,
        "price": price,
        "list_price": row[6],
        "discount_rate": discount_rate(price, row[6]),
        "in_stock": any(v[5] == "active" and v[4] > 0 for v in variants),
        "option_types": json_value(row[7]),
        "variants": [
            {
                "id": id_text(v[0]),
                "sku": v[1],
                "options": json_value(v[2]),
                "price": price if v[3] is None else v[3],
                "stock": v[4],
                "in_stock": v[5] == "active" and v[4] > 0,
                "status": v[5],
            }
            for v in variants
        ],
        "images": [
            {"id": id_text(i[0]), "url": i[1], "alt": i[2], "position": i[3]} for i in images
        ],
        "created_at": reader.time_value(row[8]),
        "updated_at": reader.time_value(row[9]),
    }
