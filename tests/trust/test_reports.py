"""Reports and the moderation queue: a member reports a thing once; staff see the queue with
counts and previews, dismiss, or take content down with its reason shown in its place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import Backend, make_settings
from tests.factories.accounts import Member, make_staff, signup_member
from tests.factories.community import TRUSTED_FROM_THE_START, join, make_post, make_space

from jangteo.core.platform import Platform
from jangteo.settings import Settings


@pytest.fixture
def settings(backend: Backend, tmp_path: Path) -> Settings:
    return make_settings(backend, tmp_path, **TRUSTED_FROM_THE_START)


async def _report(
    client: httpx.AsyncClient, member: Member, target_type: str, target_id: str, **body: Any
) -> httpx.Response:
    return await client.post(
        "/api/v1/reports",
        json={"target_type": target_type, "target_id": target_id, "reason": "spam", **body},
        headers=member.headers,
    )


async def _queue(client: httpx.AsyncClient, staff: Member, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/api/v1/admin/reports", params=query, headers=staff.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if not cursor:
            return items


async def _resolve(
    client: httpx.AsyncClient, staff: Member, report_id: str, action: str, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/api/v1/admin/reports/{report_id}/resolve",
        json={"action": action, **body},
        headers=staff.headers,
    )


async def test_a_member_reports_a_thing_once(client: httpx.AsyncClient, platform: Platform) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    staff = await make_staff(platform, client)
    author = await signup_member(client)
    alice = await signup_member(client)
    bob = await signup_member(client)
    await make_space(client, owner, slug="talk")
    post = await make_post(client, author, "talk", title="싸게 팝니다", body="연락주세요 010")

    first = await _report(client, alice, "post", post["id"], detail="광고 글")
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "open"
    again = await _report(client, alice, "post", post["id"], reason="abuse")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["reason"] == "spam"  # the report made before, unchanged
    assert (await _report(client, bob, "post", post["id"])).status_code == 201
    member_report = await _report(client, bob, "member", author.id, reason="abuse")
    assert member_report.status_code == 201

    queue = await _queue(client, staff)
    assert [item["target_type"] for item in queue] == ["member", "post", "post"]  # newest first
    on_post = queue[1]
    assert on_post["reporter_id"] == bob.id
    assert on_post["target"]["reports"] == 2
    assert on_post["target"]["open_reports"] == 2
    assert on_post["target"]["preview"] == "싸게 팝니다 연락주세요 010"
    assert on_post["target"]["author_id"] == author.id
    assert queue[0]["target"]["preview"] == author.nickname
    assert [i["id"] for i in await _queue(client, staff, target_type="member")] == [
        member_report.json()["id"]
    ]
    assert [i["id"] for i in await _queue(client, staff, limit=1)] == [i["id"] for i in queue]

    # the queue is for staff only; reporting needs a login
    listed = await client.get("/api/v1/admin/reports", headers=alice.headers)
    assert listed.status_code == 403
    anonymous = await client.post(
        "/api/v1/reports", json={"target_type": "post", "target_id": post["id"], "reason": "spam"}
    )
    assert anonymous.status_code == 401


async def test_bad_reports_are_refused_and_change_nothing(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    staff = await make_staff(platform, client)
    insider = await signup_member(client)
    outsider = await signup_member(client)
    await make_space(client, owner, slug="secret", visibility="members_only")
    assert (await join(client, insider, "secret")).status_code == 200
    hidden = await make_post(client, insider, "secret", title="비밀 글")
    missing = "0190a5c8-0000-7000-8000-000000000000"

    cases = [
        ({"target_type": "story"}, 422),
        ({"reason": "ugly"}, 422),
        ({"reason": "other"}, 422),  # "other" needs a detail
        ({"detail": "x" * 1001}, 422),
        ({"extra": 1}, 422),
        ({"target_id": "not-a-uuid"}, 422),
        ({"target_id": missing}, 404),
        ({"target_type": "comment", "target_id": missing}, 404),
        ({"target_type": "member", "target_id": missing}, 404),
        ({"target_type": "member", "target_id": outsider.id}, 422),  # oneself
        ({}, 403),  # what one cannot read, one cannot report
    ]
    for change, expected in cases:
        body = {"target_type": "post", "target_id": hidden["id"], "reason": "spam", **change}
        response = await client.post("/api/v1/reports", json=body, headers=outsider.headers)
        assert response.status_code == expected, (change, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert await _queue(client, staff) == []
    other = await _report(client, insider, "post", hidden["id"], reason="other", detail="중복 글")
    assert other.status_code == 201


async def test_dismiss_or_take_content_down(client: httpx.AsyncClient, platform: Platform) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    staff = await make_staff(platform, client)
    author = await signup_member(client)
    alice = await signup_member(client)
    bob = await signup_member(client)
    await make_space(client, owner, slug="talk")
    fine = await make_post(client, author, "talk", title="정상 글")
    spam = await make_post(client, author, "talk", title="광고 글")
    comment = (
        await client.post(
            f"/api/v1/posts/{fine['id']}/comments",
            json={"body": "제 번호는 010-1234-5678"},
            headers=author.headers,
        )
    ).json()

    on_fine = [(await _report(client, m, "post", fine["id"])).json() for m in (alice, bob)]
    on_spam = [(await _report(client, m, "post", spam["id"])).json() for m in (alice, bob)]
    on_comment = (await _report(client, alice, "comment", comment["id"], reason="privacy")).json()
    on_member = (await _report(client, bob, "member", author.id)).json()

    # only staff decide
    refused = await _resolve(client, alice, on_fine[0]["id"], "dismiss")
    assert refused.status_code == 403
    # dismissing closes every open report of the target; the post stays
    dismissed = await _resolve(client, staff, on_fine[0]["id"], "dismiss", note="문제 없음")
    assert dismissed.status_code == 200, dismissed.text
    assert dismissed.json()["status"] == "dismissed"
    assert dismissed.json()["handled_by"] == staff.id
    assert dismissed.json()["resolution"] == "문제 없음"
    assert dismissed.json()["target"]["open_reports"] == 0
    assert (await client.get(f"/api/v1/posts/{fine['id']}")).json()["status"] == "published"
    decided_twice = await _resolve(client, staff, on_fine[1]["id"], "remove_content")
    assert decided_twice.status_code == 409
    assert decided_twice.json()["type"].endswith("/report-already-handled")
    assert (await client.get(f"/api/v1/posts/{fine['id']}")).json()["status"] == "published"

    # taking a post down: the reason of the report shows in its place
    removed = await _resolve(client, staff, on_spam[1]["id"], "remove_content")
    assert removed.status_code == 200, removed.text
    assert removed.json()["status"] == "actioned"
    assert removed.json()["target"]["status"] == "removed"
    shown = (await client.get(f"/api/v1/posts/{spam['id']}")).json()
    assert shown["status"] == "removed"
    assert shown["removed_reason"] == "스팸·광고"
    assert shown["title"] == ""
    # a comment, with the staff's own note as the reason
    gone = await _resolve(client, staff, on_comment["id"], "remove_content", note="개인정보 노출")
    assert gone.status_code == 200, gone.text
    comments = (await client.get(f"/api/v1/posts/{fine['id']}/comments")).json()["items"]
    assert [(c["status"], c["removed_reason"]) for c in comments] == [("removed", "개인정보 노출")]
    # a member cannot be "taken down" from the queue; the report stays open
    kept = await _resolve(client, staff, on_member["id"], "remove_content")
    assert kept.status_code == 422
    assert kept.json()["type"].endswith("/content-not-removable")
    assert (await _queue(client, staff, status="open"))[0]["id"] == on_member["id"]

    statuses = {item["id"]: item["status"] for item in await _queue(client, staff)}
    assert statuses == {
        on_fine[0]["id"]: "dismissed",
        on_fine[1]["id"]: "dismissed",
        on_spam[0]["id"]: "actioned",
        on_spam[1]["id"]: "actioned",
        on_comment["id"]: "actioned",
        on_member["id"]: "open",
    }
    audit = await client.get(
        "/api/v1/admin/audit", params={"action": "trust.report."}, headers=staff.headers
    )
    actions = sorted((e["action"], e["target_id"]) for e in audit.json()["items"])
    assert actions == sorted(
        [
            ("trust.report.dismiss", fine["id"]),
            ("trust.report.remove_content", spam["id"]),
            ("trust.report.remove_content", comment["id"]),
        ]
    )
    bad = await _resolve(client, staff, on_member["id"], "ban")
    assert bad.status_code == 422


async def test_reports_are_rate_limited_per_member(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    author = await signup_member(client)
    eager = await signup_member(client)
    calm = await signup_member(client)
    await make_space(client, owner, slug="talk")
    post = await make_post(client, author, "talk")
    for _ in range(20):
        assert (await _report(client, eager, "post", post["id"])).status_code in (200, 201)
    limited = await _report(client, eager, "post", post["id"])
    assert limited.status_code == 429
    assert limited.json()["type"].endswith("/rate-limited")
    assert (await _report(client, calm, "post", post["id"])).status_code == 201
