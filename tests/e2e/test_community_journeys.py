"""Community in a real browser: a snap tagging two products by clicking on the photo, seen from
a product's page; a question with a points bounty, answered and accepted, seen in the wallets."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from tests.e2e._browser import DESKTOP, MOBILE, LiveServer, new_page
from tests.e2e._shop import PASSWORD, field, identity, sign_up_on_page
from tests.factories.accounts import grant_points

from jangteo.bootstrap import build_platform
from jangteo.settings import Settings

pytestmark = pytest.mark.e2e


def _photo(tmp_path: Path) -> Path:
    path = tmp_path / "look.png"
    image = Image.new("RGB", (600, 400), (235, 225, 210))
    image.paste((40, 60, 110), (60, 60, 260, 340))
    image.paste((150, 90, 50), (380, 200, 540, 360))
    image.save(path, format="PNG")
    return path


def _two_products(live_server: LiveServer) -> list[dict[str, Any]]:
    with live_server.api() as api:
        page = api.get("/api/v1/products", params={"sort": "new", "limit": 20}).json()
    names = set()
    chosen = []
    for product in page["items"]:
        if product["name"] not in names:
            names.add(product["name"])
            chosen.append(product)
    return chosen[:2]


def _tag(page: Page, name: str, x: int, y: int) -> None:
    """Search the product by name, choose it, click the photo where it is."""
    count = page.locator("#tag-list li").count()
    field(page, "상품 찾기").fill(name)
    page.locator("[data-tag-search]").click()
    page.locator("#tag-results label", has_text=name).first.click()
    page.locator(".snap-tagger img").first.click(position={"x": x, "y": y})
    expect(page.locator("#tag-list li")).to_have_count(count + 1)
    expect(page.locator("#tag-status")).to_contain_text(name)


def test_a_snap_tags_two_products_and_shows_on_the_product_page(
    browser: Any, live_server: LiveServer, screenshot_dir: Path, tmp_path: Path
) -> None:
    first, second = _two_products(live_server)
    author = new_page(browser, live_server, DESKTOP)
    author.goto("/signup")
    sign_up_on_page(author)
    expect(author.get_by_text("가입을 환영합니다!")).to_be_visible()

    author.goto("/community/snaps/new")
    expect(author.get_by_role("heading", name="스냅 올리기")).to_be_visible()
    author.get_by_label("사진 (최대 4장)").set_input_files(str(_photo(tmp_path)))
    author.get_by_role("button", name="사진 올리기").click()
    expect(author.locator(".snap-tagger img")).to_be_visible()
    box = author.locator(".snap-tagger img").bounding_box()
    assert box is not None
    _tag(author, first["name"], int(box["width"] * 0.25), int(box["height"] * 0.5))
    _tag(author, second["name"], int(box["width"] * 0.75), int(box["height"] * 0.7))
    expect(author.locator(".snap-tagger .snap-marker")).to_have_count(2)
    field(author, "제목").fill("주말 코디")
    author.locator("#f-body").fill("두 가지를 같이 입어 봤어요 #데일리룩")
    author.screenshot(path=str(screenshot_dir / "snap-composer-desktop.png"), full_page=True)
    author.get_by_role("button", name="등록하기").click()

    expect(author).to_have_url(re.compile(r"/community/snaps/[0-9a-f-]{36}$"))
    expect(author.get_by_role("heading", name="주말 코디")).to_be_visible()
    markers = author.locator(".snap-frame a.snap-marker")
    expect(markers).to_have_count(2)
    expect(markers.nth(0)).to_have_attribute("href", f"/p/{first['id']}")
    expect(markers.nth(1)).to_have_attribute("href", f"/p/{second['id']}")
    snap_path = author.url.removeprefix(live_server.base_url)
    author.screenshot(path=str(screenshot_dir / "snap-desktop.png"), full_page=True)
    author.context.close()

    # another member finds the snap from the product's page (its community tab, loaded by htmx)
    reader = new_page(browser, live_server, MOBILE)
    reader.goto("/signup")
    sign_up_on_page(reader)
    reader.goto(f"/p/{second['id']}")
    snaps = reader.locator("#community-snaps")
    expect(snaps.locator(f'a[href="{snap_path}"]')).to_be_visible()
    reader.screenshot(path=str(screenshot_dir / "product-community-mobile.png"), full_page=True)
    snaps.locator(f'a[href="{snap_path}"]').click()
    expect(reader).to_have_url(re.compile(re.escape(snap_path) + "$"))
    expect(reader.locator(".snap-tag-list")).to_contain_text(second["name"])
    reader.context.close()


def _member_by_api(live_server: LiveServer) -> tuple[str, str]:
    """A member signed up through the API; (email, id)."""
    email, nickname = identity()
    with live_server.api() as api:
        signed_up = api.post(
            "/api/v1/auth/signup",
            json={"email": email, "password": PASSWORD, "nickname": nickname},
        )
        assert signed_up.status_code == 201, signed_up.text
        token = api.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
        me = api.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
        )
        return email, str(me.json()["id"])


def _grant(live_server: LiveServer, member_id: str, amount: int, monkeypatch: Any) -> None:
    """Points credited through the accounts service, on the live server's database."""
    for name, value in live_server.env.items():
        if name.startswith("JANGTEO_"):
            monkeypatch.setenv(name, value)

    async def run() -> None:
        platform = build_platform(Settings())
        try:
            await grant_points(platform, member_id, amount)
        finally:
            await platform.cache.close()
            await platform.pubsub.close()
            await platform.db.dispose()

    # Playwright's sync API keeps an event loop in this thread: the service runs in another
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, run()).result()


