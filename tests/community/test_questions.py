"""Questions with a points bounty: held at ask time, paid once to the accepted answer with the
platform's bonus, refunded once at expiry; concurrency, idempotency and privacy."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from tests.conftest import Backend, make_settings
from tests.factories.accounts import Member, grant_points, make_staff, signup_member
from tests.factories.catalog import make_product
from tests.factories.community import TRUSTED_FROM_THE_START, join, make_space
from tests.factories.orders import log_in_again, points_of

from jangteo.accounts.models import PointsEntry
from jangteo.accounts.service import HELD
from jangteo.community import questions
from jangteo.community.models import Notification, Post
from jangteo.core.platform import Platform
from jangteo.settings import Settings

BONUS = 20
DAILY_CAP = 50


@pytest.fixture
def settings(backend: Backend, tmp_path: Path) -> Settings:
    # no points for posting, so that every balance below is bounty and bonus alone
    return make_settings(
        backend,
        tmp_path,
        **TRUSTED_FROM_THE_START,
        community_post_points=0,
        community_answer_bonus_points=BONUS,
        community_daily_points_cap=DAILY_CAP,
    )


async def _ask(client: httpx.AsyncClient, member: Member, **body: Any) -> httpx.Response:
    headers = dict(member.headers)
    if key := body.pop("idempotency_key", None):
        headers["Idempotency-Key"] = key
    payload = {"title": "이 니트 보풀 많이 나나요?", "body": "세탁 후기가 궁금해요", **body}
    return await client.post("/api/v1/questions", json=payload, headers=headers)


async def _asked(client: httpx.AsyncClient, member: Member, **body: Any) -> dict[str, Any]:
    response = await _ask(client, member, **body)
    assert response.status_code == 201, response.text
    return response.json()


async def _answer(
    client: httpx.AsyncClient, member: Member, post_id: str, parent_id: str | None = None
) -> str:
    response = await client.post(
        f"/api/v1/posts/{post_id}/comments",
        json={"body": "두 번 빨았는데 괜찮았어요", "parent_id": parent_id},
        headers=member.headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _accept(
    client: httpx.AsyncClient, member: Member, post_id: str, comment_id: str
) -> httpx.Response:
    return await client.post(
        f"/api/v1/questions/{post_id}/accept",
        json={"comment_id": comment_id},
        headers=member.headers,
    )


async def _held(platform: Platform) -> int:
    """What the held-points account holds now: the sum of its legs."""
    async with platform.db.read() as session:
        total = await session.scalar(
            select(func.coalesce(func.sum(PointsEntry.amount), 0)).where(
                PointsEntry.account == HELD
            )
        )
    return int(total or 0)


async def _entries(platform: Platform, reference: str) -> list[tuple[str, int]]:
    async with platform.db.read() as session:
        rows = await session.execute(
            select(PointsEntry.account, PointsEntry.amount)
            .where(PointsEntry.reference == reference)
            .order_by(PointsEntry.account)
        )
    return [(a, n) for a, n in rows]


def _problem(response: httpx.Response) -> str:
    return str(response.json()["type"]).rsplit("/", 1)[-1]


async def test_bounty_is_held_then_paid_to_the_accepted_answer_with_the_bonus(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    asker, answerer, other = [await signup_member(client) for _ in range(3)]
    await grant_points(platform, asker.id, 1000)
    product = await make_product(platform)

    asked = await _asked(client, asker, bounty=300, product_id=product.product_id)
    post_id = asked["post"]["id"]
    assert asked["post"]["kind"] == "question"
    assert (asked["post"]["space"]["slug"], asked["post"]["board"]["slug"]) == ("shop", "qna")
    assert asked["question"] | {"expires_at": None} == {
        "bounty": 300,
        "bonus": 0,
        "status": "open",
        "product_id": product.product_id,
        "accepted_comment_id": None,
        "answerer_id": None,
        "expires_at": None,
    }
    # held in the same transaction: the asker's wallet and a ledger pair against HELD
    assert await points_of(client, asker) == 700
    assert await _held(platform) == 300
    entries = await client.get("/api/v1/me/wallet/entries", headers=asker.headers)
    latest = entries.json()["items"][0]
    assert (latest["amount"], latest["reference"]) == (-300, f"question:{post_id}:bounty")
    assert await _entries(platform, f"question:{post_id}:bounty") == [
        (f"member:{asker.id}", -300),
        (HELD, 300),
    ]

    answer = await _answer(client, answerer, post_id)
    rival = await _answer(client, other, post_id)
    reply = await _answer(client, answerer, post_id, parent_id=rival)
    own = await _answer(client, asker, post_id)
    elsewhere = await _asked(client, other, title="다른 질문")
    foreign = await _answer(client, answerer, elsewhere["post"]["id"])

    not_asker = await _accept(client, other, post_id, answer)
    assert not_asker.status_code == 403
    own_answer = await _accept(client, asker, post_id, own)
    assert (own_answer.status_code, _problem(own_answer)) == (422, "own-answer")
    a_reply = await _accept(client, asker, post_id, reply)
    assert (a_reply.status_code, _problem(a_reply)) == (422, "not-an-answer")
    other_post = await _accept(client, asker, post_id, foreign)
    assert (other_post.status_code, _problem(other_post)) == (422, "not-an-answer")
    assert await points_of(client, answerer) == 0

    accepted = await _accept(client, asker, post_id, answer)
    assert accepted.status_code == 200, accepted.text
    state = accepted.json()["question"]
    assert (state["status"], state["accepted_comment_id"], state["answerer_id"]) == (
        "accepted",
        answer,
        answerer.id,
    )
    assert (state["bounty"], state["bonus"]) == (300, BONUS)
    assert await points_of(client, answerer) == 300 + BONUS
    assert await points_of(client, asker) == 700
    assert await _held(platform) == 0
    assert await _entries(platform, f"question:{post_id}:award") == [
        (f"member:{answerer.id}", 300),
        (HELD, -300),
    ]

    again = await _accept(client, asker, post_id, rival)
    assert (again.status_code, _problem(again)) == (409, "question-closed")
    assert await points_of(client, other) == 0
    assert await points_of(client, answerer) == 300 + BONUS
    shown = await client.get(f"/api/v1/questions/{post_id}")
    assert shown.json()["question"]["accepted_comment_id"] == answer
    async with platform.db.read() as session:
        kinds = (
            await session.scalars(
                select(Notification.kind).where(Notification.member_id == uuid.UUID(answerer.id))
            )
        ).all()
    assert "answer_accepted" in kinds


async def test_bad_bounties_products_and_short_wallets_create_nothing(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    asker = await signup_member(client)
    await grant_points(platform, asker.id, 100)
    draft = await make_product(platform, name="출시 전 니트", status="draft")

    refused = [
        await _ask(client, asker, bounty=5),
        await _ask(client, asker, bounty=10_001),
        await _ask(client, asker, bounty=-10),
        await _ask(client, asker, product_id=str(uuid.uuid4())),
        await _ask(client, asker, product_id=draft.product_id),
        await _ask(client, asker, space="shop"),
        await _ask(client, asker, bounty=500),
    ]
    assert [r.status_code for r in refused] == [422, 422, 422, 422, 422, 422, 409]
    assert _problem(refused[3]) == _problem(refused[4]) == "unknown-product"
    assert _problem(refused[6]) == "insufficient-points"
    for response in refused:
        assert response.headers["content-type"].startswith("application/problem+json")

    assert await points_of(client, asker) == 100
    assert await _held(platform) == 0
    async with platform.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Post)) == 0
    listed = await client.get("/api/v1/questions")
    assert listed.json() == {"items": [], "next_cursor": None}

    # a question without a bounty needs no points
    free = await _asked(client, asker, bounty=0)
    assert free["question"]["bounty"] == 0
    assert await points_of(client, asker) == 100


async def test_two_accepts_at_once_pay_exactly_one_answer_once(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    asker = await signup_member(client)
    first, second = await asyncio.gather(signup_member(client), signup_member(client))
    await grant_points(platform, asker.id, 1000)
    asked = await _asked(client, asker, bounty=400)
    post_id = asked["post"]["id"]
    answers = [await _answer(client, first, post_id), await _answer(client, second, post_id)]

    results = await asyncio.gather(*(_accept(client, asker, post_id, a) for a in answers))

    assert sorted(r.status_code for r in results) == [200, 409]
    assert [_problem(r) for r in results if r.status_code == 409] == ["question-closed"]
    winner = next(r for r in results if r.status_code == 200).json()["question"]
    paid = {first.id: await points_of(client, first), second.id: await points_of(client, second)}
    assert paid[winner["answerer_id"]] == 400 + BONUS
    assert sum(paid.values()) == 400 + BONUS
    assert await points_of(client, asker) == 600
    assert await _held(platform) == 0
    assert len(await _entries(platform, f"question:{post_id}:award")) == 2
    assert len(await _entries(platform, f"question:{post_id}:bonus")) == 2


async def test_expiry_refunds_an_open_question_once_and_leaves_an_accepted_one(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    asker, answerer = await signup_member(client), await signup_member(client)
    await grant_points(platform, asker.id, 1000)
    unanswered = (await _asked(client, asker, bounty=200))["post"]["id"]
    answered = (await _asked(client, asker, bounty=100))["post"]["id"]
    accepted = await _accept(client, asker, answered, await _answer(client, answerer, answered))
    assert accepted.status_code == 200
    assert await points_of(client, asker) == 700
    handler = platform.jobs.handlers[questions.EXPIRE_JOB]

    # the handler does nothing before the question is due
    await handler({"post_id": unanswered})
    assert (await client.get(f"/api/v1/questions/{unanswered}")).json()["question"][
        "status"
    ] == "open"

    platform.clock.advance(days=7, seconds=1)
    assert await platform.jobs.run_due() == 1  # the accepted question's job was cancelled
    await handler({"post_id": unanswered})  # a repeat refunds nothing more
    await handler({"post_id": answered})  # nor does an accepted question get its bounty back

    await log_in_again(client, asker)
    await log_in_again(client, answerer)
    expired = (await client.get(f"/api/v1/questions/{unanswered}")).json()["question"]
    assert expired["status"] == "expired"
    assert await points_of(client, asker) == 900
    assert await points_of(client, answerer) == 100 + BONUS
    assert await _held(platform) == 0
    assert await _entries(platform, f"question:{unanswered}:refund") == [
        (f"member:{asker.id}", 200),
        (HELD, -200),
    ]
    assert await _entries(platform, f"question:{answered}:refund") == []
    assert (await client.get(f"/api/v1/questions/{answered}")).json()["question"][
        "status"
    ] == "accepted"

    late = await _accept(client, asker, unanswered, await _answer(client, answerer, unanswered))
    assert (late.status_code, _problem(late)) == (409, "question-closed")


async def test_an_idempotency_key_replays_the_question_and_holds_once(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    asker = await signup_member(client)
    await grant_points(platform, asker.id, 1000)

    first = await _ask(client, asker, bounty=250, idempotency_key="ask-1")
    replay = await _ask(client, asker, bounty=250, idempotency_key="ask-1")
    reused = await _ask(client, asker, bounty=300, idempotency_key="ask-1")

    assert first.status_code == 201
    assert replay.json()["post"]["id"] == first.json()["post"]["id"]
    assert (reused.status_code, _problem(reused)) == (422, "idempotency-key-reused")
    assert await points_of(client, asker) == 750
    assert await _held(platform) == 250
    listed = await client.get("/api/v1/questions")
    assert [q["post"]["id"] for q in listed.json()["items"]] == [first.json()["post"]["id"]]


async def test_the_bonus_counts_against_a_daily_cap(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    asker, answerer = await signup_member(client), await signup_member(client)
    bonuses = []
    for _ in range(3):
        post_id = (await _asked(client, asker))["post"]["id"]
        accepted = await _accept(client, asker, post_id, await _answer(client, answerer, post_id))
        bonuses.append(accepted.json()["question"]["bonus"])
    assert bonuses == [BONUS, BONUS, DAILY_CAP - 2 * BONUS]
    assert await points_of(client, answerer) == DAILY_CAP


async def test_listing_filters_pages_and_keeps_private_spaces_private(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    creator = await make_staff(platform, client, roles=("creator",))
    asker, insider, outsider = [await signup_member(client) for _ in range(3)]
    knit, coat = await make_product(platform), await make_product(platform, name="울 코트")
    about_knit = [(await _asked(client, asker, product_id=knit.product_id))["post"]["id"]]
    about_knit.append((await _asked(client, asker, product_id=knit.product_id))["post"]["id"])
    about_coat = (await _asked(client, asker, product_id=coat.product_id))["post"]["id"]
    await make_space(client, creator, slug="secret-club", visibility="members_only")
    assert (await join(client, insider, "secret-club")).status_code == 200
    secret = (await _asked(client, insider, space="secret-club", board="free"))["post"]["id"]
    accepted = await _accept(
        client, asker, about_knit[0], await _answer(client, insider, about_knit[0])
    )
    assert accepted.status_code == 200

    async def ids(member: Member | None, **params: Any) -> list[str]:
        found: list[str] = []
        cursor = None
        while True:
            query = {**params, "limit": 1, **({"cursor": cursor} if cursor else {})}
            page = await client.get(
                "/api/v1/questions", params=query, headers=member.headers if member else {}
            )
            assert page.status_code == 200, page.text
            found += [q["post"]["id"] for q in page.json()["items"]]
            if not (cursor := page.json()["next_cursor"]):
                return found

    assert await ids(None, product_id=knit.product_id) == about_knit[::-1]
    assert await ids(None, status="accepted") == [about_knit[0]]
    assert await ids(outsider) == [about_coat, about_knit[1], about_knit[0]]
    assert await ids(insider) == [secret, about_coat, about_knit[1], about_knit[0]]
    assert (
        await client.get(f"/api/v1/questions/{secret}", headers=outsider.headers)
    ).status_code == 403
    assert (await client.get("/api/v1/questions", params={"status": "closed"})).status_code == 422


async def test_an_anonymous_board_does_not_unmask_the_answerer(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    creator = await make_staff(platform, client, roles=("creator",))
    staff = await make_staff(platform, client)
    asker, answerer = await signup_member(client), await signup_member(client)
    await make_space(client, creator, slug="whisper")
    board = await client.post(
        "/api/v1/spaces/whisper/boards",
        json={"slug": "ask", "name": "익명 질문", "anonymous": True},
        headers=creator.headers,
    )
    assert board.status_code == 201, board.text
    post_id = (await _asked(client, asker, space="whisper", board="ask"))["post"]["id"]
    accepted = await _accept(client, asker, post_id, await _answer(client, answerer, post_id))

    assert accepted.json()["question"]["status"] == "accepted"
    assert accepted.json()["question"]["answerer_id"] is None
    seen_by_staff = await client.get(f"/api/v1/questions/{post_id}", headers=staff.headers)
    assert seen_by_staff.json()["question"]["answerer_id"] == answerer.id
    assert await points_of(client, answerer) == BONUS
