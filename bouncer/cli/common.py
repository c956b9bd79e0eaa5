"""Shared CLI plumbing: --db/--config options, opening the store, time options, JSON Lines."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from bouncer.config import Config, ConfigError, load


class Unavailable(click.ClickException):
    """The command cannot answer (bad config, missing or unreadable database): exit status 3.

    Kept apart from 1, which `suppression show` uses for "not suppressed".
    """

    exit_code = 3


config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Config file (default: $BOUNCER_CONFIG, else built-in defaults).",
)


def store_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add --db (alias --database) and --config (with BOUNCER_DB / BOUNCER_CONFIG fallbacks)
    to a command."""

    @config_option
    @click.option(
        "--db",
        "--database",
        "db_path",
        metavar="PATH|URL",
        help="The store: a SQLite file (or sqlite:///PATH), or postgresql://USER@HOST/DB "
        "(default: $BOUNCER_DB, else the config's store.url or store.path).",
    )
    @functools.wraps(command)
    def wrapper(*args: Any, config_path: str | None, db_path: str | None, **kwargs: Any) -> Any:
        config = load_config(config_path)
        chosen = db_path or os.environ.get("BOUNCER_DB") or config.db_path
        return command(*args, config=config, db_path=chosen, **kwargs)

    return wrapper


def load_config(path: str | None) -> Config:
    """Load the config or exit with its error message."""
    try:
        return load(path)
    except ConfigError as exc:
        raise Unavailable(str(exc)) from exc


def open_store(db_path: str, *, create: bool = False, config: Config | None = None):  # noqa: ANN201
    """Open the database for a command, or exit with a clear message.

    With `config`, a database created here gets the config's address rule, and an existing one
    must have it. `create` creates a missing database only at a location the user chose (--db,
    $BOUNCER_DB, the config's store): the built-in default is a path relative to the working
    directory, where a command run from the wrong directory would start a list of its own.
    """
    from bouncer.store import StoreError, open_db

    if create and db_path == Config().db_path and not Path(db_path).exists():
        create = False  # the default location and nothing there: say so, create nothing
    try:
        return open_db(db_path, create=create, identity=config.identity if config else None)
    except StoreError as exc:
        raise Unavailable(str(exc)) from exc


def operator() -> str:
    """Return who runs this command, as changes record it: 'cli:<login name>'."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):
        return "cli:unknown"


by_option = click.option(
    "--by",
    default=None,
    help="Who makes the change, for the record (default: cli:<your login name>).",
)


def print_json_lines(rows: Iterable[dict]) -> None:
    """Print one JSON object per line."""
    write = sys.stdout.write
    for row in rows:
        write(json.dumps(row, ensure_ascii=False, default=str) + "\n")


def shown(rows: list[dict], limit: int | None, what: str, hint: str = "--limit") -> list[dict]:
    """Return the first `limit` rows; say on stderr when more were found (fetch limit + 1).

    `what` names the rows as shown, e.g. "newest records"; `hint` the options that show more.
    """
    if limit is None or len(rows) <= limit:
        return rows
    click.echo(f"bouncer: showing the {limit} {what}; more match (use {hint})", err=True)
    return rows[:limit]


def log_to_stderr(config: Config) -> None:
    """Send event log lines to stderr so they never mix with a command's output."""
    from bouncer.logs import configure

    configure(config.log_format, config.log_level, to="stderr")


def command_now() -> datetime:
    """Return the time this command runs at: the clock read once per invocation.

    Relative times on the command line ("--since 7d") and the command itself use this one
    reading, so they agree.
    """
    from bouncer.clock import utcnow

    context = click.get_current_context(silent=True)
    if context is None:
        return utcnow()
    return context.find_root().meta.setdefault("bouncer.now", utcnow())


class Moment(click.ParamType):
    """A time option: "30m", "1h", "7d", "2w" before now, or ISO 8601 (naive: UTC).

    Converts to the stored ISO text (`bouncer.clock.to_iso`); a bad value is click's one-line
    usage error naming the option. With `ahead`, a bare duration counts forward (an expiry).
    """

    name = "time"

    def __init__(self, *, ahead: bool = False) -> None:
        self.ahead = ahead

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        """Return the ISO text of the moment `value` names."""
        from bouncer.clock import to_iso
        from bouncer.core.timespec import parse_moment

        try:
            return to_iso(parse_moment(str(value), command_now(), ahead=self.ahead))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


MOMENT = Moment()
