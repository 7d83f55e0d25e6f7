"""Money is integer KRW. Rounding of discounts always favours the customer-visible total."""

from __future__ import annotations


def percent_of(amount: int, percent: int) -> int:
    """`percent` % of `amount`, rounded down to the won."""
    return amount * percent // 100


def format_krw(amount: int) -> str:
    return f"{amount:,}원"
