"""Idempotency-Key handling: a retried request gets the first request's answer, once."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.core.clock import Clock
from jangteo.core.db import Database
from jangteo.core.errors import IdempotencyConflict, IdempotencyInProgress, InvalidInput
from jangteo.core.models import IdempotencyRecord

Operation = Callable[[AsyncSession], Awaitable[dict[str, Any]]]


def request_fingerprint(body: Any) -> str:
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


async def _stored(db: Database, scope: str, owner: str, key: str) -> IdempotencyRecord | None:
    async with db.read() as session:
        return await session.scalar(
            select(IdempotencyRecord).where(
                IdempotencyRecord.scope == scope,
                IdempotencyRecord.owner == owner,
                IdempotencyRecord.key == key,
            )
        )


def _replay(record: IdempotencyRecord, fingerprint: str) -> dict[str, Any]:
    if record.request_hash != fingerprint:
        raise IdempotencyConflict()
    if record.response is None:
        raise IdempotencyInProgress()
    return record.response


async def run_once(
    db: Database,
    clock: Clock,
    *,
    scope: str,
    owner: str,
    key: str | None,
    fingerprint: str,
    operation: Operation,
) -> dict[str, Any]:
    """Run `operation` in one transaction together with the key's record.

    The record is inserted first, so a concurrent retry waits on (PostgreSQL) or queues behind
    (SQLite) the first and then replays its stored answer. A failed operation stores nothing,
    so it can be retried with the same key.
    """
    if key is None:
        async with db.write() as session:
            return await operation(session)
    if not 1 <= len(key) <= 200:
        raise InvalidInput("Idempotency-Key must be 1 to 200 characters.")
    record = await _stored(db, scope, owner, key)
    if record is not None:
        return _replay(record, fingerprint)
    try:
        async with db.write() as session:
            record = IdempotencyRecord(
                scope=scope, owner=owner, key=key, request_hash=fingerprint, created_at=clock.now()
            )
            session.add(record)
            await session.flush()
            response = await operation(session)
            record.response = response
            record.status_code = 200
            return response
    except IntegrityError:
        record = await _stored(db, scope, owner, key)
        if record is None:
            raise
        return _replay(record, fingerprint)
