"""A reward in a real browser, end to end: a member's snap tags a product and they share it; a
friend follows the link, signs up and buys the product at checkout; once the order is delivered
and its return window has passed, the sharer's earnings page shows the reward as available."""

from __future__ import annotations

import asyncio
import io
import re
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from tests.e2e._browser import DESKTOP, MOBILE, LiveServer, new_page
from tests.e2e._shop import ADDRESS, choose_in_stock_option, field, sign_up_on_page
from tests.factories.accounts import make_staff
from tests.factories.orders import deliver_order

from jangteo.bootstrap import build_platform
from jangteo.core.clock import FrozenClock
from jangteo.core.platform import Platform
from jangteo.settings import Settings

pytestmark = pytest.mark.e2e

# the return window is 7 days (the default rules): the due jobs run with a clock past it
RETURN_WINDOW_PASSED = timedelta(days=8)
DEADLINE_SECONDS = 30


def _on_live_database(
    live_server: LiveServer,
    monkeypatch: Any,
    work: Callable[[Platform], Awaitable[Any]],
    clock: FrozenClock | None = None,
) -> Any:
    """Run `work` with a platform on the live server's database (its env, optionally another
    clock), in a thread: Playwright's sync API keeps an event loop in this one."""
    for name, value in live_server.env.items():
        if name.startswith("JANGTEO_"):
            monkeypatch.setenv(name, value)

    async def run() -> Any:
        platform = build_platform(Settings(), clock)
        try:
            return await work(platform)
        finally:
            await platform.cache.close()
            await platform.pubsub.close()
            await platform.intake.close()
            await platform.db.dispose()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run()).result()


def _poll(check: Callable[[], Any], what: str, seconds: float = DEADLINE_SECONDS) -> Any:
    """`check()` until it answers something truthy, or fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)  # polling another process's background work, not waiting for an effect
    raise AssertionError(f"{what} did not happen within {seconds} s")


def _token(page: Page) -> dict[str, str]:
    """The API's Authorization header of the member signed in on this browser."""
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    return {"Authorization": f"Bearer {cookies['jt_access']}"}


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (600, 400), (60, 80, 120)).save(out, format="PNG")
    return out.getvalue()


def _knit(live_server: LiveServer) -> dict[str, Any]:
    with live_server.api() as api:
        found = api.get("/api/v1/products", params={"q": "니트", "in_stock": "true", "limit": 1})
    assert found.status_code == 200, found.text
    return found.json()["items"][0]


def _snap(live_server: LiveServer, headers: dict[str, str], product: dict[str, Any]) -> str:
    """A snap tagging `product`, posted through the API as the member of `headers`."""
    with live_server.api() as api:
        image = api.post(
            "/api/v1/community/images",
            files={"file": ("look.png", _photo(), "image/png")},
            headers=headers,
        )
        assert image.status_code == 201, image.text
        snap = api.post(
            "/api/v1/snaps",
            json={
                "title": "이번 주 니트 코디",
                "body": "따뜻하고 가벼운 니트 #니트코디",
                "images": [image.json()["token"]],
                "tags": [{"image": 0, "product_id": product["id"], "x": 0.5, "y": 0.5}],
            },
            headers=headers,
        )
        assert snap.status_code == 201, snap.text
        return str(snap.json()["post"]["id"])


def _buy_at_checkout(page: Page, product: dict[str, Any]) -> tuple[str, str]:
    """Add the product to the cart, sign up at checkout and pay (dummy provider); the order's
    number and id."""
    page.goto(f"/p/{product['id']}")
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
    order_id = page.url.rstrip("/").rsplit("/", 1)[1]
    return number, order_id


def _credited(live_server: LiveServer, headers: dict[str, str], number: str) -> Any:
    with live_server.api() as api:
        answer = api.get("/api/v1/me/earnings/attributions", headers=headers)
    assert answer.status_code == 200, answer.text
    return next((a for a in answer.json()["items"] if a["order_number"] == number), None)


