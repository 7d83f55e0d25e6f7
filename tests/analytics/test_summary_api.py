"""The dashboard's sales summary: per Seoul day, paid revenue only, top products, staff only."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from tests.factories.accounts import Member, make_staff, signup_member
from tests.factories.catalog import make_product
from tests.factories.orders import log_in_again, pay_order, place_order

from jangteo.core.clock import FrozenClock
from jangteo.core.errors import InvalidInput
from jangteo.core.platform import Platform
from jangteo.core.reporting import day_window


async def _summary(client: httpx.AsyncClient, staff: Member, days: int | str) -> httpx.Response:
    return await client.get(
        "/api/v1/admin/analytics/summary", params={"days": days}, headers=staff.headers
    )


async def _shop_history(client: httpx.AsyncClient, platform: Platform, clock: FrozenClock):  # type: ignore[no-untyped-def]
    """Known orders around the Seoul midnight; returns the two products' ids.

    - 11-10 12:00 KST: M1 joins, pays 1 × A (10,000 + 3,000 shipping)
    - 11-23 23:59 KST: M2 joins, pays 2 × A (20,000 + 3,000)
    - 11-24 00:00 KST: M2 pays 5 × A (50,000, free shipping), leaves 1 × A unpaid
    - 11-24 12:00 KST (now): M1 pays 1 × B (30,000 + 3,000) and cancels it (refunded)
    """
    product_a = await make_product(platform, name="울 니트", price=10000, stock=100)
    product_b = await make_product(platform, name="데님 팬츠", price=30000, stock=100)
    a, b = product_a.variant_ids[0], product_b.variant_ids[0]

    clock.set(datetime(2026, 11, 10, 3, 0, tzinfo=UTC))
    m1 = await signup_member(client)
    await pay_order(client, m1, await place_order(client, m1, a))

    clock.set(datetime(2026, 11, 23, 14, 59, tzinfo=UTC))
    m2 = await signup_member(client)
    await pay_order(client, m2, await place_order(client, m2, a, quantity=2))

    clock.set(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
    await pay_order(client, m2, await place_order(client, m2, a, quantity=5))
    await place_order(client, m2, a)

    clock.set(datetime(2026, 11, 24, 3, 0, tzinfo=UTC))
    await log_in_again(client, m1)
    refunded = await pay_order(client, m1, await place_order(client, m1, b))
    cancel = await client.post(f"/api/v1/orders/{refunded['id']}/cancel", headers=m1.headers)
    assert cancel.status_code == 200 and cancel.json()["status"] == "refunded", cancel.text
    return product_a.product_id, product_b.product_id


async def test_the_week_counts_orders_and_paid_revenue_per_seoul_day(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    product_a, _ = await _shop_history(client, platform, clock)
    staff = await make_staff(platform, client)  # joins today as well

    response = await _summary(client, staff, 7)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["timezone"] == "Asia/Seoul"
    assert (body["since"], body["until"]) == ("2026-11-18", "2026-11-24")
    series = {d["date"]: d for d in body["series"]}
    assert list(series) == [f"2026-11-{day}" for day in range(18, 25)]
    assert series["2026-11-23"] == {
        "date": "2026-11-23",
        "orders": 1,
        "paid_orders": 1,
        "revenue": 23000,
        "new_members": 1,
    }
    assert body["today"] == {
        "date": "2026-11-24",
        "orders": 3,
        "paid_orders": 1,
        "revenue": 50000,
        "new_members": 1,
    }
    assert all(series[f"2026-11-{day}"]["orders"] == 0 for day in range(18, 23))
    assert body["totals"] == {"orders": 4, "paid_orders": 2, "revenue": 73000, "new_members": 2}
    assert body["top_products"] == [
        {
            "product_id": product_a,
            "product_name": "울 니트",
            "brand_name": "모노하우스",
            "quantity": 7,
            "revenue": 70000,
        }
    ]


async def test_thirty_days_reach_back_to_the_first_order(
    client: httpx.AsyncClient, platform: Platform, clock: FrozenClock
) -> None:
    await _shop_history(client, platform, clock)
    staff = await make_staff(platform, client)

    body = (await _summary(client, staff, 30)).json()

    assert len(body["series"]) == 30 and body["since"] == "2026-10-26"
    first = next(d for d in body["series"] if d["date"] == "2026-11-10")
    assert (first["orders"], first["revenue"], first["new_members"]) == (1, 13000, 1)
    assert body["totals"]["revenue"] == 86000 and body["totals"]["new_members"] == 3
    assert body["top_products"][0]["quantity"] == 8
    assert body["top_products"][0]["revenue"] == 80000
    assert len(body["top_products"]) == 1  # the refunded product sold nothing


async def test_only_staff_with_two_factor_authentication_see_the_figures(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    member = await signup_member(client)
    no_mfa = await make_staff(platform, client, mfa=False)
    staff = await make_staff(platform, client)

    assert (await client.get("/api/v1/admin/analytics/summary")).status_code == 401
    assert (await _summary(client, member, 7)).json()["code"] == "forbidden"
    assert (await _summary(client, no_mfa, 7)).json()["code"] == "mfa-required"
    for bad in (14, 0, -7, "seven", 10**12):
        refused = await _summary(client, staff, bad)
        assert refused.status_code == 422, bad
    empty = (await _summary(client, staff, 7)).json()
    assert empty["totals"]["orders"] == 0 and empty["top_products"] == []
    assert empty["today"]["new_members"] == 3


def test_day_windows_follow_daylight_saving() -> None:
    new_york = ZoneInfo("America/New_York")
    window = day_window(date(2026, 3, 7), date(2026, 3, 9), new_york)

    lengths = [
        (end - start).total_seconds() / 3600
        for start, end in zip(window.starts, [*window.starts[1:], window.end], strict=True)
    ]
    assert lengths == [24, 23, 24]  # clocks went forward on 8 March
    with pytest.raises(InvalidInput):
        day_window(date(2026, 3, 9), date(2026, 3, 7), new_york)
