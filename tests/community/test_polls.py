"""골라줘 polls: validation, results visibility, one vote per member that moves and withdraws
with exact counts, concurrency, closing, and privacy of members-only spaces."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from tests.factories.accounts import Member, make_staff, signup_member
from tests.factories.catalog import make_product
from tests.factories.community import join, make_space
from tests.factories.orders import log_in_again

from jangteo.community.models import Poll, PollOption, PollVote, Post
from jangteo.core.platform import Platform


def _in(platform: Platform, **delta: float) -> str:
    return (platform.clock.now() + timedelta(**delta)).isoformat()


async def _create(
    client: httpx.AsyncClient, platform: Platform, member: Member, **body: Any
) -> httpx.Response:
    payload = {
        "title": "어떤 색이 나을까요?",
        "body": "출근룩으로 입을 니트예요",
        "options": [{"label": "아이보리"}, {"label": "차콜"}],
        "closes_at": _in(platform, days=3),
        **body,
    }
    return await client.post("/api/v1/polls", json=payload, headers=member.headers)


async def _poll(
    client: httpx.AsyncClient, platform: Platform, member: Member, **body: Any
) -> dict[str, Any]:
    response = await _create(client, platform, member, **body)
    assert response.status_code == 201, response.text
    return response.json()


async def _vote(
    client: httpx.AsyncClient, member: Member, post_id: str, option_id: str
) -> httpx.Response:
    return await client.put(
        f"/api/v1/polls/{post_id}/vote", json={"option_id": option_id}, headers=member.headers
    )


async def _read(client: httpx.AsyncClient, post_id: str, member: Member | None) -> dict[str, Any]:
    response = await client.get(
        f"/api/v1/polls/{post_id}", headers=member.headers if member else {}
    )
    assert response.status_code == 200, response.text
    return dict(response.json()["poll"])


def _votes(poll: dict[str, Any]) -> list[int | None]:
    return [o["votes"] for o in poll["options"]]


def _problem(response: httpx.Response) -> str:
    return str(response.json()["type"]).rsplit("/", 1)[-1]


async def _stored(platform: Platform, post_id: str) -> tuple[int, int, int]:
    """(vote rows, the poll's vote_count, the sum of its options' counts) as stored."""
    pid = uuid.UUID(post_id)
    async with platform.db.read() as session:
        rows = await session.scalar(
            select(func.count()).select_from(PollVote).where(PollVote.post_id == pid)
        )
        total = await session.scalar(select(Poll.vote_count).where(Poll.post_id == pid))
        summed = await session.scalar(
            select(func.sum(PollOption.vote_count)).where(PollOption.post_id == pid)
        )
    return int(rows or 0), int(total or 0), int(summed or 0)


async def test_polls_are_validated_and_products_name_their_options(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    knit = await make_product(platform, name="캐시미어 라운드 니트")
    draft = await make_product(platform, name="출시 전 니트", status="draft")
    one = [{"label": "하나"}]
    five = [{"label": str(n)} for n in range(5)]
    naive = (platform.clock.now() + timedelta(days=1)).replace(tzinfo=None).isoformat()

    refused = [
        await _create(client, platform, member, options=one),
        await _create(client, platform, member, options=five),
        await _create(client, platform, member, closes_at=_in(platform, minutes=-1)),
        await _create(client, platform, member, closes_at=_in(platform, days=31)),
        await _create(client, platform, member, closes_at=naive),
        await _create(client, platform, member, options=[{"label": "A"}, {}]),
        await _create(client, platform, member, options=[{"label": "A"}, {"label": "A"}]),
        await _create(client, platform, member, results_visibility="never"),
        await _create(
            client, platform, member, options=[{"label": "A"}, {"product_id": str(uuid.uuid4())}]
        ),
        await _create(
            client, platform, member, options=[{"label": "A"}, {"product_id": draft.product_id}]
        ),
    ]
    assert [r.status_code for r in refused] == [422] * len(refused)
    assert {_problem(r) for r in refused[-2:]} == {"unknown-product"}
    async with platform.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Post)) == 0

    made = await _poll(
        client,
        platform,
        member,
        options=[{"product_id": knit.product_id}, {"label": "그냥 셔츠", "product_id": None}],
        closes_at=_in(platform, days=30),
    )
    assert made["post"]["kind"] == "poll"
    assert (made["post"]["space"]["slug"], made["post"]["board"]["slug"]) == ("shop", "polls")
    poll = made["poll"]
    assert [(o["label"], o["product_id"]) for o in poll["options"]] == [
        ("캐시미어 라운드 니트", knit.product_id),
        ("그냥 셔츠", None),
    ]
    assert (poll["closed"], poll["vote_count"], poll["my_vote"]) == (False, 0, None)
    assert datetime.fromisoformat(poll["closes_at"]) == platform.clock.now() + timedelta(days=30)


async def test_results_show_by_the_poll_setting_and_to_everyone_once_closed(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    author, voter, bystander = [await signup_member(client) for _ in range(3)]
    ids = {}
    for setting in ("always", "after_vote", "after_close"):
        made = await _poll(client, platform, author, results_visibility=setting)
        ids[setting] = made["post"]["id"]
        first = made["poll"]["options"][0]["id"]
        voted = await _vote(client, voter, ids[setting], first)
        assert voted.status_code == 200, voted.text
        assert voted.json()["poll"]["my_vote"] == first

    def shown(poll: dict[str, Any]) -> bool:
        hidden = poll["vote_count"] is None
        assert hidden == (_votes(poll) == [None, None])
        return not hidden

    assert shown(await _read(client, ids["always"], bystander))
    assert shown(await _read(client, ids["always"], None))
    assert shown(await _read(client, ids["after_vote"], voter))
    assert not shown(await _read(client, ids["after_vote"], bystander))
    assert not shown(await _read(client, ids["after_vote"], None))
    assert not shown(await _read(client, ids["after_close"], voter))
    assert not shown(await _read(client, ids["after_close"], author))
    assert _votes(await _read(client, ids["always"], None)) == [1, 0]

    platform.clock.advance(days=3)
    for member in (author, voter, bystander):
        await log_in_again(client, member)
    for setting, post_id in ids.items():
        poll = await _read(client, post_id, bystander)
        assert poll["closed"], setting
        assert (poll["vote_count"], _votes(poll)) == (1, [1, 0]), setting

    option = (await _read(client, ids["always"], None))["options"][1]["id"]
    late = await _vote(client, bystander, ids["always"], option)
    assert (late.status_code, _problem(late)) == (409, "poll-closed")
    moved_late = await _vote(client, voter, ids["always"], option)
    assert moved_late.status_code == 409
    withdrawn_late = await client.delete(
        f"/api/v1/polls/{ids['always']}/vote", headers=voter.headers
    )
    assert (withdrawn_late.status_code, _problem(withdrawn_late)) == (409, "poll-closed")
    assert await _stored(platform, ids["always"]) == (1, 1, 1)


async def test_moving_and_withdrawing_a_vote_keeps_the_counts_exact(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    author, member, other = [await signup_member(client) for _ in range(3)]
    made = await _poll(
        client, platform, author, options=[{"label": "A"}, {"label": "B"}, {"label": "C"}]
    )
    post_id = made["post"]["id"]
    a, b, c = (o["id"] for o in made["poll"]["options"])
    elsewhere = await _poll(client, platform, author, title="다른 투표")
    foreign = elsewhere["poll"]["options"][0]["id"]

    assert (await _vote(client, other, post_id, c)).status_code == 200
    assert (await _vote(client, member, post_id, a)).status_code == 200
    moved = await _vote(client, member, post_id, b)
    assert (moved.json()["poll"]["vote_count"], _votes(moved.json()["poll"])) == (2, [0, 1, 1])
    same = await _vote(client, member, post_id, b)
    assert (same.json()["poll"]["vote_count"], _votes(same.json()["poll"])) == (2, [0, 1, 1])

    wrong = await _vote(client, member, post_id, foreign)
    assert (wrong.status_code, _problem(wrong)) == (422, "unknown-poll-option")
    unknown = await _vote(client, member, post_id, str(uuid.uuid4()))
    assert unknown.status_code == 422
    no_poll = await _vote(client, member, str(uuid.uuid4()), a)
    assert no_poll.status_code == 404
    assert _votes(await _read(client, elsewhere["post"]["id"], None)) == [0, 0]

    url = f"/api/v1/polls/{post_id}/vote"
    withdrawn = await client.delete(url, headers=member.headers)
    assert withdrawn.status_code == 200
    assert withdrawn.json()["poll"]["my_vote"] is None
    assert _votes(withdrawn.json()["poll"]) == [0, 0, 1]
    again = await client.delete(url, headers=member.headers)
    assert again.json()["poll"]["vote_count"] == 1
    assert await _stored(platform, post_id) == (1, 1, 1)


async def test_ten_votes_of_one_member_at_once_leave_one_vote(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    author, member = await signup_member(client), await signup_member(client)
    made = await _poll(client, platform, author, options=[{"label": str(n)} for n in range(4)])
    post_id = made["post"]["id"]
    options = [o["id"] for o in made["poll"]["options"]]

    answers = await asyncio.gather(
        *(_vote(client, member, post_id, options[n % 4]) for n in range(10))
    )

    assert [r.status_code for r in answers] == [200] * 10
    assert await _stored(platform, post_id) == (1, 1, 1)
    poll = await _read(client, post_id, member)
    assert poll["vote_count"] == 1
    assert sum(_votes(poll)) == 1  # type: ignore[arg-type]
    assert poll["options"][options.index(poll["my_vote"])]["votes"] == 1


async def test_twenty_members_voting_at_once_are_all_counted(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    author = await signup_member(client)
    voters = list(await asyncio.gather(*(signup_member(client) for _ in range(10))))
    voters += await asyncio.gather(*(signup_member(client) for _ in range(10)))
    made = await _poll(client, platform, author)
    post_id = made["post"]["id"]
    first, second = (o["id"] for o in made["poll"]["options"])

    answers = await asyncio.gather(
        *(_vote(client, v, post_id, first if n % 4 else second) for n, v in enumerate(voters))
    )

    assert [r.status_code for r in answers] == [200] * 20
    poll = await _read(client, post_id, None)
    assert (poll["vote_count"], _votes(poll)) == (20, [15, 5])
    assert await _stored(platform, post_id) == (20, 20, 20)


async def test_a_poll_in_a_members_only_space_stays_private(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    creator = await make_staff(platform, client, roles=("creator",))
    insider, outsider = await signup_member(client), await signup_member(client)
    await make_space(client, creator, slug="closet", visibility="members_only")
    assert (await join(client, insider, "closet")).status_code == 200
    half = await _create(client, platform, insider, space="closet")
    assert half.status_code == 422  # a space needs its board
    refused = await _create(client, platform, outsider, space="closet", board="free")
    assert refused.status_code == 403
    made = await _poll(client, platform, insider, space="closet", board="free")
    post_id, option = made["post"]["id"], made["poll"]["options"][0]["id"]

    assert (await client.get(f"/api/v1/polls/{post_id}")).status_code == 403
    peek = await client.get(f"/api/v1/polls/{post_id}", headers=outsider.headers)
    assert peek.status_code == 403
    assert (await _vote(client, outsider, post_id, option)).status_code == 403
    assert (await _vote(client, insider, post_id, option)).status_code == 200
    assert await _stored(platform, post_id) == (1, 1, 1)
