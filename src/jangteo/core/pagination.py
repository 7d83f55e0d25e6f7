"""Cursor pagination: opaque cursors and the `{items, next_cursor}` shape of every list."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

import orjson
from pydantic import BaseModel

from jangteo.core.errors import define

T = TypeVar("T")
InvalidCursor = define("invalid-cursor", 400, "The cursor is not valid.")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(values: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


def id_cursor(last_id: uuid.UUID) -> str:
    """A cursor for lists ordered by their UUIDv7 id alone."""
    return encode_cursor({"id": str(last_id)})


def id_after(cursor: str | None) -> uuid.UUID | None:
    """The id an `id_cursor` points after (None for the first page)."""
    values = decode_cursor(cursor)
    if values is None:
        return None
    try:
        return uuid.UUID(str(values["id"]))
    except (KeyError, ValueError) as exc:
        raise InvalidCursor() from exc


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError) as exc:
        raise InvalidCursor() from exc
    if not isinstance(value, dict):
        raise InvalidCursor()
    return value


def cursor_keys(cursor: dict[str, Any], tag: str, types: Sequence[type]) -> list[Any]:
    """The keys of a decoded `{"s": tag, "k": [...]}` cursor, checked to belong to this list
    (its sort) and to be of the given types; datetimes must carry their zone."""
    keys = cursor.get("k")
    if cursor.get("s") != tag or not isinstance(keys, list) or len(keys) != len(types):
        raise InvalidCursor()
    values: list[Any] = []
    try:
        for value, kind in zip(keys, types, strict=True):
            if kind is datetime:
                values.append(datetime.fromisoformat(value))
            elif kind is uuid.UUID:
                values.append(uuid.UUID(value))
            elif kind is float:
                if not isinstance(value, int | float) or isinstance(value, bool):
                    raise TypeError(value)
                values.append(float(value))
            else:
                if not isinstance(value, kind) or isinstance(value, bool):
                    raise TypeError(value)
                values.append(value)
    except (TypeError, ValueError, AttributeError) as exc:
        raise InvalidCursor() from exc
    if any(isinstance(v, datetime) and v.tzinfo is None for v in values):
        raise InvalidCursor()
    return values
