"""Request and response models of the accounts API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from jangteo.accounts.service import (
    EMAIL_MAX,
    NICKNAME_MAX,
    NICKNAME_MIN,
    PASSWORD_MAX,
    PASSWORD_MIN,
    POINTS_ADJUST_MAX,
    is_valid_email,
    normalize_email,
)

Role = Literal["member", "creator", "staff", "admin"]


def _email(value: str) -> str:
    if not is_valid_email(value):
        raise ValueError("not a valid email address")
    return normalize_email(value)


Email = Annotated[str, Field(max_length=EMAIL_MAX), AfterValidator(_email)]
Password = Annotated[str, Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)]
Nickname = Annotated[str, Field(min_length=NICKNAME_MIN, max_length=NICKNAME_MAX)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignupRequest(Request):
    email: Email
    password: Password
    nickname: Nickname


class LoginRequest(Request):
    # not checked as an address: anything unknown answers like a wrong password
    email: str = Field(min_length=1, max_length=EMAIL_MAX)
    password: str = Field(min_length=1, max_length=PASSWORD_MAX)
    totp_code: str | None = Field(default=None, max_length=10)
    recovery_code: str | None = Field(default=None, max_length=20)


class RefreshRequest(Request):
    refresh_token: str = Field(min_length=1, max_length=200)


class PasswordChangeRequest(Request):
    current_password: str = Field(min_length=1, max_length=PASSWORD_MAX)
    new_password: Password


class ProfileUpdate(Request):
    nickname: Nickname


class MfaCodeRequest(Request):
    code: str = Field(min_length=1, max_length=20)


class RolesRequest(Request):
    roles: list[Role] = Field(max_length=4)


class SuspendRequest(Request):
    reason: str | None = Field(default=None, max_length=500)


class PointsAdjustRequest(Request):
    # strict: "100" as a string is a client bug, not an amount
    amount: int = Field(strict=True, ge=-POINTS_ADJUST_MAX, le=POINTS_ADJUST_MAX)
    reason: str = Field(min_length=1, max_length=80)

    @field_validator("amount")
    @classmethod
    def _not_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("an adjustment cannot be zero")
        return value


Recipient = Annotated[str, Field(min_length=1, max_length=50)]
Phone = Annotated[str, Field(pattern=r"^0\d{1,2}-?\d{3,4}-?\d{4}$", max_length=20)]
PostalCode = Annotated[str, Field(pattern=r"^\d{5}$")]
Line1 = Annotated[str, Field(min_length=1, max_length=200)]
Line2 = Annotated[str, Field(max_length=200)]


class AddressCreate(Request):
    recipient: Recipient
    phone: Phone
    postal_code: PostalCode
    line1: Line1
    line2: Line2 = ""
    is_default: bool = False


class AddressUpdate(Request):
    recipient: Recipient | None = None
    phone: Phone | None = None
    postal_code: PostalCode | None = None
    line1: Line1 | None = None
    line2: Line2 | None = None
    is_default: bool | None = None


class Response(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class MemberOut(Response):
    id: uuid.UUID
    email: str
    nickname: str
    roles: list[str]
    mfa_enabled: bool

    @field_validator("roles", mode="before")
    @classmethod
    def _sorted(cls, value: object) -> object:
        return sorted(value) if isinstance(value, set | frozenset) else value


class ProfileOut(MemberOut):
    status: str
    created_at: datetime


class TokenOut(Response):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (the OAuth token type, not a secret)
    expires_in: int
    refresh_token: str
    member: MemberOut


class MfaConfirmOut(TokenOut):
    recovery_codes: list[str]


class TotpEnrolmentOut(Response):
    secret: str
    otpauth_uri: str
    qr_svg: str


class SessionOut(Response):
    id: uuid.UUID
    user_agent: str | None
    ip: str | None
    mfa_verified: bool
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    current: bool


class AddressOut(Response):
    id: uuid.UUID
    recipient: str
    phone: str
    postal_code: str
    line1: str
    line2: str
    is_default: bool
    created_at: datetime


class ExpiringOut(Response):
    amount: int
    expires_at: datetime


class WalletOut(Response):
    balance: int
    expiring_soon: list[ExpiringOut]


class WalletEntryOut(Response):
    id: uuid.UUID
    txn_id: uuid.UUID
    amount: int
    reason: str
    reference: str
    balance_after: int | None
    created_at: datetime
    expires_at: datetime | None


class PointsAdjustOut(Response):
    member_id: uuid.UUID
    balance: int
