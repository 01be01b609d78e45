"""The plan's periods: NHS financial years run April to March (FY2026/27 starts 2026-04-01).

``quarter`` / ``financial_year`` (and their starts, ``next_financial_year``, ``add_quarters``) place
the roadmap and the schedule in the trust's own periods; ``median`` is the KPIs' one statistic.
Pure functions of their arguments.
"""

from __future__ import annotations

from datetime import date


def quarter(day: date) -> str:
    """NHS financial-year quarter, e.g. 2027-02-01 -> ``FY2026/27 Q4`` (Q1 is April to June).

    Finance reads the roadmap against its own quarters; calendar quarters would put January in
    "Q1" where the trust's plan has it in Q4."""
    return f"{financial_year(day)} Q{(day.month - 4) % 12 // 3 + 1}"


def financial_year(day: date) -> str:
    """NHS financial year (1 April to 31 March), e.g. 2027-02-01 -> ``FY2026/27``."""
    start = day.year if day.month >= 4 else day.year - 1
    return f"FY{start}/{(start + 1) % 100:02d}"


def quarter_start(day: date) -> date:
    """First day of the (financial, so also calendar-aligned) quarter ``day`` falls in."""
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def financial_year_start(day: date) -> date:
    return date(day.year if day.month >= 4 else day.year - 1, 4, 1)


def next_financial_year(fy: str) -> str:
    """``FY2026/27`` -> ``FY2027/28``."""
    start = int(fy[2:6]) + 1
    return f"FY{start}/{(start + 1) % 100:02d}"


def add_quarters(day: date, n: int) -> date:
    months = day.year * 12 + day.month - 1 + 3 * n
    return date(months // 12, months % 12 + 1, 1)


def median(values: list[float]) -> float | None:
    if not values:
        return None
    s = sorted(values)
    mid = len(s) // 2
    return float(s[mid]) if len(s) % 2 else (s[mid - 1] + s[mid]) / 2.0
