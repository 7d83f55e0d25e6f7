"""The shop's pages; `router` holds all of them (the console adds its own router next to it)."""

from __future__ import annotations

from fastapi import APIRouter

from jangteo.web.storefront import (
    account,
    cart,
    catalog,
    community,
    community_content,
    community_reviews,
    community_rooms,
    creators,
    mypage,
    rewards,
    subscriptions,
    tips,
)

router = APIRouter(include_in_schema=False)
for module in (
    catalog,
    community,
    community_content,
    community_reviews,
    community_rooms,
    cart,
    mypage,
    rewards,
    creators,
    subscriptions,
    tips,
    account,
):
    router.include_router(module.router)
