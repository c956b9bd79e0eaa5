"""`bouncer verp encode|decode`: make and read signed VERP return paths."""

from __future__ import annotations

import sys

import click

from bouncer.cli.common import config_option, load_config


@click.group("verp")
def verp() -> None:
    """Signed VERP return paths (keys from the config's [verp] section)."""


@verp.command("encode")
@click.argument("recipient")
@click.option(
    "--bounce-address",
    help="Return path to sign under (default: bounces@ the first smtp.domains entry).",
)
@config_option
def encode_cmd(recipient: str, bounce_address: str | None, config_path: str | None) -> None:
    """Print the signed return path for mail to RECIPIENT."""
    from bouncer.clock import utcnow
    from bouncer.core.verp import day_number, encode

    config = load_config(config_path)
    key_id = config.verp.key_id
    if not key_id:
        raise click.ClickException("no signing key: set verp.keys and verp.key_id in the config")
    address = bounce_address or f"bounces@{config.smtp.domains[0]}"
    try:
        path = encode(
            recipient, address, key_id, config.verp.secrets()[key_id], day_number(utcnow())
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    click.echo(path)


@verp.command("decode")
@click.argument("address")
@config_option
def decode_cmd(address: str, config_path: str | None) -> None:
    """Show the recipient a return path names; exit 0 only when its signature is valid."""
    from bouncer.clock import utcnow
    from bouncer.core.verp import day_number, decode

    config = load_config(config_path)
    token = decode(address, config.verp.secrets(), day_number(utcnow()), config.verp.max_age.days)
    if token is None:
        click.echo(f"{address}: no VERP token")
        sys.exit(1)
    state = "valid" if token.valid else f"invalid ({token.problem})"
    click.echo(f"{token.recipient}  key={token.key_id}  day={token.day}  {state}")
    sys.exit(0 if token.valid else 1)
