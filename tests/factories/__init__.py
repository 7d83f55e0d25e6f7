"""Explicit test factories, one module per domain."""
