"""Business rules of the accounts domain: members, log-in, sessions, MFA, roles, addresses, points.

Functions taking a `session` run inside the caller's unit of work and never commit. Functions
taking the `platform` own their transactions, because they must hash passwords outside a write
(argon2 is slow and SQLite has one writer) or act after a commit (revoking cached sessions).
"""

from __future__ import annotations

import hmac
import re
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

import pyotp
import segno
from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.accounts.models import (
    Address,
    AuthSession,
    Member,
    MemberRole,
    PointsEntry,
    PointsLot,
    PointsWallet,
    RecoveryCode,
    RotatedRefreshToken,
)
from jangteo.core.audit import record_audit
from jangteo.core.clock import Clock
from jangteo.core.errors import Forbidden, InvalidInput, NotFound, Unauthenticated, define
from jangteo.core.ids import short_code, uuid7
from jangteo.core.korean import normalize
from jangteo.core.pagination import id_after, id_cursor
from jangteo.core.platform import Platform
from jangteo.core.ratelimit import Limit
from jangteo.core.reader import IN_IDS, Reader, id_text
from jangteo.core.reporting import by_day, day_of, day_window
from jangteo.core.security import REVOKED_SESSION_KEY, Principal, new_secret_token

# --- problem types -------------------------------------------------------------------------

EmailTaken = define("email-taken", 409, "This email address is already registered.")
NicknameTaken = define("nickname-taken", 409, "This nickname is already taken.")
InvalidCredentials = define("invalid-credentials", 401, "The email or password is incorrect.")
MfaCodeRequired = define(
    "mfa-code-required", 401, "Enter the code from your authenticator app or a recovery code."
)
InvalidMfaCode = define("invalid-mfa-code", 401, "The authentication code is incorrect.")
AccountSuspended = define("account-suspended", 403, "This account is suspended.")
InvalidRefreshToken = define(
    "invalid-refresh-token", 401, "The refresh token is invalid or has expired."
)
RefreshTokenReused = define(
    "refresh-token-reused", 401, "This refresh token was already used; the session has been ended."
)
WrongPassword = define("wrong-password", 403, "The current password is incorrect.")
WrongMfaCode = define("wrong-mfa-code", 403, "The authentication code is incorrect.")
MfaAlreadyEnabled = define(
    "mfa-already-enabled", 409, "Two-factor authentication is already enabled."
)
MfaNotEnrolling = define("mfa-not-enrolling", 409, "Start two-factor enrolment first.")
MfaNotEnabled = define("mfa-not-enabled", 409, "Two-factor authentication is not enabled.")
MfaRequiredForRole = define(
    "mfa-required-for-role",
    409,
    "Staff, admin and creator accounts must keep two-factor authentication.",
)
CannotDemoteSelf = define("cannot-demote-self", 409, "You cannot remove your own admin role.")
CannotSuspendSelf = define("cannot-suspend-self", 409, "You cannot suspend your own account.")
TooManyAddresses = define(
    "too-many-addresses", 409, "You have saved the maximum number of addresses."
)
InsufficientPoints = define("insufficient-points", 409, "Not enough points.")

# --- rules in numbers ----------------------------------------------------------------------

ROLES = frozenset({"member", "creator", "staff", "admin"})
# roles whose tokens are useless without a second factor, so they may not turn it off
MFA_ROLES = frozenset({"creator", "staff", "admin"})
STAFF_ROLES = frozenset({"staff", "admin"})
EMAIL_MAX = 254
PASSWORD_MIN, PASSWORD_MAX = 10, 128
NICKNAME_MIN, NICKNAME_MAX = 2, 20
RECOVERY_CODE_COUNT = 10
MAX_ADDRESSES = 20
POINTS_ADJUST_MAX = 10_000_000
EXPIRING_SOON = timedelta(days=30)
TOTP_ISSUER = "jangteo"

ISSUED = "platform:issued"
REDEEMED = "platform:redeemed"
EXPIRED = "platform:expired"

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")
_TOTP_CODE = re.compile(r"^\d{6}$")


# --- views returned to callers -------------------------------------------------------------


@dataclass(frozen=True)
class MemberBrief:
    id: uuid.UUID
    email: str
    nickname: str
    roles: frozenset[str]
    status: str


@dataclass(frozen=True)
class MemberProfile:
    id: uuid.UUID
    email: str
    nickname: str
    roles: frozenset[str]
    status: str
    mfa_enabled: bool
    created_at: datetime


@dataclass(frozen=True)
class TokenGrant:
    access_token: str
    expires_in: int
    refresh_token: str
    session_id: uuid.UUID
    member: MemberProfile


@dataclass(frozen=True)
class SessionView:
    id: uuid.UUID
    user_agent: str | None
    ip: str | None
    mfa_verified: bool
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    current: bool


@dataclass(frozen=True)
class TotpEnrolment:
    secret: str
    otpauth_uri: str
    qr_svg: str


@dataclass(frozen=True)
class MfaConfirmation:
    recovery_codes: list[str]
    tokens: TokenGrant


@dataclass(frozen=True)
class AddressView:
    id: uuid.UUID
    member_id: uuid.UUID
    recipient: str
    phone: str
    postal_code: str
    line1: str
    line2: str
    is_default: bool
    created_at: datetime


@dataclass(frozen=True)
class WalletEntryView:
    id: uuid.UUID
    txn_id: uuid.UUID
    amount: int
    reason: str
    reference: str
    balance_after: int | None
    created_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True)
class ExpiringPoints:
    amount: int
    expires_at: datetime


@dataclass(frozen=True)
class WalletView:
    balance: int
    expiring_soon: list[ExpiringPoints]


def _brief(member: Member) -> MemberBrief:
    return MemberBrief(member.id, member.email, member.nickname, member.roles, member.status)


def _profile(member: Member) -> MemberProfile:
    return MemberProfile(
        id=member.id,
        email=member.email,
        nickname=member.nickname,
        roles=member.roles,
        status=member.status,
        mfa_enabled=member.mfa_enabled,
        created_at=member.created_at,
    )


# --- input rules ---------------------------------------------------------------------------


def normalize_email(email: str) -> str:
    """The stored form of an email address: trimmed and lower case."""
    return unicodedata.normalize("NFKC", email).strip().lower()


def is_valid_email(email: str) -> bool:
    normalized = normalize_email(email)
    return len(normalized) <= EMAIL_MAX and _EMAIL.match(normalized) is not None


