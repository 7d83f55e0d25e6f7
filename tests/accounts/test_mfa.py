"""TOTP enrolment, log-in with a second factor, recovery codes, and MFA for staff."""

from __future__ import annotations

import httpx
import pyotp
from tests.accounts._support import audit_actions, claims
from tests.factories.accounts import Member, enrol_totp, log_in, make_staff, signup_member

from jangteo.core.clock import FrozenClock
from jangteo.core.platform import Platform

TOTP = "/api/v1/me/mfa/totp"


def code_now(member: Member, clock: FrozenClock, *, offset_steps: int = 0) -> str:
    assert member.totp_secret is not None
    return pyotp.TOTP(member.totp_secret).at(clock.now(), counter_offset=offset_steps)


async def test_enrolment_shows_a_secret_uri_and_qr_code(client: httpx.AsyncClient) -> None:
    member = await signup_member(client)

    start = await client.post(TOTP, headers=member.headers)

    assert start.status_code == 200
    body = start.json()
    assert len(body["secret"]) >= 16
    assert body["otpauth_uri"].startswith("otpauth://totp/jangteo:")
    assert "issuer=jangteo" in body["otpauth_uri"]
    assert f"secret={body['secret']}" in body["otpauth_uri"]
    assert body["qr_svg"].startswith("<svg")
    # not active until confirmed: log-in still needs no code
    assert (await log_in(client, member.email, member.password)).status_code == 200
    assert (await client.get("/api/v1/me", headers=member.headers)).json()["mfa_enabled"] is False


