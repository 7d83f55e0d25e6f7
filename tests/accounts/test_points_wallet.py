"""The points wallet: credits, debits, references applied once, FIFO expiry, staff adjustments."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from tests.accounts._support import audit_actions, ledger_state
from tests.factories.accounts import Member, grant_points, make_staff, signup_member

from jangteo.accounts import service
from jangteo.accounts.schemas import WalletEntryOut, WalletOut
from jangteo.core.clock import FrozenClock
from jangteo.core.errors import DomainError, InvalidInput, NotFound
from jangteo.core.platform import Platform

WALLET = "/api/v1/me/wallet"


async def debit(platform: Platform, member_id: str, amount: int, reference: str) -> int:
    async with platform.db.write() as session:
        return await service.debit_points(
            session,
            platform.clock,
            member_id=uuid.UUID(member_id),
            amount=amount,
            reason="order",
            reference=reference,
        )


async def credit(
    platform: Platform, member_id: str, amount: int, reference: str, *, days: int = 365
) -> int:
    async with platform.db.write() as session:
        return await service.credit_points(
            session,
            platform.clock,
            member_id=uuid.UUID(member_id),
            amount=amount,
            reason="reward",
            reference=reference,
            expires_at=platform.clock.now() + timedelta(days=days),
        )


async def read_wallet(platform: Platform, member: Member, path: str = "") -> dict[str, Any]:
    """What GET /me/wallet (or /entries) answers, built by the same service call and schema.

    Used once the frozen clock has moved days ahead of real time: core's token check still
    compares `iat` with the wall clock then (reported to the lead), so no token is accepted.
    """
    member_id = uuid.UUID(member.id)
    async with platform.db.read() as session:
        if path == "/entries":
            views, _ = await service.list_wallet_entries(session, member_id, limit=100, cursor=None)
            return {
                "items": [WalletEntryOut.model_validate(v).model_dump(mode="json") for v in views]
            }
        view = await service.get_wallet(session, platform.clock, member_id)
        return WalletOut.model_validate(view).model_dump(mode="json")


async def run_jobs(platform: Platform) -> None:
    await platform.jobs.ensure_recurring()
    await platform.jobs.run_due()


async def assert_ledger_consistent(platform: Platform, member_id: str, balance: int) -> None:
    state = await ledger_state(platform, uuid.UUID(member_id))
    assert state == {"balance": balance, "legs": balance, "lots": balance, "unbalanced_txns": 0}


async def test_credits_apply_once_per_reference(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    member = await signup_member(client)

    first = await grant_points(platform, member.id, 1000, reference="review:42")
    again = await grant_points(platform, member.id, 1000, reference="review:42")

    assert first == again == 1000
    wallet = (await client.get(WALLET, headers=member.headers)).json()
    assert wallet == {"balance": 1000, "expiring_soon": []}
    entries = (await client.get(f"{WALLET}/entries", headers=member.headers)).json()
    assert [(e["amount"], e["reference"], e["balance_after"]) for e in entries["items"]] == [
        (1000, "review:42", 1000)
    ]
    await assert_ledger_consistent(platform, member.id, 1000)


async def test_debits_spend_and_refuse_more_than_the_balance(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    member = await signup_member(client)
    await grant_points(platform, member.id, 1000)

    spent = await debit(platform, member.id, 300, "order:1:use")
    repeated = await debit(platform, member.id, 300, "order:1:use")
    with pytest.raises(DomainError) as refused:
        await debit(platform, member.id, 701, "order:2:use")

    assert spent == repeated == 700
    assert (refused.value.slug, refused.value.status) == ("insufficient-points", 409)
    assert refused.value.extra == {"balance": 700, "requested": 701}
    assert await debit(platform, member.id, 700, "order:3:use") == 0
    entries = (await client.get(f"{WALLET}/entries", headers=member.headers)).json()["items"]
    assert sorted(e["amount"] for e in entries) == [-700, -300, 1000]
    await assert_ledger_consistent(platform, member.id, 0)


async def test_bad_amounts_and_unknown_members_are_refused(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    member = await signup_member(client)

    for amount in (0, -5):
        with pytest.raises(InvalidInput):
            await credit(platform, member.id, amount, f"bad:{amount}")
        with pytest.raises(InvalidInput):
            await debit(platform, member.id, amount, f"bad:{amount}")
    with pytest.raises(NotFound):
        await credit(platform, str(uuid.uuid4()), 10, "ghost")
    async with platform.db.read() as session:
        assert await service.points_balance(session, uuid.uuid4()) == 0


async def test_spending_takes_the_soonest_expiring_points_first(
    platform: Platform, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    member = await signup_member(client)
    await credit(platform, member.id, 100, "late", days=100)
    await credit(platform, member.id, 100, "early", days=10)

    await debit(platform, member.id, 120, "order:fifo")
    clock.advance(days=11)
    await run_jobs(platform)
    after_early = (await read_wallet(platform, member))["balance"]
    clock.advance(days=90)
    await run_jobs(platform)

    # the early lot was spent whole, so nothing expired at day 10; the late lot's 80 did at 100
    assert after_early == 80
    assert (await read_wallet(platform, member))["balance"] == 0
    entries = (await read_wallet(platform, member, "/entries"))["items"]
    expired = [e for e in entries if e["reason"] == "expired"]
    assert [e["amount"] for e in expired] == [-80]
    await assert_ledger_consistent(platform, member.id, 0)


async def test_the_expiry_job_expires_each_lot_exactly_once(
    platform: Platform, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    member = await signup_member(client)
    other = await signup_member(client)
    await credit(platform, member.id, 500, "a", days=1)
    await credit(platform, member.id, 300, "b", days=3)
    await credit(platform, other.id, 200, "c", days=1)

    clock.advance(days=1)
    await run_jobs(platform)
    clock.advance(hours=1)
    await run_jobs(platform)  # the next hourly run finds nothing new

    assert (await read_wallet(platform, member))["balance"] == 300
    assert (await read_wallet(platform, other))["balance"] == 0
    async with platform.db.write() as session:
        assert await service.expire_points(session, clock) == 0
    clock.advance(days=2)
    async with platform.db.write() as session:
        assert await service.expire_points(session, clock) == 300
        assert await service.expire_points(session, clock) == 0
    entries = (await read_wallet(platform, member, "/entries"))["items"]
    assert sorted(e["amount"] for e in entries if e["reason"] == "expired") == [-500, -300]
    await assert_ledger_consistent(platform, member.id, 0)
    await assert_ledger_consistent(platform, other.id, 0)


async def test_points_past_expiry_cannot_be_spent_before_the_job_runs(
    platform: Platform, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    member = await signup_member(client)
    await credit(platform, member.id, 100, "short", days=1)
    await credit(platform, member.id, 50, "long", days=30)
    clock.advance(days=1, seconds=1)

    with pytest.raises(DomainError) as refused:
        await debit(platform, member.id, 100, "order:late")
    assert await debit(platform, member.id, 50, "order:ok") == 0

    assert refused.value.slug == "insufficient-points"
    await assert_ledger_consistent(platform, member.id, 0)


async def test_wallet_shows_points_expiring_within_30_days(
    platform: Platform, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    member = await signup_member(client)
    await credit(platform, member.id, 700, "soon", days=7)
    await credit(platform, member.id, 300, "sooner", days=2)
    await credit(platform, member.id, 900, "later", days=60)
    await debit(platform, member.id, 100, "order:x")

    wallet = (await client.get(WALLET, headers=member.headers)).json()

    assert wallet["balance"] == 1800
    assert [item["amount"] for item in wallet["expiring_soon"]] == [200, 700]
    soonest = wallet["expiring_soon"][0]["expires_at"].replace("Z", "+00:00")
    assert soonest == (clock.now() + timedelta(days=2)).isoformat()


async def test_wallet_entries_are_mine_only_and_page(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    member = await signup_member(client)
    other = await signup_member(client)
    for n in range(5):
        await grant_points(platform, member.id, 10 + n)
    await grant_points(platform, other.id, 999)

    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, object] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(f"{WALLET}/entries", params=params, headers=member.headers)).json()
        seen += [e["amount"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert sorted(seen) == [10, 11, 12, 13, 14]
    other_entries = (await client.get(f"{WALLET}/entries", headers=other.headers)).json()
    assert [e["amount"] for e in other_entries["items"]] == [999]
    assert (await client.get(f"{WALLET}/entries")).status_code == 401
    zero = await client.get(f"{WALLET}/entries", params={"limit": 0}, headers=member.headers)
    assert zero.status_code == 422


async def test_concurrent_debits_never_overspend(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    member = await signup_member(client)
    await grant_points(platform, member.id, 100)

    async def attempt(n: int) -> bool:
        try:
            await debit(platform, member.id, 10, f"order:{n}:use")
        except DomainError as exc:
            assert exc.slug == "insufficient-points"
            return False
        return True

    results = await asyncio.gather(*(attempt(n) for n in range(25)))

    assert results.count(True) == 10
    await assert_ledger_consistent(platform, member.id, 0)


async def test_concurrent_credits_with_one_reference_apply_once(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    member = await signup_member(client)

    balances = await asyncio.gather(
        *(grant_points(platform, member.id, 250, reference="order:7:reward") for _ in range(8))
    )

    assert set(balances) == {250}
    await assert_ledger_consistent(platform, member.id, 250)


async def test_staff_adjusts_points_once_per_idempotency_key(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    staff = await make_staff(platform, client)
    member = await signup_member(client)
    url = f"/api/v1/admin/members/{member.id}/points"
    headers = {**staff.headers, "Idempotency-Key": "adj-1"}

    first = await client.post(
        url, json={"amount": 5000, "reason": "배송 지연 보상"}, headers=headers
    )
    replay = await client.post(
        url, json={"amount": 5000, "reason": "배송 지연 보상"}, headers=headers
    )
    different = await client.post(
        url, json={"amount": 7000, "reason": "배송 지연 보상"}, headers=headers
    )
    claw_back = await client.post(
        url,
        json={"amount": -1500, "reason": "중복 지급 회수"},
        headers={**staff.headers, "Idempotency-Key": "adj-2"},
    )

    assert first.status_code == replay.status_code == 200
    assert first.json() == replay.json() == {"member_id": member.id, "balance": 5000}
    assert (different.status_code, different.json()["code"]) == (422, "idempotency-key-reused")
    assert claw_back.json()["balance"] == 3500
    assert (await client.get(WALLET, headers=member.headers)).json()["balance"] == 3500
    assert await audit_actions(platform, member.id) == ["points.adjusted", "points.adjusted"]
    await assert_ledger_consistent(platform, member.id, 3500)


async def test_staff_adjustments_refuse_bad_input(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    staff = await make_staff(platform, client)
    staff_without_mfa = await make_staff(platform, client, mfa=False)
    member = await signup_member(client)
    url = f"/api/v1/admin/members/{member.id}/points"

    async def post(body: object, headers: dict[str, str] = staff.headers) -> httpx.Response:
        return await client.post(url, json=body, headers=headers)

    assert (await post({"amount": 0, "reason": "영"})).status_code == 422
    assert (await post({"amount": 10_000_001, "reason": "너무 많음"})).status_code == 422
    assert (await post({"amount": -10_000_001, "reason": "너무 적음"})).status_code == 422
    assert (await post({"amount": "100", "reason": "문자"})).status_code == 422
    assert (await post({"amount": 1.5, "reason": "소수"})).status_code == 422
    assert (await post({"amount": 100})).status_code == 422
    assert (await post({"amount": 100, "reason": "x", "member_id": "y"})).status_code == 422
    overdraw = await post({"amount": -1, "reason": "잔액 없음"})
    assert (overdraw.status_code, overdraw.json()["code"]) == (409, "insufficient-points")
    unknown = await client.post(
        f"/api/v1/admin/members/{uuid.uuid4()}/points",
        json={"amount": 100, "reason": "없는 회원"},
        headers=staff.headers,
    )
    assert unknown.status_code == 404
    by_member = await post({"amount": 100, "reason": "셀프"}, member.headers)
    assert (by_member.status_code, by_member.json()["code"]) == (403, "forbidden")
    no_mfa = await post({"amount": 100, "reason": "MFA 없음"}, staff_without_mfa.headers)
    assert (no_mfa.status_code, no_mfa.json()["code"]) == (403, "mfa-required")
    assert (await client.get(WALLET, headers=member.headers)).json()["balance"] == 0
