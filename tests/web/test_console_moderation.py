"""The moderation queue in the console: reports listed with their content, removed or dismissed
from the page, and the reason shown in place of removed content."""

from __future__ import annotations

import httpx
from tests.factories.accounts import make_staff, signup_member
from tests.factories.community import make_post, make_space
from tests.web._console import staff_on_console
from tests.web._support import submit, text_of

from jangteo.core.platform import Platform


async def test_staff_remove_and_dismiss_reported_posts_from_the_queue(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    writer, reporter = await signup_member(client), await signup_member(client)
    await make_space(client, owner, slug="reported")
    spam = await make_post(client, writer, "reported", body="지금 바로 클릭 대박 이벤트")
    fine = await make_post(client, writer, "reported", body="평범한 후기")
    for post, reason in ((spam, "spam"), (fine, "other")):
        filed = await client.post(
            "/api/v1/reports",
            json={
                "target_type": "post",
                "target_id": post["id"],
                "reason": reason,
                "detail": "확인 부탁드려요",
            },
            headers=reporter.headers,
        )
        assert filed.status_code == 201, filed.text
    await staff_on_console(client, platform)

    queue = await client.get("/console/reports")
    page = text_of(queue.text)
    assert queue.status_code == 200
    assert "신고" in page and "스팸·광고" in page and "지금 바로 클릭" in page

    listed = await client.get("/api/v1/admin/reports", headers=owner.headers)
    assert listed.status_code == 403  # a creator is not staff
    staff = await make_staff(platform, client)
    items = (await client.get("/api/v1/admin/reports", headers=staff.headers)).json()["items"]
    by_post = {item["target_id"]: item["id"] for item in items}

    removed = await submit(
        client,
        f"/console/reports/{by_post[spam['id']]}/resolve",
        {"action": "remove_content", "note": "광고성 게시물"},
    )
    assert removed.status_code == 303
    assert removed.headers["location"] == "/console/reports?notice=report-resolved"
    dismissed = await submit(
        client, f"/console/reports/{by_post[fine['id']]}/resolve", {"action": "dismiss"}
    )
    assert dismissed.status_code == 303

    post = (await client.get(f"/api/v1/posts/{spam['id']}")).json()
    assert post["status"] == "removed" and post["removed_reason"] == "광고성 게시물"
    assert (await client.get(f"/api/v1/posts/{fine['id']}")).json()["status"] == "published"
    assert "신고가 없습니다." in (await client.get("/console/reports")).text
    handled = text_of((await client.get("/console/reports?status=actioned")).text)
    assert "광고성 게시물" in handled

    again = await submit(
        client, f"/console/reports/{by_post[spam['id']]}/resolve", {"action": "dismiss"}
    )
    assert again.status_code == 409
