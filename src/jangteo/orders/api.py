"""HTTP API of the orders domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1")
