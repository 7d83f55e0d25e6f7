"""Tables of the accounts domain: members, roles, sessions, MFA, addresses and the points ledger."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jangteo.core.db import Base
from jangteo.core.ids import uuid7


class Member(Base):
    __tablename__ = "members"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    # stored normalised (trimmed, lower case), so uniqueness is case-insensitive
    email: Mapped[str] = mapped_column(String(254), unique=True)
    nickname: Mapped[str] = mapped_column(String(20))
    # NFKC + lower case form of the nickname: "Jang" and "jang" are the same nickname
    nickname_key: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | suspended
    mfa_enabled: Mapped[bool] = mapped_column(default=False)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    # a secret shown at enrolment, active only once a code from it is confirmed
    totp_pending_secret: Mapped[str | None] = mapped_column(String(64))
    # the last accepted 30-second time step: a code is never accepted twice
    totp_last_step: Mapped[int | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    role_rows: Mapped[list[MemberRole]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="MemberRole.role"
    )

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(row.role for row in self.role_rows)


class MemberRole(Base):
    __tablename__ = "member_roles"
    __table_args__ = (UniqueConstraint("member_id", "role"), Index("ix_member_roles_role", "role"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))


class AuthSession(Base):
    """One log-in on one device: its refresh token rotates, and it can be revoked."""

    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_member", "member_id", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    # keyed hash of the current refresh token; the secret itself is never stored
    refresh_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # the chain of refresh tokens this session hands out; a replayed old one kills the chain
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    # whether the log-in passed a second factor; access tokens of the session carry it
    mfa_verified: Mapped[bool] = mapped_column(default=False)
    user_agent: Mapped[str | None] = mapped_column(String(300))
    ip: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class RotatedRefreshToken(Base):
    """Refresh tokens already exchanged: presenting one again means it was stolen."""

    __tablename__ = "auth_rotated_refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    rotated_at: Mapped[datetime]


class RecoveryCode(Base):
    __tablename__ = "mfa_recovery_codes"
    __table_args__ = (UniqueConstraint("member_id", "code_hash"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class Address(Base):
    __tablename__ = "addresses"
    __table_args__ = (Index("ix_addresses_member", "member_id", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    recipient: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20))
    postal_code: Mapped[str] = mapped_column(String(5))
    line1: Mapped[str] = mapped_column(String(200))
    line2: Mapped[str] = mapped_column(String(200), default="")
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PointsWallet(Base):
    """A member's points balance, kept in step with the member's ledger legs."""

    __tablename__ = "points_wallets"
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_not_negative"),)

    member_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    balance: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime]


class PointsEntry(Base):
    """One leg of a double-entry points transaction; the legs of a txn_id sum to zero."""

    __tablename__ = "points_entries"
    __table_args__ = (
        # the member leg of a reference exists once (platform legs have no member, so never clash)
        UniqueConstraint("member_id", "reference"),
        Index("ix_points_entries_member", "member_id", "id"),
        CheckConstraint("amount <> 0", name="amount_not_zero"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    txn_id: Mapped[uuid.UUID] = mapped_column(index=True)
    # "member:<uuid>", "platform:issued", "platform:redeemed", "platform:expired"
    account: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("members.id"))
    amount: Mapped[int]
    reason: Mapped[str] = mapped_column(String(100))
    reference: Mapped[str] = mapped_column(String(200))
    # the member's balance once this txn applied (member legs only)
    balance_after: Mapped[int | None]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]


class PointsLot(Base):
    """Points earned together that expire together; spending takes from the oldest-expiring."""

    __tablename__ = "points_lots"
    __table_args__ = (
        CheckConstraint("remaining >= 0 AND remaining <= amount", name="remaining_in_range"),
        Index("ix_points_lots_member", "member_id", "expires_at"),
        Index("ix_points_lots_due", "expires_at", "remaining"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("points_entries.id"))
    amount: Mapped[int]
    remaining: Mapped[int]
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime]
