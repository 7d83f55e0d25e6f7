"""Configuration rules and the background loop that `jangteo worker` runs."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from jangteo.app import run_background_loop
from jangteo.core.events import Event, emit
from jangteo.core.jobs import schedule
from jangteo.core.platform import Platform
from jangteo.settings import Settings


def test_production_refuses_a_missing_or_weak_secret(tmp_path: Path) -> None:
    for weak in ("", "changeme", "short-but-not-empty"):
        with pytest.raises(ValidationError):
            Settings(env="production", secret_key=weak, var_dir=tmp_path)
    Settings(env="production", secret_key="k" * 40, var_dir=tmp_path)


def test_development_generates_a_secret_once(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path)
    first = settings.resolved_secret_key()
    assert len(first) >= 32
    assert Settings(var_dir=tmp_path).resolved_secret_key() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_the_database_defaults_to_sqlite_in_the_var_dir(tmp_path: Path) -> None:
    assert Settings(var_dir=tmp_path).database_url == f"sqlite+aiosqlite:///{tmp_path}/jangteo.db"


async def test_background_loop_delivers_events_and_runs_jobs(platform: Platform) -> None:
    delivered: list[Event] = []
    ran: list[dict[str, Any]] = []
    both_done = asyncio.Event()

    async def on_event(event: Event) -> None:
        delivered.append(event)
        if ran:
            both_done.set()

    async def on_job(payload: dict[str, Any]) -> None:
        ran.append(payload)
        if delivered:
            both_done.set()

    platform.bus.subscribe("test.loop", on_event)
    platform.jobs.register("test.loop-job", on_job)
    async with platform.db.write() as session:
        emit(session, platform.clock, "test.loop", {"n": 1})
        await schedule(session, "test.loop-job", "loop-job", platform.clock.now(), {"n": 2})
    stop = asyncio.Event()
    loop = asyncio.create_task(run_background_loop(platform, stop))
    await asyncio.wait_for(both_done.wait(), timeout=10)
    stop.set()
    await asyncio.wait_for(loop, timeout=10)
    assert [e.payload for e in delivered] == [{"n": 1}]
    assert ran == [{"n": 2}]
