"""FastAPI dependencies shared by every router: the platform, the caller, idempotency keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from jangteo.core.errors import Forbidden, MfaRequired, Unauthenticated
from jangteo.core.platform import Platform
from jangteo.core.security import REVOKED_SESSION_KEY, Principal


# dependencies are coroutines: FastAPI sends a plain function to the thread pool on every request
async def get_platform(request: Request) -> Platform:
    return request.app.state.platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


async def optional_principal(request: Request, platform: PlatformDep) -> Principal | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not token or scheme.lower() != "bearer":
        return None
    principal = platform.signer.read_access(token.strip(), platform.clock.now())
    # logging out or revoking a session takes effect at once, not when the token expires
    if await platform.cache.get(REVOKED_SESSION_KEY + str(principal.session_id)) is not None:
        raise Unauthenticated("The session has been revoked.")
    request.state.principal = principal
    return principal


async def current_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        raise Unauthenticated()
    return principal


def _privileged(*roles: str):  # type: ignore[no-untyped-def]
    async def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.roles & set(roles):
            raise Forbidden()
        if not principal.mfa:
            raise MfaRequired()
        return principal

    return check


OptionalMember = Annotated[Principal | None, Depends(optional_principal)]
CurrentMember = Annotated[Principal, Depends(current_principal)]
StaffMember = Annotated[Principal, Depends(_privileged("staff", "admin"))]
AdminMember = Annotated[Principal, Depends(_privileged("admin"))]
CreatorMember = Annotated[Principal, Depends(_privileged("creator", "staff", "admin"))]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
