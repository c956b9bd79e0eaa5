"""Load and validate the TOML configuration; defaults for every key.

The program uses the frozen dataclasses below (`Config` and its sections), which hold the
built-in defaults. A config file is checked against a schema of msgspec Structs
(bouncer.config.schema), the one place that says which keys exist and what each may hold; the
keys a file sets then replace the defaults, and a few rules that tie keys together are checked
last (bouncer.config.rules). Every error is one line naming the key, what is allowed and what
the file has. Those two modules, and msgspec, are imported only when a file is read: most
commands import this module, and many run without a file.
"""

import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from bouncer.core import timespec
from bouncer.core.addresses import Identity
from bouncer.core.tracker_types import Policy

CLASS_NAMES = ("hard", "soft", "none")
# Every reason the classifier can give (Sisimai's vocabulary as bouncer uses it): the keys
# allowed in [classify] class_overrides. Listed here rather than imported so that loading a
# config does not load the rule tables; tests/test_config.py checks it against them.
REASON_NAMES = (
    "authfailure", "badreputation", "blocked", "contenterror", "delivered", "exceedlimit",
    "expired", "failedstarttls", "feedback", "filtered", "hasmoved", "hostunknown",
    "mailboxfull", "mailererror", "mesgtoobig", "networkerror", "norelaying", "notaccept",
    "notcompliantrfc", "onhold", "policyviolation", "rejected", "requireptr", "securityerror",
    "spamdetected", "speeding", "suspend", "syntaxerror", "systemerror", "systemfull",
    "toomanyconn", "undefined", "userunknown", "vacation", "virusdetected",
)  # fmt: skip
LOG_FORMATS = ("auto", "json", "console")
TOKEN_SCOPES = ("read", "admin")
LOG_LEVELS = ("debug", "info", "warning", "error")
_POLICY = Policy()
_RETIRED = {
    "tracker.expired_ttl": "a give-up by timer no longer suppresses the address (README, "
    "'Decision rules'); remove the key",
}


class ConfigError(ValueError):
    """A configuration value is missing, of the wrong type, or out of range."""


@dataclass(frozen=True)
class SmtpConfig:
    """Listener and limits of the SMTP server."""

    listen: str = "127.0.0.1:2525"
    hostname: str = "bouncer.localhost"
    domains: tuple[str, ...] = ("localhost",)
    max_message_size: int = 10_240_000
    max_recipients: int = 1000
    max_connections: int = 100
    max_connections_per_ip: int = 20  # Postfix smtpd_client_connection_count_limit, scaled
    junk_command_limit: int = 100  # commands outside a transaction (Postfix's default 100)
    session_lifetime: float = 1800.0  # seconds a session may last in all
    timeout: float = 300.0  # seconds a client may stay silent (also between DATA lines)
    data_timeout: float = 600.0  # seconds the whole DATA phase may take (RFC 5321: 10 min)
    tls_cert: str = ""  # PEM certificate for STARTTLS ("" : no STARTTLS)
    tls_key: str = ""  # its private key
    shutdown_grace: float = 30.0
    processes: int | str = "auto"  # SMTP intake processes; "auto": one per CPU

    def intake_processes(self) -> int:
        """Return how many processes serve SMTP sessions ("auto": the CPUs this process may
        run on). With 1 everything runs in one process; with more, each serves sessions on
        the same port and processing has a process of its own (bouncer.daemon.pool)."""
        if self.processes != "auto":
            return int(self.processes)
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            return os.cpu_count() or 1


@dataclass(frozen=True)
class TrackerConfig:
    """Deferral timers, expiries and escalation thresholds (defaults: the tracker's Policy)."""

    warn_after: timedelta = _POLICY.warn_after
    give_up_after: timedelta = _POLICY.give_up_after
    retry_until_limit: timedelta = _POLICY.retry_until_limit
    escalation_threshold: int = _POLICY.escalation_threshold
    escalation_window: timedelta = _POLICY.escalation_window
    soft_ttl: timedelta = _POLICY.soft_ttl
    sweep_interval: timedelta = timedelta(seconds=30)


@dataclass(frozen=True)
class AlertsConfig:
    """Failure-spike and sender-block alerts; the defaults are bouncer.core.alerts.AlertPolicy's
    (written out so that loading a config loads no rule tables; tests/test_config.py checks)."""

    enabled: bool = True
    threshold: int = 1000  # failures in `window` at all domains: failures.spike
    window: timedelta = timedelta(hours=1)
    domain_threshold: int = 500  # ... at one recipient domain (0: off)
    blocked_threshold: int = 20  # block failures from one provider in blocked_window (0: off)
    blocked_window: timedelta = timedelta(minutes=10)


