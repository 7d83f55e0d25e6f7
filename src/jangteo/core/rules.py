"""Rules staff change at runtime: a frozen dataclass of integers per scope (points for activity,
posting limits, reward rates), its defaults from the settings, the changed values in a table.

A change is one transaction with its audit entry (before and after), so the console shows who
changed which amount when; a key the dataclass no longer has is ignored on load.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.core.audit import record_audit
from jangteo.core.clock import Clock
from jangteo.core.models import RuleValue

R = TypeVar("R")


def _fields(rules: Any) -> set[str]:
    return {f.name for f in dataclasses.fields(rules)}


async def load(session: AsyncSession, scope: str, defaults: R) -> R:
    """`defaults` with the values staff set for `scope`."""
    rows = (
        await session.execute(
            select(RuleValue.key, RuleValue.value).where(RuleValue.scope == scope)
        )
    ).all()
    names = _fields(defaults)
    changed = {key: value for key, value in rows if key in names}
    return dataclasses.replace(defaults, **changed) if changed else defaults  # type: ignore[type-var]


async def change(
    session: AsyncSession,
    clock: Clock,
    scope: str,
    defaults: R,
    changes: Mapping[str, int],
    *,
    actor_id: uuid.UUID | None,
    ip: str | None = None,
) -> R:
    """Set some of `scope`'s values (validated by the caller) and audit them; the rules after."""
    names = _fields(defaults)
    unknown = set(changes) - names
    if unknown:
        raise ValueError(f"unknown rules: {sorted(unknown)}")
    current = await load(session, scope, defaults)
    before = dataclasses.asdict(current)  # type: ignore[call-overload]
    now = clock.now()
    for key, value in changes.items():
        row = await session.get(RuleValue, (scope, key), with_for_update=True)
        if row is None:
            session.add(
                RuleValue(scope=scope, key=key, value=value, updated_at=now, updated_by=actor_id)
            )
        else:
            row.value, row.updated_at, row.updated_by = value, now, actor_id
    after = dataclasses.replace(current, **changes)  # type: ignore[type-var]
    altered = {k: v for k, v in dataclasses.asdict(after).items() if before[k] != v}  # type: ignore[call-overload]
    if altered:
        record_audit(
            session,
            clock,
            actor_id=actor_id,
            action="rules.change",
            target_type="rules",
            target_id=scope,
            before={k: before[k] for k in altered},
            after=altered,
            ip=ip,
        )
    await session.flush()
    return after
