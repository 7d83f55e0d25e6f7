"""create_app(): the FastAPI application with every domain's router mounted."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from jangteo.accounts.api import router as accounts_router
from jangteo.analytics.api import router as analytics_router
from jangteo.bootstrap import build_platform
from jangteo.catalog.api import router as catalog_router
from jangteo.community.api import router as community_router
from jangteo.community.chat_api import router as chat_router
from jangteo.community.launches_api import router as launches_router
from jangteo.community.meetups_api import router as meetups_router
from jangteo.community.notifications_api import router as notifications_router
from jangteo.community.polls_api import router as polls_router
from jangteo.community.questions_api import router as questions_router
from jangteo.community.reviews_api import router as reviews_router
from jangteo.community.rules_api import router as community_rules_router
from jangteo.community.search_api import router as community_search_router
from jangteo.community.snaps_api import router as snaps_router
from jangteo.core.clock import Clock
from jangteo.core.errors import install_error_handlers
from jangteo.core.events import dispatch_pending
from jangteo.core.microcache import MicroCache, MicroCacheMiddleware
from jangteo.core.platform import Platform
from jangteo.core.web import RequestContextMiddleware, configure_logging
from jangteo.orders.api import router as orders_router
from jangteo.orders.coupons_api import router as coupons_router
from jangteo.rewards.api import router as rewards_router
from jangteo.rewards.creators_api import router as creators_router
from jangteo.rewards.referrals_api import router as referrals_router
from jangteo.rewards.settlements_api import router as settlements_router
from jangteo.rewards.subscriptions_api import router as subscriptions_router
from jangteo.rewards.tips_api import router as tips_router
from jangteo.settings import Settings
from jangteo.trust.api import router as trust_router
from jangteo.trust.reports_api import router as reports_router
from jangteo.web import install_web

log = logging.getLogger("jangteo.app")


async def run_background_loop(platform: Platform, stop: asyncio.Event) -> None:
    """Deliver outbox events, run due jobs and store what the intake took in, until `stop` is set
    (embedded mode and workers)."""
    await platform.jobs.ensure_recurring()
    while not stop.is_set():
        try:
            busy = await dispatch_pending(platform.db, platform.bus, platform.clock)
            busy += await platform.jobs.run_due()
            busy += await platform.intake.drain()
        except Exception:
            log.exception("background loop iteration failed")
            busy = 0
        if not busy:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), platform.settings.background_poll_seconds)


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    platform: Platform | None = None,
) -> FastAPI:
    settings = settings or Settings()
    platform = platform or build_platform(settings, clock)
    configure_logging(settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        loop_task = None
        if settings.run_background_loops:
            loop_task = asyncio.create_task(run_background_loop(platform, stop))
        # everything built at start-up lives as long as the process: set it aside, so that the
        # collector's full passes (every few thousand allocations under load) stop walking it
        # (they added tens of milliseconds to about one request in a hundred)
        gc.freeze()
        try:
            yield
        finally:
            stop.set()
            if loop_task is not None:
                await loop_task
            await platform.cache.close()
            await platform.pubsub.close()
            await platform.intake.close()
            await platform.db.dispose()

    app = FastAPI(
        title="jangteo API",
        version="0.1.0",
        description="Headless community-commerce: catalog, carts, orders, payments, coupons, "
        "points wallet. Errors are RFC 9457 problem+json with a stable `type`.",
        lifespan=lifespan,
    )
    app.state.platform = platform
    app.state.settings = settings
    install_error_handlers(app)
    # inside the request context, so cached answers still get their request id and headers
    app.state.microcache = MicroCache(settings.catalog_cache_seconds)
    app.add_middleware(
        MicroCacheMiddleware,
        cache=app.state.microcache,
        # the product list and page, brands and categories: the same answer for everyone
        public_paths=re.compile(r"/api/v1/(products|brands)(/[^/]+)?|/api/v1/categories"),
    )
    app.add_middleware(
        RequestContextMiddleware,
        max_body_bytes=settings.max_request_bytes,
        max_upload_bytes=settings.max_upload_bytes,
    )

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"])
    async def readyz() -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            async with platform.db.read() as session:
                await session.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {type(exc).__name__}"
        checks["cache"] = "ok" if await platform.cache.ping() else "error"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
        )

    for router in (
        accounts_router,
        catalog_router,
        orders_router,
        coupons_router,
        community_router,
        questions_router,
        polls_router,
        snaps_router,
        reviews_router,
        community_rules_router,
        rewards_router,
        creators_router,
        referrals_router,
        tips_router,
        settlements_router,
        subscriptions_router,
        notifications_router,
        launches_router,
        community_search_router,
        meetups_router,
        chat_router,
        trust_router,
        reports_router,
        analytics_router,
    ):
        app.include_router(router)
    install_web(app)  # storefront pages, themed /static and HTML error pages
    return app
