"""Signing up, logging in and the member's own profile."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from tests.accounts._support import claims, own_app
from tests.conftest import Backend
from tests.factories.accounts import DEFAULT_PASSWORD, log_in, signup_member, unique_identity

from jangteo.accounts.models import Member as MemberRow
from jangteo.core.clock import FrozenClock
from jangteo.core.platform import Platform

SIGNUP = "/api/v1/auth/signup"


def signup_body(**changes: object) -> dict[str, object]:
    email, nickname = unique_identity()
    return {"email": email, "password": DEFAULT_PASSWORD, "nickname": nickname, **changes}


async def test_signup_answers_the_member_without_tokens(client: httpx.AsyncClient) -> None:
    response = await client.post(
        SIGNUP,
        json={
            "email": "  Kim.Minji@Example.COM ",
            "password": "비밀번호는-열글자-이상",
            "nickname": "민지",
        },
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == "kim.minji@example.com"
    assert body["nickname"] == "민지"
    assert body["roles"] == ["member"]
    assert body["mfa_enabled"] is False
    assert body["status"] == "active"
    assert "access_token" not in body
    login = await log_in(client, "KIM.MINJI@example.com", "비밀번호는-열글자-이상")
    assert login.status_code == 200
    assert login.json()["member"]["id"] == body["id"]


async def test_duplicate_email_and_nickname_are_409(client: httpx.AsyncClient) -> None:
    first = await client.post(SIGNUP, json=signup_body(email="dup@example.com", nickname="Jang"))
    assert first.status_code == 201

    same_email = await client.post(SIGNUP, json=signup_body(email="DUP@example.com"))
    same_nickname = await client.post(SIGNUP, json=signup_body(nickname="jang"))

    assert same_email.status_code == 409
    assert same_email.json()["code"] == "email-taken"
    assert same_nickname.status_code == 409
    assert same_nickname.json()["code"] == "nickname-taken"


async def test_concurrent_signups_with_one_email_create_one_member(
    client: httpx.AsyncClient,
) -> None:
    bodies = [signup_body(email="race@example.com") for _ in range(6)]

    responses = await asyncio.gather(*(client.post(SIGNUP, json=body) for body in bodies))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409, 409, 409, 409, 409]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"email-taken"}


@pytest.mark.parametrize(
    "email",
    ["not-an-email", "a@b", "@example.com", "kim@", "kim minji@example.com", "x" * 250 + "@ex.com"],
)
async def test_bad_email_is_422(client: httpx.AsyncClient, email: str) -> None:
    response = await client.post(SIGNUP, json=signup_body(email=email))

    assert response.status_code == 422
    assert response.json()["code"] == "validation-error"
    assert response.json()["errors"][0]["pointer"] == "/body/email"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("password", "short-pw9"),  # 9 characters
        ("password", "p" * 129),
        ("password", 12345678901),
        ("nickname", "민"),
        ("nickname", "닉" * 21),
        ("nickname", None),
        ("email", ["a@example.com"]),
    ],
)
async def test_signup_rules_are_422(client: httpx.AsyncClient, field: str, value: object) -> None:
    response = await client.post(SIGNUP, json=signup_body(**{field: value}))

    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == f"/body/{field}"


async def test_blank_or_invisible_nicknames_are_refused(client: httpx.AsyncClient) -> None:
    blank = await client.post(SIGNUP, json=signup_body(nickname="     "))
    invisible = await client.post(SIGNUP, json=signup_body(nickname="장\u200b터"))

    assert (blank.status_code, blank.json()["code"]) == (422, "invalid-input")
    assert (invisible.status_code, invisible.json()["code"]) == (422, "invalid-input")


async def test_password_of_exactly_ten_characters_is_enough(client: httpx.AsyncClient) -> None:
    response = await client.post(SIGNUP, json=signup_body(password="0123456789"))

    assert response.status_code == 201


async def test_signup_refuses_unknown_fields_and_malformed_json(client: httpx.AsyncClient) -> None:
    extra = await client.post(SIGNUP, json=signup_body(roles=["admin"]))
    malformed = await client.post(
        SIGNUP, content=b'{"email": "a@example.com",', headers={"content-type": "application/json"}
    )

    assert extra.status_code == 422
    assert malformed.status_code == 400
    assert malformed.json()["code"] == "malformed-json"


@pytest.mark.parametrize(
    "nickname", ["<b>장터</b>🙂", "x' OR '1'='1", "🙂🙂", "캐시미어니트러버😍", "<script>"]
)
async def test_emoji_html_and_sql_nicknames_are_kept_as_text(
    client: httpx.AsyncClient, nickname: str
) -> None:
    member = await signup_member(client, nickname=nickname)

    me = await client.get("/api/v1/me", headers=member.headers)

    assert me.json()["nickname"] == nickname


async def test_login_answers_tokens_and_the_member(client: httpx.AsyncClient) -> None:
    member = await signup_member(client)

    response = await log_in(client, member.email, member.password)

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert body["refresh_token"] and body["access_token"]
    assert body["member"] == {
        "id": member.id,
        "email": member.email,
        "nickname": member.nickname,
        "roles": ["member"],
        "mfa_enabled": False,
    }
    token = claims(body["access_token"])
    assert (token["sub"], token["roles"], token["mfa"]) == (member.id, ["member"], False)
    assert token["exp"] - token["iat"] == 900


async def test_wrong_password_and_unknown_email_answer_alike(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    burned: list[bool] = []
    real_burn = platform.hasher.burn

    async def counting_burn() -> None:
        burned.append(True)
        await real_burn()

    platform.hasher.burn = counting_burn  # type: ignore[method-assign]

    wrong = await log_in(client, member.email, "wrong-password-123")
    unknown = await log_in(client, "nobody@example.com", "wrong-password-123")

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["code"] == unknown.json()["code"] == "invalid-credentials"
    assert wrong.json()["title"] == unknown.json()["title"]
    assert wrong.headers["www-authenticate"] == "Bearer"
    assert burned == [True]  # the unknown email still cost a hash


async def test_login_refuses_bad_input(client: httpx.AsyncClient) -> None:
    missing = await client.post("/api/v1/auth/token", json={"email": "a@example.com"})
    wrong_type = await client.post("/api/v1/auth/token", json={"email": 1, "password": 2})
    huge = await log_in(client, "a@example.com", "p" * 10_000)

    assert missing.status_code == wrong_type.status_code == huge.status_code == 422


async def test_me_needs_a_valid_token(client: httpx.AsyncClient) -> None:
    anonymous = await client.get("/api/v1/me")
    garbage = await client.get("/api/v1/me", headers={"Authorization": "Bearer not.a.token"})

    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "unauthenticated")
    assert (garbage.status_code, garbage.json()["code"]) == (401, "invalid-token")


async def test_member_changes_nickname(client: httpx.AsyncClient) -> None:
    member = await signup_member(client)
    other = await signup_member(client)

    changed = await client.patch(
        "/api/v1/me", json={"nickname": "새닉네임🙂"}, headers=member.headers
    )
    taken = await client.patch(
        "/api/v1/me", json={"nickname": other.nickname.upper()}, headers=member.headers
    )
    too_long = await client.patch(
        "/api/v1/me", json={"nickname": "가" * 21}, headers=member.headers
    )
    extra = await client.patch(
        "/api/v1/me",
        json={"nickname": "괜찮아요", "email": "x@example.com"},
        headers=member.headers,
    )

    assert changed.status_code == 200
    assert changed.json()["nickname"] == "새닉네임🙂"
    assert (taken.status_code, taken.json()["code"]) == (409, "nickname-taken")
    assert too_long.status_code == extra.status_code == 422
    me = await client.get("/api/v1/me", headers=member.headers)
    assert me.json()["nickname"] == "새닉네임🙂"
    assert me.json()["email"] == member.email


async def test_keeping_ones_own_nickname_is_allowed(client: httpx.AsyncClient) -> None:
    member = await signup_member(client, nickname="그대로")

    same = await client.patch("/api/v1/me", json={"nickname": "그대로"}, headers=member.headers)

    assert same.status_code == 200


async def test_login_rehashes_a_password_hashed_with_old_parameters(
    backend: Backend, tmp_path: Path, clock: FrozenClock
) -> None:
    email, nickname = unique_identity()
    async with own_app(backend, tmp_path, clock) as (_, client):
        await signup_member(client, email=email, nickname=nickname)

    async with own_app(backend, tmp_path, clock, argon2_time_cost=2) as (platform, client):
        response = await log_in(client, email, DEFAULT_PASSWORD)
        assert response.status_code == 200
        async with platform.db.read() as session:
            stored = await session.scalar(
                select(MemberRow.password_hash).where(MemberRow.email == email)
            )
        assert stored is not None and ",t=2," in stored
        # the new hash still checks out
        assert (await log_in(client, email, DEFAULT_PASSWORD)).status_code == 200


async def test_new_members_get_the_welcome_points_once(
    backend: Backend, tmp_path: Path, clock: FrozenClock
) -> None:
    async with own_app(backend, tmp_path, clock, signup_bonus_points=2000) as (_, client):
        member = await signup_member(client)
        wallet = await client.get("/api/v1/me/wallet", headers=member.headers)
        assert wallet.json()["balance"] == 2000
        entries = await client.get("/api/v1/me/wallet/entries", headers=member.headers)
        assert [e["amount"] for e in entries.json()["items"]] == [2000]
