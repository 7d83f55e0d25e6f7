"""HTTP API of analytics: the staff dashboard's sales summary."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from jangteo.analytics import service
from jangteo.analytics.schemas import SummaryOut
from jangteo.core.deps import PlatformDep, StaffMember

router = APIRouter(prefix="/api/v1", tags=["admin"])


def _day(figures: service.DayFigures) -> dict[str, Any]:
    return {
        "date": figures.day,
        "orders": figures.orders,
        "paid_orders": figures.paid_orders,
        "revenue": figures.revenue,
        "new_members": figures.new_members,
    }


@router.get("/admin/analytics/summary")
async def sales_summary(
    principal: StaffMember,
    platform: PlatformDep,
    days: Annotated[int, Query(description="7 or 30 days, ending today", ge=1, le=366)] = 7,
) -> SummaryOut:
    """Per local day (Asia/Seoul): orders placed, the paid ones (paid, preparing, shipped,
    delivered) and their revenue in KRW, new members; and the top products by units sold."""
    async with platform.db.read() as session:
        summary = await service.sales_summary(session, platform.clock, days=days)
    return SummaryOut.model_validate(
        {
            "days": summary.days,
            "timezone": summary.timezone,
            "since": summary.since,
            "until": summary.until,
            "today": _day(summary.today),
            "totals": summary.totals,
            "series": [_day(d) for d in summary.series],
            "top_products": summary.top_products,
        }
    )