def test_a_shared_snap_earns_its_author_a_reward_once_the_return_window_passes(
    browser: Any, live_server: LiveServer, screenshot_dir: Path, monkeypatch: Any
) -> None:
    product = _knit(live_server)

    # A signs up, posts a snap tagging the knit and shares it from the snap page
    author = new_page(browser, live_server, DESKTOP)
    author.context.grant_permissions(["clipboard-read", "clipboard-write"])
    author.goto("/signup")
    sign_up_on_page(author)
    expect(author.get_by_text("가입을 환영합니다!")).to_be_visible()
    author_headers = _token(author)
    snap_id = _snap(live_server, author_headers, product)
    author.goto(f"/community/snaps/{snap_id}")
    expect(author.get_by_role("heading", name="이번 주 니트 코디")).to_be_visible()
    sheet = author.locator("dialog.share-sheet")
    author.locator(".share-open").click()
    sheet.get_by_role("button", name="링크 복사").click()
    expect(sheet.locator(".share-status")).to_have_text("링크를 복사했어요.")
    link = sheet.locator(".share-url").input_value()
    assert re.fullmatch(rf"{re.escape(live_server.base_url)}/s/\w+", link), link

    # B follows the link, then signs up at checkout and pays for the knit
    buyer = new_page(browser, live_server, MOBILE)
    buyer.goto(link)
    expect(buyer).to_have_url(re.compile(rf"/community/p/{snap_id}$"))
    expect(buyer.get_by_role("heading", name="이번 주 니트 코디")).to_be_visible()
    number, order_id = _buy_at_checkout(buyer, product)
    buyer.screenshot(path=str(screenshot_dir / "reward-buyer-order-mobile.png"), full_page=True)
    buyer.context.close()

    # the live server's own loop delivers the order's events: the sale is credited to A
    credited = _poll(
        lambda: (
            (found := _credited(live_server, author_headers, number))
            and found["status"] == "pending"
            and found
        ),
        "crediting the sale to the snap's author",
    )
    assert credited["product_id"] == product["id"] and credited["amount"] > 0

    # staff deliver the order through the API
    async def deliver(platform: Platform) -> None:
        async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30) as client:
            staff = await make_staff(platform, client)
            await deliver_order(client, staff, {"id": order_id})

    _on_live_database(live_server, monkeypatch, deliver)

    # eight days on, the due jobs release the reward: run them with a clock past the return
    # window until it is available (the server's loop schedules the release on delivery)
    async def release(platform: Platform) -> dict[str, Any]:
        deadline = time.monotonic() + DEADLINE_SECONDS
        async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30) as client:
            while time.monotonic() < deadline:
                await platform.jobs.run_due()
                answer = await client.get(
                    "/api/v1/me/earnings/attributions", headers=author_headers
                )
                found = next(
                    (a for a in answer.json()["items"] if a["order_number"] == number), None
                )
                if found and found["status"] == "available":
                    return found
                await asyncio.sleep(0.2)  # the server's loop is another process's work
        raise AssertionError("the reward was not released after the return window")

    later = FrozenClock(datetime.now(UTC) + RETURN_WINDOW_PASSED)
    available = _on_live_database(live_server, monkeypatch, release, later)
    assert available["amount"] == credited["amount"]

    # A's earnings page: the reward is available, and the order is listed as credited
    author.goto("/my/earnings")
    expect(author.get_by_role("heading", name="내 수익")).to_be_visible()
    amount = f"{credited['amount']:,}원"
    expect(author.locator("#earnings-available")).to_have_text(amount)
    expect(author.locator("#earnings-pending")).to_have_text("0원")
    row = author.locator("tr.attribution", has_text=number)
    expect(row).to_contain_text("지급 가능")
    expect(row).to_contain_text(amount)
    expect(row).to_contain_text(product["name"])
    author.screenshot(path=str(screenshot_dir / "reward-earnings-desktop.png"), full_page=True)
    author.context.close()
