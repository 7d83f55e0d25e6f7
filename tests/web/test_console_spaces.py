"""Community spaces in the console: the list (members-only spaces too), a new space, the rules
form (audited), boards, join requests, roles, mutes and bans, each read back through the API."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx
from tests.factories.accounts import make_staff, signup_member
from tests.factories.community import join, make_post, make_space
from tests.web._console import staff_headers, staff_on_console
from tests.web._support import sign_up, submit, text_of

from jangteo.core.platform import Platform


def _field_error(html: str, field_id: str) -> str:
    """The message shown under one field (and that the field is marked invalid)."""
    assert re.search(rf'id="{field_id}"[^>]*aria-invalid="true"', html), f"{field_id} not invalid"
    found = re.search(rf'<p class="field-error" id="{field_id}-error">([^<]+)</p>', html)
    assert found, f"no message under {field_id}"
    return found.group(1)


async def test_visitors_and_members_cannot_use_the_spaces_console(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    visitor = await client.get("/console/spaces")
    assert visitor.status_code == 303
    assert visitor.headers["location"].startswith("/console/login?next=/console/spaces")

    await sign_up(client)
    assert (await client.get("/console/spaces")).status_code == 403
    refused = await submit(client, "/console/spaces", {"slug": "sneaky", "name": "몰래 만든 방"})
    assert refused.status_code == 403
    assert (await client.get("/api/v1/spaces/sneaky")).status_code == 404


async def test_staff_list_every_space_and_create_one_from_the_form(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    await make_space(client, owner, slug="open-knit", name="누구나 뜨개")
    await make_space(client, owner, slug="secret-knit", name="비밀 뜨개", visibility="members_only")
    await staff_on_console(client, platform)

    listing = await client.get("/console/spaces")
    page = text_of(listing.text)
    assert listing.status_code == 200
    assert "누구나 뜨개" in page and "비밀 뜨개" in page and "멤버 전용" in page
    assert 'href="/console/spaces"' in listing.text and 'aria-current="page"' in listing.text

    slug = "뜨개-모임"
    created = await submit(
        client,
        "/console/spaces",
        {
            "slug": slug,
            "name": "뜨개 모임",
            "description": "승인받고 들어오는 뜨개 모임",
            "visibility": "members_write",
            "join_policy": "verified",
            "verification": "staff_approval",
        },
    )
    assert created.status_code == 303, created.text
    url = f"/console/spaces/{quote(slug, safe='')}"
    assert created.headers["location"] == f"{url}?notice=space-created"
    shown = await client.get(created.headers["location"])
    assert "커뮤니티를 만들었습니다." in shown.text and "뜨개 모임" in shown.text

    space = (await client.get(f"/api/v1/spaces/{slug}", headers=staff_headers(client))).json()
    assert space["visibility"] == "members_write"
    assert (space["join_policy"], space["verification"]) == ("verified", "staff_approval")
    assert space["my_role"] == "owner"
    mine = await client.get("/console/spaces", params={"mine": "1"})
    assert "뜨개 모임" in mine.text and "비밀 뜨개" not in mine.text

    taken = await submit(
        client,
        "/console/spaces",
        {"slug": slug, "name": "또 뜨개", "visibility": "public", "join_policy": "open"},
    )
    assert taken.status_code == 409
    assert "이미" in _field_error(taken.text, "f-slug")


async def test_a_bad_slug_or_a_missing_verification_shows_field_errors_and_creates_nothing(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    await staff_on_console(client, platform)
    before = (await client.get("/api/v1/spaces", headers=staff_headers(client))).json()["items"]

    bad = await submit(
        client,
        "/console/spaces",
        {"slug": "Bad Slug!", "name": "<b>잘못된</b> 주소", "visibility": "public"},
    )
    assert bad.status_code == 422
    assert _field_error(bad.text, "f-slug") == "형식이 올바르지 않습니다."
    assert 'value="Bad Slug!"' in bad.text and "&lt;b&gt;잘못된&lt;/b&gt; 주소" in bad.text

    unverified = await submit(
        client,
        "/console/spaces",
        {"slug": "good-slug", "name": "인증 없음", "join_policy": "verified", "verification": ""},
    )
    assert unverified.status_code == 422
    assert _field_error(unverified.text, "f-verification") == "회원 인증 방법을 골라 주세요."

    after = (await client.get("/api/v1/spaces", headers=staff_headers(client))).json()["items"]
    assert after == before
    assert (await client.get("/api/v1/spaces/good-slug")).status_code == 404


async def test_changing_the_rules_through_the_form_changes_them_and_is_audited(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    space = await make_space(client, owner, slug="rules-knit", name="규칙 뜨개")
    staff = await staff_on_console(client, platform)
    url = "/console/spaces/rules-knit"

    form = await client.get(url)
    assert form.status_code == 200
    assert 'name="visibility"' in form.text and "규칙 뜨개" in form.text
    empty_name = await submit(
        client, f"{url}/rules", {"name": "", "visibility": "members_only", "join_policy": "open"}
    )
    assert empty_name.status_code == 422
    assert _field_error(empty_name.text, "f-name") == "필수 입력 항목입니다."
    unchanged = (await client.get("/api/v1/spaces/rules-knit")).json()
    assert (unchanged["name"], unchanged["visibility"]) == ("규칙 뜨개", "public")

    saved = await submit(
        client,
        f"{url}/rules",
        {
            "name": "규칙 뜨개",
            "description": "초대받은 멤버만",
            "visibility": "members_only",
            "join_policy": "invite",
            "verification": "",
        },
    )
    assert saved.status_code == 303 and saved.headers["location"] == f"{url}?notice=rules-saved"
    changed = (await client.get("/api/v1/spaces/rules-knit", headers=owner.headers)).json()
    assert changed["visibility"] == "members_only" and changed["join_policy"] == "invite"
    assert changed["description"] == "초대받은 멤버만"
    first_code = changed["invite_code"]
    assert first_code

    audit = await client.get(
        "/api/v1/admin/audit",
        params={"action": "community.space.update", "target_id": space["id"]},
        headers=staff_headers(client),
    )
    entry = audit.json()["items"][0]
    assert entry["actor_id"] == staff.id
    assert entry["before"]["visibility"] == "public"
    assert entry["after"]["visibility"] == "members_only"
    audit_page = await client.get(
        "/console/audit", params={"action": "community.space.", "target_id": space["id"]}
    )
    assert "community.space.update" in audit_page.text

    renewed = await submit(
        client,
        f"{url}/rules",
        {
            "name": "규칙 뜨개",
            "visibility": "members_only",
            "join_policy": "invite",
            "new_invite_code": "1",
        },
    )
    assert renewed.status_code == 303
    again = (await client.get("/api/v1/spaces/rules-knit", headers=owner.headers)).json()
    assert again["invite_code"] and again["invite_code"] != first_code
    page = text_of((await client.get(renewed.headers["location"])).text)
    assert "커뮤니티 규칙을 저장했습니다." in page and "멤버 전용" in page


async def test_staff_add_an_anonymous_board_rename_and_archive_it(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    await make_space(client, owner, slug="board-knit")
    await staff_on_console(client, platform)
    url = "/console/spaces/board-knit"

    added = await submit(
        client,
        f"{url}/boards",
        {"slug": "secret-talk", "name": "익명 고민", "description": "", "anonymous": "1"},
    )
    assert added.status_code == 303
    assert added.headers["location"] == f"{url}?tab=boards&notice=board-created"
    boards = (await client.get("/api/v1/spaces/board-knit/boards")).json()["items"]
    by_slug = {b["slug"]: b for b in boards}
    assert by_slug["secret-talk"]["anonymous"] is True and by_slug["free"]["anonymous"] is False
    tab = text_of((await client.get(added.headers["location"])).text)
    assert "게시판을 추가했습니다." in tab and "익명" in tab

    taken = await submit(client, f"{url}/boards", {"slug": "secret-talk", "name": "또"})
    assert taken.status_code == 409
    assert _field_error(taken.text, "new-board-slug")
    bad = await submit(client, f"{url}/boards", {"slug": "free talk", "name": "잘못"})
    assert bad.status_code == 422
    assert _field_error(bad.text, "new-board-slug") == "형식이 올바르지 않습니다."

    renamed = await submit(client, f"{url}/boards/secret-talk", {"name": "고민 상담"})
    assert renamed.headers["location"] == f"{url}?tab=boards&notice=board-saved"
    board = {
        b["slug"]: b for b in (await client.get("/api/v1/spaces/board-knit/boards")).json()["items"]
    }["secret-talk"]
    assert board["name"] == "고민 상담" and board["anonymous"] is False  # the box was unticked
    empty = await submit(client, f"{url}/boards/secret-talk", {"name": ""})
    assert empty.status_code == 422
    assert _field_error(empty.text, "board-name-secret-talk") == "필수 입력 항목입니다."

    archived = await submit(client, f"{url}/boards/secret-talk/archive")
    assert archived.headers["location"] == f"{url}?tab=boards&notice=board-archived"
    left = (await client.get("/api/v1/spaces/board-knit/boards")).json()["items"]
    assert [b["slug"] for b in left] == ["free"]


async def test_staff_approve_a_join_request_and_the_member_can_write(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    await make_space(
        client,
        owner,
        slug="approval-knit",
        visibility="members_write",
        join_policy="verified",
        verification="staff_approval",
    )
    member = await signup_member(client)
    asked = await join(client, member, "approval-knit")
    assert asked.json()["my_status"] == "pending" and asked.json()["can_write"] is False
    await staff_on_console(client, platform)
    url = "/console/spaces/approval-knit"

    requests = await client.get(url, params={"tab": "members", "list": "pending"})
    assert member.nickname in requests.text and "승인" in requests.text
    approved = await submit(
        client, f"{url}/members/{member.id}", {"action": "approve", "list": "pending"}
    )
    assert approved.status_code == 303
    assert approved.headers["location"] == (f"{url}?tab=members&list=pending&notice=member-approve")
    page = text_of((await client.get(approved.headers["location"])).text)
    assert "가입 신청을 승인했습니다." in page and member.nickname not in page

    space = (await client.get("/api/v1/spaces/approval-knit", headers=member.headers)).json()
    assert space["my_status"] == "active" and space["can_write"] is True
    assert space["member_count"] == 2
    await make_post(client, member, "approval-knit", body="승인받고 쓰는 첫 글")
    again = await submit(client, f"{url}/members/{member.id}", {"action": "approve"})
    assert again.status_code == 422  # no longer a request
    audit = await client.get(
        "/api/v1/admin/audit",
        params={"action": "community.member.approve"},
        headers=staff_headers(client),
    )
    assert audit.json()["items"][0]["after"]["status"] == "active"

    # a rejected request is not a ban: the member may ask again
    hopeful = await signup_member(client)
    await join(client, hopeful, "approval-knit")
    rejected = await submit(
        client, f"{url}/members/{hopeful.id}", {"action": "reject", "list": "pending"}
    )
    assert rejected.status_code == 303
    assert "가입 신청을 거절했습니다." in text_of(
        (await client.get(rejected.headers["location"])).text
    )
    state = (await client.get("/api/v1/spaces/approval-knit", headers=hopeful.headers)).json()
    assert state["my_status"] == "left" and state["can_write"] is False
    assert (await join(client, hopeful, "approval-knit")).json()["my_status"] == "pending"


async def test_staff_ban_with_a_reason_mute_and_promote_members(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    owner = await make_staff(platform, client, roles=("creator",))
    await make_space(client, owner, slug="calm-knit", visibility="members_write")
    troll, helper = await signup_member(client), await signup_member(client)
    for member in (troll, helper):
        assert (await join(client, member, "calm-knit")).status_code == 200
    await staff_on_console(client, platform)
    url = "/console/spaces/calm-knit"

    members = await client.get(url, params={"tab": "members"})
    assert troll.nickname in members.text and helper.nickname in members.text
    assert "개설자" in members.text

    no_reason = await submit(client, f"{url}/members/{troll.id}", {"action": "ban", "reason": ""})
    assert no_reason.status_code == 422
    assert _field_error(no_reason.text, f"ban-reason-{troll.id}") == "차단 사유를 적어 주세요."
    still = await client.get(
        "/api/v1/spaces/calm-knit/members", params={"status": "banned"}, headers=owner.headers
    )
    assert still.json()["items"] == []

    banned = await submit(
        client, f"{url}/members/{troll.id}", {"action": "ban", "reason": "광고 도배"}
    )
    assert banned.headers["location"] == f"{url}?tab=members&list=active&notice=member-ban"
    listed = await client.get(
        "/api/v1/spaces/calm-knit/members", params={"status": "banned"}, headers=owner.headers
    )
    assert [m["member_id"] for m in listed.json()["items"]] == [troll.id]
    refused = await join(client, troll, "calm-knit")
    assert refused.json()["type"].endswith("/banned-from-space")
    audit = await client.get(
        "/api/v1/admin/audit",
        params={"action": "community.member.ban"},
        headers=staff_headers(client),
    )
    assert audit.json()["items"][0]["after"]["reason"] == "광고 도배"
    banned_tab = await client.get(url, params={"tab": "members", "list": "banned"})
    assert troll.nickname in banned_tab.text and "차단 해제" in banned_tab.text

    muted = await submit(
        client,
        f"{url}/members/{helper.id}",
        {"action": "mute", "minutes": "60", "reason": "잠시 진정"},
    )
    assert muted.status_code == 303
    blocked = await client.post(
        "/api/v1/spaces/calm-knit/boards/free/posts", json={"body": "글"}, headers=helper.headers
    )
    assert blocked.json()["type"].endswith("/muted-in-space")
    not_a_number = await submit(
        client, f"{url}/members/{helper.id}", {"action": "mute", "minutes": "abc"}
    )
    assert not_a_number.status_code == 422
    assert _field_error(not_a_number.text, f"mute-minutes-{helper.id}")
    unmuted = await submit(client, f"{url}/members/{helper.id}", {"action": "unmute"})
    assert unmuted.status_code == 303
    await make_post(client, helper, "calm-knit", body="다시 조용히 쓸게요")

    promoted = await submit(
        client, f"{url}/members/{helper.id}", {"action": "set_role", "role": "moderator"}
    )
    assert promoted.headers["location"].endswith("notice=member-set_role")
    active = await client.get("/api/v1/spaces/calm-knit/members", headers=owner.headers)
    roles = {m["member_id"]: m["role"] for m in active.json()["items"]}
    assert roles[helper.id] == "moderator"

    unknown = await submit(client, f"{url}/members/{helper.id}", {"action": "delete"})
    assert unknown.status_code == 404
    lifted = await submit(
        client, f"{url}/members/{troll.id}", {"action": "unban", "list": "banned"}
    )
    assert lifted.headers["location"] == f"{url}?tab=members&list=banned&notice=member-unban"
    assert (await join(client, troll, "calm-knit")).status_code == 200
