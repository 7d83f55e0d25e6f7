"""Monthly settlement: a statement per creator of what became available, 3.3 % withheld for
individuals, run twice or killed between creators without paying anyone twice or skipping anyone,
CSV export, and payouts staff mark only for creators with two-factor authentication."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from tests.factories.accounts import Member, make_staff, signup_member
from tests.factories.orders import log_in_again
from tests.factories.rewards import earnings_of

from jangteo.core.clock import FrozenClock
from jangteo.core.platform import Platform
from jangteo.rewards import earnings, settlements
from jangteo.rewards.models import Statement

NOVEMBER = "2026-11"
# midnight of 1 December in Seoul
DECEMBER_FIRST = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


async def _release(platform: Platform, member: Member, amount: int) -> None:
    """A reward released into the member's available earnings, as the release job does."""
    async with platform.db.write() as session:
        await earnings.post(
            session,
            platform.clock,
            uuid.UUID(member.id),
            kind="reward_release",
            available=amount,
            reference=f"reward-release:{uuid.uuid4()}",
        )


async def _statements(client: httpx.AsyncClient, staff: Member) -> list[dict]:
    response = await client.get(
        f"/api/v1/admin/settlements/{NOVEMBER}/statements", headers=staff.headers
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_a_month_is_settled_once_with_tax_withheld_and_paid_out(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    creator = await make_staff(platform, client, roles=("creator",))  # with TOTP
    await _release(platform, creator, 12_000)
    staff = await make_staff(platform, client)
    early = await client.post(f"/api/v1/admin/settlements/{NOVEMBER}/run", headers=staff.headers)
    assert early.status_code == 409  # November has not ended

    clock.advance(seconds=(DECEMBER_FIRST - clock.now()).total_seconds())
    await _release(platform, creator, 5_000)  # December's: next month's statement
    staff, member = await make_staff(platform, client), await signup_member(client)
    refused = await client.post(f"/api/v1/admin/settlements/{NOVEMBER}/run", headers=member.headers)
    assert refused.status_code == 403
    for _ in range(2):  # a second run settles nobody again
        run = await client.post(f"/api/v1/admin/settlements/{NOVEMBER}/run", headers=staff.headers)
        assert run.status_code == 200, run.text
        assert (run.json()["status"], run.json()["statements"]) == ("done", 1)
    withheld = 12_000 * 330 // 10_000
    [statement] = await _statements(client, staff)
    assert (statement["rewards"], statement["subtotal"], statement["withholding"]) == (
        12_000,
        12_000,
        withheld,
    )
    assert statement["payable"] == 12_000 - withheld and statement["status"] == "open"

    exported = await client.get(
        f"/api/v1/admin/settlements/{NOVEMBER}/statements.csv", headers=staff.headers
    )
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert [(r["nickname"], r["payable"]) for r in rows] == [
        (creator.nickname, str(12_000 - withheld))
    ]

    paid = await client.post(
        f"/api/v1/admin/settlements/statements/{statement['id']}/payout",
        json={"reference": "국민은행 이체 20261201-001"},
        headers=staff.headers,
    )
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "paid"
    twice = await client.post(
        f"/api/v1/admin/settlements/statements/{statement['id']}/payout",
        json={"reference": "again"},
        headers=staff.headers,
    )
    assert twice.status_code == 409
    async with platform.db.read() as session:
        money = await earnings.balance(session, uuid.UUID(creator.id))
    assert (money.available, money.settling, money.paid_out) == (5_000, 0, 12_000 - withheld)


async def test_payouts_wait_for_the_creators_two_factor_authentication(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    creator = await signup_member(client)  # no TOTP
    await _release(platform, creator, 8_000)
    clock.advance(seconds=(DECEMBER_FIRST - clock.now()).total_seconds())
    staff = await make_staff(platform, client)
    await client.post(f"/api/v1/admin/settlements/{NOVEMBER}/run", headers=staff.headers)
    [statement] = await _statements(client, staff)
    refused = await client.post(
        f"/api/v1/admin/settlements/statements/{statement['id']}/payout",
        json={"reference": "이체"},
        headers=staff.headers,
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "creator-mfa-required"
    assert (await _statements(client, staff))[0]["status"] == "open"
    await log_in_again(client, creator)
    mine = await client.get("/api/v1/me/statements", headers=creator.headers)
    assert [(s["id"], s["payable"]) for s in mine.json()["items"]] == [
        (statement["id"], statement["payable"])
    ]
    other = await signup_member(client)
    theirs = await client.get("/api/v1/me/statements", headers=other.headers)
    assert theirs.json()["items"] == []


async def test_a_run_killed_between_creators_neither_pays_twice_nor_skips_anyone(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    creators = [await signup_member(client) for _ in range(4)]
    for n, creator in enumerate(creators, start=1):
        await _release(platform, creator, n * 10_000)
    clock.advance(seconds=(DECEMBER_FIRST - clock.now()).total_seconds())

    class Killed(Exception):
        pass

    def kill_after_two(statement: Statement) -> None:
        done.append(statement.member_id)
        if len(done) == 2:
            raise Killed()

    done: list[uuid.UUID] = []
    with pytest.raises(Killed):
        await settlements.run_month(
            platform.db, platform.clock, NOVEMBER, withholding_bp=330, after_each=kill_after_two
        )
    staff = await make_staff(platform, client)
    assert len(await _statements(client, staff)) == 2
    run = await client.post(f"/api/v1/admin/settlements/{NOVEMBER}/run", headers=staff.headers)
    assert run.json()["statements"] == 4
    statements = await _statements(client, staff)
    assert sorted(s["subtotal"] for s in statements) == [10_000, 20_000, 30_000, 40_000]
    assert run.json()["payable"] == sum(s["payable"] for s in statements)
    for creator in creators:
        async with platform.db.read() as session:
            money = await earnings.balance(session, uuid.UUID(creator.id))
        assert money.available == 0 and money.settling > 0


async def test_business_creators_have_nothing_withheld_and_tips_show_their_fees(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    staff = await make_staff(platform, client)
    creator = await signup_member(client)
    await client.put(
        f"/api/v1/admin/creators/{creator.id}/tier",
        json={"tier": "neighbor", "reason": "사업자 크리에이터"},
        headers=staff.headers,
    )
    business = await client.put(
        f"/api/v1/admin/creators/{creator.id}/business",
        json={"business": True},
        headers=staff.headers,
    )
    assert business.status_code == 204
    await log_in_again(client, creator)
    async with platform.db.write() as session:
        await earnings.post(
            session,
            platform.clock,
            uuid.UUID(creator.id),
            kind="reward_release",
            available=20_000,
            reference="reward-release:business",
        )
    clock.advance(seconds=(DECEMBER_FIRST - clock.now()).total_seconds())
    staff = await make_staff(platform, client)
    await client.post(f"/api/v1/admin/settlements/{NOVEMBER}/run", headers=staff.headers)
    [statement] = await _statements(client, staff)
    assert (statement["withholding"], statement["payable"]) == (0, 20_000)
    await log_in_again(client, creator)
    member_view = await client.get(
        f"/api/v1/admin/settlements/{NOVEMBER}/statements", headers=creator.headers
    )
    assert member_view.status_code == 403
    assert (await earnings_of(client, creator))["settling"] == 20_000
    bad_month = await client.post("/api/v1/admin/settlements/2026-13/run", headers=staff.headers)
    assert bad_month.status_code == 422
