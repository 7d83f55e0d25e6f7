"""Shopping in a real browser: search, product, cart, sign-up, checkout, payment, my pages."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from tests.e2e._browser import DESKTOP, MOBILE, LiveServer, new_page
from tests.e2e._shop import (
    PASSWORD,
    choose_in_stock_option,
    field,
    identity,
    sign_up_on_page,
)

pytestmark = pytest.mark.e2e


def test_a_visitor_buys_a_knit_with_a_coupon_and_points(
    browser: Any, live_server: LiveServer, screenshot_dir: Path
) -> None:
    page = new_page(browser, live_server, MOBILE)
    page.goto("/")
    expect(page.get_by_role("heading", name="신상품")).to_be_visible()

    # search in Korean, keep only what is in stock (htmx refreshes the results in place)
    field(page, "상품 검색").fill("니트")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="‘니트’ 검색 결과")).to_be_visible()
    expect(page.locator(".card-name mark").first).to_have_text("니트")
    field(page, "품절 상품 제외").check()
    expect(page).to_have_url(re.compile(r"in_stock=1"))
    page.locator(".product-grid .card-link").first.click()

    # the product page: pick a size, add to the cart
    expect(page.locator("h1#product-name")).to_contain_text("니트")
    product_name = page.locator("h1#product-name").inner_text()
    choose_in_stock_option(page)
    page.screenshot(path=str(screenshot_dir / "product-mobile.png"), full_page=True)
    page.get_by_role("button", name="장바구니 담기").click()
    expect(page.get_by_text("장바구니에 담았습니다.")).to_be_visible()
    expect(page.locator("#cart-count")).to_contain_text("1")
    page.get_by_role("link", name="장바구니 보기").click()
    expect(page.get_by_role("heading", name="장바구니")).to_be_visible()
    expect(page.locator(".cart-line-name")).to_have_text(product_name)

    # checking out asks to log in; a new visitor signs up and comes back with the cart
    page.get_by_role("link", name="주문하기").click()
    expect(page.get_by_role("heading", name="로그인")).to_be_visible()
    page.get_by_role("link", name="회원가입하기").click()
    sign_up_on_page(page)
    expect(page.get_by_role("heading", name="주문/결제")).to_be_visible()
    expect(page.get_by_text("가입을 환영합니다!")).to_be_visible()

    # the demo shop's welcome coupon, claimed by code on the coupons page
    page.goto("/my/coupons")
    field(page, "쿠폰 코드").fill("WELCOME-10")
    page.get_by_role("button", name="쿠폰 등록").click()
    expect(page.get_by_text("쿠폰이 등록되었습니다.")).to_be_visible()
    expect(page.get_by_text("첫 구매 10% 할인")).to_be_visible()
    page.goto("/checkout")

    field(page, "받는 분").fill("김장터")
    field(page, "연락처").fill("010-1234-5678")
    field(page, "우편번호").fill("04524")
    field(page, "주소").fill("서울특별시 중구 세종대로 110")
    field(page, "상세 주소").fill("3층")
    expect(page.get_by_text(re.compile(r"보유 1,000포인트"))).to_be_visible()
    field(page, "내 쿠폰").select_option(index=1)  # htmx recalculates at once
    expect(page.locator(".summary dl div").nth(1)).to_contain_text("−")
    field(page, "사용할 포인트").fill("500")
    page.get_by_role("button", name="금액 다시 계산").click()
    expect(page.locator(".summary dl div").nth(2)).to_contain_text("−500원")
    total = page.locator("#checkout-total").inner_text()
    page.screenshot(path=str(screenshot_dir / "checkout-mobile.png"), full_page=True)
    page.get_by_role("button", name=re.compile("결제하기$")).click()

    expect(page.get_by_role("heading", name="주문이 완료되었습니다")).to_be_visible()
    expect(page.locator(".complete .status")).to_have_text("결제 완료")
    expect(page.locator(".amounts .total dd")).to_have_text(total)
    number = page.locator("#order-number").inner_text()

    page.get_by_role("link", name="주문 상세 보기").click()
    expect(page.locator("#order-status")).to_have_text("결제 완료")
    expect(page.locator(".timeline")).to_contain_text("결제 대기")
    page.get_by_role("link", name="주문 내역", exact=True).first.click()
    expect(page.get_by_text(number)).to_be_visible()

    # the points: 1,000 welcome points, 500 used for the order
    page.get_by_role("link", name="포인트").click()
    expect(page.locator("#points-balance")).to_have_text("500")
    expect(page.get_by_role("cell", name="-500")).to_be_visible()
    expect(page.get_by_role("cell", name="주문 시 사용")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "journey1-wallet-mobile.png"), full_page=True)
    page.context.close()


def _order_by_api(live_server: LiveServer) -> dict[str, Any]:
    """Another member's paid order, made through the public API of the live server."""
    email, nickname = identity()
    with live_server.api() as api:
        signed_up = api.post(
            "/api/v1/auth/signup",
            json={"email": email, "password": PASSWORD, "nickname": nickname},
        )
        assert signed_up.status_code == 201, signed_up.text
        token = api.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        product = api.get("/api/v1/products", params={"q": "니트", "in_stock": "true"}).json()
        detail = api.get(f"/api/v1/products/{product['items'][0]['id']}").json()
        variant = next(v for v in detail["variants"] if v["in_stock"])
        order = api.post(
            "/api/v1/orders",
            json={
                "lines": [{"variant_id": variant["id"], "quantity": 1}],
                "payment_method": "card",
                "address": {
                    "recipient": "다른 회원",
                    "phone": "010-9876-5432",
                    "postal_code": "06236",
                    "line1": "서울특별시 강남구 테헤란로 1",
                },
            },
            headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert order.status_code == 201, order.text
        return dict(order.json())


def test_a_member_cannot_open_another_members_order(
    browser: Any, live_server: LiveServer, screenshot_dir: Path
) -> None:
    theirs = _order_by_api(live_server)
    page = new_page(browser, live_server, DESKTOP)
    page.goto("/signup")
    sign_up_on_page(page)
    expect(page.get_by_text("가입을 환영합니다!")).to_be_visible()

    response = page.goto(f"/my/orders/{theirs['id']}")

    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="페이지를 찾을 수 없습니다")).to_be_visible()
    expect(page.get_by_text(theirs["number"])).to_have_count(0)
    expect(page.get_by_text("다른 회원")).to_have_count(0)
    page.screenshot(path=str(screenshot_dir / "journey2-other-members-order-404.png"))
    page.context.close()


