"""The ports every domain may use, built once per process and passed explicitly."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jangteo.core.cache import Cache
from jangteo.core.clock import Clock
from jangteo.core.db import Database
from jangteo.core.events import EventBus
from jangteo.core.intake import Intake
from jangteo.core.jobs import JobRunner
from jangteo.core.pubsub import PubSub
from jangteo.core.ratelimit import RateLimiter
from jangteo.core.security import PasswordHasher, TokenSigner


@dataclass
class Platform:
    settings: Any  # jangteo.settings.Settings (core does not import the app's settings module)
    db: Database
    cache: Cache
    clock: Clock
    bus: EventBus
    jobs: JobRunner
    limiter: RateLimiter
    hasher: PasswordHasher
    signer: TokenSigner
    pubsub: PubSub
    intake: Intake
    # adapters that belong to one domain (e.g. "payments"), set by the bootstrap
    adapters: dict[str, Any] = field(default_factory=dict)
