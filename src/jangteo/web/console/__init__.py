"""The staff console under /console: dashboard, catalog, stock imports, orders, coupons,
members and points, and the audit log; every page a client of the staff API."""

from __future__ import annotations

from fastapi import APIRouter

from jangteo.web.console import (
    audit,
    auth,
    catalog,
    community_rules,
    coupons,
    dashboard,
    members,
    moderation,
    orders,
    rewards,
    settlements,
    spaces,
    stock_imports,
)

router = APIRouter(include_in_schema=False)
for module in (
    auth,
    dashboard,
    audit,
    catalog,
    stock_imports,
    orders,
    coupons,
    members,
    moderation,
    spaces,
    community_rules,
    rewards,
    settlements,
):
    router.include_router(module.router)
