"""The sales summary of the staff dashboard: daily orders, revenue and sign-ups, top products.

Days are calendar days in the shop's time zone (Asia/Seoul); the figures come from the orders
and accounts domains' own report functions, which aggregate in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.accounts import service as accounts
from jangteo.core.clock import SEOUL, Clock
from jangteo.core.errors import InvalidInput
from jangteo.orders import service as orders

SUMMARY_DAYS = (7, 30)
TOP_PRODUCTS = 5


@dataclass(frozen=True)
class DayFigures:
    day: date
    orders: int
    paid_orders: int
    revenue: int
    new_members: int


@dataclass(frozen=True)
class Totals:
    orders: int
    paid_orders: int
    revenue: int
    new_members: int


@dataclass(frozen=True)
class SalesSummary:
    days: int
    timezone: str
    since: date
    until: date
    today: DayFigures
    totals: Totals
    series: list[DayFigures]
    top_products: list[orders.ProductSales]


def report_days(today: date, days: int) -> tuple[date, date]:
    """The first and last local day of a report of `days` days that ends today."""
    if days not in SUMMARY_DAYS:
        raise InvalidInput("A summary covers 7 or 30 days.")
    return today - timedelta(days=days - 1), today


async def sales_summary(
    session: AsyncSession, clock: Clock, *, days: int, tz: tzinfo = SEOUL
) -> SalesSummary:
    """The last `days` local days up to and including today."""
    today = clock.now().astimezone(tz).date()
    since, until = report_days(today, days)
    sales = await orders.daily_sales(session, since=since, until=until, tz=tz)
    signups = {
        d.day: d.count
        for d in await accounts.daily_signups(session, since=since, until=until, tz=tz)
    }
    series = [
        DayFigures(
            day=s.day,
            orders=s.orders,
            paid_orders=s.paid_orders,
            revenue=s.revenue,
            new_members=signups.get(s.day, 0),
        )
        for s in sales
    ]
    top = await orders.top_products(session, since=since, until=until, tz=tz, limit=TOP_PRODUCTS)
    return SalesSummary(
        days=days,
        timezone=str(getattr(tz, "key", tz)),
        since=since,
        until=until,
        today=series[-1],
        totals=Totals(
            orders=sum(d.orders for d in series),
            paid_orders=sum(d.paid_orders for d in series),
            revenue=sum(d.revenue for d in series),
            new_members=sum(d.new_members for d in series),
        ),
        series=series,
        top_products=top,
    )
