"""Staff endpoints for members: roles, suspension, search; each audited."""

from __future__ import annotations

import uuid

import httpx
from tests.accounts._support import audit_actions, claims
from tests.factories.accounts import log_in, make_staff, signup_member

from jangteo.accounts import service
from jangteo.core.platform import Platform


def roles_url(member_id: str) -> str:
    return f"/api/v1/admin/members/{member_id}/roles"


async def test_admin_grants_and_removes_roles(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    admin = await make_staff(platform, client, roles=("admin",))
    member = await signup_member(client)

    granted = await client.put(
        roles_url(member.id), json={"roles": ["creator"]}, headers=admin.headers
    )

    assert granted.status_code == 200
    assert granted.json()["roles"] == ["creator", "member"]
    # a new log-in carries the role; without MFA it is not yet usable for privileged endpoints
    login = await log_in(client, member.email, member.password)
    assert claims(login.json()["access_token"])["roles"] == ["creator", "member"]
    removed = await client.put(roles_url(member.id), json={"roles": []}, headers=admin.headers)
    assert removed.json()["roles"] == ["member"]
    # removing a role signs the member out everywhere, so old tokens lose it at once
    stale = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert (await client.get("/api/v1/me", headers=stale)).status_code == 401
    assert await audit_actions(platform, member.id) == [
        "member.roles_changed",
        "member.roles_changed",
    ]


async def test_only_admins_change_roles(platform: Platform, client: httpx.AsyncClient) -> None:
    staff = await make_staff(platform, client, roles=("staff",))
    member = await signup_member(client)

    by_staff = await client.put(
        roles_url(member.id), json={"roles": ["admin"]}, headers=staff.headers
    )
    by_self = await client.put(
        roles_url(member.id), json={"roles": ["admin"]}, headers=member.headers
    )

    assert (by_staff.status_code, by_staff.json()["code"]) == (403, "forbidden")
    assert by_self.status_code == 403
    assert (await client.get("/api/v1/me", headers=member.headers)).json()["roles"] == ["member"]


async def test_role_changes_refuse_bad_input_and_unknown_members(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    admin = await make_staff(platform, client, roles=("admin",))
    member = await signup_member(client)

    unknown_role = await client.put(
        roles_url(member.id), json={"roles": ["superuser"]}, headers=admin.headers
    )
    not_a_list = await client.put(
        roles_url(member.id), json={"roles": "admin"}, headers=admin.headers
    )
    unknown_member = await client.put(
        roles_url(str(uuid.uuid4())), json={"roles": ["staff"]}, headers=admin.headers
    )
    self_demotion = await client.put(roles_url(admin.id), json={"roles": []}, headers=admin.headers)

    assert unknown_role.status_code == not_a_list.status_code == 422
    assert unknown_member.status_code == 404
    assert (self_demotion.status_code, self_demotion.json()["code"]) == (409, "cannot-demote-self")


async def test_suspension_signs_the_member_out_and_blocks_login(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    staff = await make_staff(platform, client)
    member = await signup_member(client)

    suspended = await client.post(
        f"/api/v1/admin/members/{member.id}/suspend",
        json={"reason": "스팸 게시물 반복 <script>"},
        headers=staff.headers,
    )

    assert suspended.status_code == 200
    assert suspended.json()["status"] == "suspended"
    assert (await client.get("/api/v1/me", headers=member.headers)).status_code == 401
    login = await log_in(client, member.email, member.password)
    assert (login.status_code, login.json()["code"]) == (403, "account-suspended")
    stale = await client.post("/api/v1/auth/refresh", json={"refresh_token": member.refresh_token})
    assert stale.status_code == 401
    reinstated = await client.post(
        f"/api/v1/admin/members/{member.id}/unsuspend", headers=staff.headers
    )
    assert reinstated.json()["status"] == "active"
    assert (await log_in(client, member.email, member.password)).status_code == 200
    assert await audit_actions(platform, member.id) == ["member.suspended", "member.reinstated"]


async def test_suspension_limits(platform: Platform, client: httpx.AsyncClient) -> None:
    staff = await make_staff(platform, client)
    admin = await make_staff(platform, client, roles=("admin",))
    member = await signup_member(client)

    staff_on_admin = await client.post(
        f"/api/v1/admin/members/{admin.id}/suspend", headers=staff.headers
    )
    self_suspend = await client.post(
        f"/api/v1/admin/members/{staff.id}/suspend", headers=staff.headers
    )
    member_on_member = await client.post(
        f"/api/v1/admin/members/{member.id}/suspend", headers=member.headers
    )
    unknown = await client.post(
        f"/api/v1/admin/members/{uuid.uuid4()}/suspend", headers=staff.headers
    )
    long_reason = await client.post(
        f"/api/v1/admin/members/{member.id}/suspend",
        json={"reason": "가" * 501},
        headers=staff.headers,
    )
    admin_on_staff = await client.post(
        f"/api/v1/admin/members/{staff.id}/suspend", headers=admin.headers
    )

    assert (staff_on_admin.status_code, staff_on_admin.json()["code"]) == (403, "forbidden")
    assert (self_suspend.status_code, self_suspend.json()["code"]) == (409, "cannot-suspend-self")
    assert member_on_member.status_code == 403
    assert unknown.status_code == 404
    assert long_reason.status_code == 422
    assert admin_on_staff.json()["status"] == "suspended"


async def test_staff_search_by_text_role_and_status(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    staff = await make_staff(platform, client)
    minji = await signup_member(client, email="minji.kim@jangteo.test", nickname="캐시미어민지")
    await signup_member(client, email="seojun@jangteo.test", nickname="Seojun_Park")
    await client.post(f"/api/v1/admin/members/{minji.id}/suspend", headers=staff.headers)

    async def search(**params: object) -> list[str]:
        response = await client.get("/api/v1/admin/members", params=params, headers=staff.headers)
        assert response.status_code == 200, response.text
        return [m["email"] for m in response.json()["items"]]

    assert await search(q="미어민") == ["minji.kim@jangteo.test"]
    assert await search(q="MINJI.KIM") == ["minji.kim@jangteo.test"]
    assert await search(q="seojun_p") == ["seojun@jangteo.test"]
    assert await search(q="%") == []  # wildcards are plain characters
    assert await search(q="'; DROP TABLE members; --") == []
    assert await search(status="suspended") == ["minji.kim@jangteo.test"]
    assert await search(role="staff") == [staff.email]
    assert await search(q="jangteo.test", status="active") == ["seojun@jangteo.test"]
    bad_role = await client.get(
        "/api/v1/admin/members", params={"role": "king"}, headers=staff.headers
    )
    assert bad_role.status_code == 422
    assert "members.searched" in await audit_actions(platform, "*")


async def test_staff_search_pages_through_everyone_once(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    staff = await make_staff(platform, client)
    created = {(await signup_member(client)).id for _ in range(7)}

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, object] = {"limit": 3, "role": "member"}
        if cursor:
            params["cursor"] = cursor
        page = (
            await client.get("/api/v1/admin/members", params=params, headers=staff.headers)
        ).json()
        seen += [m["id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert len(seen) == len(set(seen)) == 8  # the seven members and the staff member
    assert created <= set(seen)


async def test_create_admin_makes_an_admin_who_must_enrol_mfa(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    admin_id = await service.create_admin(
        platform, email="Root@Jangteo.test", password="관리자-비밀번호-1234", nickname="관리자"
    )

    login = await log_in(client, "root@jangteo.test", "관리자-비밀번호-1234")

    assert login.json()["member"]["id"] == str(admin_id)
    assert claims(login.json()["access_token"])["roles"] == ["admin", "member"]
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    refused = await client.get("/api/v1/admin/members", headers=headers)
    assert refused.json()["code"] == "mfa-required"
    async with platform.db.read() as session:
        brief = await service.get_member_brief(session, admin_id)
        assert await service.get_member_brief(session, uuid.uuid4()) is None
    assert brief is not None
    assert (brief.email, brief.nickname, brief.status) == ("root@jangteo.test", "관리자", "active")
    assert brief.roles == frozenset({"admin", "member"})
