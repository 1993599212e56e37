"""The longest interval between two runs of an AWS schedule expression (``rate()``/``cron()``).

Secrets Manager rotation schedules (and EventBridge schedules) are ``rate(N unit)`` or
``cron(minutes hours day-of-month month day-of-week year)`` with AWS's cron syntax:
``*``, ``?``, lists, ranges, ``/`` steps, names (``JAN``, ``MON``), ``L`` and ``W`` in
the day of month, ``L`` and ``#`` in the day of week, day-of-week ``1`` = Sunday.

A cron expression fires at the same times on every day it matches, so the longest gap
between two runs is the longest gap between two matching days. Matching days are
enumerated over the 28 years from 2001, after which weekdays and leap years repeat (as
they do from 1901 to 2099); the cycle's first matching day, 28 years on, closes its
last gap.
An expression that stops firing (a bounded year field), never fires (30 February) or
cannot be read has no bound: :func:`longest_interval_days` raises
:class:`UnboundedSchedule`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable

__all__ = ["UnboundedSchedule", "longest_interval_days"]


class UnboundedSchedule(ValueError):
    """The expression cannot be bounded: unreadable, or it stops running."""


_RATE = re.compile(r"rate\(\s*(\d+)\s+(minutes?|hours?|days?)\s*\)", re.IGNORECASE)
_CRON = re.compile(r"cron\((.*)\)", re.IGNORECASE | re.DOTALL)
_UNIT_DAYS = {"minute": 1 / 1440, "hour": 1 / 24, "day": 1.0}
_MONTHS = {name.upper(): i for i, name in enumerate(calendar.month_abbr) if name}
#: AWS numbers days of the week from 1 = Sunday.
_WEEKDAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_START = dt.date(2001, 1, 1)
_CYCLE_YEARS = 28


def longest_interval_days(expression: str) -> float:
    """The longest time, in days, between two consecutive runs of ``expression``."""
    text = expression.strip()
    rate = _RATE.fullmatch(text)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2).lower().rstrip("s")
        if value < 1:
            raise UnboundedSchedule(f"{expression}: a rate of 0 never runs")
        return value * _UNIT_DAYS[unit]
    cron = _CRON.fullmatch(text)
    if not cron:
        raise UnboundedSchedule(f"{expression}: neither rate(...) nor cron(...)")
    return _cron_interval(expression, cron.group(1).split())


def _cron_interval(expression: str, fields: list[str]) -> float:
    if len(fields) != 6:
        raise UnboundedSchedule(f"{expression}: a cron expression has six fields")
    minutes, hours, dom, month, dow, year = fields
    if year not in ("*", "?"):
        raise UnboundedSchedule(f"{expression}: the year field {year!r} ends the schedule")
    _values(minutes, 0, 59, {}, expression)
    _values(hours, 0, 23, {}, expression)
    months = _values(month, 1, 12, _MONTHS, expression)
    if (dom == "?") == (dow == "?"):
        raise UnboundedSchedule(f"{expression}: exactly one of day-of-month, day-of-week is ?")
    matches = _day_of_month(dom, expression) if dow == "?" else _day_of_week(dow, expression)
    cycle = (dt.date(_START.year + _CYCLE_YEARS, 1, 1) - _START).days
    days = [
        offset
        for offset in range(cycle)
        if (day := _START + dt.timedelta(days=offset)).month in months and matches(day)
    ]
    if not days:
        raise UnboundedSchedule(f"{expression}: matches no day, so it never runs")
    # The cycle repeats: the first run of the next one closes the last gap.
    gaps = [b - a for a, b in zip(days, [*days[1:], days[0] + cycle], strict=True)]
    return float(max(gaps))


def _values(field: str, low: int, high: int, names: dict[str, int], expression: str) -> set[int]:
    """The numbers a plain cron field (no L, W or #) selects."""
    out: set[int] = set()
    for part in field.split(","):
        step = 1
        if "/" in part:
            part, _, raw_step = part.partition("/")
            step = _number(raw_step, {}, expression)
            if step < 1:
                raise UnboundedSchedule(f"{expression}: step {raw_step!r}")
        if part in ("*", "?"):
            first, last = low, high
        elif "-" in part:
            a, _, b = part.partition("-")
            first, last = _number(a, names, expression), _number(b, names, expression)
        else:
            first = _number(part, names, expression)
            last = high if step > 1 else first
        if not (low <= first <= high and low <= last <= high) or first > last:
            raise UnboundedSchedule(f"{expression}: {field!r} is outside {low}-{high}")
        out.update(range(first, last + 1, step))
    return out


def _number(text: str, names: dict[str, int], expression: str) -> int:
    if text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        raise UnboundedSchedule(f"{expression}: cannot read {text!r}")
    return int(text)


def _last_day(day: dt.date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def _nearest_weekday(day: dt.date, target: int) -> int:
    """The day of the month ``nW`` picks: the weekday nearest ``target``, same month."""
    last = _last_day(day)
    target = min(target, last)
    weekday = dt.date(day.year, day.month, target).weekday()  # Monday = 0
    if weekday == 5:  # Saturday: Friday before, or Monday after on the 1st
        return target - 1 if target > 1 else target + 2
    if weekday == 6:  # Sunday: Monday after, or Friday before on the last day
        return target + 1 if target < last else target - 2
    return target


def _day_of_month(field: str, expression: str) -> Callable[[dt.date], bool]:
    tests: list[Callable[[dt.date], bool]] = []
    plain: list[str] = []
    for part in field.split(","):
        upper = part.upper()
        if upper == "L":
            tests.append(lambda d: d.day == _last_day(d))
        elif upper == "LW":
            tests.append(lambda d: d.day == _nearest_weekday(d, _last_day(d)))
        elif upper.endswith("W") and upper[:-1].isdigit():
            target = int(upper[:-1])
            if not 1 <= target <= 31:
                raise UnboundedSchedule(f"{expression}: {part!r} is outside 1-31")
            tests.append(_nearest_weekday_of(target))
        else:
            plain.append(part)
    if plain:
        chosen = _values(",".join(plain), 1, 31, {}, expression)
        tests.append(lambda d: d.day in chosen)
    return lambda d: any(test(d) for test in tests)


def _nearest_weekday_of(target: int) -> Callable[[dt.date], bool]:
    return lambda day: day.day == _nearest_weekday(day, target)


def _aws_weekday(day: dt.date) -> int:
    return (day.isoweekday() % 7) + 1  # Sunday 1 ... Saturday 7


def _nth_weekday(weekday: int, nth: int) -> Callable[[dt.date], bool]:
    """``weekday#nth``: the nth such weekday of the month."""
    return lambda day: _aws_weekday(day) == weekday and (day.day - 1) // 7 + 1 == nth


def _last_weekday(weekday: int) -> Callable[[dt.date], bool]:
    """``weekdayL``: the last such weekday of the month."""
    return lambda day: _aws_weekday(day) == weekday and day.day + 7 > _last_day(day)


def _day_of_week(field: str, expression: str) -> Callable[[dt.date], bool]:
    tests: list[Callable[[dt.date], bool]] = []
    plain: list[str] = []
    for part in field.split(","):
        upper = part.upper()
        if "#" in upper:
            raw_day, _, raw_nth = upper.partition("#")
            weekday, nth = _number(raw_day, _WEEKDAYS, expression), _number(raw_nth, {}, expression)
            if not (1 <= weekday <= 7 and 1 <= nth <= 5):
                raise UnboundedSchedule(f"{expression}: {part!r}")
            tests.append(_nth_weekday(weekday, nth))
        elif upper.endswith("L") and len(upper) > 1:
            weekday = _number(upper[:-1], _WEEKDAYS, expression)
            if not 1 <= weekday <= 7:
                raise UnboundedSchedule(f"{expression}: {part!r}")
            tests.append(_last_weekday(weekday))
        elif upper == "L":
            tests.append(lambda d: _aws_weekday(d) == 7)
        else:
            plain.append(part)
    if plain:
        chosen = _values(",".join(plain), 1, 7, _WEEKDAYS, expression)
        tests.append(lambda d: _aws_weekday(d) in chosen)
    return lambda d: any(test(d) for test in tests)
