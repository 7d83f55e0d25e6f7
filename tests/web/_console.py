"""Helpers of the console page tests: staff made through the service, logged in and enrolled in
TOTP through the console's own pages (as a browser would), with the client's cookies."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
import pyotp
from tests.factories.accounts import DEFAULT_PASSWORD, unique_identity
from tests.web._support import submit

from jangteo.accounts import service
from jangteo.core.platform import Platform


@dataclass
class ConsoleStaff:
    id: str
    email: str
    nickname: str
    totp_secret: str


def secret_on_page(html: str) -> str:
    found = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', html)
    assert found, "no TOTP secret on the page"
    return found.group(1)


async def console_login(
    client: httpx.AsyncClient, email: str, password: str = DEFAULT_PASSWORD, **extra: str
) -> httpx.Response:
    return await submit(
        client,
        "/console/login",
        {"email": email, "password": password, "next": "/console", **extra},
    )


async def enrol_on_console(client: httpx.AsyncClient, platform: Platform) -> str:
    """Go through the console's enrolment pages; the TOTP secret the page showed."""
    started = await submit(client, "/console/mfa/start")
    assert started.status_code == 200, started.text
    secret = secret_on_page(started.text)
    code = pyotp.TOTP(secret).at(platform.clock.now())
    confirmed = await submit(
        client,
        "/console/mfa/confirm",
        {"code": code, "secret": secret, "otpauth_uri": "", "qr": ""},
    )
    assert confirmed.status_code == 200, confirmed.text
    assert "복구 코드" in confirmed.text
    return secret


async def staff_on_console(
    client: httpx.AsyncClient, platform: Platform, *, roles: tuple[str, ...] = ("staff",)
) -> ConsoleStaff:
    """A staff member (or admin) logged in to the console with TOTP on `client`."""
    email, nickname = unique_identity()
    profile = await service.register_member(
        platform, email=email, password=DEFAULT_PASSWORD, nickname=nickname, roles=set(roles)
    )
    login = await console_login(client, email)
    assert login.status_code == 303 and login.headers["location"] == "/console/mfa", login.text
    secret = await enrol_on_console(client, platform)
    return ConsoleStaff(id=str(profile.id), email=email, nickname=nickname, totp_secret=secret)


def staff_headers(client: httpx.AsyncClient) -> dict[str, str]:
    """The API's Authorization header of whoever is logged in on this client."""
    return {"Authorization": f"Bearer {client.cookies['jt_access']}"}
