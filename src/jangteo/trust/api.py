"""HTTP API of the trust domain: the audit log, for staff."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from jangteo.core.deps import PlatformDep, StaffMember
from jangteo.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from jangteo.trust import service
from jangteo.trust.schemas import AuditActionsOut, AuditEntryOut

router = APIRouter(prefix="/api/v1", tags=["admin"])

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=500)]


@router.get("/admin/audit")
async def list_audit_entries(
    principal: StaffMember,
    platform: PlatformDep,
    actor_id: uuid.UUID | None = None,
    action: Annotated[
        str | None,
        Query(max_length=100, description="an action, or a prefix ending in '.' (`order.`)"),
    ] = None,
    target_type: Annotated[str | None, Query(max_length=50)] = None,
    target_id: Annotated[str | None, Query(max_length=100)] = None,
    sort: Literal["newest", "oldest"] = "newest",
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[AuditEntryOut]:
    """Who did what, to which object, when, with the state before and after."""
    async with platform.db.read() as session:
        views, next_cursor = await service.list_audit_entries(
            session,
            actor_id=actor_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            oldest_first=sort == "oldest",
            limit=limit,
            cursor=cursor,
        )
    return Page(items=[AuditEntryOut.model_validate(v) for v in views], next_cursor=next_cursor)


@router.get("/admin/audit/actions")
async def list_audit_actions(principal: StaffMember, platform: PlatformDep) -> AuditActionsOut:
    """The actions the log holds, to filter by."""
    async with platform.db.read() as session:
        return AuditActionsOut(items=await service.audit_actions(session))
