"""Rewards in the storefront: the browser's visitor id (set by the pages, sent to the API and
linked at sign-up and checkout) and post views that let a sale be credited, the share page and
its links per channel, Open Graph tags, and the member's earnings and share links pages."""

from __future__ import annotations

import io
import json
import re
from html import unescape
from typing import Any

import httpx
from PIL import Image
from tests.factories.accounts import Member, make_staff, signup_member
from tests.factories.catalog import ProductRef, make_product
from tests.factories.orders import pay_order, place_order
from tests.web._support import csrf_token, log_in, sign_up, submit, text_of

from jangteo.core.events import dispatch_pending
from jangteo.core.platform import Platform
from jangteo.web.session import ACCESS_COOKIE, REFRESH_COOKIE, VISITOR_COOKIE

PRICE = 39_000
REWARD = PRICE * 300 // 10_000  # the default rate, 3 %


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (80, 60), (200, 120, 40)).save(out, format="PNG")
    return out.getvalue()


async def make_snap(client: httpx.AsyncClient, author: Member, product: ProductRef) -> str:
    """A snap by `author` that tags `product`; its post id."""
    image = await client.post(
        "/api/v1/community/images",
        files={"file": ("look.png", png_bytes(), "image/png")},
        headers=author.headers,
    )
    assert image.status_code == 201, image.text
    snap = await client.post(
        "/api/v1/snaps",
        json={
            "title": "겨울 니트 코디",
            "body": "포근한 니트에 데님 #겨울코디",
            "images": [image.json()["token"]],
            "tags": [{"image": 0, "product_id": product.product_id, "x": 0.4, "y": 0.6}],
        },
        headers=author.headers,
    )
    assert snap.status_code == 201, snap.text
    return str(snap.json()["post"]["id"])


def browser_member(client: httpx.AsyncClient, account: dict[str, str]) -> Member:
    """The member signed in on this browser, as the API factories take them."""
    member = Member(
        id="",
        email=account["email"],
        password=account["password"],
        nickname=account["nickname"],
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


async def settle(platform: Platform) -> None:
    """Deliver the order events to their subscribers (the reward is credited on payment)."""
    for _ in range(3):
        await dispatch_pending(platform.db, platform.bus, platform.clock)
        await platform.jobs.run_due()


async def buy(
    client: httpx.AsyncClient, platform: Platform, buyer: Member, product: ProductRef
) -> dict[str, Any]:
    order = await place_order(client, buyer, product.variant_ids[0])
    paid = await pay_order(client, buyer, order)
    await settle(platform)
    return paid


async def credited(client: httpx.AsyncClient, member: Member) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/me/earnings/attributions", headers=member.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def meta(html: str, key: str) -> str | None:
    """The content of `<meta property|name="key">`."""
    found = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)">', html)
    return unescape(found.group(1)) if found else None


def set_cookie_of(response: httpx.Response, name: str) -> str | None:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            return header
    return None


