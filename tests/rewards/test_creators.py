"""The creator program: promotion and demotion by the activity score of the last 90 days, staff
overrides, tier reward rates, creator pages with a product shelf that credits its sales."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import Backend, make_settings
from tests.factories.accounts import Member, make_staff, signup_member
from tests.factories.catalog import make_product
from tests.factories.community import TRUSTED_FROM_THE_START, make_post, make_space
from tests.factories.orders import log_in_again, pay_order, place_order
from tests.factories.rewards import credited_to, settle

from jangteo.core.clock import FrozenClock
from jangteo.core.platform import Platform
from jangteo.settings import Settings


@pytest.fixture
def settings(backend: Backend, tmp_path: Path) -> Settings:
    return make_settings(
        backend,
        tmp_path,
        creators_neighbor_score=10,
        creators_pro_score=30,
        **TRUSTED_FROM_THE_START,
    )


async def _review(client: httpx.AsyncClient, platform: Platform) -> dict[str, int]:
    staff = await make_staff(platform, client)
    response = await client.post("/api/v1/admin/creators/review", headers=staff.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _standing(client: httpx.AsyncClient, member: Member) -> dict[str, Any]:
    response = await client.get("/api/v1/me/creator/standing", headers=member.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_members_are_promoted_and_demoted_by_their_activity(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    owner = await make_staff(platform, client)
    await make_space(client, owner, slug="style")
    writer = await signup_member(client)
    fans = [await signup_member(client) for _ in range(7)]
    for n in range(5):
        await make_post(client, writer, "style", body=f"코디 {n}")
    assert await _standing(client, writer) == {
        "tier": "none",
        "score": 10,
        "locked": False,
        "next_tier": "neighbor",
        "score_needed": 0,
        "reward_rate_bp": 0,
    }
    done = await _review(client, platform)
    assert done["promoted"] == 1
    assert (await _standing(client, writer))["tier"] == "neighbor"
    await log_in_again(client, writer)
    me = await client.get("/api/v1/me", headers=writer.headers)
    assert "creator" in me.json()["roles"]
    notes = await client.get("/api/v1/me/notifications", headers=writer.headers)
    assert [(n["kind"], n["data"]["tier"]) for n in notes.json()["items"]] == [
        ("creator_tier", "neighbor")
    ]

    for fan in fans:  # 7 new followers: 21 more
        await client.put(f"/api/v1/members/{writer.id}/follow", headers=fan.headers)
    assert (await _review(client, platform))["promoted"] == 1
    standing = await _standing(client, writer)
    assert (standing["tier"], standing["score"], standing["reward_rate_bp"]) == ("pro", 31, 500)

    clock.advance(days=91)  # the activity leaves the 90-day window
    await log_in_again(client, writer)
    assert (await _review(client, platform))["demoted"] == 1
    assert (await _standing(client, writer))["tier"] == "none"
    await log_in_again(client, writer)
    me = await client.get("/api/v1/me", headers=writer.headers)
    assert "creator" not in me.json()["roles"]
    page = await client.get(f"/api/v1/creators/{writer.id}")
    assert page.status_code == 404


async def test_staff_fix_a_tier_with_a_reason(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    member, other = await signup_member(client), await signup_member(client)
    path = f"/api/v1/admin/creators/{member.id}/tier"
    refused = await client.put(path, json={"tier": "pro", "reason": "x"}, headers=other.headers)
    assert refused.status_code == 403
    assert (await client.put(path, json={"tier": "pro"}, headers=staff.headers)).status_code == 422
    fixed = await client.put(
        path, json={"tier": "pro", "reason": "브랜드 협업 크리에이터"}, headers=staff.headers
    )
    assert (fixed.json()["tier"], fixed.json()["locked"]) == ("pro", True)
    await _review(client, platform)  # a score of 0 does not move a fixed tier
    assert (await _standing(client, member))["tier"] == "pro"
    listed = await client.get(
        "/api/v1/admin/creators", params={"tier": "pro"}, headers=staff.headers
    )
    assert [(c["nickname"], c["lock_reason"]) for c in listed.json()["items"]] == [
        (member.nickname, "브랜드 협업 크리에이터")
    ]
    audit = await client.get(
        "/api/v1/admin/audit", params={"action": "rewards.creator.tier"}, headers=staff.headers
    )
    assert audit.json()["items"][0]["after"]["reason"] == "브랜드 협업 크리에이터"
    unlocked = await client.put(
        path, json={"tier": None, "reason": "점수대로"}, headers=staff.headers
    )
    assert (unlocked.json()["tier"], unlocked.json()["locked"]) == ("none", False)
    bad = await client.patch(
        "/api/v1/admin/creators/rules",
        json={"neighbor_score": 50, "pro_score": 40},
        headers=staff.headers,
    )
    assert bad.status_code == 422
    assert (await client.get("/api/v1/creators-rules")).json()["pro_score"] == 30


async def test_a_creators_shelf_and_tier_rate_credit_their_sales(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    creator = await make_staff(platform, client, roles=("creator",))
    plain = await signup_member(client)
    product = await make_product(platform, price=50_000)
    not_yet = await client.put(
        f"/api/v1/me/shelf/{product.product_id}", json={"note": "x"}, headers=creator.headers
    )
    assert not_yet.status_code == 403  # a creator role without a tier has no shelf yet
    await client.put(
        f"/api/v1/admin/creators/{creator.id}/tier",
        json={"tier": "pro", "reason": "초대 크리에이터"},
        headers=staff.headers,
    )
    shelved = await client.put(
        f"/api/v1/me/shelf/{product.product_id}",
        json={"note": "매일 입는 니트"},
        headers=creator.headers,
    )
    assert shelved.status_code == 204
    edited = await client.patch(
        "/api/v1/me/creator",
        json={"bio": "니트 좋아하는 크리에이터", "links": ["https://instagram.com/knit"]},
        headers=creator.headers,
    )
    assert edited.status_code == 200, edited.text
    bad_link = await client.patch(
        "/api/v1/me/creator", json={"links": ["javascript:alert(1)"]}, headers=creator.headers
    )
    assert bad_link.status_code == 422
    assert (
        await client.patch("/api/v1/me/creator", json={"bio": "x"}, headers=plain.headers)
    ).status_code == 403
    page = (await client.get(f"/api/v1/creators/{creator.id}")).json()
    assert (page["tier"], page["bio"], page["links"]) == (
        "pro",
        "니트 좋아하는 크리에이터",
        ["https://instagram.com/knit"],
    )
    assert [(i["name"], i["note"]) for i in page["shelf"]] == [
        ("캐시미어 블렌드 니트", "매일 입는 니트")
    ]

    buyer = await signup_member(client)
    touched = await client.post(f"/api/v1/creators/{creator.id}/touch", headers=buyer.headers)
    assert touched.json() == {"touches": 1}
    order = await place_order(client, buyer, product.variant_ids[0])
    await pay_order(client, buyer, order)
    await settle(platform)
    credited = await credited_to(client, creator)
    # the pro tier's 5 % beats the default 3 %
    assert [(c["source_type"], c["rate_bp"], c["amount"]) for c in credited] == [
        ("shelf", 500, 2_500)
    ]
    removed = await client.delete(f"/api/v1/me/shelf/{product.product_id}", headers=creator.headers)
    assert removed.status_code == 204
    assert (await client.get(f"/api/v1/creators/{creator.id}")).json()["shelf"] == []


async def test_a_creators_notice_reaches_followers_who_did_not_mute_it(
    client: httpx.AsyncClient, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jangteo.rewards import notices

    monkeypatch.setattr(notices, "BATCH", 2)  # several batches for five followers
    staff = await make_staff(platform, client)
    creator = await make_staff(platform, client, roles=("creator",))
    await client.put(
        f"/api/v1/admin/creators/{creator.id}/tier",
        json={"tier": "neighbor", "reason": "공지 테스트"},
        headers=staff.headers,
    )
    followers = [await signup_member(client) for _ in range(5)]
    for follower in followers:
        await client.put(f"/api/v1/members/{creator.id}/follow", headers=follower.headers)
    muted = followers[0]
    assert (
        await client.put(f"/api/v1/creators/{creator.id}/notices/mute", headers=muted.headers)
    ).status_code == 204
    not_creator = await client.post(
        "/api/v1/me/notices", json={"title": "공지", "body": "내용"}, headers=followers[1].headers
    )
    assert not_creator.status_code == 403
    posted = await client.post(
        "/api/v1/me/notices",
        json={"title": "라이브 안내", "body": "금요일 저녁 8시에 라이브해요"},
        headers=creator.headers,
    )
    assert posted.status_code == 201, posted.text
    for _ in range(2):  # a batch run again notifies nobody twice
        await settle(platform)

    async def notices_of(member: Member) -> list[dict[str, Any]]:
        response = await client.get("/api/v1/me/notifications", headers=member.headers)
        return [n for n in response.json()["items"] if n["kind"] == "creator_notice"]

    assert await notices_of(muted) == []
    for follower in followers[1:]:
        [note] = await notices_of(follower)
        assert (note["actor_id"], note["data"]["title"]) == (creator.id, "라이브 안내")
    listed = await client.get(f"/api/v1/creators/{creator.id}/notices")
    assert [(n["title"], n["recipients"]) for n in listed.json()["items"]] == [("라이브 안내", 4)]
