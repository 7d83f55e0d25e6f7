"""Tables of the trust domain: reports of content and people, and how staff handled them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jangteo.core.db import Base
from jangteo.core.ids import uuid7


class Report(Base):
    """One member's report of one thing (a post, comment, member, chat message or review).

    A member reports a thing once; staff decide per thing, and the decision closes every open
    report of it at the same time."""

    __tablename__ = "trust_reports"
    __table_args__ = (
        UniqueConstraint("reporter_id", "target_type", "target_id"),
        Index("ix_trust_reports_queue", "status", "id"),
        Index("ix_trust_reports_target", "target_type", "target_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    reporter_id: Mapped[uuid.UUID]
    # post | comment | member | chat_message | review (a review's id is its post's id)
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[uuid.UUID]
    # spam | abuse | phishing | fake_review | privacy | other
    reason: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="open")  # open|dismissed|actioned
    handled_by: Mapped[uuid.UUID | None]
    handled_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
