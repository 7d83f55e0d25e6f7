"""The staff console in a real browser: TOTP enrolment at first log-in, then shipping an order
a member paid for in the shop, and the member seeing it on their order page."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import expect
from tests.e2e._browser import DESKTOP, MOBILE, LiveServer, new_page
from tests.e2e._shop import PASSWORD, buy_a_knit_as_a_new_member, field

pytestmark = pytest.mark.e2e


def test_staff_ship_an_order_and_the_member_sees_it(
    browser: Any, live_server: LiveServer, screenshot_dir: Path
) -> None:
    shopper = new_page(browser, live_server, MOBILE)
    number, order_url = buy_a_knit_as_a_new_member(shopper)

    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    live_server.jangteo(
        "createadmin", "--email", email, "--password", PASSWORD, "--nickname", "콘솔관리자"
    )
    staff = new_page(browser, live_server, DESKTOP)
    staff.goto("/console")
    expect(staff.get_by_role("heading", name="콘솔 로그인")).to_be_visible()
    field(staff, "이메일").fill(email)
    field(staff, "비밀번호").fill(PASSWORD)
    staff.get_by_role("button", name="로그인").click()

    # no second factor yet: enrolment comes before anything else
    expect(staff.get_by_role("heading", name="2단계 인증 설정하기")).to_be_visible()
    staff.get_by_role("button", name="2단계 인증 설정하기").click()
    expect(staff.get_by_role("img", name="인증 앱 등록용 QR 코드")).to_be_visible()
    secret = staff.locator("#totp-secret").inner_text()
    field(staff, "앱에 표시된 6자리 코드").fill(pyotp.TOTP(secret).now())
    staff.get_by_role("button", name="켜기").click()
    expect(staff.get_by_text("2단계 인증이 켜졌습니다.")).to_be_visible()
    staff.get_by_role("link", name="콘솔로 가기").click()

    expect(staff.get_by_role("heading", name="대시보드")).to_be_visible()
    expect(staff.locator("#kpi-orders")).not_to_have_text("0")
    expect(staff.locator("#sales-chart")).to_be_visible()
    staff.screenshot(path=str(screenshot_dir / "console-dashboard.png"), full_page=True)

    # find the order by its number and move it along
    staff.get_by_role("navigation", name="콘솔 메뉴").get_by_role("link", name="주문 관리").click()
    field(staff, "주문번호 또는 구매자 이메일").fill(number)
    staff.get_by_role("button", name="검색").click()
    expect(staff).to_have_url(re.compile(r"q=" + re.escape(number)))
    staff.get_by_role("link", name=number).click()
    expect(staff.locator("#order-status")).to_have_text("결제 완료")
    staff.get_by_role("button", name="상품 준비 시작").click()
    expect(staff.get_by_text("주문 상태를 변경했습니다.")).to_be_visible()
    expect(staff.locator("#order-status")).to_have_text("상품 준비 중")
    staff.get_by_role("button", name="발송 처리").click()  # without a tracking number first
    expect(field(staff, "운송장 번호")).to_have_attribute("aria-invalid", "true")
    field(staff, "운송장 번호").fill("CJ-2026-1124-001")
    staff.get_by_role("button", name="발송 처리").click()
    expect(staff.locator("#order-status")).to_have_text("배송 중")
    staff.screenshot(path=str(screenshot_dir / "console-order-shipped.png"), full_page=True)

    # the audit log names who shipped it
    staff.goto("/console/audit?action=order.shipped")
    expect(staff.get_by_role("cell", name=re.compile("콘솔관리자"))).to_be_visible()
    staff.context.close()

    shopper.goto(order_url)
    expect(shopper.locator("#order-status")).to_have_text("배송 중")
    expect(shopper.get_by_text("CJ-2026-1124-001")).to_be_visible()
    expect(shopper.locator(".timeline")).to_contain_text("판매자")
    shopper.screenshot(
        path=str(screenshot_dir / "journey4-member-sees-shipped.png"), full_page=True
    )
    shopper.context.close()
