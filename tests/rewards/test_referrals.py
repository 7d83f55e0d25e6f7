"""The referral program: an invitee enters an inviter's code within 7 days of signing up and
before their first order; their first delivered order gives both points exactly once, unless
the two accounts share a mailbox, a browser, an address or a card, which staff see as the reason."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from tests.conftest import Backend, make_settings
from tests.factories.accounts import Member, make_staff, signup_member
from tests.factories.catalog import ProductRef, make_product
from tests.factories.orders import (
    ADDRESS,
    deliver_order,
    log_in_again,
    pay_order,
    place_order,
    points_of,
)
from tests.factories.rewards import settle
from tests.fakes.toss import FAKE_SECRET_KEY, FakeToss, serve_fake_toss

from jangteo.core.clock import FrozenClock
from jangteo.core.events import dispatch_pending
from jangteo.core.models import OutboxEvent
from jangteo.core.platform import Platform
from jangteo.orders.payments import make_gateway
from jangteo.settings import Settings

INVITER_POINTS, INVITEE_POINTS = 3_000, 2_000
OTHER_ADDRESS = {
    "recipient": "박이웃",
    "phone": "010-9876-5432",
    "postal_code": "06236",
    "line1": "서울특별시 강남구 테헤란로 152",
    "line2": "12층",
}


@pytest.fixture
def settings(backend: Backend, tmp_path: Path) -> Settings:
    return make_settings(
        backend,
        tmp_path,
        purchase_reward_percent=0,  # the wallets then hold referral points only
        referral_inviter_points=INVITER_POINTS,
        referral_invitee_points=INVITEE_POINTS,
    )


async def _mine(client: httpx.AsyncClient, member: Member) -> dict[str, Any]:
    response = await client.get("/api/v1/me/referral", headers=member.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _accept(client: httpx.AsyncClient, member: Member, code: Any) -> httpx.Response:
    return await client.post("/api/v1/me/referral", json={"code": code}, headers=member.headers)


async def _invite(client: httpx.AsyncClient, inviter: Member, invitee: Member) -> None:
    accepted = await _accept(client, invitee, (await _mine(client, inviter))["code"])
    assert accepted.status_code == 201, accepted.text


async def _referrals(
    client: httpx.AsyncClient, staff: Member, **params: Any
) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/admin/referrals", params=params, headers=staff.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def _delivered(
    client: httpx.AsyncClient,
    platform: Platform,
    staff: Member,
    buyer: Member,
    product: ProductRef,
    **order: Any,
) -> dict[str, Any]:
    placed = await place_order(client, buyer, product.variant_ids[0], **order)
    await pay_order(client, buyer, placed)
    await deliver_order(client, staff, placed)
    await settle(platform)
    return placed


async def _deliver_events_again(platform: Platform, delivered: int) -> None:
    """Events arrive at least once: hand every `order.delivered` to its subscribers again."""
    async with platform.db.write() as session:
        await session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.topic == "order.delivered")
            .values(dispatched_at=None, next_attempt_at=platform.clock.now())
        )
    assert await dispatch_pending(platform.db, platform.bus, platform.clock) == delivered


async def test_the_first_delivery_rewards_both_members_exactly_once(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    inviter, invitee = await signup_member(client), await signup_member(client)
    product = await make_product(platform, price=30_000)

    mine = await _mine(client, inviter)
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{8}", mine["code"])
    assert (await _mine(client, inviter))["code"] == mine["code"]
    assert mine | {"code": None} == {
        "code": None,
        "inviter_points": INVITER_POINTS,
        "invitee_points": INVITEE_POINTS,
        "invited": 0,
        "rewarded": 0,
        "pending": 0,
        "refused": 0,
        "recent": [],
        "invited_by": None,
        "can_enter_code": True,
    }

    typed = f" {mine['code'][:4].lower()} {mine['code'][4:]} "  # any case, stray spaces
    accepted = await _accept(client, invitee, typed)
    assert accepted.status_code == 201, accepted.text
    assert (accepted.json()["inviter_nickname"], accepted.json()["status"]) == (
        inviter.nickname,
        "pending",
    )
    again = await _accept(client, invitee, mine["code"])
    assert (again.status_code, again.json()["code"]) == (409, "already-referred")
    theirs = await _mine(client, invitee)
    assert (theirs["invited_by"], theirs["can_enter_code"]) == (inviter.nickname, False)
    mine = await _mine(client, inviter)
    assert (mine["invited"], mine["pending"]) == (1, 1)
    # the inviter sees who joined by nickname only
    assert [set(i) for i in mine["recent"]] == [{"nickname", "status", "joined_at"}]
    assert [(i["nickname"], i["status"]) for i in mine["recent"]] == [(invitee.nickname, "pending")]

    first = await _delivered(client, platform, staff, invitee, product)
    assert await points_of(client, inviter) == INVITER_POINTS
    assert await points_of(client, invitee) == INVITEE_POINTS
    await _deliver_events_again(platform, delivered=1)
    await _delivered(client, platform, staff, invitee, product)  # a second order
    assert await points_of(client, inviter) == INVITER_POINTS
    assert await points_of(client, invitee) == INVITEE_POINTS

    for member, side in ((inviter, "inviter"), (invitee, "invitee")):
        wallet = await client.get("/api/v1/me/wallet/entries", headers=member.headers)
        assert [e["reason"] for e in wallet.json()["items"]] == [f"referral.{side}"]
    [row] = await _referrals(client, staff, status="rewarded")
    assert (row["inviter_nickname"], row["invitee_nickname"], row["refusal_reason"]) == (
        inviter.nickname,
        invitee.nickname,
        None,
    )
    assert row["order_id"] == first["id"]
    assert row["decided_at"] is not None
    mine = await _mine(client, inviter)
    assert (mine["invited"], mine["rewarded"], mine["pending"]) == (1, 1, 0)


async def _refused_for(
    client: httpx.AsyncClient, platform: Platform, staff: Member, reason: str
) -> dict[str, Any]:
    """The one refused referral, with the given reason; and nobody got points."""
    rows = await _referrals(client, staff, status="refused")
    assert [r["refusal_reason"] for r in rows] == [reason]
    assert await _referrals(client, staff, status="rewarded") == []
    return rows[0]


async def test_two_members_on_one_browser_are_refused(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    inviter, invitee = await signup_member(client), await signup_member(client)
    product = await make_product(platform)
    browser = "shared-browser-1234"
    for member in (inviter, invitee):  # the browser's link now points at the invitee only
        linked = await client.put(f"/api/v1/me/visitors/{browser}", headers=member.headers)
        assert linked.status_code == 204
    await _invite(client, inviter, invitee)
    await _delivered(client, platform, staff, invitee, product)

    row = await _refused_for(client, platform, staff, "same_device")
    assert row["invitee_nickname"] == invitee.nickname
    assert await points_of(client, inviter) == 0
    assert await points_of(client, invitee) == 0
    mine = await _mine(client, inviter)
    assert (mine["refused"], mine["recent"][0]["status"]) == (1, "refused")
    assert "refusal_reason" not in mine["recent"][0]


async def test_a_shared_address_is_refused(client: httpx.AsyncClient, platform: Platform) -> None:
    staff = await make_staff(platform, client)
    inviter, invitee = await signup_member(client), await signup_member(client)
    product = await make_product(platform)
    # the same place written differently: spacing of the street number
    saved = await client.post(
        "/api/v1/me/addresses",
        json={**ADDRESS, "line1": "서울특별시 중구 세종대로110", "recipient": "다른이름"},
        headers=inviter.headers,
    )
    assert saved.status_code == 201, saved.text
    await _invite(client, inviter, invitee)
    await _delivered(client, platform, staff, invitee, product)  # shipped to ADDRESS

    await _refused_for(client, platform, staff, "same_address")
    assert await points_of(client, inviter) == 0
    assert await points_of(client, invitee) == 0


async def test_one_mailbox_under_two_aliases_is_refused(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    inviter = await signup_member(client, email="kim.minji@gmail.com")
    invitee = await signup_member(client, email="kimminji+invite@gmail.com")
    product = await make_product(platform)
    await _invite(client, inviter, invitee)
    await _delivered(client, platform, staff, invitee, product)

    await _refused_for(client, platform, staff, "self")
    assert await points_of(client, invitee) == 0


CARDS = {
    "cardA": {"issuerCode": "61", "acquirerCode": "31", "number": "43301234****123*"},
    "cardB": {"issuerCode": "71", "acquirerCode": "71", "number": "53651234****456*"},
}


class CardToss(FakeToss):
    """The fake Toss answering, as Toss does, the card a payment was made with: the payment
    key's prefix before the first '-' picks the card."""

    async def _approve(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        status, payment = await super()._approve(body)
        if status == 200:
            card = {
                **CARDS[payment["paymentKey"].split("-")[0]],
                "installmentPlanMonths": 0,
                "approveNo": "00000000",
                "cardType": "신용",
                "ownerType": "개인",
                "amount": payment["totalAmount"],
            }
            with self._lock:
                self.payments[payment["paymentKey"]]["card"] = card
            payment = {**payment, "card": card}
        return status, payment


@pytest.fixture(scope="module")
def toss() -> Iterator[CardToss]:
    with serve_fake_toss(CardToss()) as fake:
        yield fake


async def _pay_by_card(
    client: httpx.AsyncClient, member: Member, order: dict[str, Any], card: str
) -> None:
    response = await client.post(
        f"/api/v1/orders/{order['id']}/payments",
        json={"payment_key": f"{card}-{uuid.uuid4().hex}", "amount": order["total"]},
        headers={**member.headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code == 200, response.text


async def test_one_card_for_both_is_refused(
    client: httpx.AsyncClient,
    platform: Platform,
    settings: Settings,
    toss: CardToss,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    toss_settings = settings.model_copy(
        update={
            "payment_provider": "toss",
            "toss_secret_key": FAKE_SECRET_KEY,
            "toss_api_base": toss.base_url,
        }
    )
    monkeypatch.setitem(platform.adapters, "payments", make_gateway(toss_settings, platform.clock))
    staff = await make_staff(platform, client)
    product = await make_product(platform, stock=20)
    pairs = {}
    for invitee_card in ("cardB", "cardA"):  # the inviters pay with card A
        inviter, invitee = await signup_member(client), await signup_member(client)
        await _invite(client, inviter, invitee)
        bought = await place_order(client, inviter, product.variant_ids[0], address=OTHER_ADDRESS)
        await _pay_by_card(client, inviter, bought, "cardA")
        first = await place_order(client, invitee, product.variant_ids[0])
        await _pay_by_card(client, invitee, first, invitee_card)
        await deliver_order(client, staff, first)
        pairs[invitee_card] = (inviter, invitee)
    await settle(platform)

    rows = {r["invitee_nickname"]: r for r in await _referrals(client, staff)}
    inviter, invitee = pairs["cardB"]
    assert (rows[invitee.nickname]["status"], rows[invitee.nickname]["refusal_reason"]) == (
        "rewarded",
        None,
    )
    assert await points_of(client, invitee) == INVITEE_POINTS
    inviter, invitee = pairs["cardA"]
    assert (rows[invitee.nickname]["status"], rows[invitee.nickname]["refusal_reason"]) == (
        "refused",
        "same_payment_method",
    )
    assert await points_of(client, inviter) == 0
    assert await points_of(client, invitee) == 0


async def test_codes_that_cannot_be_entered(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    inviter = await signup_member(client)
    code = (await _mine(client, inviter))["code"]

    own = await _accept(client, inviter, code)
    assert (own.status_code, own.json()["code"]) == (422, "own-invite-code")
    assert own.headers["content-type"].startswith("application/problem+json")
    assert own.json()["title"] == "자신의 초대 코드는 입력할 수 없습니다."
    member = await signup_member(client)
    unknown = await _accept(client, member, "ZZZZ9999")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "invite-code-not-found")
    for bad in (12345678, "", "X" * 21, None):
        assert (await _accept(client, member, bad)).status_code == 422
    extra = await client.post(
        "/api/v1/me/referral", json={"code": code, "points": 99999}, headers=member.headers
    )
    assert extra.status_code == 422
    assert (await client.post("/api/v1/me/referral", json={"code": code})).status_code == 401

    # after the first order, even unpaid
    product = await make_product(platform)
    await place_order(client, member, product.variant_ids[0])
    ordered = await _accept(client, member, code)
    assert (ordered.status_code, ordered.json()["code"], ordered.json()["reason"]) == (
        409,
        "invite-too-late",
        "already-ordered",
    )
    assert (await _mine(client, member))["can_enter_code"] is False

    # 7 days after signing up, to the second
    in_time, late = await signup_member(client), await signup_member(client)
    clock.advance(days=6, hours=23, minutes=59)
    await log_in_again(client, in_time)
    assert (await _accept(client, in_time, code)).status_code == 201
    clock.advance(minutes=2)
    await log_in_again(client, late)
    assert (await _mine(client, late))["can_enter_code"] is False
    too_late = await _accept(client, late, code)
    assert (too_late.status_code, too_late.json()["code"], too_late.json()["reason"]) == (
        409,
        "invite-too-late",
        "signup-window-passed",
    )
    await log_in_again(client, inviter)
    assert (await _mine(client, inviter))["invited"] == 1


async def test_staff_page_through_referrals_and_members_cannot(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    inviter = await signup_member(client)
    invitees = [await signup_member(client) for _ in range(3)]
    for invitee in invitees:
        await _invite(client, inviter, invitee)

    first = await client.get("/api/v1/admin/referrals", params={"limit": 2}, headers=staff.headers)
    body = first.json()
    assert len(body["items"]) == 2 and body["next_cursor"]
    rest = await client.get(
        "/api/v1/admin/referrals",
        params={"limit": 2, "cursor": body["next_cursor"]},
        headers=staff.headers,
    )
    assert rest.json()["next_cursor"] is None
    listed = [r["invitee_nickname"] for r in body["items"] + rest.json()["items"]]
    assert listed == [i.nickname for i in reversed(invitees)]  # newest first
    assert {r["status"] for r in body["items"]} == {"pending"}
    assert await _referrals(client, staff, status="refused") == []
    bogus = await client.get(
        "/api/v1/admin/referrals", params={"status": "bogus"}, headers=staff.headers
    )
    assert bogus.status_code == 422
    broken = await client.get(
        "/api/v1/admin/referrals", params={"cursor": "not-a-cursor"}, headers=staff.headers
    )
    assert broken.status_code == 400

    member = await client.get("/api/v1/admin/referrals", headers=inviter.headers)
    assert member.status_code == 403
    assert (await client.get("/api/v1/admin/referrals")).status_code == 401