def clean_nickname(nickname: str) -> str:
    """The nickname as stored (NFC, trimmed); raises InvalidInput when it breaks the rules."""
    cleaned = unicodedata.normalize("NFC", nickname).strip()
    if not NICKNAME_MIN <= len(cleaned) <= NICKNAME_MAX:
        raise InvalidInput(f"A nickname has {NICKNAME_MIN} to {NICKNAME_MAX} characters.")
    # control and invisible format characters would let two nicknames look the same
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} for ch in cleaned):
        raise InvalidInput("A nickname cannot contain control characters.")
    return cleaned


def _nickname_key(nickname: str) -> str:
    return normalize(nickname)


def check_password(password: str) -> None:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise InvalidInput(f"A password has {PASSWORD_MIN} to {PASSWORD_MAX} characters.")


def _clean_roles(roles: Iterable[str]) -> frozenset[str]:
    wanted = frozenset(roles) | {"member"}
    unknown = wanted - ROLES
    if unknown:
        raise InvalidInput(f"Unknown roles: {', '.join(sorted(unknown))}.")
    return wanted


def _next_cursor(rows: list[Any], limit: int) -> str | None:
    return id_cursor(rows[limit - 1].id) if len(rows) > limit else None


# --- members -------------------------------------------------------------------------------


async def create_member(
    session: AsyncSession,
    clock: Clock,
    *,
    email: str,
    nickname: str,
    password_hash: str,
    roles: Iterable[str] = ("member",),
) -> MemberProfile:
    """Insert a member (and their empty wallet); the password must already be hashed."""
    if not is_valid_email(email):
        raise InvalidInput("The email address is not valid.")
    email = normalize_email(email)
    nickname = clean_nickname(nickname)
    key = _nickname_key(nickname)
    role_set = _clean_roles(roles)
    if await session.scalar(select(Member.id).where(Member.email == email)) is not None:
        raise EmailTaken()
    if await session.scalar(select(Member.id).where(Member.nickname_key == key)) is not None:
        raise NicknameTaken()
    now = clock.now()
    member = Member(
        email=email,
        nickname=nickname,
        nickname_key=key,
        password_hash=password_hash,
        status="active",
        mfa_enabled=False,
        created_at=now,
        updated_at=now,
        role_rows=[MemberRole(role=role) for role in sorted(role_set)],
    )
    try:
        async with session.begin_nested():
            session.add(member)
            await session.flush()
    except IntegrityError:
        # a concurrent sign-up took the email or the nickname between the check and the insert
        if await session.scalar(select(Member.id).where(Member.email == email)) is not None:
            raise EmailTaken() from None
        raise NicknameTaken() from None
    session.add(PointsWallet(member_id=member.id, balance=0, updated_at=now))
    await session.flush()
    return _profile(member)


async def register_member(
    platform: Platform,
    *,
    email: str,
    password: str,
    nickname: str,
    roles: Iterable[str] = ("member",),
    welcome_points: int = 0,
) -> MemberProfile:
    """Sign a member up: validate, hash the password off the event loop, then insert.

    `welcome_points` are credited in the same transaction, once (reference `signup-bonus`).
    """
    if not is_valid_email(email):
        raise InvalidInput("The email address is not valid.")
    check_password(password)
    clean_nickname(nickname)
    _clean_roles(roles)
    password_hash = await platform.hasher.hash(password)
    async with platform.db.write() as session:
        profile = await create_member(
            session,
            platform.clock,
            email=email,
            nickname=nickname,
            password_hash=password_hash,
            roles=roles,
        )
        if welcome_points > 0:
            await credit_points(
                session,
                platform.clock,
                member_id=profile.id,
                amount=welcome_points,
                reason="signup.bonus",
                reference="signup-bonus",
                expiry_days=platform.settings.points_expiry_days,
            )
        return profile


async def create_admin(
    platform: Platform, *, email: str, password: str, nickname: str
) -> uuid.UUID:
    """The first administrator (`jangteo createadmin`); they must enrol TOTP at first log-in."""
    brief = await register_member(
        platform, email=email, password=password, nickname=nickname, roles=("member", "admin")
    )
    return brief.id


async def _member(session: AsyncSession, member_id: uuid.UUID) -> Member:
    member = await session.get(Member, member_id)
    if member is None:
        raise NotFound()
    return member


async def get_member_brief(session: AsyncSession, member_id: uuid.UUID) -> MemberBrief | None:
    member = await session.get(Member, member_id)
    return None if member is None else _brief(member)


async def member_briefs(
    session: AsyncSession, member_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, MemberBrief]:
    """The members among `member_ids` that exist, in one query."""
    ids = list(dict.fromkeys(member_ids))
    if not ids:
        return {}
    rows = await session.scalars(select(Member).where(Member.id.in_(ids)))
    return {member.id: _brief(member) for member in rows}


async def get_profile(session: AsyncSession, member_id: uuid.UUID) -> MemberProfile:
    return _profile(await _member(session, member_id))


async def change_nickname(
    session: AsyncSession, clock: Clock, *, member_id: uuid.UUID, nickname: str
) -> MemberProfile:
    member = await _member(session, member_id)
    nickname = clean_nickname(nickname)
    key = _nickname_key(nickname)
    taken = await session.scalar(
        select(Member.id).where(Member.nickname_key == key, Member.id != member_id)
    )
    if taken is not None:
        raise NicknameTaken()
    member.nickname, member.nickname_key, member.updated_at = nickname, key, clock.now()
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise NicknameTaken() from None
    return _profile(member)


# --- sessions and tokens -------------------------------------------------------------------


def _login_limits(settings: Any) -> tuple[Limit, Limit]:
    window = settings.login_failure_window_seconds
    return (
        Limit("login-account", settings.login_max_failures_per_account, window),
        Limit("login-ip", settings.login_max_failures_per_ip, window),
    )


async def _open_session(
    session: AsyncSession,
    platform: Platform,
    member: Member,
    *,
    mfa: bool,
    ip: str | None,
    user_agent: str | None,
) -> TokenGrant:
    now = platform.clock.now()
    refresh_token = new_secret_token()
    row = AuthSession(
        id=uuid7(),
        member_id=member.id,
        refresh_hash=platform.signer.keyed_hash(refresh_token),
        family_id=uuid7(),
        mfa_verified=mfa,
        user_agent=(user_agent or "")[:300] or None,
        ip=ip,
        created_at=now,
        last_used_at=now,
        expires_at=now + timedelta(seconds=platform.settings.refresh_token_ttl_seconds),
    )
    session.add(row)
    await session.flush()
    return _grant(platform, member, row.id, refresh_token, mfa=mfa)