@dataclass(frozen=True)
class VerpConfig:
    """Signed VERP return paths: signing keys by id, the current key, and what to trust."""

    keys: dict[str, str] = field(default_factory=dict)
    key_id: str = ""
    max_age: timedelta = timedelta(days=60)
    require_valid: bool = False

    def secrets(self) -> dict[str, bytes]:
        """Return the keys as bytes, by key id."""
        return {key: secret.encode() for key, secret in self.keys.items()}


@dataclass(frozen=True)
class WebhookConfig:
    """One webhook endpoint and the key its deliveries are signed with."""

    url: str
    secret: str
    key_id: str = "k1"
    events: tuple[str, ...] = ()  # empty: every event type


@dataclass(frozen=True)
class TokenConfig:
    """One API token: its name (recorded as `api:<name>` with each change it makes), its scope
    (`read`: every GET and the batch check; `admin`: also changes and raw messages) and the
    SHA-256 of its secret (hex); the secret itself is never kept."""

    name: str
    scope: str
    secret_sha256: str


@dataclass(frozen=True)
class HttpConfig:
    """The HTTP API: where it listens, its tokens, and whether /metrics needs one."""

    enabled: bool = True
    listen: str = "127.0.0.1:8025"
    metrics_open: bool = True
    tokens: tuple[TokenConfig, ...] = ()

    @property
    def listen_host(self) -> str:
        """Return the host part of listen."""
        return split_listen(self.listen)[0]

    @property
    def listen_port(self) -> int:
        """Return the port part of listen."""
        return split_listen(self.listen)[1]


@dataclass(frozen=True)
class Config:
    """The whole configuration, with the file it came from (None for built-in defaults)."""

    db_path: str = "state/bouncer.db"  # store.url or store.path: a URL or a SQLite file
    spool_path: str = "state/spool.db"  # store.spool: the local spool (PostgreSQL stores only)
    keep_raw: timedelta | None = timedelta(days=90)
    keep_records: timedelta | None = timedelta(days=400)  # None: forever
    keep_events: timedelta | None = timedelta(days=400)
    case_sensitive_local_part: bool = False
    log_format: str = "auto"
    log_level: str = "info"
    class_overrides: dict[str, str] = field(default_factory=dict)
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    verp: VerpConfig = field(default_factory=VerpConfig)
    webhooks: tuple[WebhookConfig, ...] = ()
    http: HttpConfig = field(default_factory=HttpConfig)
    source: str | None = None

    @property
    def identity(self) -> Identity:
        """Return the address comparison rule (store.case_sensitive_local_part)."""
        return Identity(keep_local_case=self.case_sensitive_local_part)

    @property
    def listen_host(self) -> str:
        """Return the host part of smtp.listen."""
        return split_listen(self.smtp.listen)[0]

    @property
    def listen_port(self) -> int:
        """Return the port part of smtp.listen."""
        return split_listen(self.smtp.listen)[1]


