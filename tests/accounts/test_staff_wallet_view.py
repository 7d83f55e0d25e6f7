"""Staff read a member's profile, wallet and points ledger (the console's points page)."""

from __future__ import annotations

import uuid

import httpx
from tests.factories.accounts import grant_points, make_staff, signup_member

from jangteo.core.platform import Platform


async def test_staff_see_a_members_ledger_newest_first_page_by_page(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    member = await signup_member(client)
    await grant_points(platform, member.id, 1000, reference="grant-1")
    adjusted = await client.post(
        f"/api/v1/admin/members/{member.id}/points",
        json={"amount": -250, "reason": "이벤트 중복 지급 😅"},
        headers={**staff.headers, "Idempotency-Key": "adjust-1"},
    )
    assert adjusted.status_code == 200 and adjusted.json()["balance"] == 750

    first = await client.get(
        f"/api/v1/admin/members/{member.id}/wallet/entries",
        params={"limit": 1},
        headers=staff.headers,
    )

    assert first.status_code == 200, first.text
    page = first.json()
    assert [(e["amount"], e["balance_after"]) for e in page["items"]] == [(-250, 750)]
    assert page["items"][0]["reason"] == "adjustment: 이벤트 중복 지급 😅"
    second = await client.get(
        f"/api/v1/admin/members/{member.id}/wallet/entries",
        params={"cursor": page["next_cursor"]},
        headers=staff.headers,
    )
    assert [(e["amount"], e["reference"]) for e in second.json()["items"]] == [(1000, "grant-1")]
    assert second.json()["next_cursor"] is None
    # the same ledger the member sees
    mine = await client.get("/api/v1/me/wallet/entries", headers=member.headers)
    assert [e["id"] for e in mine.json()["items"]] == [
        page["items"][0]["id"],
        second.json()["items"][0]["id"],
    ]
    wallet = await client.get(f"/api/v1/admin/members/{member.id}/wallet", headers=staff.headers)
    assert wallet.json()["balance"] == 750


async def test_staff_open_a_members_profile_and_the_view_is_audited(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    member = await signup_member(client)

    profile = await client.get(f"/api/v1/admin/members/{member.id}", headers=staff.headers)

    assert profile.status_code == 200
    assert profile.json()["email"] == member.email and profile.json()["status"] == "active"
    audit = await client.get(
        "/api/v1/admin/audit",
        params={"action": "member.viewed", "target_id": member.id},
        headers=staff.headers,
    )
    assert [e["actor_id"] for e in audit.json()["items"]] == [staff.id]


async def test_the_ledger_is_for_staff_only_and_unknown_members_are_404(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    other = await signup_member(client)
    no_mfa = await make_staff(platform, client, mfa=False)
    staff = await make_staff(platform, client)
    url = f"/api/v1/admin/members/{other.id}/wallet/entries"

    assert (await client.get(url)).status_code == 401
    as_member = await client.get(url, headers=member.headers)
    assert as_member.status_code == 403 and as_member.json()["code"] == "forbidden"
    without_mfa = await client.get(url, headers=no_mfa.headers)
    assert without_mfa.status_code == 403 and without_mfa.json()["code"] == "mfa-required"
    for path in ("/wallet/entries", "/wallet", ""):
        unknown = await client.get(
            f"/api/v1/admin/members/{uuid.uuid4()}{path}", headers=staff.headers
        )
        assert unknown.status_code == 404 and unknown.json()["code"] == "not-found", path
    not_an_id = await client.get("/api/v1/admin/members/1/wallet/entries", headers=staff.headers)
    assert not_an_id.status_code == 422
    bad_cursor = await client.get(url, params={"cursor": "%%%"}, headers=staff.headers)
    assert bad_cursor.status_code == 400
    empty = await client.get(url, headers=staff.headers)
    assert empty.json() == {"items": [], "next_cursor": None}
