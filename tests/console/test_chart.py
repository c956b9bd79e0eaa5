"""The overview chart's geometry (pure), and the console's files found as package data."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources

from bouncer.console import chart

START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_bars_scale_to_the_busiest_hour_and_mark_those_over_the_threshold() -> None:
    hours = chart.hours_of(START, 24)
    assert hours[0] == datetime(2026, 3, 2, 9, tzinfo=UTC) and len(hours) == 24
    drawn = chart.build(hours, {"2026-03-02T10:00Z": 40, "2026-03-02T12:00Z": 100}, 50)
    assert drawn.scale_top == 100 and not drawn.threshold_off_scale
    tall = [bar for bar in drawn.bars if bar.failures]
    assert [(b.failures, b.over) for b in tall] == [(40, False), (100, True)]
    assert tall[1].height == 2.5 * tall[0].height and tall[1].y < tall[0].y
    assert tall[1].y < drawn.threshold_y < tall[0].y
    assert [label for _, label in drawn.days] == ["Tue 03"]


def test_a_threshold_far_above_a_quiet_week_is_drawn_at_the_top_and_said_to_be() -> None:
    drawn = chart.build(chart.hours_of(START, 168), {"2026-03-03T00:00Z": 3}, 1000)
    assert drawn.scale_top == 5 and drawn.threshold_off_scale
    assert drawn.threshold_y == chart.TOP
    assert chart.build(chart.hours_of(START, 2), {}, 0).threshold == 0


def test_templates_and_the_stylesheet_ship_as_package_data() -> None:
    files = resources.files("bouncer.console")
    for name in ("base", "login", "log", "message", "suppressions", "overview", "error"):
        assert files.joinpath(f"templates/{name}.html").is_file(), name
    assert "font" in files.joinpath("static/console.css").read_text(encoding="utf-8")