async def test_a_visitor_who_saw_a_snap_and_then_signed_up_credits_the_snap_author(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    product = await make_product(platform, price=PRICE)
    stylist = await signup_member(client)
    snap_id = await make_snap(client, stylist, product)
    client.cookies.clear()

    page = await client.get(f"/community/snaps/{snap_id}")
    assert page.status_code == 200
    cookie = set_cookie_of(page, VISITOR_COOKIE)
    assert cookie is not None
    assert re.match(rf"{VISITOR_COOKIE}=[A-Za-z0-9]{{20}};", cookie)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=31536000" in cookie
    assert "Path=/" in cookie and "Secure" not in cookie  # the test shop is served over http
    visitor = client.cookies[VISITOR_COOKIE]
    again = await client.get("/community")
    assert set_cookie_of(again, VISITOR_COOKIE) is None
    assert client.cookies[VISITOR_COOKIE] == visitor
    # a visitor cannot share: the button leads to log-in through the share page
    assert f'href="/share?target_type=post&amp;target_id={snap_id}"' in page.text
    assert "<dialog" not in page.text

    account = await sign_up(client)  # links this browser's visitor id to the new member
    buyer = browser_member(client, account)
    order = await buy(client, platform, buyer, product)

    assert [
        (c["order_number"], c["source_type"], c["source_id"], c["amount"])
        for c in await credited(client, stylist)
    ] == [(order["number"], "post", snap_id, REWARD)]

    # the author's earnings page: balances, the chart's figures and the credited order
    client.cookies.clear()
    assert (await log_in(client, stylist.email, stylist.password)).status_code == 303
    earnings = await client.get("/my/earnings")
    assert earnings.status_code == 200
    text = text_of(earnings.text)
    assert f"적립 예정 {REWARD:,}원" in text and "지급 가능 0원" in text and "지급 완료 0원" in text
    assert "차감 예정" not in text  # owed is shown only when there is some
    assert 'href="/my/earnings" aria-current="page"' in earnings.text
    chart = json.loads(
        unescape(re.search(r'id="earnings-data">(.*?)</script>', earnings.text, re.S).group(1))
    )
    assert len(chart["labels"]) == len(chart["amounts"]) == 30
    assert chart["amounts"][-1] == REWARD and sum(chart["amounts"]) == REWARD
    assert '<script src="/static/vendor/chart.umd.min.js" defer></script>' in earnings.text
    assert order["number"] in text and "캐시미어 블렌드 니트" in text
    assert "3%" in text and "적립 예정" in text and "게시글" in text
    assert f'href="/community/p/{snap_id}"' in earnings.text
    assert "아직 적립된 주문이 없어요." not in text


async def test_a_member_signed_in_elsewhere_links_the_browser_at_checkout(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    product = await make_product(platform, price=PRICE)
    stylist = await signup_member(client)
    snap_id = await make_snap(client, stylist, product)
    buyer = await signup_member(client)
    client.cookies.clear()
    assert (await client.get(f"/community/snaps/{snap_id}")).status_code == 200

    # signed in without the pages' log-in (e.g. the console's): only checkout links the browser
    client.cookies.set(ACCESS_COOKIE, buyer.access_token)
    client.cookies.set(REFRESH_COOKIE, buyer.refresh_token)
    added = await submit(
        client, "/cart/lines", {"variant_id": product.variant_ids[0], "quantity": "1"}
    )
    assert added.status_code in (200, 303), added.text
    checkout = await client.get("/checkout")
    assert checkout.status_code == 200, checkout.text
    await buy(client, platform, buyer, product)
    assert [c["source_id"] for c in await credited(client, stylist)] == [snap_id]


async def test_a_signed_in_member_reading_a_post_that_tags_a_product_credits_its_author(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    product = await make_product(platform, price=PRICE)
    stylist = await signup_member(client)
    snap_id = await make_snap(client, stylist, product)
    client.cookies.clear()
    account = await sign_up(client)
    buyer = browser_member(client, account)
    # the browser was linked at sign-up, before it saw anything: the touch is the member's own
    assert (await client.get(f"/community/p/{snap_id}")).status_code == 200
    await buy(client, platform, buyer, product)
    assert [c["source_id"] for c in await credited(client, stylist)] == [snap_id]


async def test_the_share_page_makes_one_link_per_channel(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    product = await make_product(platform, name="램스울 가디건", price=PRICE)
    await sign_up(client)
    target = f"target_type=product&target_id={product.product_id}"

    product_page = await client.get(f"/p/{product.product_id}")
    assert f'href="/share?target_type=product&amp;target_id={product.product_id}"' in (
        product_page.text
    )
    assert '<dialog class="share-sheet"' in product_page.text
    assert '<script src="/static/js/share.js" defer></script>' in product_page.text

    page = await client.get(f"/share?{target}")
    assert page.status_code == 200
    assert "램스울 가디건" in page.text and page.text.count('action="/share"') == 8
    assert "/s/" not in page.text

    fields = {"target_type": "product", "target_id": product.product_id}
    made = await submit(client, "/share", {**fields, "channel": "kakaotalk"})
    assert made.status_code == 200, made.text
    links = (await client.get("/api/v1/me/share-links", headers=_bearer(client))).json()["items"]
    assert [(link["channel"], link["target_id"]) for link in links] == [
        ("kakaotalk", product.product_id)
    ]
    kakao_url = links[0]["url"]
    assert kakao_url.endswith(f"/s/{links[0]['code']}")
    assert f'id="url-kakaotalk" class="share-url" type="text" readonly value="{kakao_url}"' in (
        made.text
    )
    assert "카카오톡용 링크가 준비됐어요." in text_of(made.text)
    assert made.text.count('action="/share"') == 7  # the other channels still offer theirs

    # share.js asks for the link of its option as JSON; each channel has its own
    as_json = await client.post(
        "/share",
        data={**fields, "channel": "link"},
        headers={"Accept": "application/json", "X-CSRF-Token": await csrf_token(client)},
    )
    assert as_json.status_code == 200 and as_json.json()["channel"] == "link"
    assert as_json.json()["url"] != kakao_url and "/s/" in as_json.json()["url"]
    same = await submit(client, "/share", {**fields, "channel": "kakaotalk"})
    assert kakao_url in same.text
    links = (await client.get("/api/v1/me/share-links", headers=_bearer(client))).json()["items"]
    assert sorted(link["channel"] for link in links) == ["kakaotalk", "link"]

    refused = await submit(client, "/share", {**fields, "channel": "pigeon"})
    assert refused.status_code == 422 and "보기 중에서 선택해 주세요." in refused.text
    no_token = await client.post("/share", data={**fields, "channel": "sms"})
    assert no_token.status_code == 403
    assert (await client.get("/share?target_type=product&target_id=nope")).status_code == 404
    assert (
        await client.get("/share?target_type=order&target_id=" + product.product_id)
    ).status_code == 404
    unknown = "/share?target_type=product&target_id=00000000-0000-7000-8000-000000000000"
    assert (await client.get(unknown)).status_code == 404

    # a visit through the link counts on "my share links"
    code = kakao_url.rsplit("/", 1)[1]
    follow = await client.get(f"/s/{code}")
    assert follow.status_code == 302 and follow.headers["location"] == f"/p/{product.product_id}"
    await platform.intake.drain()
    mine = await client.get("/my/share-links")
    assert mine.status_code == 200
    rows = re.findall(r"<tr>(.*?)</tr>", mine.text, re.S)
    kakao_row = next(text_of(r) for r in rows if kakao_url in r)
    assert "상품" in kakao_row and "카카오톡" in kakao_row and kakao_row.split()[-2] == "1"


def _bearer(client: httpx.AsyncClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.cookies[ACCESS_COOKIE]}"}


async def test_visitors_are_sent_to_log_in_to_share(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    product = await make_product(platform)
    page = f"/share?target_type=product&target_id={product.product_id}"
    response = await client.get(page)
    assert response.status_code == 303
    assert response.headers["location"] == (
        f"/login?next=/share%3Ftarget_type%3Dproduct%26target_id%3D{product.product_id}"
    )
    posted = await submit(
        client,
        "/share",
        {"target_type": "product", "target_id": product.product_id, "channel": "link"},
    )
    assert posted.status_code == 303 and posted.headers["location"].startswith("/login")
    assert (await client.get("/my/earnings")).headers["location"] == "/login?next=/my/earnings"


async def test_product_and_post_pages_carry_open_graph_tags(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    product = await make_product(
        platform, name='울 "코트"', price=PRICE, description="부드러운 울 100%\n겨울 필수템"
    )
    staff = await make_staff(platform, client)
    image = await client.post(
        f"/api/v1/admin/products/{product.product_id}/images",
        files={"file": ("front.png", png_bytes(), "image/png")},
        data={"alt": "앞면"},
        headers=staff.headers,
    )
    assert image.status_code == 201, image.text
    client.cookies.clear()

    page = await client.get(f"/p/{product.product_id}")
    assert page.status_code == 200
    assert meta(page.text, "og:title") == '울 "코트"'
    assert meta(page.text, "og:description") == "부드러운 울 100% 겨울 필수템"
    assert meta(page.text, "og:type") == "product"
    assert meta(page.text, "og:url") == f"http://test/p/{product.product_id}"
    assert meta(page.text, "og:image") == "http://test" + image.json()["url"]
    assert meta(page.text, "twitter:card") == "summary_large_image"

    stylist = await signup_member(client)
    snap_id = await make_snap(client, stylist, product)
    client.cookies.clear()
    snap = await client.get(f"/community/snaps/{snap_id}")
    assert meta(snap.text, "og:title") == "겨울 니트 코디"
    assert meta(snap.text, "og:type") == "article"
    assert (meta(snap.text, "og:image") or "").startswith("http://test/")
    post = await client.get(f"/community/p/{snap_id}")
    assert meta(post.text, "og:url") == f"http://test/community/p/{snap_id}"
    assert meta(post.text, "og:description") == "포근한 니트에 데님 #겨울코디"
    assert meta(post.text, "twitter:card") == "summary"


async def test_a_new_member_sees_empty_earnings_and_share_links(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    await sign_up(client)
    earnings = await client.get("/my/earnings")
    assert earnings.status_code == 200
    text = text_of(earnings.text)
    assert "적립 예정 0원" in text and "지급 가능 0원" in text and "차감 예정" not in text
    assert "아직 적립된 주문이 없어요." in text
    assert "24시간" in text and "7일" in text  # the rules, from the API
    chart = json.loads(
        unescape(re.search(r'id="earnings-data">(.*?)</script>', earnings.text, re.S).group(1))
    )
    assert chart["amounts"] == [0] * 30
    assert 'href="/my/earnings"' in (await client.get("/my/orders")).text  # in the member menu

    links = await client.get("/my/share-links")
    assert links.status_code == 200
    assert "아직 공유한 것이 없어요." in text_of(links.text)
    english = await client.get("/my/earnings?lang=en")
    assert "My earnings" in english.text and "No orders credited to you yet." in english.text