def split_listen(listen: str) -> tuple[str, int]:
    """Split 'HOST:PORT' (or '[v6]:PORT') into host and port; raise ConfigError if malformed."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"listen address {listen!r} must be HOST:PORT")
    return host.strip("[]") or "127.0.0.1", int(port)


def secret_hash(secret: str) -> str:
    """Return the SHA-256 of an API token's secret as 64 lowercase hex digits (what
    `[[http.tokens]] secret_sha256` holds: `printf %s SECRET | sha256sum`)."""
    import hashlib

    return hashlib.sha256(secret.encode()).hexdigest()


def parse_token(text: str) -> TokenConfig:
    """Read a `--token NAME:SCOPE:SECRET` option; raise ConfigError saying what is wrong.

    NAME: letters, digits, ".", "_" or "-"; SCOPE: read or admin; SECRET: at least 16
    characters (it may contain ":").
    """
    if text.count(":") < 2:
        raise ConfigError("--token: NAME:SCOPE:SECRET expected, e.g. ops:admin:<16+ characters>")
    name, _, rest = text.partition(":")
    scope, _, secret = rest.partition(":")
    if not re.fullmatch(r"[A-Za-z0-9._-]+", name):
        raise ConfigError("--token: NAME:SCOPE:SECRET with a NAME of letters, digits, . _ or -")
    if scope not in TOKEN_SCOPES:
        raise ConfigError(f"--token {name}: the scope must be read or admin (got {scope!r})")
    if len(secret) < 16:
        raise ConfigError(f"--token {name}: the secret must have at least 16 characters")
    return TokenConfig(name, scope, secret_hash(secret))


def parse_duration(value: Any, key: str) -> timedelta:
    """Turn 30, '30s', '90m', '4h', '4d' or '2w' into a timedelta; raise ConfigError otherwise.

    The text is read by `bouncer.core.timespec.parse_duration`, the one duration parser.
    """
    try:
        return timespec.parse_duration(value)
    except ValueError as exc:  # not a duration; inf, nan, or beyond a million years
        raise ConfigError(f"{key}: {exc}") from exc


# Keys of [store] and [log] that Config names otherwise (the others keep their names).
_TOP_LEVEL = {
    "path": "db_path",
    "url": "db_path",
    "spool": "spool_path",
    "format": "log_format",
    "level": "log_level",
}


def from_mapping(data: dict[str, Any], source: str | None = None) -> Config:
    """Build a Config from parsed TOML data; raise ConfigError naming the bad key."""
    from bouncer.config.rules import check
    from bouncer.config.schema import convert

    _refuse_retired(data)
    file = convert(data)
    written = {**_given(file.store), **_given(file.log)}
    top = {_TOP_LEVEL.get(name, name): value for name, value in written.items()}
    for name in ("keep_raw", "keep_records", "keep_events"):
        if name in top:
            top[name] = _retention(top[name], f"store.{name}")
    config = replace(
        Config(),
        **top,
        class_overrides=dict(_given(file.classify).get("class_overrides", {})),
        smtp=_section(SmtpConfig(), file.smtp, "smtp"),
        tracker=_section(TrackerConfig(), file.tracker, "tracker"),
        alerts=_section(AlertsConfig(), file.alerts, "alerts"),
        verp=_section(VerpConfig(), file.verp, "verp"),
        webhooks=tuple(
            WebhookConfig(**{k: tuple(v) if k == "events" else v for k, v in _given(hook).items()})
            for hook in file.webhooks
        ),
        http=_http(file.http),
        source=source,
    )
    check(config, data)
    return config


def load(path: str | os.PathLike[str] | None = None) -> Config:
    """Load the config file at path (or $BOUNCER_CONFIG); built-in defaults when neither is set."""
    chosen = path or os.environ.get("BOUNCER_CONFIG")
    if not chosen:
        return Config()
    file = Path(chosen)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read config: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: {exc}") from exc
    try:
        return from_mapping(data, str(file))
    except ConfigError as exc:
        raise ConfigError(f"{file}: {exc}") from exc


def with_overrides(config: Config, **changes: Any) -> Config:
    """Return config with top-level or smtp changes applied (None values are ignored)."""
    smtp_keys = {f.name for f in fields(SmtpConfig)}
    smtp_changes = {k: v for k, v in changes.items() if k in smtp_keys and v is not None}
    top = {k: v for k, v in changes.items() if k not in smtp_keys and v is not None}
    return replace(config, smtp=replace(config.smtp, **smtp_changes), **top)


def _refuse_retired(data: dict[str, Any]) -> None:
    """Raise ConfigError for a key that no longer exists, saying why."""
    for section, table in data.items():
        for key in table if isinstance(table, dict) else ():
            reason = _RETIRED.get(f"{section}.{key}")
            if reason:
                raise ConfigError(f"{section}.{key}: {reason}")


def _given(table: Any) -> dict[str, Any]:
    """Return the keys a converted table sets (those the file wrote), with their values."""
    from msgspec import UNSET

    values = {name: getattr(table, name) for name in table.__struct_fields__}
    return {name: value for name, value in values.items() if value is not UNSET}


def _section(defaults: Any, table: Any, section: str) -> Any:
    """Return the defaults dataclass with the keys the file sets, converted to its types."""
    values = {}
    for name, value in _given(table).items():
        default = getattr(defaults, name)
        if isinstance(default, timedelta):
            value = _positive(value, f"{section}.{name}")
        elif isinstance(default, tuple):
            value = tuple(value)
        elif isinstance(default, float):
            value = float(value)
        values[name] = value
    return replace(defaults, **values)


def _http(table: Any) -> HttpConfig:
    """Return the [http] section: its keys over the defaults, each token's secret hashed."""
    values = _given(table)
    tokens = []
    for number, token in enumerate(values.pop("tokens", []), 1):
        given = [
            name for name in ("secret", "secret_sha256") if isinstance(getattr(token, name), str)
        ]
        if len(given) != 1:
            raise ConfigError(
                f"http.tokens #{number}: needs secret or secret_sha256, one of them"
                f" (got {' and '.join(given) or 'neither'})"
            )
        hashed = secret_hash(token.secret) if given == ["secret"] else token.secret_sha256
        tokens.append(TokenConfig(token.name, token.scope, hashed.lower()))
    return replace(HttpConfig(), **values, tokens=tuple(tokens))


def _positive(value: str | float, key: str) -> timedelta:
    """Parse a duration the schema let through, refusing one too short to count."""
    from bouncer.config.schema import DURATION_WORDS, shown

    duration = parse_duration(value, key)
    if duration <= timedelta(0):
        raise ConfigError(f"{key}: must be {DURATION_WORDS} (got {shown(value)}, under 1 µs)")
    return duration


def _retention(value: str | float, key: str) -> timedelta | None:
    """Read a store.keep_* value: a duration, or "forever" (None)."""
    return None if value == "forever" else _positive(value, key)