async def test_confirming_enables_mfa_with_recovery_codes_and_mfa_tokens(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    member = await signup_member(client)
    secret = (await client.post(TOTP, headers=member.headers)).json()["secret"]

    wrong = await client.post(f"{TOTP}/confirm", json={"code": "000000"}, headers=member.headers)
    confirm = await client.post(
        f"{TOTP}/confirm",
        json={"code": pyotp.TOTP(secret).at(clock.now())},
        headers=member.headers,
    )

    assert (wrong.status_code, wrong.json()["code"]) == (403, "wrong-mfa-code")
    assert confirm.status_code == 200
    body = confirm.json()
    assert len(body["recovery_codes"]) == len(set(body["recovery_codes"])) == 10
    assert claims(body["access_token"])["mfa"] is True
    assert body["member"]["mfa_enabled"] is True
    assert claims(member.access_token)["sid"] == claims(body["access_token"])["sid"]
    # the refresh token from before the confirmation is retired
    stale = await client.post("/api/v1/auth/refresh", json={"refresh_token": member.refresh_token})
    assert stale.status_code == 401
    assert "member.mfa_enabled" in await audit_actions(platform, member.id)


async def test_confirm_needs_a_started_enrolment_and_happens_once(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    member = await signup_member(client)

    early = await client.post(f"{TOTP}/confirm", json={"code": "123456"}, headers=member.headers)
    await enrol_totp(platform, client, member)
    again = await client.post(TOTP, headers=member.headers)

    assert (early.status_code, early.json()["code"]) == (409, "mfa-not-enrolling")
    assert (again.status_code, again.json()["code"]) == (409, "mfa-already-enabled")


async def test_login_with_mfa_needs_a_fresh_code(
    platform: Platform, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    member = await signup_member(client)
    await enrol_totp(platform, client, member)
    clock.advance(seconds=30)

    no_code = await log_in(client, member.email, member.password)
    wrong_code = await log_in(client, member.email, member.password, totp_code="123456")
    letters = await log_in(client, member.email, member.password, totp_code="abcdef")
    good = await log_in(client, member.email, member.password, totp_code=code_now(member, clock))
    replay = await log_in(client, member.email, member.password, totp_code=code_now(member, clock))

    assert (no_code.status_code, no_code.json()["code"]) == (401, "mfa-code-required")
    assert (wrong_code.status_code, wrong_code.json()["code"]) == (401, "invalid-mfa-code")
    assert letters.json()["code"] == "invalid-mfa-code"
    assert good.status_code == 200
    assert claims(good.json()["access_token"])["mfa"] is True
    assert (replay.status_code, replay.json()["code"]) == (401, "invalid-mfa-code")
    clock.advance(seconds=30)
    later = await log_in(client, member.email, member.password, totp_code=code_now(member, clock))
    assert later.status_code == 200


async def test_wrong_password_is_checked_before_the_second_factor(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    member = await signup_member(client)
    await enrol_totp(platform, client, member)

    response = await log_in(client, member.email, "not-the-password")

    assert response.json()["code"] == "invalid-credentials"


async def test_codes_one_step_away_are_accepted_and_older_ones_are_not(
    platform: Platform, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    member = await signup_member(client)
    await enrol_totp(platform, client, member)
    clock.advance(minutes=5)

    too_old = await log_in(
        client, member.email, member.password, totp_code=code_now(member, clock, offset_steps=-2)
    )
    previous = await log_in(
        client, member.email, member.password, totp_code=code_now(member, clock, offset_steps=-1)
    )
    # a code older than one already used is spent too, even within the window
    clock.advance(seconds=30)
    before_used = await log_in(
        client, member.email, member.password, totp_code=code_now(member, clock, offset_steps=-2)
    )
    upcoming = await log_in(
        client, member.email, member.password, totp_code=code_now(member, clock, offset_steps=1)
    )

    assert too_old.status_code == 401
    assert previous.status_code == 200
    assert before_used.status_code == 401
    assert upcoming.status_code == 200


async def test_recovery_codes_work_once_each(platform: Platform, client: httpx.AsyncClient) -> None:
    member = await signup_member(client)
    await enrol_totp(platform, client, member)
    first, second = member.recovery_codes[:2]

    used = await log_in(client, member.email, member.password, recovery_code=first)
    reused = await log_in(client, member.email, member.password, recovery_code=first)
    # typed in lower case and without the dash, it is the same code
    relaxed = await log_in(
        client, member.email, member.password, recovery_code=second.lower().replace("-", "")
    )
    made_up = await log_in(client, member.email, member.password, recovery_code="AAAAA-BBBBB")

    assert used.status_code == 200
    assert claims(used.json()["access_token"])["mfa"] is True
    assert (reused.status_code, reused.json()["code"]) == (401, "invalid-mfa-code")
    assert relaxed.status_code == 200
    assert made_up.status_code == 401


async def test_member_disables_mfa_with_a_code(
    platform: Platform, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    member = await signup_member(client)
    await enrol_totp(platform, client, member)
    clock.advance(seconds=30)

    wrong = await client.request("DELETE", TOTP, json={"code": "000000"}, headers=member.headers)
    disabled = await client.request(
        "DELETE", TOTP, json={"code": code_now(member, clock)}, headers=member.headers
    )
    again = await client.request(
        "DELETE", TOTP, json={"code": code_now(member, clock)}, headers=member.headers
    )

    assert (wrong.status_code, wrong.json()["code"]) == (403, "wrong-mfa-code")
    assert disabled.status_code == 200
    assert disabled.json()["mfa_enabled"] is False
    assert (again.status_code, again.json()["code"]) == (409, "mfa-not-enabled")
    plain = await log_in(client, member.email, member.password)
    assert plain.status_code == 200
    assert claims(plain.json()["access_token"])["mfa"] is False
    assert "member.mfa_disabled" in await audit_actions(platform, member.id)


async def test_member_disables_mfa_with_a_recovery_code(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    member = await signup_member(client)
    await enrol_totp(platform, client, member)

    disabled = await client.request(
        "DELETE", TOTP, json={"code": member.recovery_codes[0]}, headers=member.headers
    )

    assert disabled.status_code == 200
    assert disabled.json()["mfa_enabled"] is False


async def test_staff_admin_and_creators_cannot_turn_mfa_off(
    platform: Platform, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    for roles in (("staff",), ("admin",), ("creator",)):
        person = await make_staff(platform, client, roles=roles)
        clock.advance(seconds=30)

        refused = await client.request(
            "DELETE", TOTP, json={"code": code_now(person, clock)}, headers=person.headers
        )

        assert (refused.status_code, refused.json()["code"]) == (409, "mfa-required-for-role")
        assert (await client.get("/api/v1/me", headers=person.headers)).json()["mfa_enabled"]


async def test_staff_without_mfa_is_refused_until_enrolled(
    platform: Platform, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    staff = await make_staff(platform, client, mfa=False)
    member = await signup_member(client)

    before = await client.get("/api/v1/admin/members", headers=staff.headers)
    as_member = await client.get("/api/v1/admin/members", headers=member.headers)

    assert (before.status_code, before.json()["code"]) == (403, "mfa-required")
    assert (as_member.status_code, as_member.json()["code"]) == (403, "forbidden")
    await enrol_totp(platform, client, staff)
    after = await client.get("/api/v1/admin/members", headers=staff.headers)
    assert after.status_code == 200
    # and a later log-in asks for the code, whose token is privileged again
    clock.advance(seconds=30)
    assert (await log_in(client, staff.email, staff.password)).json()["code"] == "mfa-code-required"
    login = await log_in(client, staff.email, staff.password, totp_code=code_now(staff, clock))
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert (await client.get("/api/v1/admin/members", headers=headers)).status_code == 200


async def test_refresh_keeps_the_mfa_state_of_the_session(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    staff = await make_staff(platform, client)

    renewed = await client.post("/api/v1/auth/refresh", json={"refresh_token": staff.refresh_token})

    assert renewed.status_code == 200
    token = claims(renewed.json()["access_token"])
    assert token["mfa"] is True and "staff" in token["roles"]