def _grant(
    platform: Platform, member: Member, session_id: uuid.UUID, refresh_token: str, *, mfa: bool
) -> TokenGrant:
    principal = Principal(member_id=member.id, session_id=session_id, roles=member.roles, mfa=mfa)
    access_token, _ = platform.signer.issue_access(principal, platform.clock.now())
    return TokenGrant(
        access_token=access_token,
        expires_in=int(platform.signer.access_ttl.total_seconds()),
        refresh_token=refresh_token,
        session_id=session_id,
        member=_profile(member),
    )


async def _verify_totp(
    session: AsyncSession, clock: Clock, member_id: uuid.UUID, secret: str, code: str
) -> bool:
    """Whether `code` is valid now (±1 step) and newer than the last code this member used.

    Like pyotp's verify(valid_window=1) at the clock's time, but it also finds the step that
    matched and spends it with a conditional update, so a code works once even under races.
    """
    code = code.strip().replace(" ", "")
    if not _TOTP_CODE.match(code):
        return False
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(clock.now())
    matched = next(
        (
            step
            for step in (now_step - 1, now_step, now_step + 1)
            if hmac.compare_digest(totp.generate_otp(step), code)
        ),
        None,
    )
    if matched is None:
        return False
    spent = await session.execute(
        update(Member)
        .where(
            Member.id == member_id,
            or_(Member.totp_last_step.is_(None), Member.totp_last_step < matched),
        )
        .values(totp_last_step=matched)
        .execution_options(synchronize_session=False)
    )
    return spent.rowcount == 1


def _recovery_hash(platform: Platform, code: str) -> str:
    normalized = re.sub(r"[\s-]", "", code).upper()
    return platform.signer.keyed_hash("recovery:" + normalized)


async def _use_recovery_code(
    session: AsyncSession, platform: Platform, member_id: uuid.UUID, code: str
) -> bool:
    used = await session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.member_id == member_id,
            RecoveryCode.code_hash == _recovery_hash(platform, code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=platform.clock.now())
    )
    return used.rowcount == 1


async def _second_factor_ok(
    session: AsyncSession,
    platform: Platform,
    member_id: uuid.UUID,
    totp_code: str | None,
    recovery_code: str | None,
) -> bool:
    secret = await session.scalar(select(Member.totp_secret).where(Member.id == member_id))
    if totp_code:
        return secret is not None and await _verify_totp(
            session, platform.clock, member_id, secret, totp_code
        )
    if recovery_code:
        return await _use_recovery_code(session, platform, member_id, recovery_code)
    return False


async def log_in(
    platform: Platform,
    *,
    email: str,
    password: str,
    totp_code: str | None = None,
    recovery_code: str | None = None,
    ip: str,
    user_agent: str | None = None,
) -> TokenGrant:
    """Check the password (and second factor when enrolled) and open a session.

    Failures count per account and per IP; over the limit the caller gets 429 before any
    password is checked. Unknown emails cost a hash like a wrong password and answer the same.
    """
    account = normalize_email(email)
    account_limit, ip_limit = _login_limits(platform.settings)
    await platform.limiter.check(account_limit, account)
    await platform.limiter.check(ip_limit, ip)

    async def failed() -> None:
        await platform.limiter.hit(account_limit, account)
        await platform.limiter.hit(ip_limit, ip)

    async with platform.db.read() as session:
        member = await session.scalar(select(Member).where(Member.email == account))
    if member is None:
        await platform.hasher.burn()
        await failed()
        raise InvalidCredentials()
    if not await platform.hasher.verify(member.password_hash, password):
        await failed()
        raise InvalidCredentials()
    if member.status != "active":
        raise AccountSuspended()
    if member.mfa_enabled and not (totp_code or recovery_code):
        raise MfaCodeRequired()
    new_hash = None
    if platform.hasher.needs_rehash(member.password_hash):
        new_hash = await platform.hasher.hash(password)
    try:
        async with platform.db.write() as session:
            if member.mfa_enabled and not await _second_factor_ok(
                session, platform, member.id, totp_code, recovery_code
            ):
                raise InvalidMfaCode()
            if new_hash is not None:
                await session.execute(
                    update(Member)
                    .where(Member.id == member.id, Member.password_hash == member.password_hash)
                    .values(password_hash=new_hash)
                    .execution_options(synchronize_session=False)
                )
            grant = await _open_session(
                session, platform, member, mfa=member.mfa_enabled, ip=ip, user_agent=user_agent
            )
    except InvalidMfaCode:
        await failed()
        raise
    await platform.limiter.reset(account_limit, account)
    return grant


