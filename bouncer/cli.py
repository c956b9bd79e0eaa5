"""The `bouncer` command line (click); thin over the store, imports heavy parts lazily."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.group()
@click.version_option(package_name="bouncer")
def main() -> None:
    """Bounce-processing SMTP sink: receive, classify and track delivery reports."""


def _register() -> None:
    """Attach the subcommands that live in bouncer.commands."""
    from bouncer.commands.daemon import serve_cmd
    from bouncer.commands.records import log_cmd, reprocess_cmd, stats_cmd
    from bouncer.commands.suppression import suppression
    from bouncer.commands.tracking import (
        deferrals_cmd,
        events_cmd,
        resolve_cmd,
        sweep_cmd,
        webhooks_cmd,
    )
    from bouncer.commands.verp import verp

    for command in (
        serve_cmd,
        suppression,
        log_cmd,
        reprocess_cmd,
        stats_cmd,
        events_cmd,
        deferrals_cmd,
        resolve_cmd,
        sweep_cmd,
        verp,
        webhooks_cmd,
    ):
        main.add_command(command)


def _expand(paths: tuple[str, ...]) -> list[str]:
    """Return the given files, with every directory replaced by the files beneath it, sorted."""
    files: list[str] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            files.extend(str(p) for p in sorted(path.rglob("*")) if p.is_file())
        else:
            files.append(name)
    return files


@main.command("classify")
@click.option("--json", "as_json", is_flag=True, help="Print JSON Lines, one object per file.")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str))
def classify_cmd(as_json: bool, files: tuple[str, ...]) -> None:
    """Parse and classify saved messages (files or directories) offline, no database."""
    import logging

    from bouncer.analyse import analyse_bytes

    logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)  # we fall back ourselves
    missing = 0
    out = sys.stdout
    for name in _expand(files):
        try:
            raw = Path(name).read_bytes()
        except FileNotFoundError:
            click.echo(f"bouncer: {name}: no such file", err=True)
            missing += 1
            continue
        except OSError as exc:
            click.echo(f"bouncer: {name}: {exc.strerror}", err=True)
            raw = b""
        result = analyse_bytes(raw)
        if as_json:
            out.write(json.dumps({"file": name, **result.as_dict()}, ensure_ascii=False) + "\n")
        else:
            out.write(result.as_text(name) + "\n")
    if missing:
        sys.exit(2)


@main.command("explain")
@click.option("--json", "as_json", is_flag=True, help="Print JSON Lines, one object per file.")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str))
def explain_cmd(as_json: bool, files: tuple[str, ...]) -> None:
    """Show why messages are classified as they are: the part read and each rule that spoke."""
    import logging

    from bouncer.explain import as_text, explain_bytes

    logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)
    missing = 0
    for name in _expand(files):
        try:
            raw = Path(name).read_bytes()
        except OSError as exc:
            click.echo(f"bouncer: {name}: {exc.strerror}", err=True)
            missing += 1
            continue
        explained = explain_bytes(raw)
        if as_json:
            sys.stdout.write(json.dumps({"file": name, **explained}, ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(as_text(name, explained) + "\n\n")
    if missing:
        sys.exit(2)


_register()
