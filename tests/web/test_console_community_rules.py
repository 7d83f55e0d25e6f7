"""The community's rules and members' trust levels in the console, and the member's own trust
page in the shop."""

from __future__ import annotations

import httpx
from tests.factories.accounts import make_staff, signup_member
from tests.factories.community import make_post, make_space
from tests.web._console import staff_headers, staff_on_console
from tests.web._support import sign_up, submit, text_of

from jangteo.core.platform import Platform


def _form(rules: dict[str, int], **changes: object) -> dict[str, str]:
    return {name: str(value) for name, value in (rules | changes).items()}


async def test_staff_change_the_point_rules_from_the_console(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    assert (await client.get("/console/community-rules")).status_code in (302, 303)
    await staff_on_console(client, platform)
    page = await client.get("/console/community-rules")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "커뮤니티 규칙" in text and "활동 포인트" in text
    assert 'name="post_points" value="10"' in page.text.replace("\n", " ") or (
        'value="10"' in page.text
    )
    rules = (await client.get("/api/v1/community/rules")).json()

    saved = await submit(client, "/console/community-rules", _form(rules, post_points=25))
    assert saved.status_code == 303
    assert saved.headers["location"] == "/console/community-rules?notice=saved"
    assert (await client.get("/api/v1/community/rules")).json()["post_points"] == 25
    audit = await client.get(
        "/api/v1/admin/audit", params={"action": "rules.change"}, headers=staff_headers(client)
    )
    assert audit.json()["items"][0]["after"] == {"post_points": 25}

    # limits that fall from one trust level to the next are refused next to the fields
    refused = await submit(
        client, "/console/community-rules", _form(rules, post_points=25, new_posts_per_day=99)
    )
    assert refused.status_code == 422
    assert "신뢰 등급이 오를수록 줄어들 수 없습니다" in text_of(refused.text)
    assert 'aria-invalid="true"' in refused.text
    not_a_number = await submit(
        client, "/console/community-rules", _form(rules, post_points="많이")
    )
    assert not_a_number.status_code == 422
    after = (await client.get("/api/v1/community/rules")).json()
    assert after == rules | {"post_points": 25}


async def test_staff_fix_a_trust_level_from_the_member_page(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    await staff_on_console(client, platform)
    page = await client.get(f"/console/members/{member.id}")
    assert "커뮤니티 신뢰 등급" in text_of(page.text) and "새내기" in text_of(page.text)

    missing_reason = await submit(
        client, f"/console/members/{member.id}/trust", {"level": "3", "reason": ""}
    )
    assert missing_reason.status_code == 422
    fixed = await submit(
        client, f"/console/members/{member.id}/trust", {"level": "3", "reason": "모임 운영진"}
    )
    assert fixed.status_code == 303
    trust = await client.get(
        f"/api/v1/admin/members/{member.id}/trust", headers=staff_headers(client)
    )
    assert (trust.json()["level"], trust.json()["locked"]) == (3, True)
    page = await client.get(f"/console/members/{member.id}")
    assert "리더" in text_of(page.text) and "운영진이 정함" in text_of(page.text)

    back = await submit(
        client, f"/console/members/{member.id}/trust", {"level": "auto", "reason": "자동으로"}
    )
    assert back.status_code == 303
    trust = await client.get(
        f"/api/v1/admin/members/{member.id}/trust", headers=staff_headers(client)
    )
    assert (trust.json()["level"], trust.json()["locked"]) == (0, False)


async def test_a_member_sees_their_trust_level_grow_by_reading(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client)
    await make_space(client, owner, slug="read-here")
    post = await make_post(client, owner, "read-here", body="읽어 보세요")
    await sign_up(client)
    before = await client.get("/community/me/trust")
    assert before.status_code == 200
    text = text_of(before.text)
    assert "새내기" in text and "읽은 글 0" in text.replace("</dt>", "")
    assert "글 10개 더 읽기" in text

    await client.get(f"/community/p/{post['id']}")
    after = text_of((await client.get("/community/me/trust")).text)
    assert "글 9개 더 읽기" in after
    assert "/community/me/trust" in (await client.get("/my/orders")).text