async def _revoke_sessions(
    session: AsyncSession, now: datetime, *conditions: ColumnElement[bool]
) -> list[uuid.UUID]:
    ids = list(
        (
            await session.scalars(
                select(AuthSession.id).where(AuthSession.revoked_at.is_(None), *conditions)
            )
        ).all()
    )
    if ids:
        await session.execute(
            update(AuthSession)
            .where(AuthSession.id.in_(ids), AuthSession.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
    return ids


async def _forget_access(platform: Platform, session_ids: Iterable[uuid.UUID]) -> None:
    """Make the access tokens of revoked sessions fail at once (call after the commit)."""
    ttl = platform.settings.access_token_ttl_seconds
    for session_id in session_ids:
        await platform.cache.set(REVOKED_SESSION_KEY + str(session_id), b"1", ttl_seconds=ttl)


async def refresh_tokens(
    platform: Platform, *, refresh_token: str, ip: str | None = None, user_agent: str | None = None
) -> TokenGrant:
    """Exchange a refresh token for new tokens; the old one stops working.

    Presenting a refresh token that was already exchanged means two parties hold it: the whole
    session is revoked and both must log in again.
    """
    signer, now = platform.signer, platform.clock.now()
    presented = signer.keyed_hash(refresh_token)
    reused: list[uuid.UUID] | None = None
    grant: TokenGrant | None = None
    async with platform.db.write() as session:
        row = await session.scalar(select(AuthSession).where(AuthSession.refresh_hash == presented))
        if row is None:
            family = await session.scalar(
                select(RotatedRefreshToken.family_id).where(
                    RotatedRefreshToken.token_hash == presented
                )
            )
            if family is None:
                raise InvalidRefreshToken()
            reused = await _revoke_sessions(session, now, AuthSession.family_id == family)
        else:
            if row.revoked_at is not None or row.expires_at <= now:
                raise InvalidRefreshToken()
            member = await _member(session, row.member_id)
            if member.status != "active":
                raise AccountSuspended()
            new_token = new_secret_token()
            rotated = await session.execute(
                update(AuthSession)
                .where(
                    AuthSession.id == row.id,
                    AuthSession.refresh_hash == presented,
                    AuthSession.revoked_at.is_(None),
                )
                .values(
                    refresh_hash=signer.keyed_hash(new_token),
                    last_used_at=now,
                    ip=ip or row.ip,
                    user_agent=(user_agent or "")[:300] or row.user_agent,
                )
                .execution_options(synchronize_session=False)
            )
            if rotated.rowcount != 1:
                # another request exchanged the same token a moment ago
                reused = await _revoke_sessions(
                    session, now, AuthSession.family_id == row.family_id
                )
            else:
                session.add(
                    RotatedRefreshToken(
                        family_id=row.family_id, token_hash=presented, rotated_at=now
                    )
                )
                grant = _grant(platform, member, row.id, new_token, mfa=row.mfa_verified)
    if reused is not None:
        await _forget_access(platform, reused)
        raise RefreshTokenReused()
    assert grant is not None
    return grant


async def revoke_session(
    platform: Platform, *, member_id: uuid.UUID, session_id: uuid.UUID
) -> None:
    """End one of the member's sessions (log out, or sign out another device)."""
    async with platform.db.write() as session:
        owner = await session.scalar(
            select(AuthSession.member_id).where(AuthSession.id == session_id)
        )
        if owner != member_id:
            raise NotFound()
        revoked = await _revoke_sessions(
            session, platform.clock.now(), AuthSession.id == session_id
        )
    await _forget_access(platform, revoked)


async def list_sessions(
    session: AsyncSession,
    clock: Clock,
    *,
    member_id: uuid.UUID,
    current_session_id: uuid.UUID,
    limit: int,
    cursor: str | None,
) -> tuple[list[SessionView], str | None]:
    """The member's live sessions, newest first."""
    query = select(AuthSession).where(
        AuthSession.member_id == member_id,
        AuthSession.revoked_at.is_(None),
        AuthSession.expires_at > clock.now(),
    )
    after = id_after(cursor)
    if after is not None:
        query = query.where(AuthSession.id < after)
    rows = list(
        (await session.scalars(query.order_by(AuthSession.id.desc()).limit(limit + 1))).all()
    )
    views = [
        SessionView(
            id=row.id,
            user_agent=row.user_agent,
            ip=row.ip,
            mfa_verified=row.mfa_verified,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            expires_at=row.expires_at,
            current=row.id == current_session_id,
        )
        for row in rows[:limit]
    ]
    return views, _next_cursor(rows, limit)


async def change_password(
    platform: Platform,
    *,
    member_id: uuid.UUID,
    current_session_id: uuid.UUID,
    current_password: str,
    new_password: str,
    ip: str | None = None,
) -> None:
    """Replace the password after checking the current one; every other session ends."""
    check_password(new_password)
    async with platform.db.read() as session:
        member = await _member(session, member_id)
    account_limit, _ = _login_limits(platform.settings)
    # guessing the current password here is throttled like guessing it at log-in
    await platform.limiter.check(account_limit, member.email)
    if not await platform.hasher.verify(member.password_hash, current_password):
        await platform.limiter.hit(account_limit, member.email)
        raise WrongPassword()
    new_hash = await platform.hasher.hash(new_password)
    async with platform.db.write() as session:
        now = platform.clock.now()
        await session.execute(
            update(Member)
            .where(Member.id == member_id)
            .values(password_hash=new_hash, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        revoked = await _revoke_sessions(
            session,
            now,
            AuthSession.member_id == member_id,
            AuthSession.id != current_session_id,
        )
        record_audit(
            session,
            platform.clock,
            actor_id=member_id,
            action="member.password_changed",
            target_type="member",
            target_id=member_id,
            after={"sessions_revoked": len(revoked)},
            ip=ip,
        )
    await _forget_access(platform, revoked)


# --- two-factor authentication -------------------------------------------------------------


async def start_totp_enrolment(session: AsyncSession, *, member_id: uuid.UUID) -> TotpEnrolment:
    """A new TOTP secret for the member to scan; it is active only once a code is confirmed."""
    member = await _member(session, member_id)
    if member.mfa_enabled:
        raise MfaAlreadyEnabled()
    secret = pyotp.random_base32()
    member.totp_pending_secret = secret
    uri = pyotp.TOTP(secret).provisioning_uri(name=member.email, issuer_name=TOTP_ISSUER)
    qr_svg = segno.make(uri, error="m").svg_inline(scale=4)
    return TotpEnrolment(secret=secret, otpauth_uri=uri, qr_svg=qr_svg)


async def confirm_totp(platform: Platform, *, principal: Principal, code: str) -> MfaConfirmation:
    """Enable TOTP with a code from the pending secret; the current session becomes MFA-verified
    and gets new tokens, and the member gets one-time recovery codes."""
    now = platform.clock.now()
    async with platform.db.write() as session:
        member = await _member(session, principal.member_id)
        if member.mfa_enabled:
            raise MfaAlreadyEnabled()
        secret = member.totp_pending_secret
        if secret is None:
            raise MfaNotEnrolling()
        if not await _verify_totp(session, platform.clock, member.id, secret, code):
            raise WrongMfaCode()
        member.totp_secret, member.totp_pending_secret = secret, None
        member.mfa_enabled, member.updated_at = True, now
        await session.execute(delete(RecoveryCode).where(RecoveryCode.member_id == member.id))
        codes = [f"{short_code(5)}-{short_code(5)}" for _ in range(RECOVERY_CODE_COUNT)]
        session.add_all(
            RecoveryCode(
                member_id=member.id, code_hash=_recovery_hash(platform, plain), created_at=now
            )
            for plain in codes
        )
        row = await session.scalar(
            select(AuthSession).where(
                AuthSession.id == principal.session_id,
                AuthSession.member_id == member.id,
                AuthSession.revoked_at.is_(None),
            )
        )
        if row is None:
            raise Unauthenticated()
        # the old refresh token is retired like any rotated one, so a copy of it is detected
        session.add(
            RotatedRefreshToken(
                family_id=row.family_id, token_hash=row.refresh_hash, rotated_at=now
            )
        )
        refresh_token = new_secret_token()
        row.refresh_hash = platform.signer.keyed_hash(refresh_token)
        row.mfa_verified, row.last_used_at = True, now
        record_audit(
            session,
            platform.clock,
            actor_id=member.id,
            action="member.mfa_enabled",
            target_type="member",
            target_id=member.id,
        )
        await session.flush()
        tokens = _grant(platform, member, row.id, refresh_token, mfa=True)
    return MfaConfirmation(recovery_codes=codes, tokens=tokens)


async def disable_totp(
    session: AsyncSession, platform: Platform, *, member_id: uuid.UUID, code: str
) -> MemberProfile:
    """Turn TOTP off with a current code or a recovery code (never for staff, admin, creators)."""
    member = await _member(session, member_id)
    if not member.mfa_enabled or member.totp_secret is None:
        raise MfaNotEnabled()
    if member.roles & MFA_ROLES:
        raise MfaRequiredForRole()
    if _TOTP_CODE.match(code.strip()):
        ok = await _verify_totp(session, platform.clock, member.id, member.totp_secret, code)
    else:
        ok = await _use_recovery_code(session, platform, member.id, code)
    if not ok:
        raise WrongMfaCode()
    now = platform.clock.now()
    member.mfa_enabled, member.totp_secret, member.totp_pending_secret = False, None, None
    member.updated_at = now
    await session.execute(delete(RecoveryCode).where(RecoveryCode.member_id == member.id))
    await session.execute(
        update(AuthSession)
        .where(AuthSession.member_id == member.id)
        .values(mfa_verified=False)
        .execution_options(synchronize_session=False)
    )
    record_audit(
        session,
        platform.clock,
        actor_id=member.id,
        action="member.mfa_disabled",
        target_type="member",
        target_id=member.id,
    )
    return _profile(member)


# --- staff: roles, suspension, search ------------------------------------------------------


async def set_roles(
    platform: Platform,
    *,
    actor_id: uuid.UUID,
    member_id: uuid.UUID,
    roles: Iterable[str],
    ip: str | None = None,
) -> MemberProfile:
    """Replace a member's roles. Removing a role ends their sessions, so it takes effect now."""
    wanted = _clean_roles(roles)
    async with platform.db.write() as session:
        member = await _member(session, member_id)
        before = member.roles
        if actor_id == member_id and "admin" in before and "admin" not in wanted:
            raise CannotDemoteSelf()
        member.role_rows = [row for row in member.role_rows if row.role in wanted] + [
            MemberRole(role=role) for role in sorted(wanted - before)
        ]
        member.updated_at = platform.clock.now()
        await session.flush()
        revoked: list[uuid.UUID] = []
        if before - wanted:
            revoked = await _revoke_sessions(
                session, platform.clock.now(), AuthSession.member_id == member_id
            )
        record_audit(
            session,
            platform.clock,
            actor_id=actor_id,
            action="member.roles_changed",
            target_type="member",
            target_id=member_id,
            before={"roles": sorted(before)},
            after={"roles": sorted(wanted)},
            ip=ip,
        )
        profile = _profile(member)
    await _forget_access(platform, revoked)
    return profile


async def grant_role(
    session: AsyncSession,
    clock: Clock,
    member_id: uuid.UUID,
    role: str,
    *,
    on: bool,
    actor_id: uuid.UUID | None,
    reason: str,
) -> bool:
    """Give or take one role in the caller's transaction (e.g. creator, by promotion); audited.
    Whether it changed. A role taken away lapses with the member's access token (minutes)."""
    _clean_roles([role])
    member = await _member(session, member_id)
    before = member.roles
    if (role in before) == on:
        return False
    if on:
        member.role_rows.append(MemberRole(role=role))
    else:
        member.role_rows = [row for row in member.role_rows if row.role != role]
    member.updated_at = clock.now()
    record_audit(
        session,
        clock,
        actor_id=actor_id,
        action="member.roles_changed",
        target_type="member",
        target_id=member_id,
        before={"roles": sorted(before)},
        after={"roles": sorted(member.roles), "reason": reason},
    )
    await session.flush()
    return True


async def set_suspended(
    platform: Platform,
    *,
    actor: Principal,
    member_id: uuid.UUID,
    suspended: bool,
    reason: str | None = None,
    ip: str | None = None,
) -> MemberProfile:
    """Suspend (ending every session) or reinstate a member. Only admins act on staff."""
    async with platform.db.write() as session:
        member = await _member(session, member_id)
        if member_id == actor.member_id:
            raise CannotSuspendSelf()
        if member.roles & STAFF_ROLES and not actor.is_admin:
            raise Forbidden("Only an admin can suspend or reinstate staff.")
        before = member.status
        member.status = "suspended" if suspended else "active"
        member.updated_at = platform.clock.now()
        revoked: list[uuid.UUID] = []
        if suspended:
            revoked = await _revoke_sessions(
                session, platform.clock.now(), AuthSession.member_id == member_id
            )
        record_audit(
            session,
            platform.clock,
            actor_id=actor.member_id,
            action="member.suspended" if suspended else "member.reinstated",
            target_type="member",
            target_id=member_id,
            before={"status": before},
            after={"status": member.status, "reason": reason},
            ip=ip,
        )
        profile = _profile(member)
    await _forget_access(platform, revoked)
    return profile


async def search_members(
    session: AsyncSession,
    clock: Clock,
    *,
    actor_id: uuid.UUID,
    q: str | None,
    role: str | None,
    status: str | None,
    limit: int,
    cursor: str | None,
    ip: str | None = None,
    oldest_first: bool = False,
) -> tuple[list[MemberProfile], str | None]:
    """Members by email or nickname fragment, role and status, newest (or oldest) first
    (audited: it shows personal data to staff)."""
    query = select(Member)
    if q:
        term = normalize(q)
        query = query.where(
            or_(
                Member.email.contains(term, autoescape=True),
                Member.nickname_key.contains(term, autoescape=True),
            )
        )
    if role:
        query = query.where(
            Member.id.in_(select(MemberRole.member_id).where(MemberRole.role == role))
        )
    if status:
        query = query.where(Member.status == status)
    after = id_after(cursor)
    if after is not None:
        query = query.where(Member.id > after if oldest_first else Member.id < after)
    order = Member.id.asc() if oldest_first else Member.id.desc()
    rows = list((await session.scalars(query.order_by(order).limit(limit + 1))).all())
    record_audit(
        session,
        clock,
        actor_id=actor_id,
        action="members.searched",
        target_type="member",
        target_id="*",
        after={"q": q, "role": role, "status": status, "cursor": cursor},
        ip=ip,
    )
    return [_profile(row) for row in rows[:limit]], _next_cursor(rows, limit)


async def view_member(
    session: AsyncSession,
    clock: Clock,
    *,
    actor_id: uuid.UUID,
    member_id: uuid.UUID,
    ip: str | None = None,
) -> MemberProfile:
    """One member's profile for staff (audited like a search: it shows personal data)."""
    profile = _profile(await _member(session, member_id))
    record_audit(
        session,
        clock,
        actor_id=actor_id,
        action="member.viewed",
        target_type="member",
        target_id=member_id,
        ip=ip,
    )
    return profile


@dataclass(frozen=True)
class DailyCount:
    day: date
    count: int


async def daily_signups(
    session: AsyncSession, *, since: date, until: date, tz: tzinfo
) -> list[DailyCount]:
    """Members who signed up on each local day from `since` to `until` (both included, in
    `tz`); every day is listed, quiet ones with zero."""
    window = day_window(since, until, tz)
    joined = (
        select(day_of(Member.created_at, window).label("day"))
        .where(Member.created_at >= window.start, Member.created_at < window.end)
        .subquery()
    )
    rows = (
        await session.execute(
            select(joined.c.day, func.count().label("count")).group_by(joined.c.day)
        )
    ).all()
    return [
        DailyCount(day=day, count=int(row.count) if row else 0)
        for day, row in by_day(rows, window).items()
    ]


# --- addresses -----------------------------------------------------------------------------


def _address_view(row: Address) -> AddressView:
    return AddressView(
        id=row.id,
        member_id=row.member_id,
        recipient=row.recipient,
        phone=row.phone,
        postal_code=row.postal_code,
        line1=row.line1,
        line2=row.line2,
        is_default=row.is_default,
        created_at=row.created_at,
    )


async def _own_address(
    session: AsyncSession, member_id: uuid.UUID, address_id: uuid.UUID
) -> Address:
    row = await session.scalar(
        select(Address).where(Address.id == address_id, Address.member_id == member_id)
    )
    if row is None:  # someone else's address answers like a missing one
        raise NotFound()
    return row


async def _clear_default(session: AsyncSession, member_id: uuid.UUID, keep: uuid.UUID) -> None:
    await session.execute(
        update(Address)
        .where(Address.member_id == member_id, Address.id != keep, Address.is_default.is_(True))
        .values(is_default=False)
        .execution_options(synchronize_session=False)
    )


async def get_address(
    session: AsyncSession, member_id: uuid.UUID, address_id: uuid.UUID
) -> AddressView:
    """One of the member's addresses; NotFound when it is missing or someone else's."""
    return _address_view(await _own_address(session, member_id, address_id))


async def list_addresses(
    session: AsyncSession, member_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[AddressView], str | None]:
    query = select(Address).where(Address.member_id == member_id)
    after = id_after(cursor)
    if after is not None:
        query = query.where(Address.id > after)
    rows = list((await session.scalars(query.order_by(Address.id).limit(limit + 1))).all())
    return [_address_view(row) for row in rows[:limit]], _next_cursor(rows, limit)


async def add_address(
    session: AsyncSession,
    clock: Clock,
    *,
    member_id: uuid.UUID,
    recipient: str,
    phone: str,
    postal_code: str,
    line1: str,
    line2: str = "",
    is_default: bool = False,
) -> AddressView:
    """Save an address; the first one is the default, and a new default replaces the old."""
    count = await session.scalar(
        select(func.count()).select_from(Address).where(Address.member_id == member_id)
    )
    if (count or 0) >= MAX_ADDRESSES:
        raise TooManyAddresses(max_addresses=MAX_ADDRESSES)
    now = clock.now()
    row = Address(
        id=uuid7(),
        member_id=member_id,
        recipient=recipient,
        phone=phone,
        postal_code=postal_code,
        line1=line1,
        line2=line2,
        is_default=is_default or not count,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    if row.is_default:
        await _clear_default(session, member_id, row.id)
    return _address_view(row)


async def update_address(
    session: AsyncSession,
    clock: Clock,
    *,
    member_id: uuid.UUID,
    address_id: uuid.UUID,
    changes: dict[str, Any],
) -> AddressView:
    """Change some fields of one of the member's addresses."""
    row = await _own_address(session, member_id, address_id)
    allowed = {"recipient", "phone", "postal_code", "line1", "line2", "is_default"}
    for name, value in changes.items():
        if name not in allowed or value is None:
            raise InvalidInput("An address field cannot be set to null.", field=name)
        setattr(row, name, value)
    row.updated_at = clock.now()
    await session.flush()
    if row.is_default:
        await _clear_default(session, member_id, row.id)
    return _address_view(row)


async def delete_address(
    session: AsyncSession, *, member_id: uuid.UUID, address_id: uuid.UUID
) -> None:
    row = await _own_address(session, member_id, address_id)
    await session.delete(row)
    await session.flush()


# --- points wallet -------------------------------------------------------------------------


def _member_account(member_id: uuid.UUID) -> str:
    return f"member:{member_id}"


def _check_amount(amount: int) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidInput("A points amount is a positive whole number.")


async def _lock_wallet(session: AsyncSession, member_id: uuid.UUID) -> int:
    """The wallet's balance, with its row locked until the transaction ends (PostgreSQL).

    Every change to a member's points takes this lock first, so their lots and ledger are
    changed by one transaction at a time; SQLite's single writer gives the same order.
    """
    balance = await session.scalar(
        select(PointsWallet.balance).where(PointsWallet.member_id == member_id).with_for_update()
    )
    if balance is None:
        raise NotFound("The member does not exist.")
    return balance


async def _applied(session: AsyncSession, member_id: uuid.UUID, reference: str) -> bool:
    found = await session.scalar(
        select(PointsEntry.id).where(
            PointsEntry.member_id == member_id, PointsEntry.reference == reference
        )
    )
    return found is not None


async def _move_balance(
    session: AsyncSession, member_id: uuid.UUID, delta: int, now: datetime
) -> int | None:
    """Add `delta` to the balance unless it would go negative; the new balance or None."""
    query = (
        update(PointsWallet)
        .where(PointsWallet.member_id == member_id)
        .values(balance=PointsWallet.balance + delta, updated_at=now)
        .returning(PointsWallet.balance)
        .execution_options(synchronize_session=False)
    )
    if delta < 0:
        query = query.where(PointsWallet.balance >= -delta)
    return (await session.execute(query)).scalar_one_or_none()


def _post_txn(
    session: AsyncSession,
    *,
    member_id: uuid.UUID,
    amount: int,
    counter_account: str,
    reason: str,
    reference: str,
    balance_after: int,
    now: datetime,
    expires_at: datetime | None = None,
) -> uuid.UUID:
    """Write the two legs of one transaction (member ±amount, counter account ∓amount)."""
    txn_id, entry_id = uuid7(), uuid7()
    session.add_all(
        [
            PointsEntry(
                id=entry_id,
                txn_id=txn_id,
                account=_member_account(member_id),
                member_id=member_id,
                amount=amount,
                reason=reason,
                reference=reference,
                balance_after=balance_after,
                created_at=now,
                expires_at=expires_at,
            ),
            PointsEntry(
                txn_id=txn_id,
                account=counter_account,
                member_id=None,
                amount=-amount,
                reason=reason,
                reference=reference,
                created_at=now,
            ),
        ]
    )
    return entry_id


async def _credit(
    session: AsyncSession,
    clock: Clock,
    *,
    member_id: uuid.UUID,
    amount: int,
    reason: str,
    reference: str,
    expires_at: datetime | None,
    expiry_days: int,
    counter_account: str,
) -> int:
    _check_amount(amount)
    balance = await _lock_wallet(session, member_id)
    if await _applied(session, member_id, reference):
        return balance
    now = clock.now()
    expires = expires_at or now + timedelta(days=expiry_days)
    if expires <= now:
        raise InvalidInput("Points must expire in the future.")
    new_balance = await _move_balance(session, member_id, amount, now)
    assert new_balance is not None
    entry_id = _post_txn(
        session,
        member_id=member_id,
        amount=amount,
        counter_account=counter_account,
        reason=reason,
        reference=reference,
        balance_after=new_balance,
        now=now,
        expires_at=expires,
    )
    session.add(
        PointsLot(
            member_id=member_id,
            entry_id=entry_id,
            amount=amount,
            remaining=amount,
            expires_at=expires,
            created_at=now,
        )
    )
    await session.flush()
    return new_balance


async def credit_points(
    session: AsyncSession,
    clock: Clock,
    *,
    member_id: uuid.UUID,
    amount: int,
    reason: str,
    reference: str,
    expires_at: datetime | None = None,
    expiry_days: int = 365,
) -> int:
    """Give a member points (a reward, a refund); the new balance.

    The same reference applies once: repeating it changes nothing and returns the balance.
    The points expire at `expires_at`, by default `expiry_days` from now.
    """
    return await _credit(
        session,
        clock,
        member_id=member_id,
        amount=amount,
        reason=reason,
        reference=reference,
        expires_at=expires_at,
        expiry_days=expiry_days,
        counter_account=ISSUED,
    )


async def _expire_lots(
    session: AsyncSession, now: datetime, *, member_id: uuid.UUID | None, limit: int
) -> int:
    """Expire what is left of lots past their expiry; the points expired.

    Each lot expires once: its remainder goes to zero and the ledger row is keyed by the lot.
    """
    query = select(PointsLot.id, PointsLot.member_id).where(
        PointsLot.expires_at <= now, PointsLot.remaining > 0
    )
    if member_id is not None:
        query = query.where(PointsLot.member_id == member_id)
    # one lock order for every wallet, so two expiry runs cannot deadlock
    due = (
        await session.execute(query.order_by(PointsLot.member_id, PointsLot.id).limit(limit))
    ).all()
    expired = 0
    locked: set[uuid.UUID] = {member_id} if member_id is not None else set()
    for lot_id, owner in due:
        if owner not in locked:
            await _lock_wallet(session, owner)
            locked.add(owner)
        # read again under the wallet lock: a spend may have taken from it meanwhile
        remaining = await session.scalar(select(PointsLot.remaining).where(PointsLot.id == lot_id))
        if not remaining:
            continue
        await session.execute(
            update(PointsLot)
            .where(PointsLot.id == lot_id, PointsLot.remaining == remaining)
            .values(remaining=0)
            .execution_options(synchronize_session=False)
        )
        balance = await _move_balance(session, owner, -remaining, now)
        if balance is None:
            raise RuntimeError(f"points wallet of {owner} is below its lots")
        _post_txn(
            session,
            member_id=owner,
            amount=-remaining,
            counter_account=EXPIRED,
            reason="expired",
            reference=f"expire:{lot_id}",
            balance_after=balance,
            now=now,
        )
        expired += remaining
    await session.flush()
    return expired


async def expire_points(session: AsyncSession, clock: Clock, *, limit: int = 500) -> int:
    """Expire up to `limit` lots past their expiry; the points expired (0 when none are due)."""
    return await _expire_lots(session, clock.now(), member_id=None, limit=limit)


async def _debit(
    session: AsyncSession,
    clock: Clock,
    *,
    member_id: uuid.UUID,
    amount: int,
    reason: str,
    reference: str,
    counter_account: str,
) -> int:
    _check_amount(amount)
    balance = await _lock_wallet(session, member_id)
    if await _applied(session, member_id, reference):
        return balance
    now = clock.now()
    # points past their expiry are not spendable, even before the hourly job records it
    await _expire_lots(session, now, member_id=member_id, limit=10_000)
    new_balance = await _move_balance(session, member_id, -amount, now)
    if new_balance is None:
        current = await session.scalar(
            select(PointsWallet.balance).where(PointsWallet.member_id == member_id)
        )
        raise InsufficientPoints(balance=current, requested=amount)
    lots = await session.execute(
        select(PointsLot.id, PointsLot.remaining)
        .where(PointsLot.member_id == member_id, PointsLot.remaining > 0)
        .order_by(PointsLot.expires_at, PointsLot.id)
    )
    left = amount
    for lot_id, remaining in lots:
        take = min(left, remaining)
        await session.execute(
            update(PointsLot)
            .where(PointsLot.id == lot_id, PointsLot.remaining >= take)
            .values(remaining=PointsLot.remaining - take)
            .execution_options(synchronize_session=False)
        )
        left -= take
        if not left:
            break
    if left:
        raise RuntimeError(f"points lots of {member_id} hold less than the wallet balance")
    _post_txn(
        session,
        member_id=member_id,
        amount=-amount,
        counter_account=counter_account,
        reason=reason,
        reference=reference,
        balance_after=new_balance,
        now=now,
    )
    await session.flush()
    return new_balance


async def debit_points(
    session: AsyncSession,
    clock: Clock,
    *,
    member_id: uuid.UUID,
    amount: int,
    reason: str,
    reference: str,
) -> int:
    """Spend a member's points, oldest-expiring first; the new balance.

    Raises InsufficientPoints (409) when the balance is lower. The same reference applies once.
    """
    return await _debit(
        session,
        clock,
        member_id=member_id,
        amount=amount,
        reason=reason,
        reference=reference,
        counter_account=REDEEMED,
    )


async def points_balance(session: AsyncSession, member_id: uuid.UUID) -> int:
    """The member's balance (0 for an unknown member)."""
    balance = await session.scalar(
        select(PointsWallet.balance).where(PointsWallet.member_id == member_id)
    )
    return balance or 0


async def adjust_points(
    session: AsyncSession,
    clock: Clock,
    *,
    actor_id: uuid.UUID,
    member_id: uuid.UUID,
    amount: int,
    reason: str,
    reference: str,
    ip: str | None = None,
) -> int:
    """A staff correction of a member's points (+ issues, − claws back); audited."""
    if amount == 0 or abs(amount) > POINTS_ADJUST_MAX:
        raise InvalidInput(f"An adjustment is non-zero and at most {POINTS_ADJUST_MAX:,} points.")
    before = await _lock_wallet(session, member_id)
    if amount > 0:
        balance = await _credit(
            session,
            clock,
            member_id=member_id,
            amount=amount,
            reason=f"adjustment: {reason}"[:100],
            reference=reference,
            expires_at=None,
            expiry_days=365,
            counter_account=ISSUED,
        )
    else:
        balance = await _debit(
            session,
            clock,
            member_id=member_id,
            amount=-amount,
            reason=f"adjustment: {reason}"[:100],
            reference=reference,
            counter_account=ISSUED,
        )
    record_audit(
        session,
        clock,
        actor_id=actor_id,
        action="points.adjusted",
        target_type="member",
        target_id=member_id,
        before={"balance": before},
        after={"balance": balance, "amount": amount, "reason": reason, "reference": reference},
        ip=ip,
    )
    return balance


async def get_wallet(session: AsyncSession, clock: Clock, member_id: uuid.UUID) -> WalletView:
    """The balance and the points that expire within 30 days, soonest first."""
    now = clock.now()
    rows = await session.execute(
        select(PointsLot.remaining, PointsLot.expires_at)
        .where(
            PointsLot.member_id == member_id,
            PointsLot.remaining > 0,
            PointsLot.expires_at <= now + EXPIRING_SOON,
        )
        .order_by(PointsLot.expires_at, PointsLot.id)
        .limit(50)
    )
    return WalletView(
        balance=await points_balance(session, member_id),
        expiring_soon=[ExpiringPoints(amount=r, expires_at=e) for r, e in rows],
    )


async def list_wallet_entries(
    session: AsyncSession, member_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[WalletEntryView], str | None]:
    """The member's side of their points transactions, newest first."""
    query = select(PointsEntry).where(PointsEntry.member_id == member_id)
    after = id_after(cursor)
    if after is not None:
        query = query.where(PointsEntry.id < after)
    rows = list(
        (await session.scalars(query.order_by(PointsEntry.id.desc()).limit(limit + 1))).all()
    )
    views = [
        WalletEntryView(
            id=row.id,
            txn_id=row.txn_id,
            amount=row.amount,
            reason=row.reason,
            reference=row.reference,
            balance_after=row.balance_after,
            created_at=row.created_at,
            expires_at=row.expires_at,
        )
        for row in rows[:limit]
    ]
    return views, _next_cursor(rows, limit)


async def member_wallet(session: AsyncSession, clock: Clock, member_id: uuid.UUID) -> WalletView:
    """A member's wallet for staff; NotFound for an unknown member (not an empty wallet)."""
    await _member(session, member_id)
    return await get_wallet(session, clock, member_id)


async def member_wallet_entries(
    session: AsyncSession, member_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[WalletEntryView], str | None]:
    """A member's points ledger for staff, newest first; NotFound for an unknown member."""
    await _member(session, member_id)
    return await list_wallet_entries(session, member_id, limit=limit, cursor=cursor)


async def members_by_nickname(
    session: AsyncSession, nicknames: Iterable[str]
) -> dict[str, uuid.UUID]:
    """Active members by nickname (matched as nicknames are: NFKC, case-insensitive)."""
    keys = {_nickname_key(n): n for n in nicknames}
    if not keys:
        return {}
    rows = await session.execute(
        select(Member.nickname_key, Member.id).where(
            Member.nickname_key.in_(list(keys)), Member.status == "active"
        )
    )
    return {keys[key]: member_id for key, member_id in rows}


# --- held points: set aside from one member, later paid to a member ---------------------------

# the counter account of points set aside (a question's bounty): it holds them between the
# debit of the member who put them up and the credit of whoever receives them
HELD = "platform:held"


async def hold_points(
    session: AsyncSession,
    clock: Clock,
    *,
    member_id: uuid.UUID,
    amount: int,
    reason: str,
    reference: str,
) -> int:
    """Set points aside from a member's wallet, oldest-expiring first; the new balance.

    Raises InsufficientPoints (409) when the balance is lower. The same reference applies once.
    """
    return await _debit(
        session,
        clock,
        member_id=member_id,
        amount=amount,
        reason=reason,
        reference=reference,
        counter_account=HELD,
    )


async def release_held_points(
    session: AsyncSession,
    clock: Clock,
    *,
    member_id: uuid.UUID,
    amount: int,
    reason: str,
    reference: str,
    expiry_days: int = 365,
) -> int:
    """Pay points set aside by `hold_points` to a member (a winner, or the holder back); the
    new balance. They expire `expiry_days` from now. The same reference applies once."""
    return await _credit(
        session,
        clock,
        member_id=member_id,
        amount=amount,
        reason=reason,
        reference=reference,
        expires_at=None,
        expiry_days=expiry_days,
        counter_account=HELD,
    )


async def nicknames(session: AsyncSession, member_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The nicknames of these members, in one light query (for showing authors in lists)."""
    ids = list(dict.fromkeys(member_ids))
    if not ids:
        return {}
    rows = await session.execute(select(Member.id, Member.nickname).where(Member.id.in_(ids)))
    return {member_id: nickname for member_id, nickname in rows}


_NICKNAMES = {
    # a constant statement: the id list travels as one parameter
    dialect: "SELECT id, nickname FROM members WHERE id " + in_ids.format(p="$1")  # noqa: S608
    for dialect, in_ids in IN_IDS.items()
}


async def nickname_map(reader: Reader, member_ids: Sequence[uuid.UUID]) -> dict[str, str]:
    """Nicknames by member id (as text) in one statement on the lean reader, for hot lists."""
    if not member_ids:
        return {}
    rows = await reader.fetch(_NICKNAMES[reader.dialect], reader.ids_param(member_ids))
    return {id_text(member_id): nickname for member_id, nickname in rows}
