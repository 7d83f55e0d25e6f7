"""The staff back office of the catalog: permissions, products, variants, stock, audit."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tests.factories.accounts import Member, make_staff, signup_member
from tests.factories.catalog import make_product, variant_stock

from jangteo.core.models import AuditEntry
from jangteo.core.platform import Platform


async def new_brand_and_category(client: httpx.AsyncClient, staff: Member) -> tuple[str, str]:
    brand = await client.post(
        "/api/v1/admin/brands", json={"name": "모노하우스"}, headers=staff.headers
    )
    assert brand.status_code == 201, brand.text
    category = await client.post(
        "/api/v1/admin/categories", json={"name": "니트"}, headers=staff.headers
    )
    assert category.status_code == 201, category.text
    return brand.json()["id"], category.json()["id"]


def product_body(brand: str, category: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "brand_id": brand,
        "category_id": category,
        "name": "캐시미어 블렌드 니트",
        "description": "부드러운 니트",
        "tags": ["겨울"],
        "price": 39000,
        "list_price": 49000,
        "option_types": [{"name": "사이즈", "values": ["S", "M"]}],
        "status": "active",
        "variants": [
            {"options": {"사이즈": "S"}, "stock": 5},
            {"options": {"사이즈": "M"}, "stock": 0, "price": 41000},
        ],
    }
    body.update(overrides)
    return body


async def test_staff_endpoints_refuse_anonymous_members_and_staff_without_mfa(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    ref = await make_product(platform)
    member = await signup_member(client)
    staff_without_mfa = await make_staff(platform, client, mfa=False)
    calls = [
        ("POST", "/api/v1/admin/brands", {"name": "해커"}),
        ("POST", "/api/v1/admin/categories", {"name": "해커"}),
        ("PATCH", f"/api/v1/admin/products/{ref.product_id}", {"price": 1}),
        ("POST", f"/api/v1/admin/products/{ref.product_id}/archive", None),
        (
            "POST",
            f"/api/v1/admin/variants/{ref.variant_ids[0]}/stock-adjustments",
            {"delta": 100, "reason": "x"},
        ),
        ("GET", f"/api/v1/admin/products/{ref.product_id}", None),
    ]
    for method, path, body in calls:
        anonymous = await client.request(method, path, json=body)
        assert anonymous.status_code == 401, path
        as_member = await client.request(method, path, json=body, headers=member.headers)
        assert as_member.status_code == 403, path
        assert as_member.json()["code"] == "forbidden"
        no_mfa = await client.request(method, path, json=body, headers=staff_without_mfa.headers)
        assert no_mfa.status_code == 403, path
        assert no_mfa.json()["code"] == "mfa-required"
    # nothing changed
    detail = (await client.get(f"/api/v1/products/{ref.product_id}")).json()
    assert detail["price"] == 39000
    assert await variant_stock(platform, ref.variant_ids[0]) == 10


async def test_staff_create_a_product_the_public_then_sees(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    staff = await make_staff(platform, client)
    brand_id, category_id = await new_brand_and_category(client, staff)
    created = await client.post(
        "/api/v1/admin/products", json=product_body(brand_id, category_id), headers=staff.headers
    )
    assert created.status_code == 201, created.text
    product = created.json()
    assert product["status"] == "active"
    assert [v["options"] for v in product["variants"]] == [{"사이즈": "S"}, {"사이즈": "M"}]
    assert [v["price"] for v in product["variants"]] == [39000, 41000]

    public = await client.get(f"/api/v1/products/{product['id']}")
    assert public.status_code == 200
    assert public.json()["variants"][0]["stock"] == 5
    listed = (await client.get("/api/v1/products")).json()["items"]
    assert [p["id"] for p in listed] == [product["id"]]

    async with platform.db.read() as session:
        actions = set(
            (
                await session.scalars(
                    select(AuditEntry.action).where(AuditEntry.actor_id == uuid.UUID(staff.id))
                )
            ).all()
        )
    assert {"catalog.brand.create", "catalog.category.create", "catalog.product.create"} <= actions


async def test_a_draft_stays_hidden_until_it_is_activated(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    staff = await make_staff(platform, client)
    brand_id, category_id = await new_brand_and_category(client, staff)
    no_variants = await client.post(
        "/api/v1/admin/products",
        json=product_body(brand_id, category_id, variants=[], status="active"),
        headers=staff.headers,
    )
    assert no_variants.status_code == 409
    assert no_variants.json()["code"] == "product-without-variants"

    draft = await client.post(
        "/api/v1/admin/products",
        json=product_body(brand_id, category_id, status="draft"),
        headers=staff.headers,
    )
    assert draft.status_code == 201
    product_id = draft.json()["id"]
    assert (await client.get(f"/api/v1/products/{product_id}")).status_code == 404
    staff_list = await client.get(
        "/api/v1/admin/products", params={"status": "draft"}, headers=staff.headers
    )
    assert [p["id"] for p in staff_list.json()["items"]] == [product_id]
    assert staff_list.json()["items"][0]["status"] == "draft"

    activated = await client.patch(
        f"/api/v1/admin/products/{product_id}", json={"status": "active"}, headers=staff.headers
    )
    assert activated.status_code == 200
    assert (await client.get(f"/api/v1/products/{product_id}")).status_code == 200

    archived = await client.post(
        f"/api/v1/admin/products/{product_id}/archive", headers=staff.headers
    )
    assert archived.json()["status"] == "archived"
    assert (await client.get(f"/api/v1/products/{product_id}")).status_code == 404
    assert (await client.get("/api/v1/products")).json()["items"] == []


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"price": -1}, 422, "validation-error"),
        ({"price": 10**12}, 422, "validation-error"),
        ({"price": "39000원"}, 422, "validation-error"),
        ({"price": 50000, "list_price": 40000}, 422, "invalid-input"),
        ({"name": ""}, 422, "validation-error"),
        ({"name": "니" * 201}, 422, "validation-error"),
        ({"tags": ["x" * 31]}, 422, "validation-error"),
        ({"unexpected": True}, 422, "validation-error"),
        ({"brand_id": str(uuid.uuid4())}, 422, "invalid-input"),
        ({"brand_id": "not-a-uuid"}, 422, "validation-error"),
        ({"variants": [{"options": {"사이즈": "XL"}, "stock": 1}]}, 422, "invalid-options"),
        ({"variants": [{"options": {"색상": "S"}, "stock": 1}]}, 422, "invalid-options"),
        ({"variants": [{"options": {"사이즈": "S"}, "stock": -1}]}, 422, "validation-error"),
        (
            {"variants": [{"options": {"사이즈": "S"}}, {"options": {"사이즈": "S"}}]},
            409,
            "duplicate-variant",
        ),
        (
            {"option_types": [{"name": "사이즈", "values": ["S", "S"]}]},
            422,
            "validation-error",
        ),
    ],
)
async def test_bad_products_are_refused(
    platform: Platform,
    client: httpx.AsyncClient,
    overrides: dict[str, Any],
    status: int,
    code: str,
) -> None:
    staff = await make_staff(platform, client)
    brand_id, category_id = await new_brand_and_category(client, staff)
    response = await client.post(
        "/api/v1/admin/products",
        json=product_body(brand_id, category_id, **overrides),
        headers=staff.headers,
    )
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert (await client.get("/api/v1/admin/products", headers=staff.headers)).json()["items"] == []


async def test_malformed_json_is_400(platform: Platform, client: httpx.AsyncClient) -> None:
    staff = await make_staff(platform, client)
    response = await client.post(
        "/api/v1/admin/products",
        content='{"name": "니트",'.encode(),
        headers={**staff.headers, "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed-json"


async def test_html_and_sql_in_names_are_kept_as_text(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    staff = await make_staff(platform, client)
    brand_id, category_id = await new_brand_and_category(client, staff)
    name = "<script>alert('x')</script>'; DROP TABLE products; -- 🧶"
    created = await client.post(
        "/api/v1/admin/products",
        json=product_body(brand_id, category_id, name=name),
        headers=staff.headers,
    )
    assert created.status_code == 201
    assert (await client.get(f"/api/v1/products/{created.json()['id']}")).json()["name"] == name


async def test_slugs_and_skus_are_unique(platform: Platform, client: httpx.AsyncClient) -> None:
    staff = await make_staff(platform, client)
    first = await client.post(
        "/api/v1/admin/brands", json={"name": "Aurora", "slug": "aurora"}, headers=staff.headers
    )
    assert first.status_code == 201
    again = await client.post(
        "/api/v1/admin/brands", json={"name": "Other", "slug": "aurora"}, headers=staff.headers
    )
    assert again.status_code == 409 and again.json()["code"] == "slug-taken"
    same_name = await client.post(
        "/api/v1/admin/brands", json={"name": "Aurora"}, headers=staff.headers
    )
    assert same_name.status_code == 201 and same_name.json()["slug"] == "aurora-2"
    bad_slug = await client.post(
        "/api/v1/admin/brands", json={"name": "x", "slug": "Bad Slug!"}, headers=staff.headers
    )
    assert bad_slug.status_code == 422

    ref = await make_product(platform, variants=[{"options": {"색상": "블랙"}, "sku": "SKU-1"}])
    clash = await client.post(
        f"/api/v1/admin/products/{ref.product_id}/variants",
        json={"options": {"색상": "블랙"}, "sku": "SKU-2"},
        headers=staff.headers,
    )
    assert clash.status_code == 409 and clash.json()["code"] == "duplicate-variant"
    patch_types = await client.patch(
        f"/api/v1/admin/products/{ref.product_id}",
        json={"option_types": [{"name": "색상", "values": ["블랙", "화이트"]}]},
        headers=staff.headers,
    )
    assert patch_types.status_code == 200, patch_types.text
    taken = await client.post(
        f"/api/v1/admin/products/{ref.product_id}/variants",
        json={"options": {"색상": "화이트"}, "sku": "SKU-1"},
        headers=staff.headers,
    )
    assert taken.status_code == 409 and taken.json()["code"] == "sku-taken"
    added = await client.post(
        f"/api/v1/admin/products/{ref.product_id}/variants",
        json={"options": {"색상": "화이트"}, "stock": 4},
        headers=staff.headers,
    )
    assert added.status_code == 201
    assert [v["stock"] for v in added.json()["variants"]] == [0, 4]


async def test_a_variant_can_be_repriced_and_switched_off(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    staff = await make_staff(platform, client)
    ref = await make_product(
        platform,
        price=20000,
        variants=[{"options": {"색상": "블랙"}, "stock": 1}, {"options": {"색상": "화이트"}}],
    )
    black, white = ref.variant_ids
    repriced = await client.patch(
        f"/api/v1/admin/variants/{black}", json={"price": 25000}, headers=staff.headers
    )
    assert repriced.status_code == 200
    off = await client.patch(
        f"/api/v1/admin/variants/{white}", json={"status": "inactive"}, headers=staff.headers
    )
    assert off.status_code == 200
    public = (await client.get(f"/api/v1/products/{ref.product_id}")).json()
    assert [(v["id"], v["price"]) for v in public["variants"]] == [(black, 25000)]
    last = await client.patch(
        f"/api/v1/admin/variants/{black}", json={"status": "inactive"}, headers=staff.headers
    )
    assert last.status_code == 409
    assert last.json()["code"] == "product-without-variants"
    back = await client.patch(
        f"/api/v1/admin/variants/{black}", json={"price": None}, headers=staff.headers
    )
    assert back.json()["variants"][0]["price"] == 20000
    unknown = await client.patch(
        f"/api/v1/admin/variants/{uuid.uuid4()}", json={"price": 1}, headers=staff.headers
    )
    assert unknown.status_code == 404


async def test_stock_adjustments_are_recorded_in_the_ledger(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    staff = await make_staff(platform, client)
    ref = await make_product(platform, stock=10)
    variant = ref.variant_ids[0]
    path = f"/api/v1/admin/variants/{variant}/stock-adjustments"

    received = await client.post(path, json={"delta": 5, "reason": "입고"}, headers=staff.headers)
    assert received.status_code == 201, received.text
    assert received.json()["stock"] == 15
    assert received.json()["movement"]["reason"] == "입고"
    damaged = await client.post(path, json={"delta": -3, "reason": "파손"}, headers=staff.headers)
    assert damaged.json()["stock"] == 12

    too_many = await client.post(path, json={"delta": -13, "reason": "실사"}, headers=staff.headers)
    assert too_many.status_code == 409
    assert too_many.json()["code"] == "insufficient-stock"
    assert too_many.json()["available"] == 12

    for bad in (
        {"delta": 0, "reason": "x"},
        {"delta": 10**7, "reason": "x"},
        {"delta": "many", "reason": "x"},
        {"delta": 1, "reason": ""},
        {"delta": 1},
    ):
        response = await client.post(path, json=bad, headers=staff.headers)
        assert response.status_code == 422, bad
    unknown = await client.post(
        f"/api/v1/admin/variants/{uuid.uuid4()}/stock-adjustments",
        json={"delta": 1, "reason": "x"},
        headers=staff.headers,
    )
    assert unknown.status_code == 404

    ledger = await client.get(
        f"/api/v1/admin/variants/{variant}/stock-movements",
        params={"limit": 2},
        headers=staff.headers,
    )
    movements = ledger.json()["items"]
    cursor = ledger.json()["next_cursor"]
    while cursor:
        page = await client.get(
            f"/api/v1/admin/variants/{variant}/stock-movements",
            params={"limit": 2, "cursor": cursor},
            headers=staff.headers,
        )
        movements += page.json()["items"]
        cursor = page.json()["next_cursor"]
    assert sorted(m["delta"] for m in movements) == [-3, 5, 10]
    assert sum(m["delta"] for m in movements) == 12 == await variant_stock(platform, variant)
    assert {m["actor_id"] for m in movements if m["delta"] != 10} == {staff.id}


async def test_a_retried_stock_adjustment_counts_once(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    staff = await make_staff(platform, client)
    ref = await make_product(platform, stock=10)
    path = f"/api/v1/admin/variants/{ref.variant_ids[0]}/stock-adjustments"
    headers = {**staff.headers, "Idempotency-Key": "restock-2026-11-24"}

    first = await client.post(path, json={"delta": 7, "reason": "입고"}, headers=headers)
    again = await client.post(path, json={"delta": 7, "reason": "입고"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert await variant_stock(platform, ref.variant_ids[0]) == 17
    other_body = await client.post(path, json={"delta": 8, "reason": "입고"}, headers=headers)
    assert other_body.status_code == 422
    assert other_body.json()["code"] == "idempotency-key-reused"
    assert await variant_stock(platform, ref.variant_ids[0]) == 17


async def test_brands_and_categories_in_use_cannot_be_archived(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    staff = await make_staff(platform, client)
    ref = await make_product(platform)
    brand = await client.post(f"/api/v1/admin/brands/{ref.brand_id}/archive", headers=staff.headers)
    assert brand.status_code == 409 and brand.json()["code"] == "brand-in-use"
    category = await client.post(
        f"/api/v1/admin/categories/{ref.category_id}/archive", headers=staff.headers
    )
    assert category.status_code == 409 and category.json()["code"] == "category-in-use"

    await client.post(f"/api/v1/admin/products/{ref.product_id}/archive", headers=staff.headers)
    brand = await client.post(f"/api/v1/admin/brands/{ref.brand_id}/archive", headers=staff.headers)
    assert brand.status_code == 200 and brand.json()["status"] == "archived"
    assert (await client.get("/api/v1/brands")).json()["items"] == []
    category = await client.post(
        f"/api/v1/admin/categories/{ref.category_id}/archive", headers=staff.headers
    )
    assert category.status_code == 200
    assert (await client.get("/api/v1/categories")).json()["items"] == []


async def test_moving_a_category_moves_its_subtree(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    staff = await make_staff(platform, client)

    async def category(name: str, parent: str | None = None) -> str:
        response = await client.post(
            "/api/v1/admin/categories",
            json={"name": name, "parent_id": parent},
            headers=staff.headers,
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    fashion = await category("패션")
    living = await category("리빙")
    outer = await category("아우터", fashion)
    coats = await category("코트", outer)
    await make_product(platform, name="울 코트", category_name="코트")
    assert len((await client.get("/api/v1/products?category=패션")).json()["items"]) == 1

    moved = await client.patch(
        f"/api/v1/admin/categories/{outer}", json={"parent_id": living}, headers=staff.headers
    )
    assert moved.status_code == 200, moved.text
    assert (await client.get("/api/v1/products?category=패션")).json()["items"] == []
    assert len((await client.get("/api/v1/products?category=리빙")).json()["items"]) == 1
    product = (await client.get("/api/v1/products?category=코트")).json()["items"][0]
    detail = (await client.get(f"/api/v1/products/{product['id']}")).json()
    assert [c["name"] for c in detail["breadcrumb"]] == ["리빙", "아우터", "코트"]

    under_itself = await client.patch(
        f"/api/v1/admin/categories/{outer}", json={"parent_id": coats}, headers=staff.headers
    )
    assert under_itself.status_code == 409
    assert under_itself.json()["code"] == "invalid-category-move"
    to_top = await client.patch(
        f"/api/v1/admin/categories/{outer}", json={"parent_id": None}, headers=staff.headers
    )
    assert to_top.status_code == 200 and to_top.json()["parent_id"] is None
    tree = (await client.get("/api/v1/categories")).json()["items"]
    assert sorted(node["name"] for node in tree) == ["리빙", "아우터", "패션"]
