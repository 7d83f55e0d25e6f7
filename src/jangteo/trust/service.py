"""Reading the audit trail: who did what to which object, filtered and paginated for staff.

Entries are written by every domain through `jangteo.core.audit.record_audit`, in the same
transaction as the change they describe; this module only reads them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.accounts import service as accounts
from jangteo.core.models import AuditEntry
from jangteo.core.pagination import InvalidCursor, decode_cursor, encode_cursor

MAX_ACTIONS = 500


@dataclass(frozen=True)
class AuditActor:
    id: uuid.UUID
    nickname: str
    email: str


@dataclass(frozen=True)
class AuditView:
    id: uuid.UUID
    actor_id: uuid.UUID | None
    actor: AuditActor | None
    action: str
    target_type: str
    target_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    ip: str | None
    created_at: datetime


def _after(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    values = decode_cursor(cursor)
    if values is None:
        return None
    try:
        return datetime.fromisoformat(str(values["t"])), uuid.UUID(str(values["id"]))
    except (KeyError, ValueError) as exc:
        raise InvalidCursor() from exc


async def list_audit_entries(
    session: AsyncSession,
    *,
    actor_id: uuid.UUID | None = None,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    oldest_first: bool = False,
    limit: int = 20,
    cursor: str | None = None,
) -> tuple[list[AuditView], str | None]:
    """Audit entries newest first (or oldest first), keyset-paginated.

    `action` is an exact action (`order.shipped`), or a prefix ending in a dot (`order.`) for
    every action of one kind. Each entry names its actor when the actor is a member.
    """
    query = select(AuditEntry)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if action:
        if action.endswith("."):
            query = query.where(AuditEntry.action.startswith(action, autoescape=True))
        else:
            query = query.where(AuditEntry.action == action)
    if target_type:
        query = query.where(AuditEntry.target_type == target_type)
    if target_id:
        query = query.where(AuditEntry.target_id == target_id)
    after = _after(cursor)
    if after is not None:
        at, entry_id = after
        if oldest_first:
            newer = or_(
                AuditEntry.created_at > at,
                and_(AuditEntry.created_at == at, AuditEntry.id > entry_id),
            )
            query = query.where(newer)
        else:
            older = or_(
                AuditEntry.created_at < at,
                and_(AuditEntry.created_at == at, AuditEntry.id < entry_id),
            )
            query = query.where(older)
    if oldest_first:
        query = query.order_by(AuditEntry.created_at.asc(), AuditEntry.id.asc())
    else:
        query = query.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    rows = list((await session.scalars(query.limit(limit + 1))).all())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor({"t": last.created_at.isoformat(), "id": str(last.id)})
    actors = await accounts.member_briefs(session, [r.actor_id for r in rows if r.actor_id])
    return [_view(row, actors) for row in rows], next_cursor


def _view(row: AuditEntry, actors: dict[uuid.UUID, accounts.MemberBrief]) -> AuditView:
    brief = actors.get(row.actor_id) if row.actor_id is not None else None
    return AuditView(
        id=row.id,
        actor_id=row.actor_id,
        actor=AuditActor(brief.id, brief.nickname, brief.email) if brief else None,
        action=row.action,
        target_type=row.target_type,
        target_id=row.target_id,
        before=row.before,
        after=row.after,
        ip=row.ip,
        created_at=row.created_at,
    )


async def audit_actions(session: AsyncSession) -> list[str]:
    """The actions recorded so far, alphabetically (to offer them as a filter)."""
    rows = await session.scalars(
        select(AuditEntry.action).distinct().order_by(AuditEntry.action).limit(MAX_ACTIONS)
    )
    return list(rows)
