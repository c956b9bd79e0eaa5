"""Load and validate the TOML configuration; defaults for every key."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from bouncer.addresses import Identity
from bouncer.tracker_types import Policy

CLASS_NAMES = ("hard", "soft", "none")
_POLICY = Policy()
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
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
class Config:
    """The whole configuration, with the file it came from (None for built-in defaults)."""

    db_path: str = "state/bouncer.db"
    keep_raw: timedelta | None = timedelta(days=90)
    keep_records: timedelta | None = None  # None: forever
    keep_events: timedelta | None = timedelta(days=400)
    case_sensitive_local_part: bool = False
    log_format: str = "auto"
    log_level: str = "info"
    class_overrides: dict[str, str] = field(default_factory=dict)
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    verp: VerpConfig = field(default_factory=VerpConfig)
    webhooks: tuple[WebhookConfig, ...] = ()
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


def parse_duration(value: Any, key: str) -> timedelta:
    """Turn 30, '30s', '90m', '4h', '4d' or '2w' into a timedelta; raise ConfigError otherwise."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    match = _DURATION.match(str(value)) if isinstance(value, str) else None
    if not match:
        raise ConfigError(f"{key}: {value!r} is not a duration like '30s', '4h' or '4d'")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def _typed(section: str, key: str, value: Any, default: Any) -> Any:
    """Check one value against the type of its default and convert it."""
    name = f"{section}.{key}"
    if isinstance(default, timedelta):
        return parse_duration(value, name)
    if isinstance(default, tuple):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{name} must be a list of strings")
        return tuple(value)
    if isinstance(value, bool) != isinstance(default, bool):
        raise ConfigError(f"{name} must be of type {type(default).__name__}")
    if isinstance(default, float) and isinstance(value, int):
        return float(value)
    if not isinstance(value, type(default)):
        raise ConfigError(f"{name} must be of type {type(default).__name__}")
    return value


def _section(cls: type, table: dict[str, Any], section: str) -> Any:
    """Build a section dataclass from a TOML table, rejecting unknown keys."""
    known = {f.name: f for f in fields(cls)}
    for key in table:
        if f"{section}.{key}" in _RETIRED:
            raise ConfigError(f"{section}.{key}: {_RETIRED[f'{section}.{key}']}")
    unknown = set(table) - set(known)
    if unknown:
        raise ConfigError(f"unknown key(s) in [{section}]: {', '.join(sorted(unknown))}")
    defaults = cls()
    values = {k: _typed(section, k, v, getattr(defaults, k)) for k, v in table.items()}
    return replace(defaults, **values)


def _webhooks(items: Any) -> tuple[WebhookConfig, ...]:
    """Build the [[webhooks]] list."""
    if not isinstance(items, list):
        raise ConfigError("[[webhooks]] must be an array of tables")
    hooks = []
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict) or not item.get("url") or not item.get("secret"):
            raise ConfigError(f"webhooks #{number} needs 'url' and 'secret'")
        events = item.get("events", [])
        if not isinstance(events, list):
            raise ConfigError(f"webhooks #{number}: events must be a list")
        hooks.append(
            WebhookConfig(
                str(item["url"]), str(item["secret"]), str(item.get("key_id", "k1")), tuple(events)
            )
        )
    return tuple(hooks)


def _overrides(table: Any) -> dict[str, str]:
    """Validate [classify] class_overrides: reason name → hard | soft | none."""
    if not isinstance(table, dict):
        raise ConfigError("classify.class_overrides must be a table")
    for reason, klass in table.items():
        if klass not in CLASS_NAMES:
            raise ConfigError(f"classify.class_overrides.{reason} must be one of {CLASS_NAMES}")
    return dict(table)


def _keep_raw(value: object) -> timedelta | None:
    """Read store.keep_raw: a duration, or "forever" (never drop raw copies)."""
    if value == "forever":
        return None
    duration = parse_duration(value, "store.keep_raw")
    if duration.total_seconds() <= 0:
        raise ConfigError('store.keep_raw must be a positive duration or "forever"')
    return duration


def _flag(table: dict[str, Any], key: str) -> bool:
    """Read a true/false key of [store] (default false)."""
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(f"store.{key} must be true or false")
    return value


def _verp(verp: VerpConfig) -> VerpConfig:
    """Check that VERP key ids are single letters or digits and the current one exists."""
    for key_id, secret in verp.keys.items():
        if len(key_id) != 1 or not key_id.isalnum() or not isinstance(secret, str):
            raise ConfigError(f"verp.keys.{key_id}: key ids are one letter or digit, secrets text")
    if verp.key_id and verp.key_id not in verp.keys:
        raise ConfigError(f"verp.key_id: {verp.key_id!r} is not one of verp.keys")
    return verp


def from_mapping(data: dict[str, Any], source: str | None = None) -> Config:
    """Build a Config from parsed TOML data; raise ConfigError naming the bad key."""
    unknown_store = set(data.get("store", {})) - {"path", "keep_raw", "case_sensitive_local_part"}
    if unknown_store:
        raise ConfigError(f"unknown key(s) in [store]: {', '.join(sorted(unknown_store))}")
    known = {"store", "log", "classify", "smtp", "tracker", "verp", "webhooks"}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"unknown section(s): {', '.join(sorted(unknown))}")
    store, log = data.get("store", {}), data.get("log", {})
    return Config(
        db_path=str(store.get("path", Config.db_path)),
        keep_raw=_keep_raw(store.get("keep_raw", "90d")),
        case_sensitive_local_part=_flag(store, "case_sensitive_local_part"),
        log_format=str(log.get("format", Config.log_format)),
        log_level=str(log.get("level", Config.log_level)),
        class_overrides=_overrides(data.get("classify", {}).get("class_overrides", {})),
        smtp=_section(SmtpConfig, data.get("smtp", {}), "smtp"),
        tracker=_section(TrackerConfig, data.get("tracker", {}), "tracker"),
        verp=_verp(_section(VerpConfig, data.get("verp", {}), "verp")),
        webhooks=_webhooks(data.get("webhooks", [])),
        source=source,
    )


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
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: {exc}") from exc
    try:
        config = from_mapping(data, str(file))
    except ConfigError as exc:
        raise ConfigError(f"{file}: {exc}") from exc
    split_listen(config.smtp.listen)
    return config


def with_overrides(config: Config, **changes: Any) -> Config:
    """Return config with top-level or smtp changes applied (None values are ignored)."""
    smtp_keys = {f.name for f in fields(SmtpConfig)}
    smtp_changes = {k: v for k, v in changes.items() if k in smtp_keys and v is not None}
    top = {k: v for k, v in changes.items() if k not in smtp_keys and v is not None}
    return replace(config, smtp=replace(config.smtp, **smtp_changes), **top)
