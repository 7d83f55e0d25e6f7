"""Response models of the trust API (the audit log)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class Response(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class AuditActorOut(Response):
    id: uuid.UUID
    nickname: str
    email: str


class AuditEntryOut(Response):
    id: uuid.UUID
    actor_id: uuid.UUID | None
    actor: AuditActorOut | None
    action: str
    target_type: str
    target_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    ip: str | None
    created_at: datetime


class AuditActionsOut(BaseModel):
    items: list[str]
