"""Response models of the analytics API."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, ConfigDict


class Response(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class DayOut(Response):
    date: date
    orders: int
    paid_orders: int
    revenue: int
    new_members: int


class TotalsOut(Response):
    orders: int
    paid_orders: int
    revenue: int
    new_members: int


class TopProductOut(Response):
    product_id: uuid.UUID
    product_name: str
    brand_name: str | None
    quantity: int
    revenue: int


class SummaryOut(Response):
    days: int
    timezone: str
    since: date
    until: date
    today: DayOut
    totals: TotalsOut
    series: list[DayOut]
    top_products: list[TopProductOut]
