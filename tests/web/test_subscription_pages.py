"""Paid subscriptions in the storefront: plans on the creator page, subscribing on the subscribe
page with a card registered through the dummy provider, the member's subscriptions on /my with
cancelling, and the creator adding and closing plans on their own page."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import httpx
from tests.factories.accounts import Member, make_staff, signup_member
from tests.factories.community import make_post
from tests.web._support import member_headers, member_id, sign_up, submit, text_of
from tests.web.test_creator_pages import as_browser, browser_member, field_error, make_creator

from jangteo.core.platform import Platform

PLAN = {"name": "니트 클럽", "price": 5_900, "benefits": "구독자 전용 도안"}


async def creator_with_plan(
    client: httpx.AsyncClient, platform: Platform
) -> tuple[Member, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A creator with TOTP, their plan, its subscribers' space and a post there."""
    creator = await make_staff(platform, client, roles=("creator",))
    await make_creator(client, platform, creator, "neighbor")
    made = await client.post("/api/v1/me/subscription-plans", json=PLAN, headers=creator.headers)
    assert made.status_code == 201, made.text
    plan = made.json()
    space = (await client.get(f"/api/v1/spaces/{plan['space_id']}", headers=creator.headers)).json()
    post = await make_post(client, creator, space["slug"], body="이번 달 구독자 전용 도안")
    return creator, plan, space, post


def hidden_value(html: str, name: str) -> str:
    found = re.search(rf'<input type="hidden" name="{re.escape(name)}" value="([^"]*)">', html)
    assert found, f"no hidden field {name}"
    return unescape(found.group(1))


