"""The longest gap between runs of rate() and cron() schedules (AWS-SECRETS-004's ruler)."""

from __future__ import annotations

import pytest
from aiscaffold_components.policies.aws._schedule import UnboundedSchedule, longest_interval_days


@pytest.mark.parametrize(
    ("expression", "days"),
    [
        ("rate(1 day)", 1),
        ("rate(30 days)", 30),
        ("rate(6 hours)", 0.25),
        ("rate(1440 minutes)", 1),
        ("cron(0 8 * * ? *)", 1),
        ("cron(0 0/4 * * ? *)", 1),  # several runs a day: gaps never exceed a day
        ("cron(0 0 ? * MON *)", 7),
        ("cron(0 0 ? * MON-FRI *)", 3),  # Friday to Monday
        ("cron(0 0 ? * SAT,SUN *)", 6),
        ("cron(0 0 1,15 * ? *)", 17),  # 15th to the 1st of a 31-day month
        ("cron(0 0 L * ? *)", 31),
        ("cron(0 0 31 * ? *)", 61),  # skips 30-day months and February
        ("cron(0 0 15W * ? *)", 32),  # the nearest weekday moves the run by a day
        ("cron(0 0 ? * 2#1 *)", 35),  # first Monday of the month
        ("cron(0 0 ? * 6L *)", 35),  # last Friday of the month
        ("cron(0 0 1 JAN ? *)", 366),
        ("cron(0 0 1 */3 ? *)", 92),
        ("cron(0 0 29 2 ? *)", 1461),  # leap days only, every four years
    ],
)
def test_longest_interval(expression: str, days: float) -> None:
    assert longest_interval_days(expression) == pytest.approx(days)


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("cron(0 0 1 * ? 2030)", "ends the schedule"),
        ("cron(0 0 30 2 ? *)", "never runs"),
        ("cron(0 0 * * *)", "six fields"),
        ("cron(0 0 1 * MON *)", "exactly one"),
        ("cron(0 0 32 * ? *)", "outside 1-31"),
        ("cron(0 25 * * ? *)", "outside 0-23"),
        ("rate(0 days)", "never runs"),
        ("rate(2 weeks)", "neither"),
        ("at(2030-01-01T00:00:00)", "neither"),
    ],
)
def test_expressions_without_a_bound(expression: str, reason: str) -> None:
    with pytest.raises(UnboundedSchedule, match=reason):
        longest_interval_days(expression)
