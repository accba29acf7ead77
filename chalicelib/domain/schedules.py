"""EventBridge schedule expressions: `rate(...)` and `cron(...)`, their next tick.

Pure. Used by the local event pump (tools/event_pump.py, which plays
EventBridge for `@app.schedule` handlers) and by syncs, whose `schedule` is
the same language a user already knows from AWS.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

Step = Callable[[datetime], datetime | None]

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$", re.IGNORECASE)
_CRON = re.compile(r"^cron\((.*)\)$", re.IGNORECASE)
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {
    name: number
    for number, name in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
        start=1,
    )
}
# EventBridge numbers days of week 1-7 starting on Sunday.
_WEEKDAYS = {
    name: number
    for number, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], start=1)
}
_CRON_HORIZON_YEARS = 10  # beyond this, a cron expression is treated as never firing


def parse_schedule(expression: str) -> Step:
    """Parse an EventBridge `rate(...)` or `cron(...)` expression.

    Returns a function giving the next tick strictly after a time (UTC).
    Cron supports `*`, `?`, numbers, names (JAN, MON), lists, ranges and
    steps; the `L`, `W` and `#` forms raise ValueError."""
    text = expression.strip()
    rate = _RATE.match(text)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2).lower().rstrip("s")
        if value < 1:
            raise ValueError("a rate must be at least 1")
        interval = timedelta(seconds=value * _UNIT_SECONDS[unit])
        return lambda after: after + interval
    cron = _CRON.match(text)
    if cron:
        return _Cron(cron.group(1)).next_after
    raise ValueError("not a rate(...) or cron(...) expression")


class _Cron:
    """EventBridge cron: minutes hours day-of-month month day-of-week year (UTC)."""

    def __init__(self, fields_text: str) -> None:
        fields = fields_text.split()
        if len(fields) != 6:
            raise ValueError("cron needs 6 fields: min hour day-of-month month day-of-week year")
        minutes, hours, days, months, weekdays, years = fields
        self.minutes = _cron_field(minutes, 0, 59)
        self.hours = _cron_field(hours, 0, 23)
        self.days = _cron_field(days, 1, 31)
        self.months = _cron_field(months, 1, 12, _MONTHS)
        self.weekdays = _cron_field(weekdays, 1, 7, _WEEKDAYS)
        self.years = _cron_field(years, 1970, 2199)

    def next_after(self, after: datetime) -> datetime | None:
        # Walk forward, jumping a whole year/month/day/hour as soon as that
        # unit cannot match: a handful of iterations for usual expressions.
        t = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
        horizon = after.year + _CRON_HORIZON_YEARS
        while t.year <= horizon:
            if self.years is not None and t.year not in self.years:
                t = t.replace(year=t.year + 1, month=1, day=1, hour=0, minute=0)
            elif self.months is not None and t.month not in self.months:
                t = _first_of_next_month(t)
            elif not self._day_matches(t):
                t = t.replace(hour=0, minute=0) + timedelta(days=1)
            elif self.hours is not None and t.hour not in self.hours:
                t = t.replace(minute=0) + timedelta(hours=1)
            elif self.minutes is not None and t.minute not in self.minutes:
                t += timedelta(minutes=1)
            else:
                return t
        return None

    def _day_matches(self, t: datetime) -> bool:
        # EventBridge requires `?` in one of the two day fields; if both are
        # restricted anyway, require both.
        weekday = t.isoweekday() % 7 + 1  # Monday=1..Sunday=7 -> Sunday=1..Saturday=7
        day_ok = self.days is None or t.day in self.days
        weekday_ok = self.weekdays is None or weekday in self.weekdays
        return day_ok and weekday_ok


def _first_of_next_month(t: datetime) -> datetime:
    if t.month == 12:
        return t.replace(year=t.year + 1, month=1, day=1, hour=0, minute=0)
    return t.replace(month=t.month + 1, day=1, hour=0, minute=0)


def _cron_field(
    text: str, low: int, high: int, names: dict[str, int] | None = None
) -> frozenset[int] | None:
    """The values a cron field allows; None means any (`*` or `?`)."""
    if text in ("*", "?"):
        return None

    def value(token: str) -> int:
        if names and token.upper() in names:
            return names[token.upper()]
        if not token.isdigit():
            raise ValueError(f"unsupported cron token {token!r}")
        return int(token)

    allowed: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = value(step_text) if step_text else 1
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = value(first), value(last)
        else:
            start = value(base)
            # `5/15` means from 5 every 15; plain `5` means just 5.
            end = high if step_text else start
        if step < 1 or not low <= start <= end <= high:
            raise ValueError(f"cron field {text!r} out of range {low}-{high}")
        allowed.update(range(start, end + 1, step))
    return frozenset(allowed)
