"""Business rules of the catalog domain."""

from __future__ import annotations
