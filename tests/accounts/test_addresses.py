"""Shipping addresses: the member's own only, one default, validated fields."""

from __future__ import annotations

import uuid

import httpx
import pytest
from tests.factories.accounts import Member, signup_member

from jangteo.accounts import service
from jangteo.core.errors import NotFound
from jangteo.core.platform import Platform

ADDRESSES = "/api/v1/me/addresses"


def address(**changes: object) -> dict[str, object]:
    return {
        "recipient": "김민지",
        "phone": "010-1234-5678",
        "postal_code": "06236",
        "line1": "서울특별시 강남구 테헤란로 123",
        "line2": "4층 🏢",
        **changes,
    }


async def add(client: httpx.AsyncClient, member: Member, **changes: object) -> dict[str, object]:
    response = await client.post(ADDRESSES, json=address(**changes), headers=member.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def listed(client: httpx.AsyncClient, member: Member) -> list[dict[str, object]]:
    response = await client.get(ADDRESSES, headers=member.headers)
    assert response.status_code == 200
    return response.json()["items"]


async def test_first_address_is_the_default_and_a_new_default_replaces_it(
    client: httpx.AsyncClient,
) -> None:
    member = await signup_member(client)

    home = await add(client, member)
    office = await add(client, member, recipient="회사", line2="")
    parents = await add(client, member, recipient="부모님", is_default=True)

    assert home["is_default"] is True
    assert office["is_default"] is False
    defaults = {a["recipient"]: a["is_default"] for a in await listed(client, member)}
    assert defaults == {"김민지": False, "회사": False, "부모님": True}
    assert parents["line1"] == "서울특별시 강남구 테헤란로 123"
    assert home["line2"] == "4층 🏢"


async def test_member_edits_and_deletes_an_address(client: httpx.AsyncClient) -> None:
    member = await signup_member(client)
    home = await add(client, member)
    office = await add(client, member, recipient="회사")

    edited = await client.patch(
        f"{ADDRESSES}/{office['id']}",
        json={"postal_code": "48058", "is_default": True, "line2": "<b>2층</b>"},
        headers=member.headers,
    )
    deleted = await client.delete(f"{ADDRESSES}/{home['id']}", headers=member.headers)

    assert edited.status_code == 200
    assert (edited.json()["postal_code"], edited.json()["line2"]) == ("48058", "<b>2층</b>")
    assert edited.json()["recipient"] == "회사"
    assert deleted.status_code == 204
    remaining = await listed(client, member)
    assert [(a["id"], a["is_default"]) for a in remaining] == [(office["id"], True)]
    gone = await client.delete(f"{ADDRESSES}/{home['id']}", headers=member.headers)
    assert gone.status_code == 404


async def test_other_members_addresses_are_404(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await signup_member(client)
    intruder = await signup_member(client)
    home = await add(client, owner)
    url = f"{ADDRESSES}/{home['id']}"

    read_list = await listed(client, intruder)
    patch = await client.patch(url, json={"recipient": "도둑"}, headers=intruder.headers)
    delete = await client.delete(url, headers=intruder.headers)

    assert read_list == []
    assert (patch.status_code, patch.json()["code"]) == (404, "not-found")
    assert delete.status_code == 404
    assert (await listed(client, owner))[0]["recipient"] == "김민지"
    async with platform.db.read() as session:
        view = await service.get_address(session, uuid.UUID(owner.id), uuid.UUID(home["id"]))
        assert (view.recipient, view.postal_code) == ("김민지", "06236")
        with pytest.raises(NotFound):
            await service.get_address(session, uuid.UUID(intruder.id), uuid.UUID(home["id"]))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("postal_code", "1234"),
        ("postal_code", "123456"),
        ("postal_code", "abcde"),
        ("postal_code", 6236),
        ("phone", "010-1234"),
        ("phone", "call me maybe"),
        ("recipient", ""),
        ("recipient", "가" * 51),
        ("line1", ""),
        ("line2", "가" * 201),
        ("is_default", "sometimes"),
    ],
)
async def test_bad_address_fields_are_422(
    client: httpx.AsyncClient, field: str, value: object
) -> None:
    member = await signup_member(client)

    response = await client.post(ADDRESSES, json=address(**{field: value}), headers=member.headers)

    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"].startswith(f"/body/{field}")


async def test_bad_edits_are_refused(client: httpx.AsyncClient) -> None:
    member = await signup_member(client)
    home = await add(client, member)

    null_field = await client.patch(
        f"{ADDRESSES}/{home['id']}", json={"recipient": None}, headers=member.headers
    )
    unknown_field = await client.patch(
        f"{ADDRESSES}/{home['id']}", json={"member_id": str(uuid.uuid4())}, headers=member.headers
    )
    unknown_id = await client.patch(
        f"{ADDRESSES}/{uuid.uuid4()}", json={"recipient": "누구"}, headers=member.headers
    )
    not_an_id = await client.patch(
        f"{ADDRESSES}/42", json={"recipient": "누구"}, headers=member.headers
    )

    assert null_field.status_code == unknown_field.status_code == not_an_id.status_code == 422
    assert (null_field.json()["code"], null_field.json()["field"]) == ("invalid-input", "recipient")
    assert unknown_id.status_code == 404
    assert (await listed(client, member))[0]["recipient"] == "김민지"


async def test_a_member_keeps_at_most_20_addresses(client: httpx.AsyncClient) -> None:
    member = await signup_member(client)
    for n in range(20):
        await add(client, member, recipient=f"받는분{n}")

    one_more = await client.post(ADDRESSES, json=address(), headers=member.headers)
    page = (await client.get(ADDRESSES, params={"limit": 15}, headers=member.headers)).json()
    rest = (
        await client.get(
            ADDRESSES, params={"limit": 15, "cursor": page["next_cursor"]}, headers=member.headers
        )
    ).json()

    assert (one_more.status_code, one_more.json()["code"]) == (409, "too-many-addresses")
    assert len(page["items"]) == 15 and len(rest["items"]) == 5
    assert rest["next_cursor"] is None
    assert len({a["id"] for a in page["items"] + rest["items"]}) == 20


async def test_addresses_need_a_login(client: httpx.AsyncClient) -> None:
    assert (await client.get(ADDRESSES)).status_code == 401
    assert (await client.post(ADDRESSES, json=address())).status_code == 401
