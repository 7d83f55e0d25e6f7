"""The audit trail: who did what to which object, with the state before and after."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.core.clock import Clock
from jangteo.core.models import AuditEntry


def record_audit(
    session: AsyncSession,
    clock: Clock,
    *,
    actor_id: uuid.UUID | None,
    action: str,
    target_type: str,
    target_id: Any,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip: str | None = None,
) -> None:
    session.add(
        AuditEntry(
            actor_id=actor_id,
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            before=before,
            after=after,
            ip=ip,
            created_at=clock.now(),
        )
    )
