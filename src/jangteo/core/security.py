"""Password hashing (argon2id, off the event loop) and signed short-lived access tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import anyio.to_thread
import jwt
from argon2 import PasswordHasher as Argon2Hasher
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from jangteo.core.errors import define

# cache key prefix of sessions revoked before their access tokens expire
REVOKED_SESSION_KEY = "revoked-session:"

InvalidToken = define("invalid-token", 401, "The token is invalid or has expired.")


class PasswordHasher:
    def __init__(self, time_cost: int, memory_cost_kib: int, parallelism: int) -> None:
        self._hasher = Argon2Hasher(
            time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism, type=Type.ID
        )

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        def check() -> bool:
            try:
                return self._hasher.verify(password_hash, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

        return await anyio.to_thread.run_sync(check)

    async def burn(self) -> None:
        """Spend the time of one verification, so unknown emails take as long as wrong ones."""
        await anyio.to_thread.run_sync(self._hasher.hash, "timing-equaliser")

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)


@dataclass(frozen=True)
class Principal:
    """Who is calling: read from a verified access token."""

    member_id: uuid.UUID
    session_id: uuid.UUID
    roles: frozenset[str] = field(default_factory=frozenset)
    mfa: bool = False

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & {"staff", "admin"})

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


class TokenSigner:
    ALGORITHM = "HS256"

    def __init__(self, secret: str, access_ttl_seconds: int) -> None:
        self._secret = secret
        self.access_ttl = timedelta(seconds=access_ttl_seconds)

    def issue_access(self, principal: Principal, now: datetime) -> tuple[str, datetime]:
        expires = now + self.access_ttl
        claims = {
            "sub": str(principal.member_id),
            "sid": str(principal.session_id),
            "roles": sorted(principal.roles),
            "mfa": principal.mfa,
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
            "typ": "access",
        }
        return jwt.encode(claims, self._secret, algorithm=self.ALGORITHM), expires

    def read_access(self, token: str, now: datetime) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[self.ALGORITHM],
                # expiry is checked against the injected clock below, not the wall clock
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "require": ["sub", "sid", "exp"],
                },
            )
            if claims.get("typ") != "access" or claims["exp"] <= now.timestamp():
                raise InvalidToken()
            return Principal(
                member_id=uuid.UUID(claims["sub"]),
                session_id=uuid.UUID(claims["sid"]),
                roles=frozenset(claims.get("roles", ())),
                mfa=bool(claims.get("mfa")),
            )
        except (jwt.PyJWTError, ValueError, KeyError) as exc:
            raise InvalidToken() from exc

    def keyed_hash(self, value: str) -> str:
        """A hash of a secret token for storage (refresh tokens, recovery codes)."""
        return hmac.new(self._secret.encode(), value.encode(), hashlib.sha256).hexdigest()


def new_secret_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)
