"""Members, staff and points for tests: explicit async functions, no fixture chains."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field

import httpx
import pyotp

from jangteo.accounts import service
from jangteo.core.ids import uuid7
from jangteo.core.platform import Platform

DEFAULT_PASSWORD = "correct-horse-42"
_sequence = itertools.count(1)


@dataclass
class Member:
    """A signed-up, logged-in member as a test sees it through the API."""

    id: str
    email: str
    password: str
    nickname: str
    access_token: str
    refresh_token: str
    headers: dict[str, str] = field(default_factory=dict)
    # set when the member enrolled in TOTP (staff made by make_staff)
    totp_secret: str | None = None
    recovery_codes: list[str] = field(default_factory=list)

    def use_tokens(self, body: dict[str, object]) -> None:
        """Take the tokens of a login, refresh or MFA confirmation answer."""
        self.access_token = str(body["access_token"])
        self.refresh_token = str(body["refresh_token"])
        self.headers = {"Authorization": f"Bearer {self.access_token}"}


def unique_identity() -> tuple[str, str]:
    """An email and a nickname (≤ 20 chars) no other test member has."""
    n = next(_sequence)
    tag = uuid.uuid4().hex[:6]
    return f"member{n}-{tag}@example.com", f"회원{n}{tag}"[:20]


async def log_in(
    client: httpx.AsyncClient, email: str, password: str, **extra: str
) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/token", json={"email": email, "password": password, **extra}
    )


async def signup_member(
    client: httpx.AsyncClient,
    *,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    nickname: str | None = None,
) -> Member:
    """Sign up and log in through the API; unique email and nickname unless given."""
    default_email, default_nickname = unique_identity()
    email = email or default_email
    nickname = nickname or default_nickname
    signup = await client.post(
        "/api/v1/auth/signup", json={"email": email, "password": password, "nickname": nickname}
    )
    assert signup.status_code == 201, signup.text
    login = await log_in(client, email, password)
    assert login.status_code == 200, login.text
    body = login.json()
    member = Member(
        id=signup.json()["id"],
        email=signup.json()["email"],
        password=password,
        nickname=nickname,
        access_token="",
        refresh_token="",
    )
    member.use_tokens(body)
    return member


async def enrol_totp(platform: Platform, client: httpx.AsyncClient, member: Member) -> None:
    """Enable TOTP for a logged-in member through the API; their tokens then carry mfa=True.

    The code used for confirmation is spent: a later TOTP log-in must move the clock on by 30 s.
    """
    start = await client.post("/api/v1/me/mfa/totp", headers=member.headers)
    assert start.status_code == 200, start.text
    secret = start.json()["secret"]
    code = pyotp.TOTP(secret).at(platform.clock.now())
    confirm = await client.post(
        "/api/v1/me/mfa/totp/confirm", json={"code": code}, headers=member.headers
    )
    assert confirm.status_code == 200, confirm.text
    body = confirm.json()
    member.totp_secret = secret
    member.recovery_codes = list(body["recovery_codes"])
    member.use_tokens(body)


async def make_staff(
    platform: Platform,
    client: httpx.AsyncClient,
    *,
    roles: tuple[str, ...] = ("staff",),
    mfa: bool = True,
) -> Member:
    """A member with `roles` (e.g. ("staff",), ("admin",), ("creator",)), created through the
    service, logged in and (unless mfa=False) enrolled in TOTP so the token has mfa=True."""
    email, nickname = unique_identity()
    await service.register_member(
        platform,
        email=email,
        password=DEFAULT_PASSWORD,
        nickname=nickname,
        roles=set(roles),
    )
    login = await log_in(client, email, DEFAULT_PASSWORD)
    assert login.status_code == 200, login.text
    body = login.json()
    member = Member(
        id=body["member"]["id"],
        email=email,
        password=DEFAULT_PASSWORD,
        nickname=nickname,
        access_token="",
        refresh_token="",
    )
    member.use_tokens(body)
    if mfa:
        await enrol_totp(platform, client, member)
    return member


async def grant_points(
    platform: Platform,
    member_id: str | uuid.UUID,
    amount: int,
    reference: str | None = None,
) -> int:
    """Credit points to a member through the service; returns the new balance."""
    async with platform.db.write() as session:
        return await service.credit_points(
            session,
            platform.clock,
            member_id=uuid.UUID(str(member_id)),
            amount=amount,
            reason="test-grant",
            reference=reference or f"test-grant:{uuid7()}",
        )
