"""Creators in the storefront: the creator page (tier, bio, links, followers, shelf, posts) whose
view credits the shelf's sales, the creator's own edits of page and shelf, tips from post and
snap pages in points and by card, and the statements and settling balance on /my/earnings."""

from __future__ import annotations

import io
import re
from html import unescape
from typing import Any

import httpx
from PIL import Image
from tests.factories.accounts import Member, grant_points, make_staff, signup_member
from tests.factories.catalog import ProductRef, make_product
from tests.factories.community import make_post, make_space
from tests.factories.orders import pay_order, place_order, points_of
from tests.factories.rewards import credited_to, earnings_of, settle
from tests.web._support import log_in, member_id, sign_up, submit, text_of

from jangteo.core.clock import FrozenClock
from jangteo.core.platform import Platform
from jangteo.web.session import ACCESS_COOKIE, REFRESH_COOKIE

SPACE = "creators"


async def make_creator(
    client: httpx.AsyncClient, platform: Platform, member: Member, tier: str = "pro"
) -> Member:
    """Staff fix the member's creator tier (the `creator` role comes with it)."""
    staff = await make_staff(platform, client)
    fixed = await client.put(
        f"/api/v1/admin/creators/{member.id}/tier",
        json={"tier": tier, "reason": "테스트 크리에이터"},
        headers=staff.headers,
    )
    assert fixed.status_code == 200, fixed.text
    return staff


async def creator_with_post(
    client: httpx.AsyncClient, platform: Platform, *, tier: str = "neighbor"
) -> tuple[Member, dict[str, Any]]:
    """A creator (signed up through the API) and a post of theirs in a public space."""
    creator = await signup_member(client)
    staff = await make_creator(client, platform, creator, tier)
    await make_space(client, staff, slug=SPACE)
    post = await make_post(client, creator, SPACE, title="오늘의 니트", body="니트 코디 모음")
    return creator, post


def as_browser(client: httpx.AsyncClient, member: Member) -> None:
    """The member's session in the client's cookies, as after logging in on the pages."""
    client.cookies.clear()
    client.cookies.set(ACCESS_COOKIE, member.access_token)
    client.cookies.set(REFRESH_COOKIE, member.refresh_token)


def browser_member(client: httpx.AsyncClient, member_id: str) -> Member:
    """The member signed in on this browser, as the API factories take them."""
    member = Member(
        id=member_id,
        email="",
        password="",
        nickname="",
        access_token="",
        refresh_token="",
    )
    member.use_tokens(
        {
            "access_token": client.cookies[ACCESS_COOKIE],
            "refresh_token": client.cookies[REFRESH_COOKIE],
        }
    )
    return member


def hidden(html: str, name: str) -> str:
    found = re.search(rf'<input type="hidden" name="{re.escape(name)}" value="([^"]*)">', html)
    assert found, f"no hidden field {name}"
    return unescape(found.group(1))


def field_error(html: str, field_id: str) -> str:
    found = re.search(rf'<p class="field-error" id="{re.escape(field_id)}-error">([^<]*)</p>', html)
    assert found, f"no error next to {field_id}"
    return unescape(found.group(1))


def tip_boxes(html: str) -> list[str]:
    return [text_of(box) for box in re.findall(r'<li class="tip-box[^"]*">(.*?)</li>', html, re.S)]


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (80, 60), (40, 120, 200)).save(out, format="PNG")
    return out.getvalue()


async def make_snap(client: httpx.AsyncClient, author: Member, product: ProductRef) -> str:
    image = await client.post(
        "/api/v1/community/images",
        files={"file": ("look.png", png_bytes(), "image/png")},
        headers=author.headers,
    )
    assert image.status_code == 201, image.text
    snap = await client.post(
        "/api/v1/snaps",
        json={
            "title": "주말 니트 스냅",
            "body": "니트에 청바지",
            "images": [image.json()["token"]],
            "tags": [{"image": 0, "product_id": product.product_id, "x": 0.5, "y": 0.5}],
        },
        headers=author.headers,
    )
    assert snap.status_code == 201, snap.text
    return str(snap.json()["post"]["id"])


# ---- the creator page ----------------------------------------------------------------------


