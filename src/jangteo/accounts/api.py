"""HTTP API of the accounts domain: sign-up, tokens, sessions, MFA, profile, addresses, wallet,
and the staff endpoints for members.

Sign-up answers 201 with the member and no tokens: the client logs in next, so one place
(`POST /auth/token`) applies throttling and the second factor.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from jangteo.accounts import service
from jangteo.accounts.schemas import (
    AddressCreate,
    AddressOut,
    AddressUpdate,
    LoginRequest,
    MemberOut,
    MfaCodeRequest,
    MfaConfirmOut,
    PasswordChangeRequest,
    PointsAdjustOut,
    PointsAdjustRequest,
    ProfileOut,
    ProfileUpdate,
    RefreshRequest,
    Role,
    RolesRequest,
    SessionOut,
    SignupRequest,
    SuspendRequest,
    TokenOut,
    TotpEnrolmentOut,
    WalletEntryOut,
    WalletOut,
)
from jangteo.core.deps import (
    AdminMember,
    CurrentMember,
    IdempotencyKey,
    PlatformDep,
    StaffMember,
    client_ip,
)
from jangteo.core.idempotency import request_fingerprint, run_once
from jangteo.core.ids import uuid7
from jangteo.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page

router = APIRouter(prefix="/api/v1")

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=500)]
NO_CONTENT: dict[str, Any] = {"status_code": 204, "response_class": Response}


def _tokens(grant: service.TokenGrant) -> TokenOut:
    return TokenOut(
        access_token=grant.access_token,
        expires_in=grant.expires_in,
        refresh_token=grant.refresh_token,
        member=MemberOut.model_validate(grant.member),
    )


def _user_agent(request: Request) -> str | None:
    return request.headers.get("user-agent")


# --- sign-up and tokens --------------------------------------------------------------------


@router.post("/auth/signup", status_code=201, tags=["auth"])
async def signup(body: SignupRequest, platform: PlatformDep) -> ProfileOut:
    profile = await service.register_member(
        platform,
        email=body.email,
        password=body.password,
        nickname=body.nickname,
        welcome_points=platform.settings.signup_bonus_points,
    )
    return ProfileOut.model_validate(profile)


@router.post("/auth/token", tags=["auth"])
async def log_in(body: LoginRequest, request: Request, platform: PlatformDep) -> TokenOut:
    grant = await service.log_in(
        platform,
        email=body.email,
        password=body.password,
        totp_code=body.totp_code,
        recovery_code=body.recovery_code,
        ip=client_ip(request),
        user_agent=_user_agent(request),
    )
    return _tokens(grant)


@router.post("/auth/refresh", tags=["auth"])
async def refresh(body: RefreshRequest, request: Request, platform: PlatformDep) -> TokenOut:
    grant = await service.refresh_tokens(
        platform,
        refresh_token=body.refresh_token,
        ip=client_ip(request),
        user_agent=_user_agent(request),
    )
    return _tokens(grant)


@router.post("/auth/logout", tags=["auth"], **NO_CONTENT)
async def log_out(principal: CurrentMember, platform: PlatformDep) -> None:
    await service.revoke_session(
        platform, member_id=principal.member_id, session_id=principal.session_id
    )


# --- profile, password, sessions -----------------------------------------------------------


@router.get("/me", tags=["me"])
async def my_profile(principal: CurrentMember, platform: PlatformDep) -> ProfileOut:
    async with platform.db.read() as session:
        return ProfileOut.model_validate(await service.get_profile(session, principal.member_id))


@router.patch("/me", tags=["me"])
async def update_profile(
    body: ProfileUpdate, principal: CurrentMember, platform: PlatformDep
) -> ProfileOut:
    async with platform.db.write() as session:
        profile = await service.change_nickname(
            session, platform.clock, member_id=principal.member_id, nickname=body.nickname
        )
    return ProfileOut.model_validate(profile)


@router.post("/me/password", tags=["me"], **NO_CONTENT)
async def change_password(
    body: PasswordChangeRequest, request: Request, principal: CurrentMember, platform: PlatformDep
) -> None:
    await service.change_password(
        platform,
        member_id=principal.member_id,
        current_session_id=principal.session_id,
        current_password=body.current_password,
        new_password=body.new_password,
        ip=client_ip(request),
    )


@router.get("/me/sessions", tags=["me"])
async def my_sessions(
    principal: CurrentMember,
    platform: PlatformDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[SessionOut]:
    async with platform.db.read() as session:
        views, next_cursor = await service.list_sessions(
            session,
            platform.clock,
            member_id=principal.member_id,
            current_session_id=principal.session_id,
            limit=limit,
            cursor=cursor,
        )
    return Page(items=[SessionOut.model_validate(v) for v in views], next_cursor=next_cursor)


@router.delete("/me/sessions/{session_id}", tags=["me"], **NO_CONTENT)
async def revoke_my_session(
    session_id: uuid.UUID, principal: CurrentMember, platform: PlatformDep
) -> None:
    await service.revoke_session(platform, member_id=principal.member_id, session_id=session_id)


# --- two-factor authentication -------------------------------------------------------------


@router.post("/me/mfa/totp", tags=["me"])
async def start_totp(principal: CurrentMember, platform: PlatformDep) -> TotpEnrolmentOut:
    async with platform.db.write() as session:
        enrolment = await service.start_totp_enrolment(session, member_id=principal.member_id)
    return TotpEnrolmentOut.model_validate(enrolment)


@router.post("/me/mfa/totp/confirm", tags=["me"])
async def confirm_totp(
    body: MfaCodeRequest, principal: CurrentMember, platform: PlatformDep
) -> MfaConfirmOut:
    confirmation = await service.confirm_totp(platform, principal=principal, code=body.code)
    return MfaConfirmOut(
        **_tokens(confirmation.tokens).model_dump(), recovery_codes=confirmation.recovery_codes
    )


@router.delete("/me/mfa/totp", tags=["me"])
async def disable_totp(
    body: MfaCodeRequest, principal: CurrentMember, platform: PlatformDep
) -> ProfileOut:
    async with platform.db.write() as session:
        profile = await service.disable_totp(
            session, platform, member_id=principal.member_id, code=body.code
        )
    return ProfileOut.model_validate(profile)


# --- addresses -----------------------------------------------------------------------------


@router.get("/me/addresses", tags=["me"])
async def my_addresses(
    principal: CurrentMember,
    platform: PlatformDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[AddressOut]:
    async with platform.db.read() as session:
        views, next_cursor = await service.list_addresses(
            session, principal.member_id, limit=limit, cursor=cursor
        )
    return Page(items=[AddressOut.model_validate(v) for v in views], next_cursor=next_cursor)


@router.post("/me/addresses", status_code=201, tags=["me"])
async def add_address(
    body: AddressCreate, principal: CurrentMember, platform: PlatformDep
) -> AddressOut:
    async with platform.db.write() as session:
        view = await service.add_address(
            session, platform.clock, member_id=principal.member_id, **body.model_dump()
        )
    return AddressOut.model_validate(view)


@router.patch("/me/addresses/{address_id}", tags=["me"])
async def update_address(
    address_id: uuid.UUID, body: AddressUpdate, principal: CurrentMember, platform: PlatformDep
) -> AddressOut:
    async with platform.db.write() as session:
        view = await service.update_address(
            session,
            platform.clock,
            member_id=principal.member_id,
            address_id=address_id,
            changes=body.model_dump(exclude_unset=True),
        )
    return AddressOut.model_validate(view)


@router.delete("/me/addresses/{address_id}", tags=["me"], **NO_CONTENT)
async def delete_address(
    address_id: uuid.UUID, principal: CurrentMember, platform: PlatformDep
) -> None:
    async with platform.db.write() as session:
        await service.delete_address(session, member_id=principal.member_id, address_id=address_id)


# --- points wallet -------------------------------------------------------------------------


@router.get("/me/wallet", tags=["me"])
async def my_wallet(principal: CurrentMember, platform: PlatformDep) -> WalletOut:
    async with platform.db.read() as session:
        wallet = await service.get_wallet(session, platform.clock, principal.member_id)
    return WalletOut.model_validate(wallet)


@router.get("/me/wallet/entries", tags=["me"])
async def my_wallet_entries(
    principal: CurrentMember,
    platform: PlatformDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[WalletEntryOut]:
    async with platform.db.read() as session:
        views, next_cursor = await service.list_wallet_entries(
            session, principal.member_id, limit=limit, cursor=cursor
        )
    return Page(items=[WalletEntryOut.model_validate(v) for v in views], next_cursor=next_cursor)


# --- staff ---------------------------------------------------------------------------------


@router.get("/admin/members", tags=["admin"])
async def search_members(
    request: Request,
    principal: StaffMember,
    platform: PlatformDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    role: Role | None = None,
    status: Literal["active", "suspended"] | None = None,
    sort: Literal["newest", "oldest"] = "newest",
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[ProfileOut]:
    async with platform.db.write() as session:  # the search itself is audited
        views, next_cursor = await service.search_members(
            session,
            platform.clock,
            actor_id=principal.member_id,
            q=q,
            role=role,
            status=status,
            limit=limit,
            cursor=cursor,
            ip=client_ip(request),
            oldest_first=sort == "oldest",
        )
    return Page(items=[ProfileOut.model_validate(v) for v in views], next_cursor=next_cursor)


@router.get("/admin/members/{member_id}", tags=["admin"])
async def get_member(
    member_id: uuid.UUID, request: Request, principal: StaffMember, platform: PlatformDep
) -> ProfileOut:
    async with platform.db.write() as session:  # the view is audited
        profile = await service.view_member(
            session,
            platform.clock,
            actor_id=principal.member_id,
            member_id=member_id,
            ip=client_ip(request),
        )
    return ProfileOut.model_validate(profile)


@router.get("/admin/members/{member_id}/wallet", tags=["admin"])
async def member_wallet(
    member_id: uuid.UUID, principal: StaffMember, platform: PlatformDep
) -> WalletOut:
    async with platform.db.read() as session:
        wallet = await service.member_wallet(session, platform.clock, member_id)
    return WalletOut.model_validate(wallet)


@router.get("/admin/members/{member_id}/wallet/entries", tags=["admin"])
async def member_wallet_entries(
    member_id: uuid.UUID,
    principal: StaffMember,
    platform: PlatformDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[WalletEntryOut]:
    """A member's points ledger (their legs of each transaction), newest first."""
    async with platform.db.read() as session:
        views, next_cursor = await service.member_wallet_entries(
            session, member_id, limit=limit, cursor=cursor
        )
    return Page(items=[WalletEntryOut.model_validate(v) for v in views], next_cursor=next_cursor)


