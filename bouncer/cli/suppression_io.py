"""`bouncer suppression export` and `import`: the list to and from CSV or JSON Lines files.

The file format is bouncer.core.suppression_file's; what an import does to each entry is
bouncer.app.importing's.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import IO

import click

from bouncer.cli.common import (
    by_option,
    command_now,
    log_to_stderr,
    open_store,
    operator,
    store_options,
)
from bouncer.cli.progress import progress_bar

SHOWN_PROBLEMS = 20  # bad rows listed one by one; the rest are counted


@click.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json"]),
    default="csv",
    show_default=True,
    help="CSV with a header line, or JSON Lines.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    help="Write to this file (replaced whole when done) instead of stdout.",
)
@store_options
def export_cmd(fmt: str, output: str | None, config, db_path: str) -> None:  # noqa: ANN001
    """Write the active suppressions, in address order, as CSV or JSON Lines.

    The fields are those `import` reads, so an export imported into another database gives
    the same export there.
    """
    from bouncer.core.suppression_file import csv_lines, json_lines
    from bouncer.store import suppression_bulk

    db = open_store(db_path)
    entries = suppression_bulk.active(db, command_now())
    lines = csv_lines(entries) if fmt == "csv" else json_lines(entries)
    if output is None:
        sys.stdout.writelines(lines)
        return
    _write_whole(Path(output), lines)


def _write_whole(path: Path, lines) -> None:  # noqa: ANN001
    """Write lines to a new file beside `path`, then put it in its place."""
    handle, name = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.writelines(lines)
        os.replace(name, path)
    except BaseException:
        os.unlink(name)
        raise


@click.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json"]),
    default=None,
    help="CSV with a header line, or JSON Lines (default: JSON Lines when the file starts "
    "with '{', else CSV).",
)
@click.option("--reason", "why", default=None, help="Why, for the record of each change.")
@by_option
@store_options
def import_cmd(
    file: IO[str],
    fmt: str | None,
    why: str | None,
    by: str | None,
    config,  # noqa: ANN001
    db_path: str,
) -> None:
    """Add or update suppressions from a CSV or JSON Lines FILE ("-": stdin).

    Fields: address and reason, and any of final_recipient, class, source, first_seen,
    last_seen, count, status, diagnostic, expires_at, note. An entry equal to the stored one
    is skipped, a different one updated, a new one added: importing twice changes nothing.
    Each change is recorded with who and why, as `add` records it. A bad row (named with its
    line and field) means nothing is imported (exit status 1).
    """
    from bouncer.app.importing import ImportRefused, import_entries
    from bouncer.core.suppression_file import guess_format, read

    log_to_stderr(config)
    name = str(getattr(file, "name", "<stdin>"))
    lines = file.readlines()
    entries, problems = read(lines, fmt or guess_format(lines[0] if lines else ""))
    if problems:
        _refuse(name, problems)
    db = open_store(db_path, create=True, config=config)
    why = why or f"imported from {Path(name).name}"
    try:
        with progress_bar(len(entries), "importing") as advance:
            done = import_entries(db, entries, command_now(), by or operator(), why, advance)
    except ImportRefused as refused:
        _refuse(name, refused.problems)
    line = f"added {done.added}, updated {done.updated}, skipped {done.skipped}"
    click.echo(line + (f" ({done.expired} already expired)" if done.expired else ""))


def _refuse(name: str, problems: list) -> None:
    """Name the bad rows on stderr and exit 1: nothing was imported."""
    for problem in problems[:SHOWN_PROBLEMS]:
        click.echo(f"bouncer: {name}: {problem}", err=True)
    more = len(problems) - SHOWN_PROBLEMS
    if more > 0:
        click.echo(f"bouncer: {name}: ... and {more} more bad row(s)", err=True)
    click.echo(f"bouncer: nothing imported: {len(problems)} bad row(s)", err=True)
    sys.exit(1)
