"""Log-in throttling per account and per IP, with small limits set for these tests."""

from __future__ import annotations

from pathlib import Path

from tests.accounts._support import own_app
from tests.conftest import Backend
from tests.factories.accounts import enrol_totp, log_in, signup_member

from jangteo.core.clock import FrozenClock


async def test_failures_per_account_lead_to_429_with_retry_after(
    backend: Backend, tmp_path: Path, clock: FrozenClock
) -> None:
    async with own_app(backend, tmp_path, clock, login_max_failures_per_account=3) as (_, client):
        member = await signup_member(client)

        failures = [await log_in(client, member.email, "wrong-password!") for _ in range(3)]
        blocked = await log_in(client, member.email, member.password)
        other_case = await log_in(client, member.email.upper(), member.password)

        assert [r.status_code for r in failures] == [401, 401, 401]
        assert (blocked.status_code, blocked.json()["code"]) == (429, "rate-limited")
        assert 0 < int(blocked.headers["retry-after"]) <= 15 * 60
        # the same account however its address is typed
        assert other_case.status_code == 429
        # other accounts are not affected by this account's limit
        stranger = await signup_member(client)
        assert (await log_in(client, stranger.email, stranger.password)).status_code == 200


async def test_a_successful_login_resets_the_account_counter(
    backend: Backend, tmp_path: Path, clock: FrozenClock
) -> None:
    async with own_app(backend, tmp_path, clock, login_max_failures_per_account=3) as (_, client):
        member = await signup_member(client)

        for _ in range(2):
            assert (await log_in(client, member.email, "wrong-password!")).status_code == 401
        assert (await log_in(client, member.email, member.password)).status_code == 200
        for _ in range(2):
            assert (await log_in(client, member.email, "wrong-password!")).status_code == 401

        assert (await log_in(client, member.email, member.password)).status_code == 200


async def test_failures_per_ip_block_every_account_from_that_ip(
    backend: Backend, tmp_path: Path, clock: FrozenClock
) -> None:
    settings = {"login_max_failures_per_ip": 4, "login_max_failures_per_account": 100}
    async with own_app(backend, tmp_path, clock, **settings) as (_, client):
        member = await signup_member(client)

        for n in range(4):
            response = await log_in(client, f"guess{n}@example.com", "wrong-password!")
            assert response.json()["code"] == "invalid-credentials"
        blocked = await log_in(client, member.email, member.password)

        assert (blocked.status_code, blocked.json()["code"]) == (429, "rate-limited")
        assert "retry-after" in blocked.headers

    # the same account from another address is still welcome
    async with own_app(backend, tmp_path, clock, client_ip="198.51.100.9", **settings) as (
        _,
        client,
    ):
        assert (await log_in(client, member.email, member.password)).status_code == 200


async def test_wrong_mfa_codes_count_as_failures(
    backend: Backend, tmp_path: Path, clock: FrozenClock
) -> None:
    async with own_app(backend, tmp_path, clock, login_max_failures_per_account=3) as (
        platform,
        client,
    ):
        member = await signup_member(client)
        await enrol_totp(platform, client, member)

        # asking for the second step is not a failure
        for _ in range(4):
            asked = await log_in(client, member.email, member.password)
            assert asked.json()["code"] == "mfa-code-required"
        for _ in range(3):
            wrong = await log_in(client, member.email, member.password, totp_code="000000")
            assert wrong.json()["code"] == "invalid-mfa-code"
        blocked = await log_in(client, member.email, member.password, recovery_code="X")

        assert blocked.status_code == 429
