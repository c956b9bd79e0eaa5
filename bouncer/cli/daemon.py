"""`bouncer serve`: run the SMTP daemon and its HTTP API.

Start-up failures end with one log line naming the cause and an exit status from sysexits(3),
so systemd (RestartPreventExitStatus=78) and scripts can tell them apart:

| status | meaning |
|---|---|
| 78 EX_CONFIG | the configuration is wrong (a key, a value) |
| 77 EX_NOPERM | no permission to listen on the address (port 25 needs CAP_NET_BIND_SERVICE) |
| 73 EX_CANTCREAT | the database cannot be created, opened or written |
| 69 EX_UNAVAILABLE | the address is in use, or not (yet) on this host |
| 65 EX_DATAERR | the database is not a bouncer database, is corrupt, or is newer than the code |
"""

from __future__ import annotations

import errno
import sys

import click

from bouncer.cli.common import config_option, load_config

EX_DATAERR, EX_UNAVAILABLE, EX_CANTCREAT, EX_NOPERM, EX_CONFIG = 65, 69, 73, 77, 78
_STORE_STATUS = {"open": EX_CANTCREAT, "data": EX_DATAERR, "config": EX_CONFIG}
_BIND_STATUS = {
    errno.EADDRINUSE: EX_UNAVAILABLE,
    errno.EADDRNOTAVAIL: EX_UNAVAILABLE,  # may come up later at boot: systemd retries
    errno.EACCES: EX_NOPERM,
    errno.EPERM: EX_NOPERM,
}


class ConfigProblem(click.ClickException):
    """A configuration error before logging is set up: one line, exit status EX_CONFIG."""

    exit_code = EX_CONFIG


@click.command("serve")
@config_option
@click.option("--listen", help="HOST:PORT to listen on (overrides smtp.listen).")
@click.option(
    "--db",
    "--database",
    "db_path",
    metavar="PATH|URL",
    help="The store: a SQLite file (or sqlite:///PATH), or postgresql://USER@HOST/DB "
    "(overrides store.url, store.path and $BOUNCER_DB).",
)
@click.option(
    "--domain",
    "domains",
    multiple=True,
    help="Accept bounces for this domain (repeatable; overrides smtp.domains).",
)
@click.option("--http", "http", help="HOST:PORT of the HTTP API (overrides http.listen).")
@click.option(
    "--token",
    "tokens",
    multiple=True,
    metavar="NAME:SCOPE:SECRET",
    help="An API token, scope read or admin (repeatable; replaces http.tokens).",
)
def serve_cmd(
    config_path: str | None,
    listen: str | None,
    db_path: str | None,
    domains: tuple[str, ...],
    http: str | None,
    tokens: tuple[str, ...],
) -> None:
    """Receive bounces over SMTP, store, classify and track them; serve the HTTP API."""
    from bouncer.daemon.eventloop import run
    from bouncer.daemon.service import serve
    from bouncer.logs import configure

    config = _config(config_path, listen, db_path, domains)
    config = _with_api(config, http, tokens)
    configure(config.log_format, config.log_level)
    try:
        run(serve(config))
    except Exception as exc:  # noqa: BLE001 - start-up failures end in one line and a status
        status, cause = _failure(exc, getattr(exc, "address", None) or config.smtp.listen)
        if status is None:
            raise
        import structlog

        structlog.get_logger("bouncer.service").error(
            "service.start_failed", cause=cause, exit_status=status
        )
        sys.exit(status)


def _config(config_path, listen, db_path, domains):  # noqa: ANN001, ANN202
    """Load the configuration with the command line's overrides, or fail with EX_CONFIG."""
    import os

    from bouncer.cli.common import Unavailable
    from bouncer.config import ConfigError, split_listen, with_overrides
    from bouncer.config.schema import domain_problem

    try:
        config = load_config(config_path)
        if listen:
            split_listen(listen)
    except (Unavailable, ConfigError) as exc:
        raise ConfigProblem(str(exc.message if isinstance(exc, Unavailable) else exc)) from exc
    for domain in domains:
        if problem := domain_problem(domain):
            raise ConfigProblem(f"--domain: {problem}")
    return with_overrides(
        config,
        listen=listen,
        domains=tuple(domains) or None,
        db_path=db_path or os.environ.get("BOUNCER_DB"),
    )


def _with_api(config, http: str | None, tokens: tuple[str, ...]):  # noqa: ANN001, ANN202
    """Apply --http and --token to the configuration, or fail with EX_CONFIG."""
    from dataclasses import replace

    from bouncer.config import ConfigError, parse_token, split_listen

    try:
        if http:
            split_listen(http)
        parsed = tuple(parse_token(token) for token in tokens)
    except ConfigError as exc:
        raise ConfigProblem(str(exc)) from exc
    changes: dict = {"listen": http} if http else {}
    if parsed:
        changes["tokens"] = parsed
    return replace(config, http=replace(config.http, **changes)) if changes else config


def _failure(exc: Exception, listen: str) -> tuple[int | None, str]:
    """Return the exit status and the one-line cause of a start-up failure (None: unknown)."""
    from bouncer.config import ConfigError
    from bouncer.store import StoreError

    if isinstance(exc, ConfigError):
        return EX_CONFIG, str(exc)
    if isinstance(exc, StoreError):
        return _STORE_STATUS.get(exc.kind, EX_DATAERR), str(exc)
    if isinstance(exc, OSError):
        cause = f"cannot listen on {listen}: {exc.strerror or exc}"
        return _BIND_STATUS.get(exc.errno or 0, EX_CONFIG), cause
    return None, str(exc)
