"""Calendar days in a time zone for reports that count and sum per local day, in SQL.

A report of "orders per day in Seoul" groups UTC timestamps by the local date they fall on.
Neither a fixed offset (wrong across daylight saving) nor the database's own time-zone support
(SQLite has none) works on both of our databases, so the local midnights are computed here and
the database only compares timestamps with them: a CASE expression names the day of each row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, case, literal

from jangteo.core.errors import InvalidInput

MAX_REPORT_DAYS = 366


@dataclass(frozen=True)
class DayWindow:
    """Consecutive local days and the UTC instants where each starts (and the last ends)."""

    days: list[date]
    starts: list[datetime]
    end: datetime

    @property
    def start(self) -> datetime:
        return self.starts[0]


def local_midnight(day: date, tz: tzinfo) -> datetime:
    """The UTC instant at which `day` starts in `tz`."""
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def day_window(since: date, until: date, tz: tzinfo) -> DayWindow:
    """The local days from `since` to `until`, both included."""
    count = (until - since).days + 1
    if count < 1 or count > MAX_REPORT_DAYS:
        raise InvalidInput(f"A report covers 1 to {MAX_REPORT_DAYS} days.")
    days = [since + timedelta(days=n) for n in range(count)]
    starts = [local_midnight(day, tz) for day in days]
    return DayWindow(days=days, starts=starts, end=local_midnight(until + timedelta(days=1), tz))


def day_of(column: ColumnElement[Any], window: DayWindow) -> ColumnElement[str]:
    """The ISO local date (`2026-11-24`) of `column`'s timestamp, for rows inside `window`.

    Rows must already be limited to `window.start <= column < window.end`; the expression is
    meant to be labelled in a subquery and grouped on outside it (PostgreSQL does not treat two
    copies of an expression with bound parameters as the same GROUP BY key).
    """
    whens = [
        (column < next_start, literal(day.isoformat()))
        for day, next_start in zip(window.days, [*window.starts[1:], window.end], strict=True)
    ]
    return case(*whens, else_=literal(window.days[-1].isoformat()))


def by_day(rows: Sequence[Any], window: DayWindow) -> dict[date, Any]:
    """Rows keyed by their `day` column (an ISO date string) turned back into dates."""
    found = {date.fromisoformat(str(row.day)): row for row in rows}
    return {day: found.get(day) for day in window.days}