async def my_subscriptions(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/me/subscriptions", headers=member_headers(client))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_a_member_subscribes_on_the_page_and_reads_the_subscribers_space(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    creator, plan, space, post = await creator_with_plan(client, platform)
    subscribe_path = f"/creators/{creator.id}/subscribe/{plan['id']}"

    # a visitor sees the plan with its price and is sent to log in to subscribe
    client.cookies.clear()
    page = await client.get(f"/creators/{creator.id}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "구독 상품" in text and "니트 클럽" in text and "월 5,900원" in text
    assert "구독자 전용 도안" in text and "구독하기" in text
    assert f'href="{subscribe_path}"' in page.text
    visitor = await client.get(subscribe_path)
    assert visitor.status_code == 303
    assert visitor.headers["location"] == f"/login?next={subscribe_path}"

    await sign_up(client)
    fan_id = await member_id(client)
    locked = await client.get(f"/community/p/{post['id']}")
    assert locked.status_code == 403 and "이번 달 구독자 전용 도안" not in locked.text

    form = await client.get(subscribe_path)
    assert form.status_code == 200
    shown = text_of(form.text)
    assert "니트 클럽" in shown and "월 5,900원" in shown and creator.nickname in shown
    assert f'action="{subscribe_path}"' in form.text
    auth_key = hidden_value(form.text, "auth_key")
    assert auth_key.startswith("dummy_")

    subscribed = await submit(client, subscribe_path, {"auth_key": auth_key})
    assert subscribed.status_code == 303, subscribed.text
    assert subscribed.headers["location"] == f"/creators/{creator.id}?notice=subscribed#plans"
    [sub] = await my_subscriptions(client)
    assert (sub["status"], sub["plan_id"], sub["cancel_at_period_end"]) == (
        "active",
        plan["id"],
        False,
    )
    back = await client.get(subscribed.headers["location"].split("#")[0])
    back_text = text_of(back.text)
    assert "구독을 시작했어요" in back_text and "구독 중인 크리에이터예요." in back_text
    assert f'href="{subscribe_path}"' not in back.text  # no second subscription offered
    assert f'href="/community/s/{space["slug"]}"' in back.text

    # the post for subscribers opens now
    opened = await client.get(f"/community/p/{post['id']}")
    assert opened.status_code == 200 and "이번 달 구독자 전용 도안" in text_of(opened.text)

    # the same card form sent again: already subscribed, nothing charged twice
    again = await submit(client, subscribe_path, {"auth_key": auth_key})
    assert again.status_code == 409
    assert "이미 이 크리에이터를 구독하고 있어요." in text_of(again.text)
    assert len(await my_subscriptions(client)) == 1

    # /my lists it with the creator, the plan, the status, the period end and the space
    mine = await client.get("/my/subscriptions")
    assert mine.status_code == 200
    listed = text_of(mine.text)
    assert creator.nickname in listed and "니트 클럽" in listed and "이용 중" in listed
    assert "2026.12.24" in listed and "해지 예약됨" not in listed
    assert f'href="/community/s/{space["slug"]}"' in mine.text
    assert 'aria-current="page"' in mine.text and 'href="/my/subscriptions"' in mine.text

    # the creator cannot subscribe to their own plan
    as_browser(client, creator)
    own = await submit(client, subscribe_path, {"auth_key": "dummy_own"})
    assert own.status_code == 422
    assert "내 구독 상품은 구독할 수 없어요." in text_of(own.text)
    # and sees one subscriber on their page
    creator_page = text_of((await client.get(f"/creators/{creator.id}")).text)
    assert "구독자 1명" in creator_page
    assert fan_id != creator.id

    english = await client.get(f"/creators/{creator.id}?lang=en")
    assert "Subscribers: 1" in text_of(english.text) and "₩5,900 a month" in english.text


async def test_a_declined_card_shows_the_error_and_subscribes_nothing(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    creator, plan, _space, post = await creator_with_plan(client, platform)
    path = f"/creators/{creator.id}/subscribe/{plan['id']}"
    await sign_up(client)
    form = await client.get(path)
    declined = await submit(client, path, {"auth_key": "dummy-decline-card"})
    assert declined.status_code == 402
    assert "카드가 거절되었어요." in text_of(declined.text)
    assert 'role="alert"' in declined.text
    # the page offers a new card registration
    assert hidden_value(declined.text, "auth_key") != hidden_value(form.text, "auth_key")
    assert await my_subscriptions(client) == []
    assert (await client.get(f"/community/p/{post['id']}")).status_code == 403

    # an unknown plan or creator is not found
    unknown = f"/creators/{creator.id}/subscribe/00000000-0000-7000-8000-000000000000"
    assert (await client.get(unknown)).status_code == 404
    assert (await client.get(f"/creators/{creator.id}/subscribe/nope")).status_code == 404
    no_token = await client.post(path, data={"auth_key": "dummy_x"})
    assert no_token.status_code == 403
    assert await my_subscriptions(client) == []


async def test_cancelling_on_my_page_keeps_the_subscription_to_the_end_of_the_period(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    creator, plan, space, _post = await creator_with_plan(client, platform)
    await sign_up(client)
    fan = browser_member(client, await member_id(client))
    made = await client.post(
        "/api/v1/subscriptions",
        json={"plan_id": plan["id"], "auth_key": "card-1"},
        headers=fan.headers,
    )
    assert made.status_code == 201, made.text
    sub = made.json()
    cancel_path = f"/my/subscriptions/{sub['id']}/cancel"

    page = await client.get("/my/subscriptions")
    assert f'action="{cancel_path}"' in page.text
    assert "해지할까요?" in text_of(page.text) and "2026.12.24" in text_of(page.text)

    # another member cannot cancel it
    other = await signup_member(client)
    as_browser(client, other)
    theirs = await submit(client, cancel_path)
    assert theirs.status_code == 404
    assert "이용 중" not in text_of((await client.get("/my/subscriptions")).text)

    as_browser(client, fan)
    assert (await client.post(cancel_path)).status_code == 403  # no CSRF token
    cancelled = await submit(client, cancel_path)
    assert cancelled.status_code == 303
    assert cancelled.headers["location"] == "/my/subscriptions?notice=subscription-cancelled"
    [state] = await my_subscriptions(client)
    assert (state["status"], state["cancel_at_period_end"]) == ("active", True)

    after = await client.get(cancelled.headers["location"])
    after_text = text_of(after.text)
    assert "해지 예약됨" in after_text and "이용 중" in after_text
    assert "구독이 끝나요" in after_text  # the notice
    assert f'action="{cancel_path}"' not in after.text
    assert f'href="/community/s/{space["slug"]}"' in after.text  # still readable this month
    english = text_of((await client.get("/my/subscriptions?lang=en")).text)
    assert "Cancellation scheduled" in english and creator.nickname in english


async def test_the_creator_adds_and_closes_plans_on_their_page(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    creator = await make_staff(platform, client, roles=("creator",))  # with TOTP
    await make_creator(client, platform, creator, "neighbor")
    as_browser(client, creator)
    page = await client.get(f"/creators/{creator.id}")
    assert 'action="/creators/me/plans"' in page.text
    assert "구독자 0명" in text_of(page.text)

    refused = await submit(
        client, "/creators/me/plans", {"name": "", "price": "500", "benefits": "도안"}
    )
    assert refused.status_code == 422
    assert field_error(refused.text, "f-plan-name") == "필수 입력 항목입니다."
    assert field_error(refused.text, "f-plan-price") == "1,000 이상의 숫자를 입력해 주세요."
    assert 'value="500"' in refused.text and '<details class="panel plan-new" open>' in refused.text
    assert (await client.get(f"/api/v1/creators/{creator.id}/plans")).json() == []

    added = await submit(
        client,
        "/creators/me/plans",
        {"name": "니트 클럽 <베이직>", "price": "5,900", "benefits": "매달 도안 한 장"},
    )
    assert added.status_code == 303, added.text
    assert added.headers["location"] == f"/creators/{creator.id}?notice=plan-added#plans"
    [plan] = (await client.get(f"/api/v1/creators/{creator.id}/plans")).json()
    assert (plan["name"], plan["price"], plan["benefits"]) == (
        "니트 클럽 <베이직>",
        5_900,
        "매달 도안 한 장",
    )
    shown = await client.get(added.headers["location"].split("#")[0])
    assert "구독 상품을 열었어요." in text_of(shown.text)
    assert "니트 클럽 &lt;베이직&gt;" in shown.text and "월 5,900원" in text_of(shown.text)
    space = (await client.get(f"/api/v1/spaces/{plan['space_id']}")).json()
    assert f'href="/community/s/{space["slug"]}"' in shown.text  # where to post for subscribers
    close = f"/creators/me/plans/{plan['id']}/close"
    assert f'action="{close}"' in shown.text

    closed = await submit(client, close)
    assert closed.status_code == 303
    assert closed.headers["location"] == f"/creators/{creator.id}?notice=plan-closed#plans"
    assert (await client.get(f"/api/v1/creators/{creator.id}/plans")).json() == []

    # a creator signed in without a second factor is asked for one, not offered the form
    plain_creator = await signup_member(client)
    await make_creator(client, platform, plain_creator, "neighbor")
    as_browser(client, plain_creator)
    no_mfa = await client.get(f"/creators/{plain_creator.id}")
    assert no_mfa.status_code == 200
    assert "2단계 인증" in text_of(no_mfa.text) and 'action="/creators/me/plans"' not in no_mfa.text

    # a member who is not a creator cannot add plans
    member = await signup_member(client)
    as_browser(client, member)
    other = await submit(client, "/creators/me/plans", {"name": "가짜", "price": "1000"})
    assert other.status_code == 403


async def test_visitors_are_sent_to_log_in(client: httpx.AsyncClient, platform: Platform) -> None:
    creator, plan, _space, _post = await creator_with_plan(client, platform)
    client.cookies.clear()
    for path in ("/my/subscriptions", f"/creators/{creator.id}/subscribe/{plan['id']}"):
        response = await client.get(path)
        assert response.status_code == 303
        assert response.headers["location"] == f"/login?next={path}"
    for path in (
        f"/creators/{creator.id}/subscribe/{plan['id']}",
        "/my/subscriptions/00000000-0000-7000-8000-000000000000/cancel",
        "/creators/me/plans",
    ):
        response = await submit(client, path, {"auth_key": "dummy_x", "name": "x", "price": "1000"})
        assert response.status_code == 303 and response.headers["location"].startswith("/login?")
    assert (await client.get(f"/api/v1/creators/{creator.id}/plans")).json()[0]["id"] == plan["id"]
