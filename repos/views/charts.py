"""Geometry for the small server-rendered SVG charts (the templates draw them; no script, CSP-safe)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass
class Bar:
    label: str
    title: str
    x: float
    y: float
    width: float
    height: float
    url: str = ""


@dataclass
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[tuple[float, str, str]]  # (x, text, text-anchor)
    maximum: int = 0


def horizontal_bars(
    items: list[tuple[str, int, str, str]],
    *,
    width: int = 520,
    label_width: int = 130,
    value_width: int = 80,
    bar_height: int = 16,
    gap: int = 8,
) -> Chart:
    """`items`: (label, value, value as text, url). One bar per item, scaled to the largest."""
    maximum = max((value for _, value, _, _ in items), default=0)
    span = width - label_width - value_width
    bars = []
    for row, (label, value, text, url) in enumerate(items):
        length = span * value / maximum if maximum else 0
        bars.append(
            Bar(label, text, label_width, row * (bar_height + gap), max(length, 1 if value else 0), bar_height, url)
        )
    return Chart(width, max(len(items) * (bar_height + gap), bar_height), bars, [], maximum)


def day_columns(days: list[tuple[date, int]], *, width: int = 520, height: int = 120, axis: int = 18) -> Chart:
    """One column per day, scaled to the busiest day; labels under the first, middle and last day."""
    maximum = max((count for _, count in days), default=0)
    slot = width / max(len(days), 1)
    plot = height - axis
    bars = []
    for i, (day, count) in enumerate(days):
        tall = plot * count / maximum if maximum else 0
        bars.append(
            Bar(day.isoformat(), f"{day:%a %d %b}: {count} pushed", i * slot + 1, plot - tall, max(slot - 2, 1), tall)
        )
    ends = {0: ("start", 0.0), len(days) - 1: ("end", 1.0)}
    ticks = []
    for i in sorted({0, len(days) // 2, len(days) - 1}) if days else []:
        anchor, at = ends.get(i, ("middle", 0.5))
        ticks.append((bars[i].x + bars[i].width * at, f"{days[i][0]:%d %b}", anchor))
    return Chart(width, height, bars, ticks, maximum)