def test_bad_form_input_shows_the_apis_errors(
    browser: Any, live_server: LiveServer, screenshot_dir: Path
) -> None:
    page = new_page(browser, live_server, DESKTOP)

    # empty sign-up form: every field says it is required
    page.goto("/signup")
    page.get_by_role("button", name="가입하기").click()
    expect(page.locator(".field-error")).to_have_count(3)
    expect(page.get_by_text("필수 입력 항목입니다.")).to_have_count(3)
    expect(field(page, "이메일")).to_have_attribute("aria-invalid", "true")

    # too short a password and too long a nickname
    email, _ = identity()
    field(page, "이메일").fill(email)
    field(page, "비밀번호").fill("short")
    field(page, "비밀번호 확인").fill("short")
    field(page, "닉네임").fill("가" * 21)
    page.get_by_role("button", name="가입하기").click()
    expect(page.get_by_text("10자 이상 입력해 주세요.")).to_be_visible()
    expect(page.get_by_text("20자 이하로 입력해 주세요.")).to_be_visible()
    expect(field(page, "이메일")).to_have_value(email)

    # quantities 0 and 10,000 on a product page
    page.goto("/search?q=니트&in_stock=1")
    page.locator(".product-grid .card-link").first.click()
    choose_in_stock_option(page)
    quantity = field(page, "수량")
    add = page.get_by_role("button", name="장바구니 담기")
    quantity.fill("0")
    add.click()
    expect(page.locator("#add-result")).to_contain_text("1 이상의 숫자를 입력해 주세요.")
    quantity.fill("10000")
    add.click()
    expect(page.locator("#add-result")).to_contain_text("수량을 넘었습니다")
    quantity.fill("1")
    add.click()
    expect(page.locator("#add-result")).to_contain_text("장바구니에 담았습니다.")

    # and 0 in the cart
    page.goto("/cart")
    line_quantity = page.get_by_label(re.compile("수량$"))
    line_quantity.fill("0")
    page.get_by_role("button", name="변경").click()
    expect(page.locator(".cart-line .field-error")).to_have_text("1 이상의 숫자를 입력해 주세요.")
    expect(line_quantity).to_have_attribute("aria-invalid", "true")
    expect(line_quantity).to_have_value("0")  # what was typed stays for correcting
    page.screenshot(path=str(screenshot_dir / "journey3-cart-errors.png"), full_page=True)
    page.context.close()


def test_pages_look_right_on_desktop(
    browser: Any, live_server: LiveServer, screenshot_dir: Path
) -> None:
    page = new_page(browser, live_server, DESKTOP)
    page.goto("/")
    expect(page.locator(".product-grid .card").first).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "home-desktop.png"), full_page=True)
    page.goto("/c/패션?sort=price_asc")
    expect(page.get_by_role("heading", name="패션", exact=True)).to_be_visible()
    page.get_by_role("link", name="더 보기").click()  # htmx appends the next page
    expect(page.locator(".chunk")).to_have_count(2)
    page.screenshot(path=str(screenshot_dir / "category-desktop.png"))
    page.context.close()
