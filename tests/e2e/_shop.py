"""Steps of the shopping journeys that other journeys reuse (signing up, picking an option)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from playwright.sync_api import Page, expect

PASSWORD = "correct-horse-42"
ADDRESS = {
    "받는 분": "김장터",
    "연락처": "010-1234-5678",
    "우편번호": "04524",
    "주소": "서울특별시 중구 세종대로 110",
    "상세 주소": "3층",
}


def identity() -> tuple[str, str]:
    tag = uuid.uuid4().hex[:8]
    return f"e2e-{tag}@example.com", f"브라우저{tag[:6]}"


def field(page: Page, label: str) -> Any:
    """The control labelled exactly `label` (a required field's label ends in ` *`)."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}\s*\*?$"))


def sign_up_on_page(page: Page) -> tuple[str, str]:
    """Fill the sign-up form the page shows and submit it."""
    email, nickname = identity()
    field(page, "이메일").fill(email)
    field(page, "비밀번호").fill(PASSWORD)
    field(page, "비밀번호 확인").fill(PASSWORD)
    field(page, "닉네임").fill(nickname)
    page.get_by_role("button", name="가입하기").click()
    return email, nickname


def choose_in_stock_option(page: Page) -> str:
    """Pick the first option with stock left; its label (e.g. `M / 블랙`)."""
    select = page.get_by_label(re.compile("^옵션"))
    options: list[dict[str, Any]] = select.locator("option").evaluate_all(
        "els => els.map(e => ({value: e.value, disabled: e.disabled, text: e.textContent}))"
    )
    choice = next(o for o in options if o["value"] and not o["disabled"])
    select.select_option(choice["value"])
    return str(choice["text"]).strip()


def buy_a_knit_as_a_new_member(page: Page) -> tuple[str, str]:
    """A visitor finds a knit, signs up at checkout and pays with the dummy provider;
    the order's number and the address of its page."""
    page.goto("/search?q=니트&in_stock=1")
    page.locator(".product-grid .card-link").first.click()
    choose_in_stock_option(page)
    page.get_by_role("button", name="장바구니 담기").click()
    expect(page.get_by_text("장바구니에 담았습니다.")).to_be_visible()
    page.goto("/cart")
    page.get_by_role("link", name="주문하기").click()
    page.get_by_role("link", name="회원가입하기").click()
    sign_up_on_page(page)
    expect(page.get_by_role("heading", name="주문/결제")).to_be_visible()
    for label, value in ADDRESS.items():
        field(page, label).fill(value)
    page.get_by_role("button", name=re.compile("결제하기$")).click()
    expect(page.get_by_role("heading", name="주문이 완료되었습니다")).to_be_visible()
    number = page.locator("#order-number").inner_text()
    page.get_by_role("link", name="주문 상세 보기").click()
    expect(page.locator("#order-status")).to_have_text("결제 완료")
    return number, page.url
