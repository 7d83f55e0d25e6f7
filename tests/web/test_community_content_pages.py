"""Community content pages: the snap composer (upload, search, tag, publish) and the snap page,
a product's community tab, asking with a bounty, answering and accepting, and polls — all as a
client of the API."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import httpx
from PIL import Image
from tests.factories.accounts import grant_points, signup_member
from tests.factories.catalog import make_product
from tests.factories.orders import points_of
from tests.web._support import csrf_token, member_headers, member_id, sign_up, submit, text_of

from jangteo.core.platform import Platform


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (80, 60), (90, 140, 200)).save(out, format="PNG")
    return out.getvalue()


def hidden_values(html: str, name: str) -> list[str]:
    return re.findall(rf'name="{name}" value="([^"]*)"', html)


def draft_of(html: str) -> dict[str, Any]:
    """The composer's carried state (tokens, photo urls, tags, the publish key) from its page."""
    names = ("image_token", "image_url", "publish_key")
    names += ("tag_image", "tag_product", "tag_name", "tag_x", "tag_y")
    return {name: hidden_values(html, name) for name in names}


async def compose(
    client: httpx.AsyncClient, html: str, action: str, **fields: Any
) -> httpx.Response:
    return await submit(
        client, "/community/snaps/new", {**draft_of(html), "action": action, **fields}
    )


