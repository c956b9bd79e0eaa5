"""The `bouncer` command line (click); thin over the store, imports heavy parts lazily."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

# Subcommands living in bouncer.cli, imported only when named (click's documented
# "lazily loading subcommands" pattern), so `bouncer classify` pays for none of them.
LAZY_COMMANDS = {
    "serve": "bouncer.cli.daemon:serve_cmd",
    "db": "bouncer.cli.database:db_group",
    "suppression": "bouncer.cli.suppression:suppression",
    "log": "bouncer.cli.records:log_cmd",
    "reprocess": "bouncer.cli.records:reprocess_cmd",
    "stats": "bouncer.cli.stats:stats_cmd",
    "events": "bouncer.cli.tracking:events_cmd",
    "deferrals": "bouncer.cli.tracking:deferrals_cmd",
    "resolve": "bouncer.cli.tracking:resolve_cmd",
    "sweep": "bouncer.cli.tracking:sweep_cmd",
    "verp": "bouncer.cli.verp:verp",
    "webhooks": "bouncer.cli.tracking:webhooks_cmd",
}


class LazyGroup(click.Group):
    """A click group whose subcommands named in LAZY_COMMANDS are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Return every subcommand name, lazy ones included, sorted."""
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Return a subcommand, importing it when it is a lazy one."""
        if cmd_name in LAZY_COMMANDS and cmd_name not in self.commands:
            import importlib

            module, attribute = LAZY_COMMANDS[cmd_name].split(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup)
@click.version_option(package_name="bouncer")
def main() -> None:
    """Bounce-processing SMTP sink: receive, classify and track delivery reports.

    Options taking a TIME accept a duration before now (30m, 1h, 7d, 2w; +4h: ahead) or
    ISO 8601 (2026-03-02, 2026-03-02T09:00:00Z; without a zone: UTC).
    """


@main.command("classify")
@click.option("--json", "as_json", is_flag=True, help="Print JSON Lines, one object per file.")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str))
def classify_cmd(as_json: bool, files: tuple[str, ...]) -> None:
    """Parse and classify saved messages (files or directories) offline, no database.

    Long lists are shared among the machine's cores; the output order is the files' order.
    """
    from bouncer.cli.batch import run_classify

    sys.exit(run_classify(files, as_json))


@main.command("explain")
@click.option("--json", "as_json", is_flag=True, help="Print JSON Lines, one object per file.")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str))
def explain_cmd(as_json: bool, files: tuple[str, ...]) -> None:
    """Show why messages are classified as they are: the part read and each rule that spoke."""
    from bouncer.cli.batch import expand_paths
    from bouncer.core.explain import as_text, explain_bytes

    missing = 0
    for name in expand_paths(files):
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
