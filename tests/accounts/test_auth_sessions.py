"""Refresh-token rotation and theft detection, log-out, the session list, password change."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from tests.accounts._support import audit_actions
from tests.factories.accounts import Member, log_in, signup_member

from jangteo.core.clock import FrozenClock
from jangteo.core.platform import Platform

REFRESH = "/api/v1/auth/refresh"


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(REFRESH, json={"refresh_token": token})


async def second_login(client: httpx.AsyncClient, member: Member, agent: str) -> dict[str, str]:
    response = await client.post(
        "/api/v1/auth/token",
        json={"email": member.email, "password": member.password},
        headers={"User-Agent": agent},
    )
    assert response.status_code == 200
    body = response.json()
    return {"Authorization": f"Bearer {body['access_token']}", "refresh": body["refresh_token"]}


async def test_refresh_rotates_the_refresh_token(client: httpx.AsyncClient) -> None:
    member = await signup_member(client)

    first = await refresh(client, member.refresh_token)

    assert first.status_code == 200
    body = first.json()
    assert body["refresh_token"] != member.refresh_token
    assert body["member"]["id"] == member.id
    new_headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert (await client.get("/api/v1/me", headers=new_headers)).status_code == 200
    second = await refresh(client, body["refresh_token"])
    assert second.status_code == 200


async def test_reusing_a_rotated_refresh_token_ends_the_session(client: httpx.AsyncClient) -> None:
    member = await signup_member(client)
    rotated = (await refresh(client, member.refresh_token)).json()

    replay = await refresh(client, member.refresh_token)

    assert replay.status_code == 401
    assert replay.json()["code"] == "refresh-token-reused"
    # the thief and the owner are both out: the newest refresh token and access token fail too
    assert (await refresh(client, rotated["refresh_token"])).status_code == 401
    me = await client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {rotated['access_token']}"}
    )
    assert me.status_code == 401


async def test_two_refreshes_of_one_token_at_once_let_at_most_one_through(
    client: httpx.AsyncClient,
) -> None:
    member = await signup_member(client)

    responses = await asyncio.gather(*(refresh(client, member.refresh_token) for _ in range(2)))

    assert sorted(r.status_code for r in responses) == [200, 401]
    loser = next(r for r in responses if r.status_code == 401)
    assert loser.json()["code"] == "refresh-token-reused"
    winner = next(r for r in responses if r.status_code == 200).json()
    assert (await refresh(client, winner["refresh_token"])).status_code == 401


async def test_unknown_or_malformed_refresh_tokens_are_refused(client: httpx.AsyncClient) -> None:
    unknown = await refresh(client, "made-up-token")
    empty = await refresh(client, "")
    wrong_type = await client.post(REFRESH, json={"refresh_token": 42})

    assert (unknown.status_code, unknown.json()["code"]) == (401, "invalid-refresh-token")
    assert empty.status_code == wrong_type.status_code == 422


async def test_access_tokens_expire_after_15_minutes_and_refresh_tokens_after_30_days(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    member = await signup_member(client)

    clock.advance(minutes=15, seconds=1)
    expired = await client.get("/api/v1/me", headers=member.headers)
    renewed = await refresh(client, member.refresh_token)

    assert (expired.status_code, expired.json()["code"]) == (401, "invalid-token")
    assert renewed.status_code == 200
    clock.advance(days=30)
    late = await refresh(client, renewed.json()["refresh_token"])
    assert (late.status_code, late.json()["code"]) == (401, "invalid-refresh-token")


async def test_logout_makes_the_access_token_fail_at_once(client: httpx.AsyncClient) -> None:
    member = await signup_member(client)

    out = await client.post("/api/v1/auth/logout", headers=member.headers)

    assert out.status_code == 204
    me = await client.get("/api/v1/me", headers=member.headers)
    assert (me.status_code, me.json()["code"]) == (401, "unauthenticated")
    again = await refresh(client, member.refresh_token)
    assert (again.status_code, again.json()["code"]) == (401, "invalid-refresh-token")
    assert (await client.post("/api/v1/auth/logout")).status_code == 401


async def test_sessions_list_shows_mine_and_flags_the_current_one(
    client: httpx.AsyncClient,
) -> None:
    member = await signup_member(client)
    phone = await second_login(client, member, "Galaxy S25 / SamsungBrowser 27")
    stranger = await signup_member(client)

    listed = await client.get("/api/v1/me/sessions", headers=member.headers)

    assert listed.status_code == 200
    items = listed.json()["items"]
    assert len(items) == 2
    assert [s["current"] for s in items].count(True) == 1
    assert "Galaxy S25 / SamsungBrowser 27" in {s["user_agent"] for s in items}
    stranger_ids = {
        s["id"]
        for s in (await client.get("/api/v1/me/sessions", headers=stranger.headers)).json()["items"]
    }
    assert stranger_ids.isdisjoint({s["id"] for s in items})
    from_phone = await client.get(
        "/api/v1/me/sessions", headers={"Authorization": phone["Authorization"]}
    )
    current = next(s for s in from_phone.json()["items"] if s["current"])
    assert current["user_agent"] == "Galaxy S25 / SamsungBrowser 27"


async def test_revoking_another_device_signs_it_out(client: httpx.AsyncClient) -> None:
    member = await signup_member(client)
    phone = await second_login(client, member, "phone")
    sessions = (await client.get("/api/v1/me/sessions", headers=member.headers)).json()["items"]
    phone_session = next(s for s in sessions if not s["current"])

    revoked = await client.delete(
        f"/api/v1/me/sessions/{phone_session['id']}", headers=member.headers
    )

    assert revoked.status_code == 204
    phone_me = await client.get("/api/v1/me", headers={"Authorization": phone["Authorization"]})
    assert phone_me.status_code == 401
    assert (await refresh(client, phone["refresh"])).status_code == 401
    assert (await client.get("/api/v1/me", headers=member.headers)).status_code == 200
    left = (await client.get("/api/v1/me/sessions", headers=member.headers)).json()["items"]
    assert [s["id"] for s in left] != [phone_session["id"]] and len(left) == 1


async def test_another_members_session_is_404(client: httpx.AsyncClient) -> None:
    owner = await signup_member(client)
    intruder = await signup_member(client)
    owner_session = (await client.get("/api/v1/me/sessions", headers=owner.headers)).json()[
        "items"
    ][0]["id"]

    other = await client.delete(f"/api/v1/me/sessions/{owner_session}", headers=intruder.headers)
    unknown = await client.delete(f"/api/v1/me/sessions/{uuid.uuid4()}", headers=intruder.headers)
    malformed = await client.delete("/api/v1/me/sessions/1%20OR%201=1", headers=intruder.headers)

    assert (other.status_code, other.json()["code"]) == (404, "not-found")
    assert unknown.status_code == 404
    assert malformed.status_code == 422
    assert (await client.get("/api/v1/me", headers=owner.headers)).status_code == 200


async def test_sessions_list_pages_without_gaps(client: httpx.AsyncClient) -> None:
    member = await signup_member(client)
    for n in range(4):
        await second_login(client, member, f"device-{n}")

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (
            await client.get("/api/v1/me/sessions", params=params, headers=member.headers)
        ).json()
        seen += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert len(seen) == len(set(seen)) == 5
    bad = await client.get("/api/v1/me/sessions", params={"cursor": "!!"}, headers=member.headers)
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid-cursor")
    too_many = await client.get(
        "/api/v1/me/sessions", params={"limit": 101}, headers=member.headers
    )
    assert too_many.status_code == 422


async def test_password_change_signs_out_every_other_session(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    laptop = await second_login(client, member, "laptop")

    changed = await client.post(
        "/api/v1/me/password",
        json={"current_password": member.password, "new_password": "새-비밀번호-2026!"},
        headers=member.headers,
    )

    assert changed.status_code == 204
    assert (await client.get("/api/v1/me", headers=member.headers)).status_code == 200
    laptop_me = await client.get("/api/v1/me", headers={"Authorization": laptop["Authorization"]})
    assert laptop_me.status_code == 401
    assert (await refresh(client, laptop["refresh"])).status_code == 401
    assert (await log_in(client, member.email, member.password)).status_code == 401
    assert (await log_in(client, member.email, "새-비밀번호-2026!")).status_code == 200
    assert "member.password_changed" in await audit_actions(platform, member.id)


async def test_password_change_needs_the_current_password_and_a_valid_new_one(
    client: httpx.AsyncClient,
) -> None:
    member = await signup_member(client)

    wrong = await client.post(
        "/api/v1/me/password",
        json={"current_password": "not-my-password", "new_password": "another-password-1"},
        headers=member.headers,
    )
    short = await client.post(
        "/api/v1/me/password",
        json={"current_password": member.password, "new_password": "short"},
        headers=member.headers,
    )
    anonymous = await client.post(
        "/api/v1/me/password",
        json={"current_password": member.password, "new_password": "another-password-1"},
    )

    assert (wrong.status_code, wrong.json()["code"]) == (403, "wrong-password")
    assert short.status_code == 422
    assert anonymous.status_code == 401
    assert (await log_in(client, member.email, member.password)).status_code == 200