async def test_a_member_uploads_tags_two_products_and_publishes_a_snap(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    knit = await make_product(platform, name="알파카 라운드 니트", price=49000)
    bag = await make_product(platform, name="캔버스 토트백", price=29000, category_name="가방")
    assert (await client.get("/community/snaps/new")).status_code in (302, 303)  # log in first
    await sign_up(client)
    assert "스냅 올리기" in (await client.get("/community/snaps/new")).text

    nothing = await submit(client, "/community/snaps/new", {"action": "upload"})
    assert nothing.status_code == 422 and "사진을 한 장 이상 골라 주세요." in nothing.text
    junk = await client.post(
        "/community/snaps/new",
        data={"csrf_token": await csrf_token(client), "action": "upload"},
        files={"photos": ("note.png", b"not a picture", "image/png")},
    )
    assert junk.status_code == 422 and 'aria-invalid="true"' in junk.text
    assert hidden_values(junk.text, "image_token") == []

    uploaded = await client.post(
        "/community/snaps/new",
        data={"csrf_token": await csrf_token(client), "action": "upload"},
        files={"photos": ("look.png", png_bytes(), "image/png")},
    )
    assert uploaded.status_code == 200, uploaded.text
    page = uploaded.text
    assert len(hidden_values(page, "image_token")) == 1
    assert "2. 상품 태그" in page and 'class="snap-frame snap-tagger"' in page

    found = await compose(client, page, "search", q="알파카")
    assert "알파카 라운드 니트" in found.text and f'value="{knit.product_id}"' in found.text

    # the typed way: a position outside the photo is refused next to its field
    outside = await compose(
        client,
        found.text,
        "add",
        new_product=knit.product_id,
        new_x="1.5",
        new_y="0.5",
        **{f"name_{knit.product_id}": "알파카 라운드 니트"},
    )
    assert outside.status_code == 422
    assert "0에서 1 사이의 숫자를 입력해 주세요." in outside.text
    assert 'id="f-new-x" name="new_x"' in outside.text and 'aria-invalid="true"' in outside.text
    added = await compose(
        client,
        found.text,
        "add",
        new_product=knit.product_id,
        new_x="0.25",
        new_y="0.4",
        **{f"name_{knit.product_id}": "알파카 라운드 니트"},
    )
    assert added.status_code == 200
    assert hidden_values(added.text, "tag_product") == [knit.product_id]
    assert "알파카 라운드 니트" in text_of(added.text)

    # publishing without text: the API's complaint is shown next to the text, tags are kept
    empty = await compose(client, added.text, "publish", body="")
    assert empty.status_code == 422
    assert 'aria-describedby="e-body"' in empty.text
    assert hidden_values(empty.text, "tag_product") == [knit.product_id]

    # the second tag as snap-tagging.js leaves it: hidden fields filled by clicking the photo
    state = draft_of(empty.text)
    for name, value in (("image", "0"), ("product", bag.product_id), ("name", "캔버스 토트백")):
        state[f"tag_{name}"].append(value)
    state["tag_x"].append("0.8")
    state["tag_y"].append("0.9")
    published = await submit(
        client,
        "/community/snaps/new",
        {**state, "action": "publish", "title": "주말 코디", "body": "니트에 토트백 #데일리룩"},
    )
    assert published.status_code == 303, published.text
    snap_url = published.headers["location"]
    assert re.fullmatch(r"/community/snaps/[0-9a-f-]{36}", snap_url)

    snap = await client.get(f"/api/v1/snaps/{snap_url.rsplit('/', 1)[1]}")
    tags = snap.json()["images"][0]["tags"]
    assert [(t["product"]["id"], t["x"], t["y"]) for t in tags] == [
        (knit.product_id, 0.25, 0.4),
        (bag.product_id, 0.8, 0.9),
    ]
    shown = await client.get(snap_url)
    assert shown.status_code == 200
    assert shown.text.count('class="snap-marker"') == 2
    assert (
        f'href="/p/{knit.product_id}"' in shown.text and f'href="/p/{bag.product_id}"' in shown.text
    )
    assert "left: 25.00%; top: 40.00%;" in shown.text
    assert "주말 코디" in shown.text and "#데일리룩" in shown.text
    assert (await client.get("/community/snaps/not-an-id")).status_code == 404


async def test_the_product_page_shows_its_reviews_snaps_and_questions(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    knit = await make_product(platform, name="울 케이블 니트")
    member = await signup_member(client)
    image = await client.post(
        "/api/v1/community/images",
        files={"file": ("a.png", png_bytes(), "image/png")},
        headers=member.headers,
    )
    snap = await client.post(
        "/api/v1/snaps",
        json={
            "body": "케이블 니트 코디",
            "images": [image.json()["token"]],
            "tags": [{"image": 0, "product_id": knit.product_id, "x": 0.5, "y": 0.5}],
        },
        headers=member.headers,
    )
    assert snap.status_code == 201, snap.text
    snap_id = snap.json()["post"]["id"]
    asked = await client.post(
        "/api/v1/questions",
        json={
            "title": "세탁기 돌려도 되나요?",
            "body": "울이라 걱정돼요",
            "product_id": knit.product_id,
        },
        headers=member.headers,
    )
    assert asked.status_code == 201, asked.text

    product_page = await client.get(f"/p/{knit.product_id}")
    assert f'hx-get="/p/{knit.product_id}/community"' in product_page.text
    assert f'href="/p/{knit.product_id}/community"' in product_page.text  # without scripts

    fragment = await client.get(f"/p/{knit.product_id}/community", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    text = text_of(fragment.text)
    assert "아직 리뷰가 없어요." in text and "세탁기 돌려도 되나요?" in text
    assert f'href="/community/snaps/{snap_id}"' in fragment.text
    assert f'href="/p/{knit.product_id}/questions/new"' in fragment.text
    full = await client.get(f"/p/{knit.product_id}/community")
    assert "<html" in full.text and "커뮤니티" in full.text

    snaps = await client.get(f"/p/{knit.product_id}/community/snaps")
    assert f'href="/community/snaps/{snap_id}"' in snaps.text
    questions = await client.get(f"/p/{knit.product_id}/community/questions")
    assert "세탁기 돌려도 되나요?" in questions.text and "답변 대기" in questions.text
    reviews = await client.get(f"/p/{knit.product_id}/community/reviews")
    assert "아직 아무것도 없어요." in reviews.text
    assert (await client.get(f"/p/{knit.product_id}/community/nope")).status_code == 404
    assert (await client.get("/p/not-an-id/community")).status_code == 404


async def test_ask_with_a_bounty_answer_and_accept_through_the_pages(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    knit = await make_product(platform, name="메리노 터틀넥")
    await sign_up(client)
    asker_id = await member_id(client)
    await grant_points(platform, asker_id, 500)
    asker_headers = member_headers(client)

    form = await client.get(f"/p/{knit.product_id}/questions/new")
    assert "이 상품에 대해 질문하기" in form.text and "현상금 (포인트)" in form.text
    small = await submit(
        client,
        f"/p/{knit.product_id}/questions/new",
        {"title": "사이즈", "body": "정사이즈인가요?", "bounty": "5", "ask_key": ""},
    )
    assert small.status_code == 422
    assert "현상금은 0 또는 10~10,000포인트 사이로 정해 주세요." in small.text
    too_much = await submit(
        client,
        f"/p/{knit.product_id}/questions/new",
        {"title": "사이즈", "body": "정사이즈인가요?", "bounty": "9000"},
    )
    assert too_much.status_code == 409 and 'id="f-bounty-error"' in too_much.text
    listed = await client.get("/api/v1/questions", params={"product_id": knit.product_id})
    assert listed.json()["items"] == []  # the refusals asked nothing

    before = (await client.get("/api/v1/me/wallet", headers=asker_headers)).json()["balance"]
    asked = await submit(
        client,
        f"/p/{knit.product_id}/questions/new",
        {"title": "사이즈가 어떤가요?", "body": "평소 95 입어요", "bounty": "100"},
    )
    assert asked.status_code == 303, asked.text
    question_url = asked.headers["location"]
    question_id = question_url.rsplit("/", 1)[1]
    after = (await client.get("/api/v1/me/wallet", headers=asker_headers)).json()["balance"]
    post_points = platform.settings.community_post_points
    assert after == before - 100 + post_points

    page = text_of((await client.get(question_url)).text)
    assert "현상금 100P" in page and "답변 대기" in page and "아직 답변이 없어요." in page
    assert "내 답변" not in page  # the asker does not answer their own question

    answerer = await signup_member(client)
    answered = await client.post(
        f"/api/v1/posts/{question_id}/comments",
        json={"body": "정사이즈예요, 95 추천해요"},
        headers=answerer.headers,
    )
    assert answered.status_code == 201, answered.text
    comment_id = answered.json()["id"]
    page = (await client.get(question_url)).text
    assert "이 답변 채택하기" in page
    assert hidden_values(page, "comment_id") == [comment_id]

    accepted = await submit(
        client,
        f"{question_url}/accept",
        {"comment_id": comment_id, "accept_key": hidden_values(page, "accept_key")[0]},
    )
    assert accepted.status_code == 303
    bonus = platform.settings.community_answer_bonus_points
    assert await points_of(client, answerer) == 100 + bonus
    page = text_of((await client.get(question_url)).text)
    assert "채택 완료" in page and "채택된 답변" in page and f"+{100 + bonus}P" in page
    assert "이 답변 채택하기" not in page
    again = await submit(client, f"{question_url}/accept", {"comment_id": comment_id})
    assert again.status_code == 409 and 'role="alert"' in again.text
    assert await points_of(client, answerer) == 100 + bonus

    # another member answers through the form; an empty answer is shown next to the field
    client.cookies.clear()
    await sign_up(client)
    form_page = await client.get(question_url)
    assert "내 답변" in form_page.text and "이 답변 채택하기" not in form_page.text
    empty = await submit(client, f"{question_url}/answers", {"body": "  "})
    assert empty.status_code == 422 and 'aria-describedby="e-answer"' in empty.text
    posted = await submit(client, f"{question_url}/answers", {"body": "저도 95 샀어요"})
    assert posted.status_code == 303
    assert "저도 95 샀어요" in (await client.get(question_url)).text
    assert (await client.get("/community/questions/nope")).status_code == 404


async def test_a_member_votes_and_sees_results_after_voting(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    author = await signup_member(client)
    created = await client.post(
        "/api/v1/polls",
        json={
            "title": "어떤 색이 나을까요?",
            "body": "출근룩 니트",
            "options": [{"label": "아이보리"}, {"label": "차콜"}],
            "closes_at": (platform.clock.now() + timedelta(days=3)).isoformat(),
            "results_visibility": "after_vote",
        },
        headers=author.headers,
    )
    assert created.status_code == 201, created.text
    poll = created.json()
    url = f"/community/polls/{poll['post']['id']}"
    charcoal = poll["poll"]["options"][1]["id"]

    visitor = text_of((await client.get(url)).text)
    assert "어떤 색이 나을까요?" in visitor and "로그인하고 투표하기" in visitor

    await sign_up(client)
    page = text_of((await client.get(url)).text)
    assert "투표하면 결과를 볼 수 있어요." in page and "표 (" not in page
    unchosen = await submit(client, f"{url}/vote", {})
    assert unchosen.status_code == 422 and "e-option" in unchosen.text
    voted = await submit(client, f"{url}/vote", {"option_id": charcoal})
    assert voted.status_code == 303
    page = await client.get(url)
    text = text_of(page.text)
    assert "1표" in text and "내 선택" in text and "투표 바꾸기" in text
    assert "투표하면 결과를 볼 수 있어요." not in text
    assert re.search(rf'value="{charcoal}" checked', page.text)
    mine = await client.get(f"/api/v1/polls/{poll['post']['id']}", headers=member_headers(client))
    assert mine.json()["poll"]["my_vote"] == charcoal


async def test_a_member_follows_the_brand_from_the_product_community_tab(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    knit = await make_product(platform, name="램스울 니트")
    tab = f"/p/{knit.product_id}/community"
    visitor_view = await client.get(tab, headers={"HX-Request": "true"})
    assert "팔로워 0명" in text_of(visitor_view.text)
    assert "/brand/follow" not in visitor_view.text  # visitors see the count, not the button

    await sign_up(client)
    followed = await submit(client, f"/p/{knit.product_id}/brand/follow")
    assert followed.status_code == 303
    assert followed.headers["location"] == f"/p/{knit.product_id}#product-community"
    view = await client.get(tab, headers={"HX-Request": "true"})
    assert "팔로워 1명" in text_of(view.text) and "브랜드 팔로잉" in text_of(view.text)
    assert f'action="/p/{knit.product_id}/brand/unfollow"' in view.text
    state = await client.get(f"/api/v1/brands/{knit.brand_id}/followers")
    assert state.json()["follower_count"] == 1

    await submit(client, f"/p/{knit.product_id}/brand/unfollow")
    state = await client.get(f"/api/v1/brands/{knit.brand_id}/followers")
    assert state.json()["follower_count"] == 0
    assert (await submit(client, f"/p/{knit.product_id}/brand/shout")).status_code == 404
    no_token = await client.post(f"/p/{knit.product_id}/brand/follow")
    assert no_token.status_code == 403
