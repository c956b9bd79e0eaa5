"""`bouncer serve`: run the SMTP daemon."""

from __future__ import annotations

import click

from bouncer.commands.common import Unavailable, config_option, load_config


@click.command("serve")
@config_option
@click.option("--listen", help="HOST:PORT to listen on (overrides smtp.listen).")
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    help="SQLite database (overrides store.path and $BOUNCER_DB).",
)
@click.option(
    "--domain",
    "domains",
    multiple=True,
    help="Accept bounces for this domain (repeatable; overrides smtp.domains).",
)
def serve_cmd(
    config_path: str | None, listen: str | None, db_path: str | None, domains: tuple[str, ...]
) -> None:
    """Receive bounces over SMTP, store, classify and track them."""
    import asyncio
    import os

    from bouncer.config import ConfigError, split_listen, with_overrides
    from bouncer.logs import configure
    from bouncer.service import serve
    from bouncer.store import StoreError

    config = load_config(config_path)
    if listen:
        try:
            split_listen(listen)
        except ConfigError as exc:
            raise click.BadParameter(str(exc), param_hint="--listen") from exc
    config = with_overrides(
        config,
        listen=listen,
        domains=tuple(domains) or None,
        db_path=db_path or os.environ.get("BOUNCER_DB"),
    )
    configure(config.log_format, config.log_level)
    try:
        asyncio.run(serve(config))
    except StoreError as exc:
        raise Unavailable(str(exc)) from exc
    except OSError as exc:  # the listener: port in use, no permission, address not on the host
        reason = exc.strerror or str(exc)
        raise Unavailable(f"cannot listen on {config.smtp.listen}: {reason}") from exc
