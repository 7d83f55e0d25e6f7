"""Review pages and community search: writing a review of a delivered order line with a photo
from the order page, one review per line, nobody else's order, editing with its history, and
searching posts in Korean as the API allows the visitor — all as a client of the API."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from PIL import Image
from tests.factories.accounts import Member, make_staff
from tests.factories.catalog import ProductRef, make_product
from tests.factories.community import make_post, make_space
from tests.factories.orders import deliver_order, pay_order, place_order
from tests.web._support import csrf_token, member_headers, sign_up, submit, text_of

from jangteo.core.platform import Platform
from jangteo.web.storefront import community_reviews

REVIEW_LINK = re.compile(r'href="(/community/reviews/[0-9a-f-]{36})/edit"')


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 90)).save(out, format="PNG")
    return out.getvalue()


def hidden_values(html: str, name: str) -> list[str]:
    return re.findall(rf'name="{name}" value="([^"]*)"', html)


async def bought(
    client: httpx.AsyncClient, platform: Platform, staff: Member, *, delivered: bool = True
) -> tuple[dict[str, Any], ProductRef]:
    """A member signed up on `client` with a paid order of a new product, delivered by staff
    unless told otherwise."""
    product = await make_product(platform, name="캐시미어 라운드 니트", price=89000)
    await sign_up(client)
    buyer = SimpleNamespace(headers=member_headers(client))
    order = await pay_order(client, buyer, await place_order(client, buyer, product.variant_ids[0]))
    if delivered:
        order = await deliver_order(client, staff, order)
    return order, product


def form_url(order: dict[str, Any]) -> str:
    return f"/my/orders/{order['id']}/lines/{order['lines'][0]['id']}/review"


async def post_review_form(
    client: httpx.AsyncClient,
    url: str,
    data: dict[str, Any],
    photos: list[tuple[str, bytes, str]] | None = None,
) -> httpx.Response:
    """The write form as a browser sends it: multipart, with the CSRF field."""
    return await client.post(
        url,
        data={"csrf_token": await csrf_token(client), **data},
        files=[("photos", photo) for photo in photos or []] or None,
    )


async def product_reviews(client: httpx.AsyncClient, product: ProductRef) -> dict[str, Any]:
    response = await client.get(f"/api/v1/products/{product.product_id}/reviews")
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_buyer_reviews_a_delivered_line_with_a_photo_from_the_order_page(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    order, product = await bought(client, platform, staff, delivered=False)
    url = form_url(order)

    # paid but not delivered: no link, and the form says why
    assert "리뷰 쓰기" not in text_of((await client.get(f"/my/orders/{order['id']}")).text)
    early = await client.get(url)
    assert early.status_code == 200
    assert (
        "배송이 완료되면 리뷰를 쓸 수 있어요." in early.text and 'name="rating"' not in early.text
    )

    order = await deliver_order(client, staff, order)
    detail = await client.get(f"/my/orders/{order['id']}")
    assert "리뷰 쓰기" in detail.text and f'href="{url}"' in detail.text
    form = await client.get(url)
    assert form.status_code == 200
    assert "캐시미어 라운드 니트" in form.text and 'enctype="multipart/form-data"' in form.text
    assert form.text.count('type="radio" id="f-rating-') == 5
    assert "별점 5점 중 5점" in form.text
    key = hidden_values(form.text, "review_key")[0]

    # no stars and no text: both said next to their fields; the photo is uploaded and kept
    refused = await post_review_form(
        client,
        url,
        {"review_key": key, "body": ""},
        photos=[("look.png", png_bytes(), "image/png")],
    )
    assert refused.status_code == 422, refused.text
    assert "별점을 1~5점 중에서 골라 주세요." in refused.text
    assert 'aria-describedby="e-rating"' in refused.text
    assert 'aria-describedby="e-body"' in refused.text and "필수 입력 항목입니다." in refused.text
    tokens = hidden_values(refused.text, "image_token")
    assert len(tokens) == 1
    assert "첨부한 사진 1장" in text_of(refused.text)
    assert (await product_reviews(client, product))["summary"]["count"] == 0

    # not a picture: refused by the upload API, next to the photos field
    junk = await post_review_form(
        client, url, {"rating": "5", "body": "좋아요"}, photos=[("a.png", b"nope", "image/png")]
    )
    assert junk.status_code == 422
    assert re.search(r'id="f-photos"[^>]*aria-invalid="true"', junk.text)

    created = await post_review_form(
        client,
        url,
        {
            "review_key": hidden_values(refused.text, "review_key")[0],
            "rating": "5",
            "body": "정말 따뜻하고 부드러워요 #겨울니트",
            "image_token": tokens,
            "image_url": hidden_values(refused.text, "image_url"),
        },
    )
    assert created.status_code == 303, created.text
    review_url = created.headers["location"]
    assert re.fullmatch(r"/community/reviews/[0-9a-f-]{36}", review_url)
    post_id = review_url.rsplit("/", 1)[1]

    # on the product's reviews, through the API: five stars, verified, with its photo
    listed = await product_reviews(client, product)
    assert listed["summary"]["count"] == 1 and listed["summary"]["distribution"]["5"] == 1
    item = listed["items"][0]
    assert item["post"]["id"] == post_id
    assert item["post"]["body"] == "정말 따뜻하고 부드러워요 #겨울니트"
    assert (item["review"]["rating"], item["review"]["verified"]) == (5, True)
    assert len(item["images"]) == 1 and item["images"][0]["url"].startswith("/media/")

    page = await client.get(review_url)
    assert page.status_code == 200
    shown = text_of(page.text)
    assert "정말 따뜻하고 부드러워요" in shown and "구매 인증" in shown and "리뷰 수정하기" in shown
    assert f'src="{item["images"][0]["thumbnail_url"]}"' in page.text

    # the order page now leads to the review; the form leads to its edit page
    detail = await client.get(f"/my/orders/{order['id']}")
    assert "리뷰 보기/수정" in detail.text and "리뷰 쓰기" not in text_of(detail.text)
    assert REVIEW_LINK.search(detail.text).group(1) == review_url  # type: ignore[union-attr]
    again = await client.get(url)
    assert again.status_code == 303 and again.headers["location"] == f"{review_url}/edit"

    # a second review of the same line (another tab, another request): the API's refusal
    second = await post_review_form(client, url, {"rating": "1", "body": "다시 씁니다"})
    assert second.status_code == 409
    assert "이미 리뷰를 작성한 주문 상품입니다." in second.text and 'role="alert"' in second.text
    assert (await product_reviews(client, product))["summary"]["count"] == 1

    # the review appears in community search, badged and linked to its page
    found = await client.get("/community/search", params={"q": "부드러워요"})
    assert f'href="{review_url}"' in found.text and "<mark>" in found.text
    assert 'class="badge badge-kind kind-review">리뷰<' in found.text


async def test_the_api_tells_a_member_only_which_of_their_own_lines_are_reviewed(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    order, _ = await bought(client, platform, staff)
    line_id = order["lines"][0]["id"]
    author = member_headers(client)
    created = await post_review_form(client, form_url(order), {"rating": "4", "body": "좋아요"})
    assert created.status_code == 303

    mine = await client.get("/api/v1/me/reviews", params={"order_line_id": line_id}, headers=author)
    assert mine.status_code == 200
    assert [i["review"]["order_line_id"] for i in mine.json()["items"]] == [line_id]
    assert mine.json()["items"][0]["review"]["rating"] == 4

    client.cookies.clear()
    await sign_up(client)
    other = await client.get(
        "/api/v1/me/reviews", params={"order_line_id": line_id}, headers=member_headers(client)
    )
    assert other.status_code == 200 and other.json() == {"items": [], "next_cursor": None}
    assert (await client.get("/api/v1/me/reviews")).status_code == 401
    bad = await client.get(
        "/api/v1/me/reviews", params={"order_line_id": "x"}, headers=member_headers(client)
    )
    assert bad.status_code == 422


async def test_nobody_opens_the_review_form_of_another_members_order(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    order, product = await bought(client, platform, staff)
    url = form_url(order)
    written = await post_review_form(client, url, {"rating": "5", "body": "내 리뷰"})
    edit_url = f"{written.headers['location']}/edit"

    client.cookies.clear()
    visitor = await client.get(url)
    assert visitor.status_code == 303 and visitor.headers["location"].startswith("/login?next=")

    await sign_up(client)
    assert (await client.get(url)).status_code == 404
    posted = await post_review_form(client, url, {"rating": "1", "body": "남의 주문"})
    assert posted.status_code == 404
    assert (
        await client.get(f"/my/orders/{order['id']}/lines/not-a-line/review")
    ).status_code == 404
    # someone else's review: readable, but neither its edit page nor an edit goes through
    assert (await client.get(edit_url)).status_code == 403
    edited = await submit(client, edit_url, {"rating": "1", "body": "남이 고침"})
    assert edited.status_code == 403
    listed = await product_reviews(client, product)
    assert [(i["review"]["rating"], i["post"]["body"]) for i in listed["items"]] == [(5, "내 리뷰")]


async def test_editing_a_review_keeps_what_it_said_before(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    order, product = await bought(client, platform, staff)
    written = await post_review_form(
        client, form_url(order), {"rating": "5", "body": "첫날엔 완벽했어요"}
    )
    review_url = written.headers["location"]
    post_id = review_url.rsplit("/", 1)[1]

    edit = await client.get(f"{review_url}/edit")
    assert edit.status_code == 200
    assert 'id="f-rating-5" name="rating" value="5" required checked' in edit.text
    assert "첫날엔 완벽했어요</textarea>" in edit.text
    assert "아직 수정하지 않았어요." in edit.text and 'id="edited"' not in edit.text

    empty = await submit(client, f"{review_url}/edit", {"rating": "2", "body": ""})
    assert empty.status_code == 422 and 'aria-describedby="e-body"' in empty.text

    saved = await submit(
        client, f"{review_url}/edit", {"rating": "2", "body": "두 번 빨았더니 늘어났어요"}
    )
    assert saved.status_code == 303 and saved.headers["location"] == review_url

    history = await client.get(
        f"/api/v1/reviews/{post_id}/revisions", headers=member_headers(client)
    )
    assert [(r["rating"], r["body"]) for r in history.json()["items"]] == [(5, "첫날엔 완벽했어요")]
    item = (await product_reviews(client, product))["items"][0]
    assert (item["review"]["rating"], item["post"]["body"]) == (2, "두 번 빨았더니 늘어났어요")

    edit = await client.get(f"{review_url}/edit")
    page = text_of(edit.text)
    assert 'id="edited"' in edit.text and "수정됨" in page and "수정 1회" in page
    assert "첫날엔 완벽했어요" in page and "별점 5점 중 5점" in edit.text
    assert "수정됨" in text_of((await client.get(review_url)).text)
    english = text_of((await client.get(f"{review_url}/edit?lang=en")).text)
    assert "Edits: 1" in english and "Edit history" in english


async def test_community_search_finds_korean_words_and_keeps_members_only_posts_hidden(
    client: httpx.AsyncClient, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    creator = await make_staff(platform, client, roles=("creator",))
    await make_space(client, creator, slug="knit", name="니트 러버")
    await make_space(client, creator, slug="vip", name="비밀 클럽", visibility="members_only")
    # a new account's three posts of the day
    for n in range(2):
        await make_post(
            client, creator, "knit", title=f"겨울 코디 {n}", body=f"캐시미어니트 {n}번째 후기"
        )
    await make_post(
        client, creator, "vip", title="회원 전용", body="캐시미어 비밀 세일 <b>안내</b>"
    )

    home = await client.get("/community")
    assert 'action="/community/search"' in home.text and 'role="search"' in home.text

    monkeypatch.setattr(community_reviews, "SEARCH_PAGE_SIZE", 1)
    first = await client.get("/community/search", params={"q": "니트"})
    assert first.status_code == 200
    assert "“니트” 커뮤니티 검색 결과" in first.text
    assert first.text.count('class="post-card search-hit"') == 1
    assert "캐시미어<mark>니트</mark>" in first.text
    assert 'class="badge badge-kind kind-text">게시글<' in first.text
    assert creator.nickname in first.text and "니트 러버" in first.text
    more = re.search(r'href="(/community/search\?[^"]*cursor=[^"]+)"', first.text)
    assert more is not None
    second = await client.get(more.group(1).replace("&amp;", "&"))
    assert second.text.count('class="post-card search-hit"') == 1
    titles = re.findall(r"겨울 코디 (\d)", first.text + second.text)
    assert sorted(titles) == ["0", "1"]

    # the members-only space's post is not the visitor's to find, nor its text shown
    secret = await client.get("/community/search", params={"q": "세일"})
    assert "회원 전용" not in secret.text and "비밀 세일" not in secret.text
    assert "“세일”에 맞는 글이 없습니다." in secret.text

    none = await client.get("/community/search", params={"q": "존재하지않는단어"})
    assert "에 맞는 글이 없습니다." in none.text and "다른 단어로" in none.text
    for bad in ("!!!", "가" * 101):
        refused = await client.get("/community/search", params={"q": bad})
        assert refused.status_code == 200
        assert (
            "글자나 숫자를 하나 이상 넣어" in refused.text and 'aria-invalid="true"' in refused.text
        )
        assert 'class="post-card search-hit"' not in refused.text
    blank = await client.get("/community/search")
    assert "글, 스냅, 리뷰, 질문을" in blank.text
    english = await client.get("/community/search", params={"q": "니트", "lang": "en"})
    assert "“니트” in the community" in english.text and ">Post<" in english.text