@router.put("/admin/members/{member_id}/roles", tags=["admin"])
async def set_roles(
    member_id: uuid.UUID,
    body: RolesRequest,
    request: Request,
    principal: AdminMember,
    platform: PlatformDep,
) -> ProfileOut:
    profile = await service.set_roles(
        platform,
        actor_id=principal.member_id,
        member_id=member_id,
        roles=body.roles,
        ip=client_ip(request),
    )
    return ProfileOut.model_validate(profile)


@router.post("/admin/members/{member_id}/suspend", tags=["admin"])
async def suspend_member(
    member_id: uuid.UUID,
    request: Request,
    principal: StaffMember,
    platform: PlatformDep,
    body: SuspendRequest | None = None,
) -> ProfileOut:
    profile = await service.set_suspended(
        platform,
        actor=principal,
        member_id=member_id,
        suspended=True,
        reason=body.reason if body else None,
        ip=client_ip(request),
    )
    return ProfileOut.model_validate(profile)


@router.post("/admin/members/{member_id}/unsuspend", tags=["admin"])
async def unsuspend_member(
    member_id: uuid.UUID,
    request: Request,
    principal: StaffMember,
    platform: PlatformDep,
    body: SuspendRequest | None = None,
) -> ProfileOut:
    profile = await service.set_suspended(
        platform,
        actor=principal,
        member_id=member_id,
        suspended=False,
        reason=body.reason if body else None,
        ip=client_ip(request),
    )
    return ProfileOut.model_validate(profile)


@router.post("/admin/members/{member_id}/points", tags=["admin"])
async def adjust_points(
    member_id: uuid.UUID,
    body: PointsAdjustRequest,
    request: Request,
    principal: StaffMember,
    platform: PlatformDep,
    idempotency_key: IdempotencyKey = None,
) -> PointsAdjustOut:
    ip = client_ip(request)

    async def operation(session: Any) -> dict[str, Any]:
        balance = await service.adjust_points(
            session,
            platform.clock,
            actor_id=principal.member_id,
            member_id=member_id,
            amount=body.amount,
            reason=body.reason,
            reference=f"adjust:{uuid7()}",
            ip=ip,
        )
        return {"member_id": str(member_id), "balance": balance}

    result = await run_once(
        platform.db,
        platform.clock,
        scope="accounts.points-adjust",
        owner=str(principal.member_id),
        key=idempotency_key,
        fingerprint=request_fingerprint({"member_id": str(member_id), **body.model_dump()}),
        operation=operation,
    )
    return PointsAdjustOut.model_validate(result)