async def test_the_creator_page_shows_the_shelf_and_credits_a_sale_after_a_view(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    creator = await make_staff(platform, client, roles=("creator",))  # with TOTP
    staff = await make_creator(client, platform, creator, "pro")
    await make_space(client, staff, slug=SPACE)
    await make_post(client, creator, SPACE, title="오늘의 니트", body="니트 코디 모음")
    product = await make_product(platform, price=50_000)
    shelved = await client.put(
        f"/api/v1/me/shelf/{product.product_id}",
        json={"note": "매일 입는 <니트>"},
        headers=creator.headers,
    )
    assert shelved.status_code == 204, shelved.text
    edited = await client.patch(
        "/api/v1/me/creator",
        json={
            "bio": "니트를 사랑하는 크리에이터\n매주 코디 올려요",
            "links": ["https://instagram.com/knit"],
        },
        headers=creator.headers,
    )
    assert edited.status_code == 200, edited.text

    client.cookies.clear()
    page = await client.get(f"/creators/{creator.id}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert creator.nickname in text and "프로 크리에이터" in text
    assert "니트를 사랑하는 크리에이터" in text and "매주 코디 올려요" in text
    assert (
        '<a href="https://instagram.com/knit" rel="nofollow noopener" target="_blank">'
        "instagram.com/knit</a>" in page.text
    )
    assert "팔로워 0명" in text
    assert f'href="/p/{product.product_id}"' in page.text and "캐시미어 블렌드 니트" in text
    assert "매일 입는 &lt;니트&gt;" in page.text  # the note, escaped
    assert "50,000원" in text
    assert "오늘의 니트" in text  # the creator's posts
    assert f'href="/share?target_type=profile&amp;target_id={creator.id}"' in page.text
    assert "/creators/me/profile" not in page.text  # a visitor does not get the edit form
    assert f'href="/login?next=/creators/{creator.id}"' in page.text  # follow: log in first

    # a member who saw the shelf buys the product within the window: credited to the creator
    await sign_up(client)
    buyer = browser_member(client, await member_id(client))
    viewed = await client.get(f"/creators/{creator.id}")
    assert viewed.status_code == 200
    order = await place_order(client, buyer, product.variant_ids[0])
    await pay_order(client, buyer, order)
    await settle(platform)
    credited = await credited_to(client, creator)
    assert [
        (c["order_number"], c["source_type"], c["source_id"], c["amount"]) for c in credited
    ] == [(order["number"], "shelf", creator.id, 2_500)]

    # following from the creator page comes back to it
    followed = await submit(
        client, f"/community/u/{creator.id}/follow", {"next": f"/creators/{creator.id}"}
    )
    assert followed.status_code == 303 and followed.headers["location"] == f"/creators/{creator.id}"
    again = text_of((await client.get(f"/creators/{creator.id}")).text)
    assert "팔로워 1명" in again and "팔로잉" in again
    # an outside address is not followed after the form
    elsewhere = await submit(
        client, f"/community/u/{creator.id}/unfollow", {"next": "https://evil.example/"}
    )
    assert elsewhere.headers["location"] == f"/community/u/{creator.id}"

    # the community profile links to the creator page; a plain member's does not
    profile = await client.get(f"/community/u/{creator.id}")
    assert f'href="/creators/{creator.id}"' in profile.text and "프로 크리에이터" in profile.text
    plain = await client.get(f"/community/u/{buyer.id}")
    assert plain.status_code == 200 and "/creators/" not in plain.text

    english = await client.get(f"/creators/{creator.id}?lang=en")
    assert "Pro creator" in english.text and "0 followers" in english.text  # unfollowed above


async def test_a_member_who_is_not_a_creator_has_no_creator_page(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    assert (await client.get(f"/creators/{member.id}")).status_code == 404
    assert (await client.get("/creators/not-a-uuid")).status_code == 404
    missing = await client.get("/creators/00000000-0000-7000-8000-000000000000")
    assert missing.status_code == 404 and "페이지를 찾을 수 없습니다" in text_of(missing.text)


# ---- the creator's own edits ----------------------------------------------------------------


async def test_the_creator_edits_the_page_and_the_shelf(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    creator = await make_staff(platform, client, roles=("creator",))  # with TOTP
    await make_creator(client, platform, creator, tier="neighbor")
    product = await make_product(platform, name="램스울 가디건", price=62_000)
    plain = await signup_member(client)

    # a plain member and a visitor see no shelf button on the product page
    as_browser(client, plain)
    assert "내 선반에 담기" not in (await client.get(f"/p/{product.product_id}")).text
    client.cookies.clear()
    assert "내 선반에 담기" not in (await client.get(f"/p/{product.product_id}")).text

    as_browser(client, creator)
    page = await client.get(f"/creators/{creator.id}")
    assert page.status_code == 200
    assert 'action="/creators/me/profile"' in page.text and "이웃 크리에이터" in page.text
    assert "선반이 비어 있어요." in text_of(page.text)

    refused = await submit(
        client,
        "/creators/me/profile",
        {
            "bio": "가디건 모으는 사람",
            "links.0": "https://blog.example.kr",
            "links.1": "javascript:alert(1)",
        },
    )
    assert refused.status_code == 422
    assert field_error(refused.text, "f-links-1") == "https://로 시작하는 웹 주소를 입력해 주세요."
    assert 'value="javascript:alert(1)"' in refused.text  # what was typed stays in the form
    assert (await client.get(f"/api/v1/creators/{creator.id}")).json()["bio"] == ""

    saved = await submit(
        client,
        "/creators/me/profile",
        {"bio": "가디건 모으는 사람", "links.0": "", "links.1": "https://blog.example.kr/knit"},
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/creators/{creator.id}?notice=creator-saved"
    shown = await client.get(saved.headers["location"])
    assert "크리에이터 페이지를 저장했어요." in text_of(shown.text)
    api = (await client.get(f"/api/v1/creators/{creator.id}")).json()
    assert (api["bio"], api["links"]) == ("가디건 모으는 사람", ["https://blog.example.kr/knit"])

    # the product page offers the creator the shelf
    product_page = await client.get(f"/p/{product.product_id}")
    assert "내 선반에 담기" in product_page.text
    assert f'action="/p/{product.product_id}/shelf"' in product_page.text
    too_long = await submit(client, f"/p/{product.product_id}/shelf", {"note": "가" * 301})
    assert too_long.status_code == 422
    assert field_error(too_long.text, "f-shelf-note") == "300자 이하로 입력해 주세요."
    put = await submit(client, f"/p/{product.product_id}/shelf", {"note": "겨울 내내 입어요"})
    assert put.status_code == 303
    assert put.headers["location"] == f"/p/{product.product_id}?notice=shelved"
    assert "내 선반에 담았어요." in text_of((await client.get(put.headers["location"])).text)

    mine = await client.get(f"/creators/{creator.id}")
    assert "램스울 가디건" in mine.text and "겨울 내내 입어요" in mine.text
    remove = f"/creators/me/shelf/{product.product_id}/remove"
    assert f'action="{remove}"' in mine.text
    removed = await submit(client, remove)
    assert removed.status_code == 303
    assert (await client.get(f"/api/v1/creators/{creator.id}")).json()["shelf"] == []

    # another member cannot edit: the API refuses a member who is not a creator
    as_browser(client, plain)
    other = await submit(client, "/creators/me/profile", {"bio": "남의 페이지"})
    assert other.status_code in (403, 404)
    assert (await client.get(f"/api/v1/creators/{creator.id}")).json()[
        "bio"
    ] == "가디건 모으는 사람"
    no_token = await client.post("/creators/me/profile", data={"bio": "x"})
    assert no_token.status_code == 403


# ---- tips ------------------------------------------------------------------------------------


async def test_a_points_tip_through_the_form_moves_points_and_shows_the_message(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    creator, post = await creator_with_post(client, platform)
    await sign_up(client)
    fan = browser_member(client, await member_id(client))
    await grant_points(platform, fan.id, 12_000)
    before = await points_of(client, fan)

    page = await client.get(f"/community/p/{post['id']}")
    assert page.status_code == 200
    assert f'action="/community/p/{post["id"]}/tip"' in page.text and "후원하기" in page.text
    for amount in ("1,000원", "5,000원", "10,000원"):
        assert amount in text_of(page.text)
    form = {
        "preset": "5000",
        "amount": "",
        "method": "points",
        "message": "코디 최고예요! <b>",
        "idem": hidden(page.text, "idem"),
    }
    sent = await submit(client, f"/community/p/{post['id']}/tip", form)
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"] == f"/community/p/{post['id']}?notice=tip-sent#tips"
    # the same form sent twice (a double click) tips once
    again = await submit(client, f"/community/p/{post['id']}/tip", form)
    assert again.status_code == 303
    assert await points_of(client, fan) == before - 5_000
    assert (await earnings_of(client, creator))["available"] == 4_500

    shown = await client.get(sent.headers["location"].split("#")[0])
    assert "후원해 주셔서 고마워요!" in text_of(shown.text)
    [box] = tip_boxes(shown.text)
    assert "5,000원" in box and "코디 최고예요!" in box
    assert "코디 최고예요! &lt;b&gt;" in shown.text
    assert 'class="tip-box tip-level-2"' in shown.text

    # anyone reading the post sees the highlighted tip; a visitor is asked to log in to tip
    client.cookies.clear()
    visitor = await client.get(f"/community/p/{post['id']}")
    assert len(tip_boxes(visitor.text)) == 1
    assert f'action="/community/p/{post["id"]}/tip"' not in visitor.text
    assert "로그인하고 후원하기" in text_of(visitor.text)

    # the creator sees the tips on their own post but no form to tip themselves
    as_browser(client, creator)
    own = await client.get(f"/community/p/{post['id']}")
    assert len(tip_boxes(own.text)) == 1 and '/tip"' not in own.text


async def test_tip_errors_are_shown_next_to_the_fields(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    creator, post = await creator_with_post(client, platform)
    writer = await signup_member(client)
    plain_post = await make_post(client, writer, SPACE, body="크리에이터가 아닌 회원의 글")
    await sign_up(client)
    fan = browser_member(client, await member_id(client))
    balance = await points_of(client, fan)
    path = f"/community/p/{post['id']}/tip"
    page = await client.get(f"/community/p/{post['id']}")
    idem = hidden(page.text, "idem")

    too_much = balance + 10_000
    short = await submit(
        client,
        path,
        {"preset": "1000", "amount": f"{too_much:,}", "method": "points", "idem": idem},
    )
    assert short.status_code == 409
    assert field_error(short.text, "f-tip-amount") == "포인트가 부족해요."
    assert '<details class="tip-dialog" open>' in short.text
    assert f'value="{too_much:,}"' in short.text
    assert hidden(short.text, "idem") != idem  # the corrected form is a new request
    assert await points_of(client, fan) == balance

    small = await submit(client, path, {"amount": "500", "method": "points", "idem": idem})
    assert small.status_code == 422
    assert (
        field_error(small.text, "f-tip-amount") == "후원은 1,000원부터 500,000원까지 할 수 있어요."
    )
    long = await submit(
        client, path, {"preset": "1000", "method": "points", "message": "가" * 201, "idem": idem}
    )
    assert long.status_code == 422
    assert field_error(long.text, "f-tip-message") == "200자 이하로 입력해 주세요."
    odd = await submit(client, path, {"preset": "1000", "method": "bitcoin", "idem": idem})
    assert odd.status_code == 422 and "보기 중에서 선택해 주세요." in odd.text

    # a post by a member who is not a creator has no form; posting one anyway is refused
    plain_page = await client.get(f"/community/p/{plain_post['id']}")
    assert '/tip"' not in plain_page.text and "tip-box" not in plain_page.text
    refused = await submit(
        client,
        f"/community/p/{plain_post['id']}/tip",
        {"preset": "1000", "method": "points", "idem": idem},
    )
    assert refused.status_code == 422
    assert "크리에이터만 후원을 받을 수 있어요." in text_of(refused.text)

    # the creator posting the form on their own post
    as_browser(client, creator)
    own = await submit(client, path, {"preset": "1000", "method": "points", "idem": idem})
    assert own.status_code == 422 and "내 글에는 후원할 수 없어요." in text_of(own.text)
    assert (await client.get(f"/api/v1/posts/{post['id']}/tips")).json()["items"] == []
    client.cookies.clear()
    visitor = await submit(client, path, {"preset": "1000", "method": "points", "idem": idem})
    assert visitor.status_code == 303 and visitor.headers["location"].startswith("/login")


async def test_a_card_tip_on_a_snap_is_paid_on_the_payment_page(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    creator = await signup_member(client)
    await make_creator(client, platform, creator, "neighbor")
    product = await make_product(platform)
    snap_id = await make_snap(client, creator, product)
    await sign_up(client)
    fan = browser_member(client, await member_id(client))
    points = await points_of(client, fan)

    snap = await client.get(f"/community/snaps/{snap_id}")
    assert f'action="/community/snaps/{snap_id}/tip"' in snap.text
    started = await submit(
        client,
        f"/community/snaps/{snap_id}/tip",
        {
            "preset": "1000",
            "amount": "3000",
            "method": "money",
            "message": "응원해요",
            "idem": hidden(snap.text, "idem"),
        },
    )
    assert started.status_code == 303, started.text
    pay_path = started.headers["location"]
    assert re.fullmatch(rf"/tips/[0-9a-f-]{{36}}/pay\?back=/community/snaps/{snap_id}", pay_path)
    tip_id = pay_path.split("/")[2]
    tip = (await client.get(f"/api/v1/tips/{tip_id}", headers=fan.headers)).json()
    assert (tip["status"], tip["amount"], tip["method"]) == ("pending", 3_000, "money")

    pay_page = await client.get(pay_path)
    assert pay_page.status_code == 200
    assert "3,000원 결제하기" in text_of(pay_page.text) and creator.nickname in pay_page.text
    key = hidden(pay_page.text, "payment_key")
    assert key.startswith("dummy_")
    paid = await submit(
        client,
        f"/tips/{tip_id}/pay",
        {"payment_key": key, "back": hidden(pay_page.text, "back")},
    )
    assert paid.status_code == 303
    assert paid.headers["location"] == f"/community/snaps/{snap_id}?notice=tip-sent#tips"
    tip = (await client.get(f"/api/v1/tips/{tip_id}", headers=fan.headers)).json()
    assert tip["status"] == "paid"
    assert await points_of(client, fan) == points  # a card tip takes no points
    assert (await earnings_of(client, creator))["available"] == 2_700
    shown = await client.get(f"/community/snaps/{snap_id}?notice=tip-sent")
    assert "후원해 주셔서 고마워요!" in text_of(shown.text)
    [box] = tip_boxes(shown.text)
    assert "3,000원" in box and "응원해요" in box
    # the paid tip's page sends the member back to the snap
    done = await client.get(pay_path)
    assert done.status_code == 303 and "notice=tip-sent" in done.headers["location"]

    # a declined card ends the tip; the member is told on the snap
    snap = await client.get(f"/community/snaps/{snap_id}")
    declined = await submit(
        client,
        f"/community/snaps/{snap_id}/tip",
        {"preset": "5000", "method": "money", "idem": hidden(snap.text, "idem")},
    )
    second = declined.headers["location"].split("/")[2]
    failed = await submit(
        client,
        f"/tips/{second}/pay",
        {"payment_key": "dummy-decline-1", "back": "https://evil.example/"},
    )
    assert failed.status_code == 303
    assert failed.headers["location"] == f"/community/p/{snap_id}?notice=payment-failed"
    assert (await client.get(f"/api/v1/tips/{second}", headers=fan.headers)).json()[
        "status"
    ] == "failed"

    # another member's tip is not theirs to see or pay
    await sign_up(client)
    assert (await client.get(pay_path)).status_code == 404
    assert (
        await submit(client, f"/tips/{tip_id}/pay", {"payment_key": "dummy_x"})
    ).status_code == 404


# ---- earnings: statements and the settling balance -------------------------------------------


async def test_earnings_show_the_months_statement_and_what_is_being_settled(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    creator, post = await creator_with_post(client, platform)
    fan = await signup_member(client)
    await grant_points(platform, fan.id, 10_000)
    tipped = await client.post(
        "/api/v1/tips",
        json={"target_type": "post", "target_id": post["id"], "amount": 10_000},
        headers={**fan.headers, "Idempotency-Key": "tip-statement"},
    )
    assert tipped.status_code == 201, tipped.text

    client.cookies.clear()
    assert (await log_in(client, creator.email, creator.password)).status_code == 303
    before = text_of((await client.get("/my/earnings")).text)
    assert "지급 가능 9,000원" in before and "정산 중 0원" in before
    assert "아직 정산서가 없어요" in before

    clock.advance(days=8)  # into December: the monthly job settles November
    await platform.jobs.ensure_recurring()  # what the app does at start-up
    await settle(platform)
    assert (await log_in(client, creator.email, creator.password)).status_code == 303
    page = await client.get("/my/earnings")
    text = text_of(page.text)
    withheld = 9_000 * 330 // 10_000
    assert "지급 가능 0원" in text and f"정산 중 {9_000 - withheld:,}원" in text
    rows = [
        text_of(r) for r in re.findall(r'<tr class="statement[^"]*">(.*?)</tr>', page.text, re.S)
    ]
    assert rows == [f"2026-11 9,000원 {withheld:,}원 {9_000 - withheld:,}원 지급 대기"]