def _log_in(page: Page, email: str) -> None:
    page.goto("/login")
    field(page, "이메일").fill(email)
    field(page, "비밀번호").fill(PASSWORD)
    page.get_by_role("button", name="로그인", exact=True).click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def _balance(page: Page) -> int:
    page.goto("/my/wallet")
    return int(page.locator("#points-balance").inner_text().replace(",", ""))


def test_a_question_with_a_bounty_is_answered_and_accepted(
    browser: Any, live_server: LiveServer, screenshot_dir: Path, monkeypatch: Any
) -> None:
    product = _two_products(live_server)[0]
    email, asker_id = _member_by_api(live_server)
    _grant(live_server, asker_id, 500, monkeypatch)

    asker = new_page(browser, live_server, DESKTOP)
    _log_in(asker, email)
    asker_before = _balance(asker)
    asker.goto(f"/p/{product['id']}/questions/new")
    field(asker, "질문").fill("키 165cm인데 어떤 사이즈가 맞을까요?")
    field(asker, "내용").fill("평소 55 사이즈를 입어요.")
    field(asker, "현상금 (포인트)").fill("100")
    asker.get_by_role("button", name="질문하기").click()
    expect(asker.locator("#question-bounty")).to_have_text("현상금 100P")
    expect(asker.locator("#question-status")).to_have_text("답변 대기")
    question_path = asker.url.removeprefix(live_server.base_url)

    answerer = new_page(browser, live_server, MOBILE)
    answerer.goto("/signup")
    sign_up_on_page(answerer)
    answerer_before = _balance(answerer)
    answerer.goto(question_path)
    field(answerer, "내 답변").fill("55면 M 사이즈가 딱 맞아요.")
    answerer.get_by_role("button", name="답변 등록").click()
    expect(answerer.get_by_text("55면 M 사이즈가 딱 맞아요.")).to_be_visible()
    # answering may earn activity points of its own: the bounty is counted from here
    answerer_before = _balance(answerer)

    asker.goto(question_path)
    asker.get_by_role("button", name="이 답변 채택하기").click()
    expect(asker.get_by_text("채택된 답변")).to_be_visible()
    expect(asker.locator("#question-status")).to_have_text("채택 완료")
    asker.screenshot(path=str(screenshot_dir / "question-accepted-desktop.png"), full_page=True)

    # the asker: 100 points held for the bounty (asking earned the usual post points)
    post_points = 10
    assert _balance(asker) == asker_before - 100 + post_points
    expect(asker.get_by_role("cell", name="-100")).to_be_visible()
    expect(asker.get_by_role("cell", name="질문 현상금")).to_be_visible()
    asker.context.close()

    # the answerer: the bounty and the platform's bonus
    bonus = 10
    assert _balance(answerer) == answerer_before + 100 + bonus
    expect(answerer.get_by_role("cell", name="답변 채택")).to_be_visible()
    expect(answerer.get_by_role("cell", name="+100")).to_be_visible()
    expect(answerer.get_by_role("cell", name="채택 보너스")).to_be_visible()
    answerer.screenshot(path=str(screenshot_dir / "wallet-bounty-mobile.png"), full_page=True)
    answerer.context.close()
