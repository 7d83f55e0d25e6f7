"""Sign-up, log-in with the TOTP step, log-out, sessions and two-factor enrolment pages."""

from __future__ import annotations

import re

import httpx
import pyotp
from tests.factories.accounts import signup_member
from tests.web._support import PASSWORD, log_in, sign_up, submit, text_of, unique_member

from jangteo.core.clock import FrozenClock
from jangteo.core.platform import Platform


async def test_sign_up_logs_in_and_welcomes_the_member(client: httpx.AsyncClient) -> None:
    email, nickname = unique_member()
    response = await submit(
        client,
        "/signup",
        {
            "email": email,
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "nickname": nickname,
            "next": "/my/orders",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/my/orders?notice=signed-up"
    page = await client.get(response.headers["location"])
    assert page.status_code == 200
    assert "가입을 환영합니다!" in page.text and "로그아웃" in page.text


async def test_sign_up_form_shows_the_apis_field_errors_in_korean(
    client: httpx.AsyncClient,
) -> None:
    empty = await submit(client, "/signup", {"email": "", "password": "", "nickname": ""})
    assert empty.status_code == 422
    assert text_of(empty.text).count("필수 입력 항목입니다.") == 3
    assert empty.text.count('aria-invalid="true"') == 3

    email, _ = unique_member()
    long_text = await submit(
        client,
        "/signup",
        {
            "email": email,
            "password": "short",
            "password_confirm": "short",
            "nickname": "가" * 21,
        },
    )
    page = text_of(long_text.text)
    assert "10자 이상 입력해 주세요." in page
    assert "20자 이하로 입력해 주세요." in page
    assert f'value="{email}"' in long_text.text  # what was typed stays, except passwords
    assert 'value="short"' not in long_text.text


async def test_sign_up_refuses_mismatched_passwords_and_taken_emails(
    client: httpx.AsyncClient,
) -> None:
    email, nickname = unique_member()
    mismatch = await submit(
        client,
        "/signup",
        {
            "email": email,
            "password": PASSWORD,
            "password_confirm": "x" + PASSWORD,
            "nickname": nickname,
        },
    )
    assert mismatch.status_code == 422
    assert "비밀번호가 서로 다릅니다." in mismatch.text

    taken = await signup_member(client)
    duplicate = await submit(
        client,
        "/signup",
        {
            "email": taken.email,
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "nickname": nickname,
        },
    )
    assert duplicate.status_code == 409
    assert "이미 가입된 이메일" in duplicate.text


async def test_log_in_errors_and_html_in_input_is_escaped(client: httpx.AsyncClient) -> None:
    wrong = await log_in(client, "<b>nobody</b>@example.com", "wrong-password-1")
    assert wrong.status_code == 401
    assert "이메일 또는 비밀번호가 올바르지 않습니다." in wrong.text
    assert "<b>nobody</b>" not in wrong.text and "&lt;b&gt;nobody" in wrong.text

    empty = await submit(client, "/login", {"email": "", "password": ""})
    assert empty.status_code == 422
    assert text_of(empty.text).count("필수 입력 항목입니다.") == 2


async def test_log_in_follows_only_local_next_paths(client: httpx.AsyncClient) -> None:
    member = await signup_member(client)
    for given, expected in [
        ("/my/wallet", "/my/wallet"),
        ("https://evil.example/", "/"),
        ("//evil.example", "/"),
    ]:
        client.cookies.clear()
        response = await submit(
            client, "/login", {"email": member.email, "password": PASSWORD, "next": given}
        )
        assert response.status_code == 303
        assert response.headers["location"] == expected


async def test_log_out_ends_the_session(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    access = client.cookies["jt_access"]

    response = await submit(client, "/logout")

    assert response.status_code == 303
    assert "jt_access" not in client.cookies and "jt_refresh" not in client.cookies
    api = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {access}"})
    assert api.status_code == 401
    assert (await client.get("/my/orders")).status_code == 303


async def test_two_factor_enrolment_then_log_in_asks_for_the_code(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    member = await sign_up(client)
    security = await client.get("/my/security")
    assert "2단계 인증 설정하기" in security.text

    started = await submit(client, "/my/security/mfa/start")
    assert started.status_code == 200
    assert re.search(r'<img class="qr" src="data:image/svg\+xml;base64,[^"]+"', started.text)
    assert 'alt="인증 앱 등록용 QR 코드"' in started.text
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', started.text).group(1)  # type: ignore[union-attr]
    hidden = {
        name: re.search(rf'name="{name}" value="([^"]*)"', started.text).group(1)  # type: ignore[union-attr]
        for name in ("secret", "otpauth_uri", "qr")
    }

    wrong = await submit(client, "/my/security/mfa/confirm", {**hidden, "code": "000000"})
    assert wrong.status_code == 403
    assert "인증 코드가 올바르지 않습니다." in wrong.text
    assert 'class="qr"' in wrong.text  # the QR code is still there for a second try

    code = pyotp.TOTP(secret).at(clock.now())
    confirmed = await submit(client, "/my/security/mfa/confirm", {**hidden, "code": code})
    assert confirmed.status_code == 200
    assert "2단계 인증이 켜졌습니다." in confirmed.text
    assert len(re.findall(r"<li><code>", confirmed.text)) == 10

    await submit(client, "/logout")
    clock.advance(seconds=60)
    first = await log_in(client, member["email"])
    assert first.status_code == 200
    assert "인증 앱에 표시된 6자리 코드를 입력해 주세요." in first.text
    assert "jt_access" not in client.cookies

    bad = await submit(
        client,
        "/login",
        {"email": member["email"], "password": PASSWORD, "totp_code": "123456"},
    )
    assert bad.status_code == 401 and "인증 코드가 올바르지 않습니다." in bad.text

    second = await submit(
        client,
        "/login",
        {
            "email": member["email"],
            "password": PASSWORD,
            "totp_code": pyotp.TOTP(secret).at(clock.now()),
            "next": "/my/security",
        },
    )
    assert second.status_code == 303 and second.headers["location"] == "/my/security"
    assert "사용 중" in (await client.get("/my/security")).text


async def test_sessions_list_and_revoking_another_device(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await sign_up(client)
    other_device = await client.post(
        "/api/v1/auth/token",
        json={"email": member["email"], "password": PASSWORD},
        headers={"User-Agent": "Other-Phone/1.0"},
    )
    other_access = other_device.json()["access_token"]

    page = await client.get("/my/security")
    assert "Other-Phone/1.0" in page.text and "현재 기기" in page.text
    other_id = re.search(
        r'Other-Phone/1.0</strong>.*?action="/my/security/sessions/([0-9a-f-]{36})/revoke"',
        page.text,
        re.S,
    ).group(1)  # type: ignore[union-attr]

    revoked = await submit(client, f"/my/security/sessions/{other_id}/revoke")
    assert revoked.status_code == 303
    api = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {other_access}"})
    assert api.status_code == 401
    assert (await client.get("/my/security")).status_code == 200  # this device stays in

    unknown = await submit(
        client, "/my/security/sessions/01900000-0000-7000-8000-000000000000/revoke"
    )
    assert unknown.status_code == 404
