"""`bouncer stats`: counts over a time window; --by one bucket, or hour by hour with bars.

The summary (default) counts messages, failures by class, the top reasons and domains, open
deferrals and active suppressions. `--by reason|class|kind|domain` lists failures per bucket,
most first; `--by hour` prints every hour of the window, quiet ones included, each with a bar
as long as its share of the busiest hour, so that a spike stands out at a glance.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import click

from bouncer.cli.common import MOMENT, command_now, open_store, print_json_lines, store_options
from bouncer.cli.tables import Table

BAR_WIDTH = 40  # characters of the longest bar
BAR = "▇"
BUCKET_NAMES = ("reason", "class", "kind", "domain", "hour")


@click.command("stats")
@click.option(
    "--since",
    type=MOMENT,
    help="Count from this time (default: 24h, a day ago); e.g. 7d, 1h, 2026-03-02.",
)
@click.option(
    "--until", type=MOMENT, help="Count up to this time (default: now); e.g. 7d, 1h, 2026-03-02."
)
@click.option(
    "--by",
    "bucket",
    type=click.Choice(BUCKET_NAMES),
    help="Failures per reason, class, kind, domain, or hour by hour with bars.",
)
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True,
              help="At most this many buckets (not for --by hour).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print JSON (--by: JSON Lines).")
@store_options
def stats_cmd(
    since: str | None,
    until: str | None,
    bucket: str | None,
    limit: int,
    as_json: bool,
    config,  # noqa: ANN001
    db_path: str,
) -> None:
    """Counts: messages, failures by class, top reasons and domains, open deferrals.

    With --by, failures (hard and soft records) per bucket instead.
    """
    from bouncer.clock import from_iso, to_iso

    now = command_now()
    start = from_iso(since) or now - timedelta(days=1)
    end = from_iso(until) or now
    db = open_store(db_path)
    if bucket == "hour":
        _by_hour(db, start, end, as_json)
    elif bucket:
        _by_bucket(db, bucket, to_iso(start), to_iso(end), limit, as_json)
    else:
        _summary(db, to_iso(start), now, as_json)


def _summary(db, start: str, now: datetime, as_json: bool) -> None:  # noqa: ANN001
    """Print the summary counts since `start`."""
    from bouncer.store.stats import summary

    counts = summary(db, start, now)
    if as_json:
        print_json_lines([counts])
        return
    click.echo(f"since {counts['since']}")
    for section in ("messages", "kinds", "classes", "reasons", "domains"):
        cells = ", ".join(f"{key} {value}" for key, value in counts[section].items())
        click.echo(f"  {section + ':':<12} {cells or '-'}")
    click.echo(
        f"  open deferrals: {counts['open_deferrals']}, "
        f"active suppressions: {counts['active_suppressions']}"
    )


def _by_bucket(db, bucket: str, start: str, end: str, limit: int, as_json: bool) -> None:  # noqa: ANN001
    """Print failures per bucket, most first, saying so on stderr when more buckets exist."""
    from bouncer.store.stats import counts

    found = counts(db, bucket, start, end, limit=limit + 1)
    if len(found) > limit:
        found = found[:limit]
        click.echo(f"bouncer: showing the {limit} largest; more remain (use --limit)", err=True)
    _print_counts(bucket, found, as_json)


def _by_hour(db, start: datetime, end: datetime, as_json: bool) -> None:  # noqa: ANN001
    """Print failures for every whole hour from the one `start` falls in up to `end`."""
    from bouncer.clock import to_iso
    from bouncer.store.stats import counts

    first = start.replace(minute=0, second=0, microsecond=0)
    hours = every_hour(first, end)
    found = dict(counts(db, "hour", to_iso(first), to_iso(end), limit=len(hours) + 1))
    _print_counts("hour", [(hour, found.get(hour, 0)) for hour in hours], as_json)


def _print_counts(bucket: str, pairs: list[tuple[str, int]], as_json: bool) -> None:
    """Print (bucket, failures) pairs as JSON Lines or a table with a bar per row."""
    if as_json:
        print_json_lines({bucket: name, "failures": count} for name, count in pairs)
        return
    most = max((count for _, count in pairs), default=0)
    rows = [{bucket: name, "failures": count, "": bar(count, most)} for name, count in pairs]
    Table((bucket, "failures", "")).print(rows)


def every_hour(first: datetime, end: datetime) -> list[str]:
    """Name each hour from `first` (on the hour) up to `end` as store.stats.counts does:
    "YYYY-MM-DDTHH:00Z". An empty list when `end` is not after `first`."""
    hours = []
    moment = first
    while moment < end:
        hours.append(moment.strftime("%Y-%m-%dT%H:00Z"))
        moment += timedelta(hours=1)
    return hours


def bar(count: int, most: int, width: int = BAR_WIDTH) -> str:
    """Return a bar of `width` characters for `most`, in proportion for `count`.

    Any count above zero gets at least one character; zero gets none.
    """
    if count <= 0 or most <= 0:
        return ""
    return BAR * max(1, round(count / most * width))
