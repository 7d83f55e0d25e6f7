"""Sharing in a real browser: the Share button opens the sheet (share.js), each option makes its
own link (copied to the clipboard), the links are listed with their channel, and the earnings
page draws its chart; no script breaks the page's CSP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from tests.e2e._browser import DESKTOP, LiveServer, new_page
from tests.e2e._shop import sign_up_on_page

pytestmark = pytest.mark.e2e


def test_a_member_shares_a_product_from_the_sheet_and_sees_the_links(
    browser: Any, live_server: LiveServer, screenshot_dir: Path
) -> None:
    with live_server.api() as api:
        product = api.get("/api/v1/products", params={"sort": "new", "limit": 1}).json()["items"][0]
    page = new_page(browser, live_server, DESKTOP)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.goto("/signup")
    sign_up_on_page(page)
    expect(page.get_by_text("가입을 환영합니다!")).to_be_visible()

    page.goto(f"/p/{product['id']}")
    sheet = page.locator("dialog.share-sheet")
    expect(sheet).to_be_hidden()
    page.locator(".share-open").click()
    expect(sheet).to_be_visible()
    sheet.get_by_role("button", name="링크 복사").click()
    expect(sheet.locator(".share-status")).to_have_text("링크를 복사했어요.")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert f"{live_server.base_url}/s/" in copied
    expect(sheet.locator(".share-url")).to_have_value(copied)

    # without the Web Share API (headless Linux), KakaoTalk's link is copied to paste in a chat
    sheet.get_by_role("button", name="카카오톡으로 공유").click()
    expect(sheet.locator(".share-status")).to_contain_text("카카오톡 대화방에 붙여 넣어 주세요.")
    kakao = page.evaluate("navigator.clipboard.readText()")
    assert "/s/" in kakao and kakao != copied
    page.screenshot(path=str(screenshot_dir / "share-sheet-desktop.png"))
    sheet.get_by_role("button", name="닫기").click()
    expect(sheet).to_be_hidden()

    page.goto("/my/share-links")
    rows = page.locator("table.share-links tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="카카오톡")).to_contain_text(kakao)
    expect(rows.filter(has_text=copied)).to_contain_text("링크")

    page.goto("/my/earnings")
    expect(page.get_by_role("heading", name="내 수익")).to_be_visible()
    page.wait_for_function(
        "window.Chart && Chart.getChart(document.getElementById('earnings-chart'))"
    )
    page.screenshot(path=str(screenshot_dir / "my-earnings-desktop.png"), full_page=True)
    assert errors == []
