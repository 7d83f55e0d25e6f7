"""Public identifiers: time-ordered UUIDv7 and short human codes."""

from __future__ import annotations

import hashlib
import os
import secrets
import time
import uuid
from datetime import datetime

_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I


def uuid7() -> uuid.UUID:
    """A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits."""
    return _uuid7(time.time_ns() // 1_000_000, int.from_bytes(os.urandom(10), "big"))


def uuid7_for(moment: datetime, key: str) -> uuid.UUID:
    """A UUIDv7 of `moment` whose other bits come from `key`: the same moment and key always
    give the same id, so a job that runs twice writes the same row once, in time order."""
    digest = hashlib.sha256(key.encode()).digest()
    return _uuid7(int(moment.timestamp() * 1000), int.from_bytes(digest[:10], "big"))


def _uuid7(millis: int, rand: int) -> uuid.UUID:
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value)


def short_code(length: int = 8) -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(length))
