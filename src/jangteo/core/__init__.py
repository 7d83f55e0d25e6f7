"""Shared mechanisms without business rules."""
