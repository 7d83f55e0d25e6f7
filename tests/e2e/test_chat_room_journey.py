"""A chat room in two browsers: what one member types appears on the other's page as it is
sent, over the room's WebSocket, without reloading either page."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Page, expect
from tests.e2e._browser import DESKTOP, MOBILE, LiveServer, new_page
from tests.e2e._shop import PASSWORD, field, sign_up_on_page

pytestmark = pytest.mark.e2e


def _room_by_api(live_server: LiveServer) -> str:
    """A public space and a chat room in it, opened by an admin (with TOTP) through the API;
    the room's page."""
    email = f"chat-admin-{uuid.uuid4().hex[:8]}@example.com"
    live_server.jangteo(
        "createadmin", "--email", email, "--password", PASSWORD, "--nickname", "채팅관리자"
    )
    with live_server.api() as api:
        login = api.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        secret = api.post("/api/v1/me/mfa/totp", headers=headers).json()["secret"]
        confirmed = api.post(
            "/api/v1/me/mfa/totp/confirm", json={"code": pyotp.TOTP(secret).now()}, headers=headers
        )
        assert confirmed.status_code == 200, confirmed.text
        headers = {"Authorization": f"Bearer {confirmed.json()['access_token']}"}
        slug = f"chat-{uuid.uuid4().hex[:8]}"
        space = api.post(
            "/api/v1/spaces", json={"slug": slug, "name": "러닝 크루"}, headers=headers
        )
        assert space.status_code == 201, space.text
        room = api.post(
            f"/api/v1/spaces/{slug}/rooms",
            json={"slug": "lounge", "name": "라운지", "topic": "오늘 달린 이야기"},
            headers=headers,
        )
        assert room.status_code == 201, room.text
        return f"/community/rooms/{room.json()['id']}"


def _member_in_room(browser: Any, live_server: LiveServer, room: str, viewport: Any) -> Page:
    page = new_page(browser, live_server, viewport)
    page.goto("/signup")
    sign_up_on_page(page)
    expect(page.get_by_text("가입을 환영합니다!")).to_be_visible()
    page.goto(room)
    expect(page.get_by_role("heading", name="라운지")).to_be_visible()
    # the socket is open: from here on, sending does not post the form
    expect(page.locator("#chat-status")).to_have_text("실시간 연결됨")
    # a marker that a reload would wipe out
    page.evaluate("window.__samePage = true")
    return page


def _say(page: Page, text: str) -> None:
    field(page, "메시지").fill(text)
    page.get_by_role("button", name="보내기").click()


def test_a_message_appears_live_on_the_other_members_page(
    browser: Any, live_server: LiveServer, screenshot_dir: Path
) -> None:
    room = _room_by_api(live_server)
    first = _member_in_room(browser, live_server, room, DESKTOP)
    second = _member_in_room(browser, live_server, room, MOBILE)
    expect(first.locator("#chat-empty")).to_be_visible()

    _say(first, "오늘 한강 10km 뛰었어요 🏃")
    expect(second.locator("#chat-log .chat-body")).to_have_text(["오늘 한강 10km 뛰었어요 🏃"])
    expect(first.locator("#chat-log .chat-body")).to_have_text(["오늘 한강 10km 뛰었어요 🏃"])
    expect(first.locator("#f-chat-body")).to_have_value("")
    expect(second.locator("#chat-empty")).to_have_count(0)

    _say(second, "<b>대단해요</b> 다음엔 같이 뛰어요")
    expected = ["오늘 한강 10km 뛰었어요 🏃", "<b>대단해요</b> 다음엔 같이 뛰어요"]
    expect(first.locator("#chat-log .chat-body")).to_have_text(expected)
    expect(second.locator("#chat-log .chat-body")).to_have_text(expected)
    # shown as text, not markup
    expect(first.locator("#chat-log .chat-body b")).to_have_count(0)

    for page in (first, second):
        assert page.url.endswith(room)
        assert page.evaluate("window.__samePage") is True
    second.screenshot(path=str(screenshot_dir / "chat-room-mobile.png"), full_page=True)

    # what went over the socket is in the room's history for anyone who opens it later
    first.reload()
    expect(first.locator("#chat-log .chat-body")).to_have_text(expected)
    first.screenshot(path=str(screenshot_dir / "chat-room-desktop.png"), full_page=True)
    first.context.close()
    second.context.close()
