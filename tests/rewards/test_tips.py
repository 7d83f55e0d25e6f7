"""Tips to creators in points and money: bounds, the platform's fee, exactly once, highlighted
messages on the post, and who may tip whom."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from tests.factories.accounts import Member, grant_points, make_staff, signup_member
from tests.factories.community import join, make_post, make_space
from tests.factories.orders import points_of
from tests.factories.rewards import earnings_of

from jangteo.core.platform import Platform


async def _creator_with_post(
    client: httpx.AsyncClient, platform: Platform, slug: str = "tips"
) -> tuple[Member, Member, dict[str, Any]]:
    """Staff, a creator (pro tier) and a post of theirs in a public space."""
    staff = await make_staff(platform, client)
    creator = await signup_member(client)
    fixed = await client.put(
        f"/api/v1/admin/creators/{creator.id}/tier",
        json={"tier": "neighbor", "reason": "테스트 크리에이터"},
        headers=staff.headers,
    )
    assert fixed.status_code == 200, fixed.text
    await make_space(client, staff, slug=slug)
    post = await make_post(client, creator, slug, body="오늘의 니트 코디")
    return staff, creator, post


async def _tip(
    client: httpx.AsyncClient, member: Member, key: str | None = None, **body: Any
) -> httpx.Response:
    headers = {**member.headers, "Idempotency-Key": key or uuid.uuid4().hex}
    return await client.post("/api/v1/tips", json=body, headers=headers)


async def test_a_points_tip_pays_the_creator_less_the_fee_exactly_once(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    _staff, creator, post = await _creator_with_post(client, platform)
    fan = await signup_member(client)
    await grant_points(platform, fan.id, 12_000)
    body = {"target_type": "post", "target_id": post["id"], "amount": 5_000}
    sent = await _tip(client, fan, key="tip-1", message="코디 최고예요!", **body)
    assert sent.status_code == 201, sent.text
    tip = sent.json()
    assert (tip["status"], tip["fee"], tip["creator_id"]) == ("paid", 500, creator.id)
    again = await _tip(client, fan, key="tip-1", message="코디 최고예요!", **body)
    assert again.json()["id"] == tip["id"]
    assert await points_of(client, fan) == 7_000
    assert (await earnings_of(client, creator))["available"] == 4_500

    listed = await client.get(f"/api/v1/posts/{post['id']}/tips")
    assert [(t["tipper_nickname"], t["amount"], t["message"]) for t in listed.json()["items"]] == [
        (fan.nickname, 5_000, "코디 최고예요!")
    ]
    # more than the wallet holds: refused, nothing taken
    too_much = await _tip(client, fan, **{**body, "amount": 8_000})
    assert too_much.status_code == 409
    assert await points_of(client, fan) == 7_000
    assert len((await client.get(f"/api/v1/posts/{post['id']}/tips")).json()["items"]) == 1


async def test_concurrent_tips_never_spend_more_than_the_wallet(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    _staff, creator, post = await _creator_with_post(client, platform)
    fan = await signup_member(client)
    await grant_points(platform, fan.id, 10_000)
    body = {"target_type": "post", "target_id": post["id"], "amount": 3_000}
    answers = await asyncio.gather(*[_tip(client, fan, **body) for _ in range(5)])
    paid = [a for a in answers if a.status_code == 201]
    assert len(paid) == 3 and all(a.status_code in (201, 409) for a in answers)
    assert await points_of(client, fan) == 1_000
    assert (await earnings_of(client, creator))["available"] == 3 * 2_700


async def test_a_money_tip_is_paid_through_the_provider(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    _staff, creator, post = await _creator_with_post(client, platform)
    fan, other = await signup_member(client), await signup_member(client)
    body = {"target_type": "post", "target_id": post["id"], "amount": 10_000, "method": "money"}
    started = (await _tip(client, fan, message="응원해요", **body)).json()
    assert (started["status"], started["order_id"]) == ("pending", f"tip-{started['id']}")
    assert (await earnings_of(client, creator))["available"] == 0
    path = f"/api/v1/tips/{started['id']}/payment"
    not_theirs = await client.post(
        path, json={"payment_key": "dummy-ok", "amount": 10_000}, headers=other.headers
    )
    assert not_theirs.status_code == 404
    wrong = await client.post(
        path, json={"payment_key": "dummy-ok", "amount": 9_000}, headers=fan.headers
    )
    assert wrong.status_code == 422
    paid = await client.post(
        path, json={"payment_key": "dummy-ok", "amount": 10_000}, headers=fan.headers
    )
    assert paid.json()["status"] == "paid"
    repeat = await client.post(
        path, json={"payment_key": "dummy-ok", "amount": 10_000}, headers=fan.headers
    )
    assert repeat.json()["status"] == "paid"
    assert (await earnings_of(client, creator))["available"] == 9_000

    declined = (await _tip(client, fan, **body)).json()
    refused = await client.post(
        f"/api/v1/tips/{declined['id']}/payment",
        json={"payment_key": "dummy-decline-1", "amount": 10_000},
        headers=fan.headers,
    )
    assert refused.status_code == 402
    state = await client.get(f"/api/v1/tips/{declined['id']}", headers=fan.headers)
    assert state.json()["status"] == "failed"
    late = await client.post(
        f"/api/v1/tips/{declined['id']}/payment",
        json={"payment_key": "dummy-ok-2", "amount": 10_000},
        headers=fan.headers,
    )
    assert late.status_code == 409
    assert (await earnings_of(client, creator))["available"] == 9_000


async def test_who_may_tip_whom_and_on_what(client: httpx.AsyncClient, platform: Platform) -> None:
    staff, creator, post = await _creator_with_post(client, platform)
    fan, plain = await signup_member(client), await signup_member(client)
    await grant_points(platform, fan.id, 50_000)
    await grant_points(platform, creator.id, 50_000)
    on_post = {"target_type": "post", "target_id": post["id"]}
    assert (await _tip(client, fan, amount=999, **on_post)).status_code == 422
    assert (await _tip(client, fan, amount=500_001, **on_post)).status_code == 422
    own = await _tip(client, creator, amount=1_000, **on_post)
    assert own.json()["code"] == "own-content"
    plain_post = await make_post(client, plain, "tips", body="평범한 글")
    not_creator = await _tip(
        client, fan, amount=1_000, target_type="post", target_id=plain_post["id"]
    )
    assert not_creator.json()["code"] == "not-a-creator"
    await make_space(client, staff, slug="closed-tips", visibility="members_only")
    await join(client, creator, "closed-tips")
    hidden = await make_post(client, creator, "closed-tips", body="회원 전용")
    closed = await _tip(client, fan, amount=1_000, target_type="post", target_id=hidden["id"])
    assert closed.status_code == 403
    assert (await client.post("/api/v1/tips", json={**on_post, "amount": 1_000})).status_code == 401

    # a comment of the creator's on someone else's post
    comment = await client.post(
        f"/api/v1/posts/{plain_post['id']}/comments",
        json={"body": "저도 이거 입어요"},
        headers=creator.headers,
    )
    on_comment = await _tip(
        client, fan, amount=2_000, target_type="comment", target_id=comment.json()["id"]
    )
    assert on_comment.status_code == 201
    assert on_comment.json()["post_id"] == plain_post["id"]
    listed = await client.get(f"/api/v1/posts/{plain_post['id']}/tips")
    assert [t["target_type"] for t in listed.json()["items"]] == ["comment"]
    assert await points_of(client, fan) == 48_000

    changed = await client.patch(
        "/api/v1/admin/tips/rules", json={"fee_bp": 0}, headers=staff.headers
    )
    assert changed.status_code == 200
    free = await _tip(client, fan, amount=1_000, **on_post)
    assert free.json()["fee"] == 0
    bad = await client.patch(
        "/api/v1/admin/tips/rules",
        json={"min_amount": 900_000, "max_amount": 800_000},
        headers=staff.headers,
    )
    assert bad.status_code == 422
