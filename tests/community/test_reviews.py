"""Reviews of order lines: only the buyer's own delivered line, once; the edit history; helpful
votes counted exactly; the product's reviews with an exact summary, low ratings shown like any
other; comments and official answers of staff."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from tests.community.test_snaps import upload_photo
from tests.factories.accounts import Member, make_staff, signup_member
from tests.factories.catalog import ProductRef, make_product
from tests.factories.orders import deliver_order, pay_order, place_order, points_of

from jangteo.core.platform import Platform

UNKNOWN = "0190f5e4-0000-7000-8000-000000000000"


async def bought_line(
    client: httpx.AsyncClient,
    buyer: Member,
    product: ProductRef,
    staff: Member | None = None,
) -> str:
    """The id of the line of a paid order of `product` by `buyer`, delivered when `staff` is
    given (staff move it through preparing and shipped)."""
    order = await pay_order(client, buyer, await place_order(client, buyer, product.variant_ids[0]))
    if staff is not None:
        order = await deliver_order(client, staff, order)
        assert order["status"] == "delivered"
    return str(order["lines"][0]["id"])


async def post_review(
    client: httpx.AsyncClient,
    member: Member,
    line_id: str,
    *,
    headers: dict[str, str] | None = None,
    **fields: Any,
) -> httpx.Response:
    body = {"order_line_id": line_id, "rating": 5, "body": "핏이 예뻐요 #니트", **fields}
    return await client.post(
        "/api/v1/reviews", json=body, headers={**member.headers, **(headers or {})}
    )


async def review_of(
    client: httpx.AsyncClient, member: Member, product: ProductRef, staff: Member, rating: int = 5
) -> dict[str, Any]:
    line = await bought_line(client, member, product, staff)
    response = await post_review(client, member, line, rating=rating, body=f"{rating}점 후기")
    assert response.status_code == 201, response.text
    return response.json()


async def product_page(
    client: httpx.AsyncClient, product: ProductRef, member: Member | None = None, **params: Any
) -> dict[str, Any]:
    response = await client.get(
        f"/api/v1/products/{product.product_id}/reviews",
        params=params,
        headers=member.headers if member else {},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def all_review_ids(client: httpx.AsyncClient, product: ProductRef, sort: str) -> list[str]:
    """Every page, two at a time, to walk the cursor of a sort."""
    ids: list[str] = []
    cursor = None
    while True:
        params = {"sort": sort, "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await product_page(client, product, **params)
        ids.extend(item["post"]["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return ids


async def test_a_review_is_of_the_buyers_own_delivered_line_and_verified(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    product = await make_product(platform, name="메리노 울 니트")
    buyer, stranger = await signup_member(client), await signup_member(client)
    line = await bought_line(client, buyer, product)

    # not delivered yet: refused, and nothing paid
    early = await post_review(client, buyer, line)
    assert early.status_code == 409
    assert early.json()["type"].endswith("/not-delivered-yet")
    # someone else's line answers exactly like a line that does not exist
    other_line = await bought_line(client, stranger, product, staff)
    theirs = await post_review(client, buyer, other_line)
    nowhere = await post_review(client, buyer, UNKNOWN)
    assert theirs.status_code == nowhere.status_code == 404
    assert theirs.json()["type"] == nowhere.json()["type"] == "/problems/not-found"
    assert theirs.json()["detail"] == nowhere.json()["detail"]
    assert await points_of(client, buyer) == 0

    orders = await client.get("/api/v1/orders", headers=buyer.headers)
    await deliver_order(client, staff, orders.json()["items"][0])
    created = await post_review(client, buyer, line, rating=4)
    assert created.status_code == 201, created.text
    review = created.json()
    assert review["review"] == {
        "rating": 4,
        "verified": True,
        "helpful_count": 0,
        "order_line_id": line,
        "i_found_helpful": False,
    }
    assert review["post"]["kind"] == "review"
    assert review["post"]["title"] == "메리노 울 니트"
    assert (review["post"]["space"]["slug"], review["post"]["board"]["slug"]) == ("shop", "reviews")
    assert review["images"] == []
    assert await points_of(client, buyer) == platform.settings.community_review_points == 20

    # which order it was is for the author only
    seen = await client.get(f"/api/v1/reviews/{review['post']['id']}", headers=stranger.headers)
    assert seen.json()["review"]["order_line_id"] is None
    assert seen.json()["review"]["verified"] is True
    public = await client.get(f"/api/v1/reviews/{review['post']['id']}")
    assert public.json()["review"]["order_line_id"] is None

    # one review per line
    again = await post_review(client, buyer, line, rating=1)
    assert again.status_code == 409
    assert again.json()["type"].endswith("/review-exists")
    assert await points_of(client, buyer) == 20
    for bad in (
        {"rating": 0},
        {"rating": 6},
        {"rating": "five"},
        {"body": ""},
        {"order_line_id": "line-1"},
        {"images": ["x"] * 11},
        {"verified": True},
    ):
        refused = await post_review(client, stranger, other_line, **bad)
        assert refused.status_code == 422, bad
    assert (await client.post("/api/v1/reviews", json={"order_line_id": line})).status_code == 401


async def test_the_same_line_reviewed_at_once_makes_one_review_paid_once(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    product = await make_product(platform)
    buyer = await signup_member(client)
    # a first review of the day, so what races below is the review itself (the shop's board
    # and the day's activity counter exist by then)
    await review_of(client, buyer, product, staff)
    line = await bought_line(client, buyer, product, staff)
    answers = await asyncio.gather(*[post_review(client, buyer, line) for _ in range(6)])
    assert sorted(a.status_code for a in answers) == [201] + [409] * 5
    assert {a.json()["type"] for a in answers if a.status_code == 409} == {
        "/problems/review-exists"
    }
    assert await points_of(client, buyer) == 40
    assert (await product_page(client, product))["summary"]["count"] == 2

    # a retry with the same Idempotency-Key gets the first answer, not a conflict
    second_line = await bought_line(client, buyer, product, staff)
    key = {"Idempotency-Key": f"review-{uuid.uuid4()}"}
    first = await post_review(client, buyer, second_line, headers=key)
    replay = await post_review(client, buyer, second_line, headers=key)
    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json()


async def test_photo_reviews_earn_more_and_take_only_ones_own_photos(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    product = await make_product(platform)
    buyer, other = await signup_member(client), await signup_member(client)
    line = await bought_line(client, buyer, product, staff)
    foreign = await upload_photo(client, other)
    refused = await post_review(client, buyer, line, images=[foreign])
    assert refused.status_code == 422
    assert refused.json()["type"].endswith("/invalid-image-token")

    photos = [await upload_photo(client, buyer) for _ in range(2)]
    created = await post_review(client, buyer, line, images=photos)
    assert created.status_code == 201, created.text
    assert len(created.json()["images"]) == 2
    assert created.json()["images"][0]["url"].startswith("/media/community/")
    assert await points_of(client, buyer) == platform.settings.community_photo_review_points == 50
    listed = await product_page(client, product)
    assert listed["items"][0]["images"] == created.json()["images"]


async def test_editing_a_review_keeps_its_history(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    product = await make_product(platform)
    author, other = await signup_member(client), await signup_member(client)
    review = await review_of(client, author, product, staff, rating=5)
    post_id = review["post"]["id"]
    url = f"/api/v1/reviews/{post_id}"

    assert (await client.patch(url, json={"rating": 1}, headers=other.headers)).status_code == 403
    assert (await client.patch(url, json={"rating": 1})).status_code == 401
    assert (await client.patch(url, json={}, headers=author.headers)).status_code == 422
    assert (await client.patch(url, json={"rating": 9}, headers=author.headers)).status_code == 422
    # the generic post edit would skip the history: it refuses reviews
    generic = await client.patch(
        f"/api/v1/posts/{post_id}", json={"body": "몰래 고침"}, headers=author.headers
    )
    assert generic.status_code == 422

    first = await client.patch(
        url, json={"rating": 2, "body": "한 번 빨았더니 늘어났어요"}, headers=author.headers
    )
    assert first.status_code == 200, first.text
    assert first.json()["review"]["rating"] == 2
    assert first.json()["post"]["body"] == "한 번 빨았더니 늘어났어요"
    assert first.json()["post"]["edited_at"] is not None
    second = await client.patch(url, json={"rating": 3}, headers=author.headers)
    assert second.json()["post"]["body"] == "한 번 빨았더니 늘어났어요"
    # saving the same thing again is not a revision
    await client.patch(url, json={"rating": 3}, headers=author.headers)

    history = await client.get(f"{url}/revisions", headers=author.headers)
    assert history.status_code == 200
    assert [(r["rating"], r["body"]) for r in history.json()["items"]] == [
        (2, "한 번 빨았더니 늘어났어요"),
        (5, "5점 후기"),
    ]
    paged = await client.get(f"{url}/revisions", params={"limit": 1}, headers=author.headers)
    rest = await client.get(
        f"{url}/revisions",
        params={"limit": 1, "cursor": paged.json()["next_cursor"]},
        headers=author.headers,
    )
    assert [r["rating"] for r in paged.json()["items"] + rest.json()["items"]] == [2, 5]
    assert rest.json()["next_cursor"] is None
    by_staff = await client.get(f"{url}/revisions", headers=staff.headers)
    assert len(by_staff.json()["items"]) == 2
    assert (await client.get(f"{url}/revisions", headers=other.headers)).status_code == 403

    summary = (await product_page(client, product))["summary"]
    assert summary["average"] == 3.0
    assert summary["distribution"]["3"] == 1


async def test_helpful_votes_count_once_per_member_and_never_ones_own(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    product = await make_product(platform)
    author = await signup_member(client)
    voters = [await signup_member(client) for _ in range(5)]
    review = await review_of(client, author, product, staff)
    url = f"/api/v1/reviews/{review['post']['id']}/helpful"

    own = await client.put(url, headers=author.headers)
    assert own.status_code == 403
    assert own.json()["type"].endswith("/own-review-vote")
    assert (await client.put(url)).status_code == 401

    # every voter twice, all at once: five votes
    answers = await asyncio.gather(
        *[client.put(url, headers=v.headers) for v in voters for _ in range(2)]
    )
    assert {a.status_code for a in answers} == {200}
    page = await product_page(client, product, voters[0])
    assert page["items"][0]["review"]["helpful_count"] == 5
    assert page["items"][0]["review"]["i_found_helpful"] is True
    assert (await product_page(client, product, author))["items"][0]["review"][
        "i_found_helpful"
    ] is False

    taken_back = await client.delete(url, headers=voters[0].headers)
    assert taken_back.json() == {"helpful_count": 4, "i_found_helpful": False}
    twice = await client.delete(url, headers=voters[0].headers)
    assert twice.json() == {"helpful_count": 4, "i_found_helpful": False}
    never = await client.delete(url, headers=author.headers)
    assert never.status_code == 403
    again = await client.put(url, headers=voters[0].headers)
    assert again.json() == {"helpful_count": 5, "i_found_helpful": True}
    not_a_review = await client.put(f"/api/v1/reviews/{UNKNOWN}/helpful", headers=author.headers)
    assert not_a_review.status_code == 404


async def test_product_reviews_show_every_rating_with_an_exact_summary(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    product = await make_product(platform)
    other_product = await make_product(platform, name="코튼 티셔츠")
    ratings = [5, 4, 1, 5, 3]
    buyers = [await signup_member(client) for _ in ratings]
    reviews = [
        await review_of(client, b, product, staff, rating=r)
        for b, r in zip(buyers, ratings, strict=True)
    ]
    ids = [r["post"]["id"] for r in reviews]
    await review_of(client, buyers[0], other_product, staff, rating=1)
    # the 3-star review is the most helpful, then the 1-star one
    for voter in buyers[:3]:
        await client.put(f"/api/v1/reviews/{ids[4]}/helpful", headers=voter.headers)
    await client.put(f"/api/v1/reviews/{ids[2]}/helpful", headers=buyers[0].headers)

    page = await product_page(client, product)
    assert page["summary"] == {
        "count": 5,
        "average": 3.6,
        "distribution": {"1": 1, "2": 0, "3": 1, "4": 1, "5": 2},
    }
    # the 1-star review is listed like any other, by every sort
    newest = await all_review_ids(client, product, "newest")
    assert newest == ids[::-1]
    assert await all_review_ids(client, product, "rating_low") == [
        ids[2],
        ids[4],
        ids[1],
        ids[3],
        ids[0],
    ]
    assert await all_review_ids(client, product, "rating_high") == [
        ids[3],
        ids[0],
        ids[1],
        ids[4],
        ids[2],
    ]
    assert await all_review_ids(client, product, "helpful") == [
        ids[4],
        ids[2],
        ids[3],
        ids[1],
        ids[0],
    ]
    assert (
        await client.get(f"/api/v1/products/{product.product_id}/reviews", params={"sort": "price"})
    ).status_code == 422
    foreign_cursor = (await product_page(client, product, sort="helpful", limit=2))["next_cursor"]
    mixed = await client.get(
        f"/api/v1/products/{product.product_id}/reviews",
        params={"sort": "newest", "cursor": foreign_cursor},
    )
    assert mixed.status_code == 400
    assert (await client.get(f"/api/v1/products/{UNKNOWN}/reviews")).status_code == 404
    empty = await product_page(client, await make_product(platform, name="새 상품"))
    assert empty["summary"] == {
        "count": 0,
        "average": None,
        "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
    }

    # a creator or brand account cannot take a review down; a moderator can, and the reason
    # stays in its place while its rating leaves the summary
    creator = await make_staff(platform, client, roles=("creator",))
    refused = await client.post(
        f"/api/v1/posts/{ids[2]}/remove", json={"reason": "별점 테러"}, headers=creator.headers
    )
    assert refused.status_code == 403
    removed = await client.post(
        f"/api/v1/posts/{ids[2]}/remove", json={"reason": "욕설 포함"}, headers=staff.headers
    )
    assert removed.status_code == 200
    page = await product_page(client, product)
    assert [i["post"]["id"] for i in page["items"]] == newest
    shown = next(i for i in page["items"] if i["post"]["id"] == ids[2])
    assert shown["post"]["status"] == "removed"
    assert shown["post"]["removed_reason"] == "욕설 포함"
    assert shown["post"]["body"] == ""
    assert page["summary"]["count"] == 4
    assert page["summary"]["average"] == 4.3  # 17 / 4 = 4.25, half up
    # blocking a reviewer hides their review from the blocker's list, not from the summary
    await client.put(f"/api/v1/members/{buyers[1].id}/block", headers=buyers[0].headers)
    mine = await product_page(client, product, buyers[0])
    assert ids[1] not in [i["post"]["id"] for i in mine["items"]]
    assert mine["summary"]["count"] == 4


async def test_reviews_take_comments_and_staff_give_official_answers(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    staff = await make_staff(platform, client)
    product = await make_product(platform)
    author, asker = await signup_member(client), await signup_member(client)
    review = await review_of(client, author, product, staff, rating=2)
    post_id = review["post"]["id"]

    question = await client.post(
        f"/api/v1/posts/{post_id}/comments",
        json={"body": "사이즈 몇 입으셨어요?"},
        headers=asker.headers,
    )
    assert question.status_code == 201, question.text
    answer = await client.post(
        f"/api/v1/posts/{post_id}/comments",
        json={"body": "M이요", "parent_id": question.json()["id"]},
        headers=author.headers,
    )
    assert answer.status_code == 201

    url = f"/api/v1/posts/{post_id}/official-answer"
    body = {"body": "불편을 드려 죄송합니다. 교환 도와드릴게요."}
    assert (await client.post(url, json=body, headers=asker.headers)).status_code == 403
    no_mfa = await make_staff(platform, client, mfa=False)
    assert (await client.post(url, json=body, headers=no_mfa.headers)).status_code == 403
    assert (await client.post(url, json={"body": ""}, headers=staff.headers)).status_code == 422
    official = await client.post(url, json=body, headers=staff.headers)
    assert official.status_code == 201, official.text
    assert official.json()["official"] is True
    assert official.json()["author"] == {"id": staff.id, "name": staff.nickname, "anonymous": False}

    answers = await client.get(f"/api/v1/posts/{post_id}/official-answers")
    assert [a["id"] for a in answers.json()["items"]] == [official.json()["id"]]
    listed = await client.get(f"/api/v1/posts/{post_id}/comments")
    marked = {c["id"]: c["official"] for c in listed.json()["items"]}
    assert marked[official.json()["id"]] is True
    comments = await client.get(f"/api/v1/posts/{post_id}/comments")
    assert [c["id"] for c in comments.json()["items"]] == [
        question.json()["id"],
        answer.json()["id"],
        official.json()["id"],
    ]
    assert (await client.get(f"/api/v1/reviews/{post_id}")).json()["post"]["comment_count"] == 3
    # the reviewer hears of the shop's answer
    told = await client.get("/api/v1/me/notifications", headers=author.headers)
    official_notes = [n for n in told.json()["items"] if n["data"].get("official")]
    assert [n["comment_id"] for n in official_notes] == [official.json()["id"]]

    # any post can be answered officially, not a removed one
    await client.post(
        f"/api/v1/posts/{post_id}/remove", json={"reason": "개인정보"}, headers=staff.headers
    )
    closed = await client.post(url, json=body, headers=staff.headers)
    assert closed.status_code == 403
    missing = await client.post(
        f"/api/v1/posts/{UNKNOWN}/official-answer", json=body, headers=staff.headers
    )
    assert missing.status_code == 404
