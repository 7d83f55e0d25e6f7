"""Rewards in the console: the reward, tip and creator rules and category rates (read back through
the API), creators' tiers fixed with a reason, a month settled with its statements, CSV export and
payouts (refused for a creator without TOTP), and refused referrals with their reason."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import UTC, datetime

import httpx
from tests.factories.accounts import make_staff, signup_member
from tests.factories.catalog import category_named, make_product
from tests.factories.orders import deliver_order, pay_order, place_order
from tests.factories.rewards import settle
from tests.web._console import staff_headers, staff_on_console
from tests.web._support import sign_up, submit, text_of

from jangteo.core.clock import FrozenClock
from jangteo.core.platform import Platform
from jangteo.rewards import earnings

NOVEMBER = "2026-11"
# midnight of 1 December in Seoul: November has ended
DECEMBER_FIRST = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
CONSOLE_PAGES = (
    "/console/rewards",
    "/console/creators",
    "/console/settlements",
    "/console/referrals",
)


def _field_error(html: str, field_id: str) -> str:
    """The message shown under one field (and that the field is marked invalid)."""
    assert re.search(rf'id="{field_id}"[^>]*aria-invalid="true"', html), f"{field_id} not invalid"
    found = re.search(rf'<p class="field-error" id="{field_id}-error">([^<]+)</p>', html)
    assert found, f"no message under {field_id}"
    return found.group(1)


async def _api(client: httpx.AsyncClient, path: str, **params: str) -> object:
    response = await client.get(path, params=params, headers=staff_headers(client))
    assert response.status_code == 200, response.text
    return response.json()


async def test_visitors_and_members_cannot_use_the_rewards_console(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    for page in CONSOLE_PAGES:
        visitor = await client.get(page)
        assert visitor.status_code == 303
        assert visitor.headers["location"].startswith(f"/console/login?next={page}")

    await sign_up(client)
    for page in CONSOLE_PAGES:
        assert (await client.get(page)).status_code == 403
    before = (await client.get("/api/v1/rewards/rules")).json()
    refused = await submit(client, "/console/rewards/rules/rewards", {"default_rate_bp": "5"})
    assert refused.status_code == 403
    run = await submit(client, "/console/settlements/run", {"month": NOVEMBER})
    assert run.status_code == 403
    assert (await client.get("/api/v1/rewards/rules")).json() == before


async def test_staff_change_the_rules_and_a_categorys_rate(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    async with platform.db.write() as session:
        category_id = await category_named(session, platform.clock, "리워드니트")
    await staff_on_console(client, platform)
    page = await client.get("/console/rewards")
    assert page.status_code == 200
    assert (
        "리워드" in text_of(page.text) and 'href="/console/audit?action=rules.change"' in page.text
    )
    rules = (await client.get("/api/v1/rewards/rules")).json()
    assert rules["default_rate_bp"] == 300
    assert re.search(r'id="f-default_rate_bp"[^>]*value="3"', page.text.replace("\n", " "))
    form = {name: str(value) for name, value in rules.items()} | {"default_rate_bp": "3"}

    saved = await submit(
        client, "/console/rewards/rules/rewards", form | {"default_rate_bp": "3.5"}
    )
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"].startswith("/console/rewards?notice=rules-saved")
    assert (await client.get("/api/v1/rewards/rules")).json() == rules | {"default_rate_bp": 350}
    audit = await _api(client, "/api/v1/admin/audit", action="rules.change")
    assert audit["items"][0]["after"] == {"default_rate_bp": 350}  # type: ignore[index]
    shown = await client.get(saved.headers["location"])
    assert "규칙을 저장했습니다." in shown.text

    for typed, message in (("많이", "3 또는 3.5처럼 퍼센트를 입력해 주세요."), ("9", "5 이하")):
        refused = await submit(
            client, "/console/rewards/rules/rewards", form | {"default_rate_bp": typed}
        )
        assert refused.status_code == 422
        assert message in _field_error(refused.text, "f-default_rate_bp")
    assert (await client.get("/api/v1/rewards/rules")).json()["default_rate_bp"] == 350

    # the least tip above the most, and a pro tier below the neighbor one: refused by the API
    tips = (await client.get("/api/v1/tips-rules")).json()
    crossed = await submit(
        client,
        "/console/rewards/rules/tips",
        {"min_amount": "9000", "max_amount": "5000", "fee_bp": "10"},
    )
    assert crossed.status_code == 422
    assert (
        _field_error(crossed.text, "f-min_amount")
        == "최소 후원액이 최대 후원액보다 클 수 없습니다."
    )
    assert (await client.get("/api/v1/tips-rules")).json() == tips
    creators = (await client.get("/api/v1/creators-rules")).json()
    crossed = await submit(
        client,
        "/console/rewards/rules/creators",
        {"neighbor_score": "600", "pro_score": "500", "neighbor_rate_bp": "3", "pro_rate_bp": "5"},
    )
    assert crossed.status_code == 422
    assert "프로 등급" in _field_error(crossed.text, "f-pro_score")
    assert (await client.get("/api/v1/creators-rules")).json() == creators
    fee = await submit(
        client,
        "/console/rewards/rules/tips",
        {"min_amount": "1000", "max_amount": "500000", "fee_bp": "12.5"},
    )
    assert fee.status_code == 303
    assert (await client.get("/api/v1/tips-rules")).json()["fee_bp"] == 1250

    # a category's own rate, shown in the table, then back to the default
    rate_url = f"/console/rewards/category-rates/{category_id}"
    too_high = await submit(client, rate_url, {"rate_bp": "7", "action": "set"})
    assert too_high.status_code == 422
    assert "5 이하" in _field_error(too_high.text, f"rate-{category_id}-value")
    set_rate = await submit(client, rate_url, {"rate_bp": "4.5", "action": "set"})
    assert set_rate.status_code == 303
    rates = await _api(client, "/api/v1/admin/rewards/category-rates")
    assert rates == [{"category_id": str(category_id), "rate_bp": 450}]
    row = re.search(
        rf'<tr id="rate-{category_id}">(.*?)</tr>',
        (await client.get("/console/rewards")).text,
        re.S,
    )
    assert row and "리워드니트" in row.group(1) and "4.5 %" in text_of(row.group(1))
    cleared = await submit(client, rate_url, {"rate_bp": "", "action": "clear"})
    assert cleared.status_code == 303
    assert await _api(client, "/api/v1/admin/rewards/category-rates") == []


async def test_staff_fix_a_creators_tier_with_a_reason(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    await staff_on_console(client, platform)
    empty = await client.get("/console/creators")
    assert empty.status_code == 200 and member.nickname not in empty.text

    # a member the review has not scored yet is found by email or nickname
    no_reason = await submit(
        client, "/console/creators/tier", {"member": member.email, "tier": "pro", "reason": ""}
    )
    assert no_reason.status_code == 422
    assert _field_error(no_reason.text, "tier-new-reason") == "등급을 바꾸는 이유를 적어 주세요."
    nobody = await submit(
        client, "/console/creators/tier", {"member": "없는회원", "tier": "pro", "reason": "이유"}
    )
    assert nobody.status_code == 422
    assert _field_error(nobody.text, "tier-new-member") == "이 이메일이나 닉네임의 회원이 없습니다."
    assert (await _api(client, "/api/v1/admin/creators"))["items"] == []  # type: ignore[index]

    fixed = await submit(
        client,
        "/console/creators/tier",
        {"member": member.nickname, "tier": "pro", "reason": "라이브 방송 파트너"},
    )
    assert fixed.status_code == 303
    assert fixed.headers["location"] == "/console/creators?notice=tier-saved"
    listing = await client.get(fixed.headers["location"])
    row = re.search(rf'<tr id="creator-{member.id}">(.*?)</tr>', listing.text, re.S)
    assert row, "the member is not listed"
    cells = text_of(row.group(1))
    assert f'href="/console/members/{member.id}"' in row.group(1)
    assert member.nickname in cells and "프로" in cells and "라이브 방송 파트너" in cells
    assert "크리에이터 등급을 저장했습니다." in listing.text
    [creator] = (await _api(client, "/api/v1/admin/creators"))["items"]  # type: ignore[index]
    assert (creator["tier"], creator["locked"]) == ("pro", True)

    assert member.nickname in (await client.get("/console/creators?tier=pro")).text
    assert member.nickname not in (await client.get("/console/creators?tier=neighbor")).text

    # the review leaves a fixed tier alone; unlocking hands it back to the score
    url = f"/console/creators/{member.id}/tier"
    no_reason = await submit(client, url, {"tier": "auto", "reason": ""})
    assert no_reason.status_code == 422
    assert _field_error(no_reason.text, f"tier-reason-{member.id}")
    reviewed = await submit(client, "/console/creators/review")
    assert reviewed.status_code == 303
    assert reviewed.headers["location"] == "/console/creators?notice=review-done"
    [creator] = (await _api(client, "/api/v1/admin/creators"))["items"]  # type: ignore[index]
    assert creator["tier"] == "pro"
    unlocked = await submit(client, url, {"tier": "auto", "reason": "점수대로"})
    assert unlocked.status_code == 303
    [creator] = (await _api(client, "/api/v1/admin/creators"))["items"]  # type: ignore[index]
    assert (creator["tier"], creator["locked"]) == ("none", False)

    business = await submit(client, f"/console/creators/{member.id}/business", {"business": "1"})
    assert business.status_code == 303
    audit = await _api(client, "/api/v1/admin/audit", action="rewards.creator.business")
    assert audit["items"][0]["after"] == {"business": True}  # type: ignore[index]


async def _available(platform: Platform, member_id: str, amount: int) -> None:
    """Earnings released into the member's available balance, as the release job does."""
    async with platform.db.write() as session:
        await earnings.post(
            session,
            platform.clock,
            uuid.UUID(member_id),
            kind="reward_release",
            available=amount,
            reference=f"reward-release:{uuid.uuid4()}",
        )


