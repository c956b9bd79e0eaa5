"""The failures-per-hour chart of the Overview page, as geometry for a server-rendered SVG.

Pure: given the hours of the window (oldest first) with their failure counts and the spike
threshold per hour, return the bars, the threshold line and the day marks in the chart's own
coordinates (a viewBox WIDTH x HEIGHT; the SVG scales to the page's width). The vertical scale
fits the busiest hour; a threshold above it is drawn at the top edge and said to be off the
scale, so a quiet week still shows its shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

WIDTH = 840
HEIGHT = 220
TOP = 16  # room above the tallest bar for the threshold's label
BOTTOM = 20  # room below the bars for the day labels
LEFT = 36  # room for the scale's numbers


@dataclass(frozen=True)
class Bar:
    """One hour: where its bar is, its count, and whether it reaches the threshold."""

    x: float
    y: float
    width: float
    height: float
    hour: str
    failures: int
    over: bool


@dataclass(frozen=True)
class Chart:
    """What the template draws: bars, the threshold's height (y) and whether it is off the
    scale, the day marks (x, label), and the top of the scale."""

    bars: list[Bar]
    threshold: int
    threshold_y: float
    threshold_off_scale: bool
    days: list[tuple[float, str]]
    scale_top: int
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    base: int = HEIGHT - BOTTOM


def hours_of(start: datetime, count: int) -> list[datetime]:
    """Return `count` whole hours from `start` (truncated to its hour), oldest first."""
    first = start.replace(minute=0, second=0, microsecond=0)
    return [first + timedelta(hours=n) for n in range(count)]


def build(hours: list[datetime], failures: dict[str, int], threshold: int) -> Chart:
    """Lay out one bar per hour. `failures` maps "YYYY-MM-DDTHH:00Z" (stats.counts' hour
    names) to counts; `threshold` is failures per hour that raise `failures.spike`."""
    counts = [failures.get(hour.strftime("%Y-%m-%dT%H:00Z"), 0) for hour in hours]
    busiest = max(counts, default=0)
    scale_top = _nice(max(busiest, 1))
    if threshold and threshold <= scale_top * 1.5:
        scale_top = _nice(max(scale_top, threshold))
    span = HEIGHT - BOTTOM - TOP
    step = (WIDTH - LEFT) / max(len(hours), 1)
    base = HEIGHT - BOTTOM
    bars = []
    for index, (hour, count) in enumerate(zip(hours, counts, strict=True)):
        height = span * min(count, scale_top) / scale_top
        bars.append(
            Bar(
                x=round(LEFT + index * step, 2),
                y=round(base - height, 2),
                width=round(max(step - 1, 1), 2),
                height=round(height, 2),
                hour=hour.strftime("%Y-%m-%d %H:00 UTC"),
                failures=count,
                over=bool(threshold) and count >= threshold,
            )
        )
    off = threshold > scale_top
    threshold_y = TOP if off else base - span * threshold / scale_top
    days = [
        (round(LEFT + index * step, 2), hour.strftime("%a %d"))
        for index, hour in enumerate(hours)
        if hour.hour == 0 and LEFT + index * step < WIDTH - 40  # room for the label
    ]
    return Chart(bars, threshold, round(threshold_y, 2), off, days, scale_top)


def _nice(value: int) -> int:
    """Round a count up to 1, 2 or 5 times a power of ten (the top of a readable scale)."""
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            if value <= factor * magnitude:
                return factor * magnitude
        magnitude *= 10
