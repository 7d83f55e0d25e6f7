"""Wires the ports of one process together: the only place that chooses implementations."""

from __future__ import annotations

from jangteo.core.cache import make_cache
from jangteo.core.clock import Clock, SystemClock
from jangteo.core.db import Database
from jangteo.core.events import EventBus
from jangteo.core.intake import make_intake
from jangteo.core.jobs import JobRunner
from jangteo.core.media import LocalMediaStorage
from jangteo.core.platform import Platform
from jangteo.core.pubsub import make_pubsub
from jangteo.core.ratelimit import RateLimiter
from jangteo.core.security import PasswordHasher, TokenSigner
from jangteo.settings import Settings


def build_platform(settings: Settings, clock: Clock | None = None) -> Platform:
    clock = clock or SystemClock()
    db = Database(
        settings.database_url,
        pool_size=settings.pg_pool_size,
        sqlite_pool_size=settings.sqlite_pool_size,
    )
    cache = make_cache(settings.redis_url, settings.redis_prefix)
    platform = Platform(
        settings=settings,
        db=db,
        cache=cache,
        clock=clock,
        bus=EventBus(),
        jobs=JobRunner(db, clock),
        limiter=RateLimiter(cache),
        hasher=PasswordHasher(
            settings.argon2_time_cost, settings.argon2_memory_cost_kib, settings.argon2_parallelism
        ),
        signer=TokenSigner(settings.resolved_secret_key(), settings.access_token_ttl_seconds),
        pubsub=make_pubsub(settings.redis_url, settings.redis_prefix),
        intake=make_intake(settings.redis_url, settings.redis_prefix),
    )
    platform.adapters["media"] = LocalMediaStorage(settings.media_dir)
    for register in _domain_registrations():
        register(platform)
    return platform


def _domain_registrations():  # type: ignore[no-untyped-def]
    """Each domain's hook that adds its adapters, job handlers and event subscribers."""
    from jangteo.accounts.wiring import register as accounts
    from jangteo.catalog.wiring import register as catalog
    from jangteo.community.wiring import register as community
    from jangteo.orders.wiring import register as orders
    from jangteo.rewards.wiring import register as rewards

    return [accounts, catalog, orders, community, rewards]
