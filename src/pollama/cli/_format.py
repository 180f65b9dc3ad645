"""How Ollama's CLI writes numbers, sizes, times and tables (its `format` package, tablewriter).

Shared by every verb that prints a table (`list`, `ps`, `show`), so they agree to the space.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

_PADDING = "    "


def human_bytes(size: int) -> str:
    """`format.HumanBytes`: decimal units; whole numbers past 10, else one decimal ("1.5 GB")."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            value = size / scale
            if value >= 10 or value == int(value):
                return f"{int(value)} {unit}"
            return f"{value:.1f} {unit}"
    return f"{size} B"


def human_number(n: int) -> str:
    """`format.HumanNumber`: parameter counts as "494.03M", "1.5B", "7B", "12K"."""
    if n >= 1_000_000_000:
        value = n / 1e9
        return f"{value:.0f}B" if value == int(value) else f"{value:.1f}B"
    if n >= 1_000_000:
        value = n / 1e6
        return f"{value:.0f}M" if value == int(value) else f"{value:.2f}M"
    if n >= 1_000:
        return f"{n / 1e3:.0f}K"
    return str(n)


def _human_duration(seconds: float) -> str:
    """`format.humanDuration`: "Less than a second", "About a minute", "3 hours", "2 weeks"..."""
    whole = int(seconds)
    if whole < 1:
        return "Less than a second"
    if whole == 1:
        return "1 second"
    if whole < 60:
        return f"{whole} seconds"
    minutes = whole // 60
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = round(seconds / 3600)
    if hours == 1:
        return "About an hour"
    for limit, divisor, unit in (
        (48, 1, "hours"),
        (24 * 7 * 2, 24, "days"),
        (24 * 30 * 2, 24 * 7, "weeks"),
        (24 * 365 * 2, 24 * 30, "months"),
    ):
        if hours < limit:
            return f"{hours // divisor} {unit}"
    return f"{hours // 24 // 365} years"


def human_time(when: datetime | None, zero_value: str, now: datetime | None = None) -> str:
    """`format.HumanTime`: "2 minutes ago", "4 minutes from now", "Forever" past ~20 years ahead."""
    if when is None:
        return zero_value
    if when.tzinfo is None:
        when = when.astimezone()
    delta = ((now or datetime.now(UTC)) - when).total_seconds()
    if int(delta / (3600 * 24 * 365)) < -20:
        return "Forever"
    if delta < 0:
        return _human_duration(-delta) + " from now"
    return _human_duration(delta) + " ago"


def table(rows: Sequence[Sequence[str]], header: Sequence[str] | None = None) -> Iterator[str]:
    """Rows as tablewriter prints them for Ollama: left-aligned, no borders, 4-space padding."""
    all_rows = [list(header)] if header else []
    all_rows += [list(r) for r in rows]
    if not all_rows:
        return
    columns = max(len(r) for r in all_rows)
    widths = [max((len(r[i]) for r in all_rows if i < len(r)), default=0) for i in range(columns)]
    for row in all_rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row)]
        yield _PADDING.join(cells).rstrip()
