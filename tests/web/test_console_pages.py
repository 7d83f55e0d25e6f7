"""The console's pages through httpx: each staff task done on the page, its effect read back."""

from __future__ import annotations

import io
import json
import re
import uuid

import httpx
from PIL import Image
from tests.factories.accounts import grant_points, signup_member
from tests.factories.catalog import make_product, variant_stock
from tests.factories.orders import pay_order, place_order
from tests.factories.stock_imports import run_jobs_until_idle
from tests.web._console import staff_headers, staff_on_console
from tests.web._support import submit, text_of

from jangteo.core.platform import Platform


def _location_id(response: httpx.Response, prefix: str) -> str:
    assert response.status_code == 303, response.text
    found = re.match(rf"{re.escape(prefix)}([0-9a-f-]{{36}})", response.headers["location"])
    assert found, response.headers["location"]
    return found.group(1)


async def test_the_dashboard_shows_todays_figures_and_the_chart_data(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    product = await make_product(platform, name="대시보드 니트", price=20000)
    await pay_order(client, member, await place_order(client, member, product.variant_ids[0]))
    await staff_on_console(client, platform)

    page = await client.get("/console")

    assert page.status_code == 200
    assert re.search(r'id="kpi-revenue">23,000원<', page.text)
    assert re.search(r'id="kpi-orders">1<', page.text)
    assert re.search(r'id="kpi-members">2<', page.text)  # the buyer and the staff member
    assert "대시보드 니트" in page.text and "/static/vendor/chart.umd.min.js" in page.text
    data = re.search(r'<script type="application/json" id="sales-data">(.*?)</script>', page.text)
    assert data
    chart = json.loads(data.group(1))
    assert len(chart["labels"]) == 7 and chart["revenue"][-1] == 23000
    assert chart["names"]["revenue"] == "매출 (원)"
    month = await client.get("/console?days=30")
    assert "최근 30일" in month.text
    assert (
        len(json.loads(re.search(r'id="sales-data">(.*?)</script>', month.text).group(1))["labels"])
        == 30
    )  # type: ignore[union-attr]


async def test_staff_ship_an_order_with_a_tracking_number_and_it_is_audited(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    product = await make_product(platform, name="배송 테스트 니트", price=30000)
    order = await pay_order(
        client, member, await place_order(client, member, product.variant_ids[0])
    )
    staff = await staff_on_console(client, platform)

    listing = await client.get("/console/orders", params={"q": order["number"]})
    assert order["number"] in listing.text and member.email in listing.text
    assert "결제 완료" in listing.text
    empty = await client.get("/console/orders", params={"status": "shipped"})
    assert "조건에 맞는 주문이 없습니다." in empty.text

    url = f"/console/orders/{order['id']}"
    detail = await client.get(url)
    assert "상품 준비 시작" in detail.text and member.email in detail.text
    assert (await submit(client, f"{url}/transition", {"to": "preparing"})).status_code == 303
    missing = await submit(client, f"{url}/transition", {"to": "shipped", "tracking_number": ""})
    assert missing.status_code == 422
    assert 'aria-invalid="true"' in missing.text and "운송장 번호가 필요합니다" in missing.text
    shipped = await submit(
        client, f"{url}/transition", {"to": "shipped", "tracking_number": "CJ-1234-5678"}
    )
    assert shipped.status_code == 303

    after = await client.get(url)
    assert re.search(r'id="order-status">배송 중<', after.text)
    assert "CJ-1234-5678" in after.text and "배송 완료 처리" in after.text
    mine = await client.get(f"/api/v1/orders/{order['id']}", headers=member.headers)
    assert mine.json()["status"] == "shipped"
    assert mine.json()["tracking_number"] == "CJ-1234-5678"
    audit = await client.get("/console/audit", params={"action": "order.shipped"})
    assert "발송 처리" in audit.text and staff.nickname in audit.text
    assert "CJ-1234-5678" in audit.text
    again = await submit(client, f"{url}/transition", {"to": "preparing"})
    assert again.status_code == 409 and "이 상태로 바꿀 수 없습니다" in text_of(again.text)


async def test_staff_refund_a_paid_order(client: httpx.AsyncClient, platform: Platform) -> None:
    member = await signup_member(client)
    product = await make_product(platform, name="환불 니트", price=15000, stock=3)
    order = await pay_order(
        client, member, await place_order(client, member, product.variant_ids[0])
    )
    await staff_on_console(client, platform)
    url = f"/console/orders/{order['id']}"

    no_reason = await submit(client, f"{url}/refund", {"reason": ""})
    assert no_reason.status_code == 422 and "필수 입력 항목입니다." in no_reason.text
    refunded = await submit(client, f"{url}/refund", {"reason": "품절로 환불 <b>죄송</b>"})

    assert refunded.status_code == 303
    page = await client.get(url)
    assert re.search(r'id="order-status">환불 완료<', page.text)
    assert "품절로 환불 &lt;b&gt;죄송&lt;/b&gt;" in page.text
    assert await variant_stock(platform, product.variant_ids[0]) == 3


async def test_staff_create_a_product_with_options_adjust_stock_and_add_an_image(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    ref = await make_product(platform, name="기존 상품")  # makes the brand and category
    await staff_on_console(client, platform)
    form = await client.get("/console/products/new")
    assert ref.brand_id in form.text and ref.category_id in form.text

    bad = await submit(
        client,
        "/console/products/new",
        {"name": "", "brand_id": ref.brand_id, "category_id": ref.category_id, "price": "-5"},
    )
    assert bad.status_code == 422
    assert "필수 입력 항목입니다." in bad.text and "0 이상의 숫자를 입력해 주세요." in bad.text
    odd = await submit(
        client,
        "/console/products/new",
        {
            "name": "x",
            "brand_id": ref.brand_id,
            "category_id": ref.category_id,
            "price": "1000",
            "options": "사이즈 S M",
        },
    )
    assert odd.status_code == 422 and "‘이름: 값, 값’" in odd.text

    created = await submit(
        client,
        "/console/products/new",
        {
            "name": "램스울 라운드 니트 🧶",
            "brand_id": ref.brand_id,
            "category_id": ref.category_id,
            "price": "49,000",
            "list_price": "59000",
            "tags": "#겨울, 니트",
            "options": "사이즈: S, M\n색상: 블랙",
            "stock": "4",
            "status": "active",
        },
    )
    product_id = _location_id(created, "/console/products/")
    page = await client.get(f"/console/products/{product_id}")
    assert "램스울 라운드 니트 🧶" in page.text and "S / 블랙" in page.text
    detail = (await client.get(f"/api/v1/products/{product_id}")).json()
    assert detail["price"] == 49000 and detail["tags"] == ["겨울", "니트"]
    assert [v["stock"] for v in detail["variants"]] == [4, 4]
    variant = detail["variants"][0]["id"]

    too_many = await submit(
        client,
        f"/console/variants/{variant}/stock",
        {"product_id": product_id, "delta": "-5", "reason": "파손"},
    )
    assert too_many.status_code == 409 and 'id="delta-' in too_many.text
    adjusted = await submit(
        client,
        f"/console/variants/{variant}/stock",
        {"product_id": product_id, "delta": "+6", "reason": "추가 입고", "key": "k-1"},
    )
    assert adjusted.status_code == 303
    assert await variant_stock(platform, variant) == 10
    history = await client.get(f"/console/variants/{variant}/movements?product={product_id}")
    assert "추가 입고" in history.text and "+6" in history.text

    png = io.BytesIO()
    Image.new("RGB", (40, 40), (200, 30, 30)).save(png, "PNG")
    uploaded = await client.post(
        f"/console/products/{product_id}/images",
        data={"csrf_token": client.cookies["jt_csrf"], "alt": "빨간 니트"},
        files={"file": ("knit.png", png.getvalue(), "image/png")},
    )
    assert uploaded.status_code == 303, uploaded.text
    images = (await client.get(f"/api/v1/products/{product_id}")).json()["images"]
    assert [i["alt"] for i in images] == ["빨간 니트"]
    not_image = await client.post(
        f"/console/products/{product_id}/images",
        data={"csrf_token": client.cookies["jt_csrf"]},
        files={"file": ("notes.txt", b"hello", "text/plain")},
    )
    assert not_image.status_code == 415 and 'id="f-file-error"' in not_image.text

    edited = await submit(
        client,
        f"/console/products/{product_id}",
        {
            "name": "램스울 니트",
            "brand_id": ref.brand_id,
            "category_id": ref.category_id,
            "price": "45000",
            "list_price": "59000",
            "description": "",
            "tags": "니트",
            "status": "active",
        },
    )
    assert edited.status_code == 303
    archived = await submit(client, f"/console/products/{product_id}/archive")
    assert archived.status_code == 303
    assert (await client.get(f"/api/v1/products/{product_id}")).status_code == 404
    listing = await client.get("/console/products", params={"status": "archived", "q": "램스울"})
    assert "램스울 니트" in listing.text and "보관됨" in listing.text


async def test_a_csv_import_from_the_console_shows_progress_and_refused_rows(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    sku = f"CON-{uuid.uuid4().hex[:6].upper()}"
    product = await make_product(platform, variants=[{"options": {}, "stock": 2, "sku": sku}])
    await staff_on_console(client, platform)
    csv = f"sku,delta,reason\n{sku},5,입고\nNOPE-1,1,없음\n{sku},-1,중복\n".encode()

    no_file = await submit(client, "/console/stock-imports", {"key": "a"})
    assert no_file.status_code == 422 and "CSV 파일을 선택해 주세요." in no_file.text
    garbage = await client.post(
        "/console/stock-imports",
        data={"csrf_token": client.cookies["jt_csrf"], "key": "b"},
        files={"file": ("x.csv", b"\x89PNG\x00\x01", "text/csv")},
    )
    assert garbage.status_code == 422 and 'id="f-file-error"' in garbage.text
    uploaded = await client.post(
        "/console/stock-imports",
        data={"csrf_token": client.cookies["jt_csrf"], "key": "c"},
        files={"file": ("입고.csv", csv, "text/csv")},
    )
    import_id = _location_id(uploaded, "/console/stock-imports/")

    page = await client.get(f"/console/stock-imports/{import_id}")
    assert 'hx-trigger="every 1s"' in page.text and 'value="0"' in page.text
    assert (
        "이 SKU의 옵션이 없습니다." in page.text and "앞쪽 행에 이미 있는 SKU입니다." in page.text
    )
    await run_jobs_until_idle(platform)
    fragment = await client.get(
        f"/console/stock-imports/{import_id}/progress", headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert 'value="100"' in fragment.text and "hx-trigger" not in fragment.text
    assert re.search(r'id="import-applied">1<', fragment.text)
    assert await variant_stock(platform, product.variant_ids[0]) == 7
    recent = await client.get("/console/stock-imports")
    assert "입고.csv" in recent.text and "완료" in recent.text


async def test_staff_create_a_coupon_and_issue_it_to_a_member_found_by_email(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    await staff_on_console(client, platform)

    bad = await submit(
        client,
        "/console/coupons/new",
        {
            "name": "겨울 쿠폰",
            "kind": "percent",
            "value": "150",
            "starts_at": "2026-11-24T12:00",
            "ends_at": "2026-11-30T12:00",
        },
    )
    assert bad.status_code == 422
    created = await submit(
        client,
        "/console/coupons/new",
        {
            "name": "겨울 감사 쿠폰",
            "kind": "fixed",
            "value": "5,000",
            "min_order_amount": "30000",
            "starts_at": "2026-11-24T09:00",
            "ends_at": "2026-12-31T23:59",
            "per_member_limit": "1",
        },
    )
    coupon_id = _location_id(created, "/console/coupons/")
    coupon = (
        await client.get(f"/api/v1/admin/coupons/{coupon_id}", headers=staff_headers(client))
    ).json()
    assert coupon["value"] == 5000 and coupon["starts_at"].startswith("2026-11-24T00:00")

    found = await client.get(f"/console/coupons/{coupon_id}", params={"q": member.email})
    assert f'value="{member.id}"' in found.text
    nobody = await submit(client, f"/console/coupons/{coupon_id}/issue", {"member_ids": ""})
    assert nobody.status_code == 422 and "회원을 한 명 이상 선택해 주세요." in nobody.text
    issued = await submit(
        client, f"/console/coupons/{coupon_id}/issue", {"member_id": member.id, "key": "i-1"}
    )
    assert issued.status_code == 200 and "1명 중 1명에게 발급했습니다." in issued.text
    assert re.search(r'id="coupon-issued">1<', issued.text)
    wallet = await client.get("/api/v1/coupons", headers=member.headers)
    assert [c["name"] for c in wallet.json()["items"]] == ["겨울 감사 쿠폰"]

    disabled = await submit(client, f"/console/coupons/{coupon_id}/status", {"status": "disabled"})
    assert disabled.status_code == 303
    listing = await client.get("/console/coupons", params={"status": "disabled"})
    assert "겨울 감사 쿠폰" in listing.text and "사용 중지" in listing.text


async def test_staff_adjust_points_and_read_the_ledger_and_only_admins_change_roles(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    await grant_points(platform, member.id, 2000)
    await staff_on_console(client, platform)
    url = f"/console/members/{member.id}"

    search = await client.get("/console/members", params={"q": member.email})
    assert member.nickname in search.text
    page = await client.get(url)
    assert re.search(r'id="points-balance">2,000<', page.text)
    assert "권한은 관리자만 바꿀 수 있습니다." in page.text and 'name="roles"' not in page.text
    bad = await submit(client, f"{url}/points", {"amount": "0", "reason": "x"})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    adjusted = await submit(client, f"{url}/points", {"amount": "-500", "reason": "오지급 회수"})
    assert adjusted.status_code == 303
    ledger = await client.get(url)
    assert re.search(r'id="points-balance">1,500<', ledger.text)
    assert "adjustment: 오지급 회수" in ledger.text and "-500" in ledger.text
    refused = await client.post(
        f"{url}/roles", data={"csrf_token": client.cookies["jt_csrf"], "roles": "admin"}
    )
    assert refused.status_code == 403
    suspended = await submit(client, f"{url}/suspend", {"reason": "스팸 게시"})
    assert suspended.status_code == 303
    assert "정지" in (await client.get(url)).text


async def test_an_admin_changes_roles(client: httpx.AsyncClient, platform: Platform) -> None:
    member = await signup_member(client)
    await staff_on_console(client, platform, roles=("admin",))

    page = await client.get(f"/console/members/{member.id}")
    assert 'name="roles"' in page.text
    saved = await client.post(
        f"/console/members/{member.id}/roles",
        data={"csrf_token": client.cookies["jt_csrf"], "roles": ["creator", "staff"]},
    )
    assert saved.status_code == 303
    profile = await client.get(f"/api/v1/admin/members/{member.id}", headers=staff_headers(client))
    assert profile.json()["roles"] == ["creator", "member", "staff"]


async def test_brands_and_categories_are_created_edited_and_archived(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    await staff_on_console(client, platform)

    taken = await submit(client, "/console/brands", {"name": "하루공방", "slug": "haru"})
    assert taken.status_code == 303
    duplicate = await submit(client, "/console/brands", {"name": "다른 공방", "slug": "haru"})
    assert duplicate.status_code == 409 and 'id="f-slug-error"' in duplicate.text
    brands = (await client.get("/api/v1/admin/brands", headers=staff_headers(client))).json()
    brand_id = next(b["id"] for b in brands["items"] if b["slug"] == "haru")
    archived = await submit(client, f"/console/brands/{brand_id}/archive")
    assert archived.status_code == 303
    assert "보관됨" in (await client.get("/console/brands?status=archived")).text
    assert (await client.get("/api/v1/brands/haru")).status_code == 404

    top = await submit(client, "/console/categories", {"name": "리빙", "position": "1"})
    assert top.status_code == 303
    tree = (await client.get("/api/v1/categories")).json()["items"]
    living = next(c for c in tree if c["name"] == "리빙")
    child = await submit(
        client, "/console/categories", {"name": "주방", "parent_id": living["id"], "position": "0"}
    )
    assert child.status_code == 303
    tree = (await client.get("/api/v1/categories")).json()["items"]
    assert [c["name"] for c in next(c for c in tree if c["name"] == "리빙")["children"]] == ["주방"]
    edit = await client.get(f"/console/categories/{living['id']}")
    assert "주방" not in re.search(r'<select id="f-parent_id".*?</select>', edit.text, re.S).group(
        0
    )  # type: ignore[union-attr]
    in_use = await submit(client, f"/console/categories/{living['id']}/archive")
    assert in_use.status_code == 409


async def test_the_audit_page_filters_and_reports_bad_filters(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await staff_on_console(client, platform)
    await submit(client, "/console/brands", {"name": "감사 브랜드"})

    page = await client.get("/console/audit", params={"action": "catalog."})
    assert "브랜드 생성" in page.text and staff.nickname in page.text
    mine = await client.get("/console/audit", params={"actor_id": staff.id})
    assert "2단계 인증 사용" in mine.text
    bad = await client.get("/console/audit", params={"actor_id": "누구"})
    assert bad.status_code == 200 and 'id="f-actor_id-error"' in bad.text
    unknown_page = await client.get("/console/orders/not-an-id")
    assert unknown_page.status_code == 404
    missing = await client.get(f"/console/orders/{uuid.uuid4()}")
    assert missing.status_code == 404
