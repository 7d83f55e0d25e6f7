"""The console's dashboard: today's figures and the last 7 or 30 days in a chart."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from jangteo.web.console.common import render, require_staff
from jangteo.web.page import WebDep

router = APIRouter()
PERIODS = (7, 30)


def _short_date(iso_date: str) -> str:
    """`2026-11-24` → `11/24`: 30 of them fit under a chart."""
    _, month, day = iso_date.split("-")
    return f"{int(month)}/{int(day)}"


@router.get("/console")
async def dashboard(web: WebDep) -> Response:
    staff = await require_staff(web)
    requested = web.request.query_params.get("days", "7")
    days = int(requested) if requested in {str(p) for p in PERIODS} else 7
    summary = await web.api.get("/api/v1/admin/analytics/summary", days=days)
    chart = {
        "labels": [_short_date(d["date"]) for d in summary["series"]],
        "revenue": [d["revenue"] for d in summary["series"]],
        "orders": [d["orders"] for d in summary["series"]],
        "members": [d["new_members"] for d in summary["series"]],
        "names": {
            "revenue": web._("Revenue (KRW)"),
            "orders": web._("Orders placed"),
            "members": web._("New members"),
        },
        "currency": "원" if web.locale == "ko" else "KRW",
    }
    return render(
        web,
        "console/dashboard.html",
        staff,
        summary=summary,
        days=days,
        periods=PERIODS,
        chart=chart,
    )
