"""The FOMC's target range for the federal funds rate, day by day: the public record the emulated funding rates,
IORB and reverse-repo rate are built on (effective the day after each decision)."""

from __future__ import annotations

import bisect
from datetime import date

# (effective date, lower bound %, upper bound %)
TARGET_RANGE = (
    (date(2015, 12, 17), 0.25, 0.50),
    (date(2016, 12, 15), 0.50, 0.75),
    (date(2017, 3, 16), 0.75, 1.00),
    (date(2017, 6, 15), 1.00, 1.25),
    (date(2017, 12, 14), 1.25, 1.50),
    (date(2018, 3, 22), 1.50, 1.75),
    (date(2018, 6, 14), 1.75, 2.00),
    (date(2018, 9, 27), 2.00, 2.25),
    (date(2018, 12, 20), 2.25, 2.50),
    (date(2019, 8, 1), 2.00, 2.25),
    (date(2019, 9, 19), 1.75, 2.00),
    (date(2019, 10, 31), 1.50, 1.75),
    (date(2020, 3, 4), 1.00, 1.25),
    (date(2020, 3, 16), 0.00, 0.25),
    (date(2022, 3, 17), 0.25, 0.50),
    (date(2022, 5, 5), 0.75, 1.00),
    (date(2022, 6, 16), 1.50, 1.75),
    (date(2022, 7, 28), 2.25, 2.50),
    (date(2022, 9, 22), 3.00, 3.25),
    (date(2022, 11, 3), 3.75, 4.00),
    (date(2022, 12, 15), 4.25, 4.50),
    (date(2023, 2, 2), 4.50, 4.75),
    (date(2023, 3, 23), 4.75, 5.00),
    (date(2023, 5, 4), 5.00, 5.25),
    (date(2023, 7, 27), 5.25, 5.50),
    (date(2024, 9, 19), 4.75, 5.00),
    (date(2024, 11, 8), 4.50, 4.75),
    (date(2024, 12, 19), 4.25, 4.50),
    (date(2025, 9, 18), 4.00, 4.25),
    (date(2025, 10, 30), 3.75, 4.00),
)
_STARTS = [d for d, _, _ in TARGET_RANGE]
IORB_START = date(2021, 7, 29)  # interest on reserve balances replaced IOER
RRP_AT_BOTTOM = date(2024, 12, 19)  # the ON RRP rate moved from bottom + 5 bp to the bottom of the range


def target_range(day: date) -> tuple[float, float]:
    i = bisect.bisect_right(_STARTS, day) - 1
    if i < 0:
        return 0.0, 0.25
    _, lower, upper = TARGET_RANGE[i]
    return lower, upper


def iorb(day: date) -> float:
    """IORB has sat 10 bp below the top of the range since it began (0.15% at 0-0.25%)."""
    _, upper = target_range(day)
    return round(upper - 0.10, 2)


def rrp_rate(day: date) -> float:
    lower, _ = target_range(day)
    return round(lower + (0.0 if day >= RRP_AT_BOTTOM else 0.05), 2)
