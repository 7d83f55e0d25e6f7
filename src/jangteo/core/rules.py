"""Rules staff change at runtime: a frozen dataclass of integers per scope (points for activity,
posting limits, reward rates), its defaults from the settings, the changed values in a table.

A change is one transaction with its audit entry (before and after), so the console shows who
changed which amount when; a key the dataclass no longer has is ignored on load.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.core.audit import record_audit
from jangteo.core.clock import Clock
from jangteo.core.errors import InvalidInput
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


def requested(body: BaseModel) -> dict[str, int]:
    """The rules a change request sets (its fields left out or null stay as they are)."""
    changes = body.model_dump(exclude_none=True)
    if not changes:
        raise InvalidInput("Nothing to change.")
    return changes


async def change(
    session: AsyncSession,
    clock: Clock,
    scope: str,
    defaults: R,
    changes: Mapping[str, int],
    *,
    actor_id: uuid.UUID | None,
    ip: str | None = None,
    check: Callable[[R], None] | None = None,
) -> R:
    """Set some of `scope`'s values and audit them; the rules after. `check` sees the rules as
    they would be and raises to refuse them (e.g. limits that must grow with a level)."""
    names = _fields(defaults)
    unknown = set(changes) - names
    if unknown:
        raise ValueError(f"unknown rules: {sorted(unknown)}")
    current = await load(session, scope, defaults)
    if check is not None:
        check(dataclasses.replace(current, **changes))  # type: ignore[type-var]
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


def from_settings(kind: type[R], settings: Any, prefix: str) -> R:
    """The rules' defaults: each field from the setting named `<prefix><field>`."""
    return kind(**{f.name: getattr(settings, prefix + f.name) for f in dataclasses.fields(kind)})  # type: ignore[arg-type]


@dataclasses.dataclass(frozen=True)
class RuleSet(Generic[R]):
    """One scope of rules: its dataclass, the settings prefix of its defaults, and a check that
    refuses rules that do not make sense together."""

    scope: str
    kind: type[R]
    prefix: str
    check: Callable[[R], None] | None = None

    def defaults(self, settings: Any) -> R:
        return from_settings(self.kind, settings, self.prefix)

    async def load(self, session: AsyncSession, settings: Any) -> R:
        """The rules as staff last set them."""
        return await load(session, self.scope, self.defaults(settings))

    async def change(
        self,
        session: AsyncSession,
        clock: Clock,
        settings: Any,
        changes: Mapping[str, int],
        *,
        actor_id: uuid.UUID,
        ip: str | None = None,
    ) -> R:
        """Staff change some of the rules (audited with before and after)."""
        return await change(
            session,
            clock,
            self.scope,
            self.defaults(settings),
            changes,
            actor_id=actor_id,
            ip=ip,
            check=self.check,
        )