async def test_staff_settle_a_month_export_it_and_mark_payouts(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    with_totp = await make_staff(platform, client, roles=("creator",))
    without_totp = await signup_member(client)
    await _available(platform, with_totp.id, 12_000)
    await _available(platform, without_totp.id, 8_000)
    clock.advance(seconds=(DECEMBER_FIRST - clock.now()).total_seconds())
    await staff_on_console(client, platform)  # the earlier tokens have expired meanwhile

    runs = await client.get("/console/settlements")
    assert runs.status_code == 200 and "아직 정산한 달이 없습니다." in runs.text
    not_a_month = await submit(client, "/console/settlements/run", {"month": "2026-13"})
    assert not_a_month.status_code == 422
    assert "YYYY-MM" in _field_error(not_a_month.text, "f-month")
    not_ended = await submit(client, "/console/settlements/run", {"month": "2026-12"})
    assert not_ended.status_code == 409
    assert _field_error(not_ended.text, "f-month") == "끝난 달만 정산할 수 있습니다."

    run = await submit(client, "/console/settlements/run", {"month": NOVEMBER})
    assert run.status_code == 303, run.text
    assert run.headers["location"] == f"/console/settlements/{NOVEMBER}?notice=month-run"
    month = await client.get(run.headers["location"])
    assert month.status_code == 200
    withheld = 12_000 * 330 // 10_000
    statements = {
        s["nickname"]: s
        for s in (await _api(client, f"/api/v1/admin/settlements/{NOVEMBER}/statements"))["items"]  # type: ignore[index]
    }
    paid_one, refused_one = statements[with_totp.nickname], statements[without_totp.nickname]
    row = re.search(rf'<tr id="statement-{paid_one["id"]}">(.*?)</tr>', month.text, re.S)
    assert row, "the statement is not on the page"
    cells = text_of(row.group(1))
    assert with_totp.nickname in cells and "12,000원" in cells
    assert (
        f"{withheld:,}원" in cells and f"{12_000 - withheld:,}원" in cells and "지급 대기" in cells
    )
    total = f"{12_000 - withheld + 8_000 - 8_000 * 330 // 10_000:,}원"
    assert "합계" in text_of(month.text) and total in text_of(month.text)
    assert f'href="/console/settlements/{NOVEMBER}/statements.csv"' in month.text
    assert (
        f'href="/console/settlements/{NOVEMBER}"' in (await client.get("/console/settlements")).text
    )

    exported = await client.get(f"/console/settlements/{NOVEMBER}/statements.csv")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert {r["nickname"]: r["payable"] for r in rows} == {
        with_totp.nickname: str(12_000 - withheld),
        without_totp.nickname: str(8_000 - 8_000 * 330 // 10_000),
    }

    payout = "/console/settlements/statements/{}/payout"
    no_reference = await submit(
        client, payout.format(paid_one["id"]), {"month": NOVEMBER, "reference": ""}
    )
    assert no_reference.status_code == 422
    assert _field_error(no_reference.text, f"reference-{paid_one['id']}")
    refused = await submit(
        client, payout.format(refused_one["id"]), {"month": NOVEMBER, "reference": "국민 이체 001"}
    )
    assert refused.status_code == 409
    assert "2단계 인증" in _field_error(refused.text, f"reference-{refused_one['id']}")
    paid = await submit(
        client, payout.format(paid_one["id"]), {"month": NOVEMBER, "reference": "국민 이체 002"}
    )
    assert paid.status_code == 303
    after = {
        s["id"]: s
        for s in (await _api(client, f"/api/v1/admin/settlements/{NOVEMBER}/statements"))["items"]  # type: ignore[index]
    }
    assert (after[paid_one["id"]]["status"], after[paid_one["id"]]["payout_reference"]) == (
        "paid",
        "국민 이체 002",
    )
    assert after[refused_one["id"]]["status"] == "open"
    shown = await client.get(paid.headers["location"])
    assert "정산서를 지급 완료로 표시했습니다." in shown.text and "국민 이체 002" in shown.text


async def test_refused_referrals_show_their_reason(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    tag = uuid.uuid4().hex[:6]
    inviter = await signup_member(client, email=f"kim.{tag}@gmail.com")
    invitee = await signup_member(client, email=f"kim{tag}+invite@gmail.com")
    code = (await client.get("/api/v1/me/referral", headers=inviter.headers)).json()["code"]
    accepted = await client.post(
        "/api/v1/me/referral", json={"code": code}, headers=invitee.headers
    )
    assert accepted.status_code == 201, accepted.text
    product = await make_product(platform)
    order = await place_order(client, invitee, product.variant_ids[0])
    await pay_order(client, invitee, order)
    await deliver_order(client, staff, order)
    await settle(platform)

    await staff_on_console(client, platform)
    refused = await client.get("/console/referrals?status=refused")
    assert refused.status_code == 200
    text = text_of(refused.text)
    assert invitee.nickname in text and inviter.nickname in text
    assert "같은 메일함" in text
    assert invitee.nickname not in (await client.get("/console/referrals?status=rewarded")).text
