"""Who may open the console: staff with TOTP only; enrolment first, 403 for members, CSRF."""

from __future__ import annotations

import httpx
import pyotp
from tests.factories.accounts import DEFAULT_PASSWORD, unique_identity
from tests.web._console import console_login, enrol_on_console, staff_on_console
from tests.web._support import sign_up, submit, text_of

from jangteo.accounts import service
from jangteo.core.clock import FrozenClock
from jangteo.core.platform import Platform
from jangteo.web.session import CSRF_COOKIE


async def test_a_visitor_is_sent_to_the_console_log_in(client: httpx.AsyncClient) -> None:
    for path in ("/console", "/console/orders?status=paid", "/console/audit"):
        response = await client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/console/login?next=/console")

    page = await client.get("/console/login")
    assert page.status_code == 200
    assert "콘솔 로그인" in page.text and 'name="password"' in page.text


async def test_staff_without_totp_enrol_before_anything_else(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    email, nickname = unique_identity()
    await service.register_member(
        platform, email=email, password=DEFAULT_PASSWORD, nickname=nickname, roles={"staff"}
    )

    login = await console_login(client, email)
    assert login.status_code == 303 and login.headers["location"] == "/console/mfa"
    # every console page leads to the enrolment until it is done
    gated = await client.get("/console/orders")
    assert gated.status_code == 303 and gated.headers["location"] == "/console/mfa"
    intro = await client.get("/console/mfa")
    assert "인증 앱" in intro.text and nickname in intro.text

    started = await submit(client, "/console/mfa/start")
    assert 'src="data:image/svg+xml;base64,' in started.text  # the QR code
    wrong = await submit(client, "/console/mfa/confirm", {"code": "000000"})
    assert wrong.status_code == 403 and 'aria-invalid="true"' in wrong.text

    await enrol_on_console(client, platform)
    dashboard = await client.get("/console")
    assert dashboard.status_code == 200
    assert "대시보드" in dashboard.text and nickname in dashboard.text
    assert (await client.get("/console/mfa")).status_code == 303  # nothing left to enrol


async def test_staff_with_totp_log_in_with_the_code_of_their_app(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    staff = await staff_on_console(client, platform)
    out = await submit(client, "/console/logout")
    assert out.status_code == 303 and out.headers["location"] == "/console/login?notice=logged-out"
    assert (await client.get("/console")).status_code == 303

    first = await console_login(client, staff.email)
    assert first.status_code == 200
    assert "6자리 코드" in first.text and 'name="totp_code"' in first.text
    wrong = await console_login(client, staff.email, totp_code="123456")
    assert wrong.status_code == 401 and "인증 코드가 올바르지 않습니다" in text_of(wrong.text)

    clock.advance(seconds=30)  # the enrolment spent the current code
    code = pyotp.TOTP(staff.totp_secret).at(clock.now())
    done = await console_login(client, staff.email, totp_code=code)
    assert done.status_code == 303 and done.headers["location"] == "/console"
    assert (await client.get("/console/orders")).status_code == 200


async def test_members_get_the_staff_only_page(client: httpx.AsyncClient) -> None:
    member = await sign_up(client)

    page = await client.get("/console/orders")

    assert page.status_code == 403
    assert "운영자 전용" in page.text
    assert 'name="password"' not in page.text
    # logging in on the console's own page changes nothing
    await submit(client, "/logout")
    login = await console_login(client, member["email"], member["password"])
    assert login.status_code == 403 and "운영자 전용" in login.text


async def test_console_forms_refuse_a_post_without_the_csrf_token(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    await staff_on_console(client, platform)

    forged = await client.post("/console/brands", data={"name": "가짜 브랜드"})
    wrong = await client.post(
        "/console/brands", data={"name": "가짜 브랜드", "csrf_token": "x" * 40}
    )

    assert forged.status_code == 403 and wrong.status_code == 403
    assert "요청이 만료되었습니다" in text_of(forged.text) or CSRF_COOKIE in client.cookies
    brands = await client.get("/console/brands")
    assert "가짜 브랜드" not in brands.text
    made = await submit(client, "/console/brands", {"name": "진짜 브랜드"})
    assert made.status_code == 303
    assert "진짜 브랜드" in (await client.get("/console/brands")).text


async def test_the_console_speaks_english_on_request(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    await staff_on_console(client, platform)

    english = await client.get("/console?lang=en")

    assert english.status_code == 200
    assert "Dashboard" in english.text and "New members" in english.text
    assert "대시보드" not in english.text
