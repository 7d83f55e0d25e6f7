"""Tables of the accounts domain."""

from __future__ import annotations
