"""HTTP API of coupons: my coupons, claiming by code, staff management."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["coupons"])
