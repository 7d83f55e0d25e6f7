"""Community pages: home, a space with its boards, writing, comments and reactions through the
forms, photos on posts, profiles with follow, notifications — all as a client of the API."""

from __future__ import annotations

import io
import re

import httpx
from PIL import Image
from tests.factories.accounts import make_staff, signup_member
from tests.factories.community import make_post, make_space
from tests.web._support import csrf_token, member_headers, member_id, sign_up, submit, text_of

from jangteo.core.platform import Platform


async def test_visitors_see_spaces_posts_and_trending_hashtags(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    creator = await make_staff(platform, client, roles=("creator",))
    writer = await signup_member(client)
    await make_space(client, creator, slug="knit", name="니트 러버")
    await make_space(client, creator, slug="vip", name="비밀 클럽", visibility="members_only")
    post = await make_post(client, writer, "knit", title="첫 니트", body="포근해요 #니트")

    home = text_of((await client.get("/community")).text)
    assert "커뮤니티" in home and "니트 러버" in home and "비밀 클럽" in home
    assert "첫 니트" in home and "#니트" in home and "지금 뜨는 해시태그" in home

    space = await client.get("/community/s/knit")
    assert space.status_code == 200 and "첫 니트" in space.text
    assert "로그인하고 가입하기" in space.text
    hidden = await client.get("/community/s/vip")
    assert "멤버만 읽을 수 있는 커뮤니티예요." in hidden.text

    page = text_of((await client.get(f"/community/p/{post['id']}")).text)
    assert "포근해요" in page and "아직 댓글이 없어요." in page and "로그인하고 댓글 남기기" in page
    tag = await client.get("/community/tags/니트")
    assert "첫 니트" in tag.text
    assert (await client.get("/community/s/nowhere")).status_code == 404
    assert (await client.get("/community/p/not-an-id")).status_code == 404


async def test_a_member_joins_writes_comments_and_reacts_through_the_forms(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    creator = await make_staff(platform, client, roles=("creator",))
    await make_space(client, creator, slug="talk", name="수다방", visibility="members_write")
    await sign_up(client)
    me = await member_id(client)

    assert "가입하기" in (await client.get("/community/s/talk")).text
    joined = await submit(client, "/community/s/talk/join")
    assert joined.status_code == 303
    assert "글쓰기" in (await client.get("/community/s/talk")).text

    empty = await submit(client, "/community/s/talk/write", {"board": "free", "body": ""})
    assert empty.status_code == 422
    assert "필수 입력 항목입니다." in empty.text or "입력해 주세요" in empty.text

    written = await submit(
        client,
        "/community/s/talk/write",
        {"board": "free", "title": "오늘의 코디", "body": "니트에 청바지 #데일리룩"},
    )
    assert written.status_code == 303
    post_url = written.headers["location"]
    post_id = post_url.rsplit("/", 1)[1]
    page = text_of((await client.get(post_url)).text)
    assert "오늘의 코디" in page and "#데일리룩" in page

    commented = await submit(client, f"{post_url}/comments", {"body": "제가 봐도 멋지네요"})
    assert commented.status_code == 303
    liked = await submit(client, f"{post_url}/react", {"kind": "like", "on": "1"})
    assert liked.status_code == 303
    saved = await submit(client, f"{post_url}/bookmark", {"on": "1"})
    assert saved.status_code == 303

    api_post = await client.get(f"/api/v1/posts/{post_id}", headers=member_headers(client))
    assert api_post.json()["like_count"] == 1
    assert api_post.json()["bookmarked"] is True
    assert api_post.json()["comment_count"] == 1
    assert api_post.json()["author"]["id"] == me
    page = text_of((await client.get(post_url)).text)
    assert "제가 봐도 멋지네요" in page and "저장됨" in page


async def test_invite_only_space_shows_the_code_error(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    creator = await make_staff(platform, client, roles=("creator",))
    await make_space(client, creator, slug="invite", join_policy="invite")
    await sign_up(client)
    wrong = await submit(client, "/community/s/invite/join", {"invite_code": "NOPE"})
    assert wrong.status_code == 403
    assert "초대 코드" in wrong.text and 'aria-invalid="true"' in wrong.text


async def test_follow_from_a_profile_notifies_the_member(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    creator = await make_staff(platform, client, roles=("creator",))
    stylist = await signup_member(client)
    await make_space(client, creator, slug="style")
    await make_post(client, stylist, "style", body="스타일 공유")
    await sign_up(client)

    profile = await client.get(f"/community/u/{stylist.id}")
    assert stylist.nickname in profile.text and "스타일 공유" in profile.text
    followed = await submit(client, f"/community/u/{stylist.id}/follow")
    assert followed.status_code == 303
    assert "팔로워 1명" in (await client.get(f"/community/u/{stylist.id}")).text

    notes = await client.get("/api/v1/me/notifications", headers=stylist.headers)
    assert [n["kind"] for n in notes.json()["items"]] == ["follow"]
    mine = await client.get("/notifications")
    assert mine.status_code == 200 and "아직 알림이 없어요." in mine.text


def _photo(width: int, height: int, kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(out, format=kind)
    return out.getvalue()


async def _compose(
    client: httpx.AsyncClient,
    slug: str,
    data: dict[str, str | list[str]],
    photos: list[tuple[str, bytes, str]] | None = None,
) -> httpx.Response:
    """The composer as a browser sends it: multipart, with the CSRF field."""
    return await client.post(
        f"/community/s/{slug}/write",
        data={"csrf_token": await csrf_token(client), **data},
        files=[("photos", photo) for photo in photos or []] or None,
    )


async def test_a_post_with_photos_from_the_composer_shows_them_on_the_post_page(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    creator = await make_staff(platform, client, roles=("creator",))
    await make_space(client, creator, slug="looks", name="코디 자랑")
    await sign_up(client)
    composer = await client.get("/community/s/looks/write")
    assert 'enctype="multipart/form-data"' in composer.text
    assert re.search(
        r'<input id="f-photos" name="photos" type="file" accept="image/[^"]*" multiple',
        composer.text,
    )

    # a file that is not a picture: refused under the photos field, the text kept
    junk = await _compose(
        client,
        "looks",
        {"board": "free", "title": "메모", "body": "사진 대신 메모"},
        [("notes.txt", b"hello", "text/plain")],
    )
    assert junk.status_code == 422
    error = re.search(r'<p id="e-photos" class="field-error">([^<]+)</p>', junk.text)
    assert error and "JPEG, PNG, WebP, GIF" in error.group(1)
    assert re.search(
        r'id="f-photos"[^>]*aria-describedby="e-photos f-photos-hint" aria-invalid="true"',
        junk.text,
    )
    assert "사진 대신 메모" in junk.text
    mine = await client.get(f"/api/v1/members/{await member_id(client)}/posts")
    assert mine.json()["items"] == []

    # two photos and a missing text: the photos are uploaded once and carried to the next try
    photos = [
        ("wide.png", _photo(80, 60), "image/png"),
        ("tall.jpg", _photo(40, 90, "JPEG"), "image/jpeg"),
    ]
    refused = await _compose(
        client, "looks", {"board": "free", "title": "오늘의 코디", "body": ""}, photos
    )
    assert refused.status_code == 422
    tokens = re.findall(r'name="image_token" value="([^"]*)"', refused.text)
    urls = re.findall(r'name="image_url" value="([^"]*)"', refused.text)
    assert len(tokens) == 2 and len(urls) == 2
    assert "첨부한 사진 2장" in text_of(refused.text)

    written = await _compose(
        client,
        "looks",
        {
            "board": "free",
            "title": "오늘의 코디",
            "body": "니트에 코트 #데일리룩",
            "image_token": tokens,
            "image_url": urls,
        },
    )
    assert written.status_code == 303, written.text
    post_id = written.headers["location"].rsplit("/", 1)[1]
    api_post = await client.get(f"/api/v1/posts/{post_id}", headers=member_headers(client))
    images = api_post.json()["images"]
    assert [(i["width"], i["height"]) for i in images] == [(80, 60), (40, 90)]

    page = await client.get(written.headers["location"])
    assert page.status_code == 200
    shown = re.findall(
        r'<a href="([^"]+)"><img src="([^"]+)" alt="([^"]+)" width="(\d+)" height="(\d+)"',
        page.text,
    )
    assert [(a, img, w, h) for a, img, _alt, w, h in shown] == [
        (i["url"], i["thumbnail_url"], str(i["width"]), str(i["height"])) for i in images
    ]
    assert all(alt.strip() for _a, _img, alt, _w, _h in shown)
    assert "니트에 코트" in text_of(page.text)
