"""Load and validate the TOML configuration; defaults for every key.

The program uses the frozen dataclasses below (`Config` and its sections), which hold the
built-in defaults. A config file is checked against a schema of msgspec Structs (`_schema`), the
one place that says which keys exist and what each may hold; the keys a file sets then replace
the defaults, and a few rules that tie keys together are checked last (`_check`). Every error
is one line naming the key, what is allowed and what the file has. msgspec is imported only
when a file is read: most commands import this module, and many run without a file.
"""

import functools
import math
import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

from bouncer.addresses import Identity
from bouncer.tracker_types import EVENT_TYPES, Policy

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
LOG_LEVELS = ("debug", "info", "warning", "error")
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
        seconds = float(value)
    else:
        match = _DURATION.match(value) if isinstance(value, str) else None
        if not match:
            raise ConfigError(f"{key}: {value!r} is not a duration like '30s', '4h' or '4d'")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    try:
        return timedelta(seconds=seconds)
    except (OverflowError, ValueError) as exc:  # inf, nan, or beyond a million years
        raise ConfigError(f"{key}: {value!r} is too long a duration") from exc


# What the file may hold, for each kind of value: a regular expression, and the words for it.
_DURATION_TEXT = r"\s*(?=[\d.]*[1-9])\d+(?:\.\d+)?\s*[smhdw]?\s*"  # more than zero
_DURATION_WORDS = 'a duration above 0 such as "30s", "90m", "4h", "4d", "2w" or a number of seconds'
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*\.?$"
_DOMAIN_WORDS = 'a domain name such as "bounces.example.com" (IDNs in their xn-- form)'
_LISTEN = r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]*):\d{1,5}$"  # the port range: _check
_URL = (
    r"^https?://"
    r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)"  # a host is required
    r"(?::\d{1,5})?(?:[/?#]\S*)?$"
)
_SECONDS_MAX = 31_536_000.0  # a year: a finite bound, so that inf is refused
# Keys of [store] and [log] that Config names otherwise (the others keep their names).
_TOP_LEVEL = {"path": "db_path", "format": "log_format", "level": "log_level"}


@functools.cache
def _schema() -> type:
    """Return the schema of a config file: one msgspec Struct per table, every key optional.

    A key the file leaves out stays UNSET here and keeps the default of the dataclass above.
    msgspec.convert checks the constraints; each description is what an error message says
    the key allows.
    """
    import msgspec
    from msgspec import UNSET, Meta, Struct, UnsetType

    def allows(description: str, **constraints: Any) -> Meta:
        return Meta(description=description, **constraints)

    year = f"{_SECONDS_MAX:.0f} (a year)"
    Count = Annotated[int, allows("a whole number, at least 1", ge=1)]
    Seconds = Annotated[
        float, allows(f"a number of seconds above 0, at most {year}", gt=0, le=_SECONDS_MAX)
    ]
    Grace = Annotated[float, allows(f"a number of seconds from 0 to {year}", ge=0, le=_SECONDS_MAX)]
    DurationText = Annotated[str, Meta(pattern=f"^{_DURATION_TEXT}$")]
    Duration = Annotated[DurationText | Annotated[float, Meta(gt=0)], allows(_DURATION_WORDS)]
    RetentionText = Annotated[str, Meta(pattern=f"^(?:forever|{_DURATION_TEXT})$")]
    Retention = Annotated[
        RetentionText | Annotated[float, Meta(gt=0)], allows(f'{_DURATION_WORDS}, or "forever"')
    ]
    FilePath = Annotated[str, allows("a file path (not empty)", min_length=1)]
    PemFile = Annotated[str, allows('a file path, or "" for no STARTTLS')]
    Listen = Annotated[
        str, allows('HOST:PORT such as "127.0.0.1:2525" or "[::1]:2525"', pattern=_LISTEN)
    ]
    Domain = Annotated[str, allows(_DOMAIN_WORDS, pattern=_DOMAIN)]
    Domains = Annotated[list[Domain], allows("a list of one or more domain names", min_length=1)]
    MessageSize = Annotated[
        int, allows("a number of bytes, at least 65536 (RFC 5321 §4.5.3.1.7)", ge=65536)
    ]
    Reason = Annotated[
        Literal[REASON_NAMES], allows(f"a reason bouncer gives ({', '.join(REASON_NAMES)})")
    ]
    Overrides = dict[Reason, Literal[CLASS_NAMES]]
    Secret = Annotated[  # "secret": error messages give its length, never the text
        str, allows("a secret of at least 16 characters", min_length=16, extra={"secret": True})
    ]
    VerpKeys = dict[Annotated[str, allows("one letter or digit", pattern=r"^[A-Za-z0-9]$")], Secret]
    VerpKeyId = Annotated[
        str, allows('"", or the id of one of verp.keys', pattern=r"^[A-Za-z0-9]?$")
    ]
    Url = Annotated[str, allows("an http:// or https:// URL with a host", pattern=_URL)]
    HookKeyId = Annotated[
        str, allows('letters, digits, ".", "_" or "-" (not empty)', pattern=r"^[A-Za-z0-9._-]+$")
    ]

    class Table(Struct, forbid_unknown_fields=True):
        """A table of the file: a key it does not list is an error."""

    class Store(Table):
        path: FilePath | UnsetType = UNSET
        keep_raw: Retention | UnsetType = UNSET
        keep_records: Retention | UnsetType = UNSET
        keep_events: Retention | UnsetType = UNSET
        case_sensitive_local_part: bool | UnsetType = UNSET

    class Smtp(Table):
        listen: Listen | UnsetType = UNSET
        hostname: Domain | UnsetType = UNSET
        domains: Domains | UnsetType = UNSET
        max_message_size: MessageSize | UnsetType = UNSET
        max_recipients: Count | UnsetType = UNSET
        max_connections: Count | UnsetType = UNSET
        max_connections_per_ip: Count | UnsetType = UNSET
        junk_command_limit: Count | UnsetType = UNSET
        session_lifetime: Seconds | UnsetType = UNSET
        timeout: Seconds | UnsetType = UNSET
        data_timeout: Seconds | UnsetType = UNSET
        tls_cert: PemFile | UnsetType = UNSET
        tls_key: PemFile | UnsetType = UNSET
        shutdown_grace: Grace | UnsetType = UNSET

    class Classify(Table):
        class_overrides: Overrides | UnsetType = UNSET

    class Tracker(Table):
        warn_after: Duration | UnsetType = UNSET
        give_up_after: Duration | UnsetType = UNSET
        retry_until_limit: Duration | UnsetType = UNSET
        escalation_threshold: Count | UnsetType = UNSET
        escalation_window: Duration | UnsetType = UNSET
        soft_ttl: Duration | UnsetType = UNSET
        sweep_interval: Duration | UnsetType = UNSET

    class Verp(Table):
        keys: VerpKeys | UnsetType = UNSET
        key_id: VerpKeyId | UnsetType = UNSET
        max_age: Duration | UnsetType = UNSET
        require_valid: bool | UnsetType = UNSET

    class Log(Table):
        format: Literal[LOG_FORMATS] | UnsetType = UNSET
        level: Literal[LOG_LEVELS] | UnsetType = UNSET

    class Webhook(Table):
        url: Url
        secret: Secret
        key_id: HookKeyId | UnsetType = UNSET
        events: list[Literal[EVENT_TYPES]] | UnsetType = UNSET

    Webhooks = Annotated[list[Webhook], allows("a list of [[webhooks]] tables")]

    class File(Table):
        store: Store = msgspec.field(default_factory=Store)
        smtp: Smtp = msgspec.field(default_factory=Smtp)
        classify: Classify = msgspec.field(default_factory=Classify)
        tracker: Tracker = msgspec.field(default_factory=Tracker)
        verp: Verp = msgspec.field(default_factory=Verp)
        log: Log = msgspec.field(default_factory=Log)
        webhooks: Webhooks = msgspec.field(default_factory=list)

    return File


def from_mapping(data: dict[str, Any], source: str | None = None) -> Config:
    """Build a Config from parsed TOML data; raise ConfigError naming the bad key."""
    import msgspec

    _refuse_retired(data)
    schema = _schema()
    try:
        file = msgspec.convert(data, schema)
    except msgspec.ValidationError as exc:
        try:
            message = _explain(str(exc), schema, data)
        except (LookupError, StopIteration, TypeError, AttributeError):  # a shape not foreseen
            message = str(exc)
        raise ConfigError(message) from exc
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
        verp=_section(VerpConfig(), file.verp, "verp"),
        webhooks=tuple(
            WebhookConfig(**{k: tuple(v) if k == "events" else v for k, v in _given(hook).items()})
            for hook in file.webhooks
        ),
        source=source,
    )
    _check(config, data)
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


def _positive(value: str | float, key: str) -> timedelta:
    """Parse a duration the schema let through, refusing one too short to count."""
    duration = parse_duration(value, key)
    if duration <= timedelta(0):
        raise ConfigError(f"{key}: must be {_DURATION_WORDS} (got {_shown(value)}, under 1 µs)")
    return duration


def _retention(value: str | float, key: str) -> timedelta | None:
    """Read a store.keep_* value: a duration, or "forever" (None)."""
    return None if value == "forever" else _positive(value, key)


def _check(config: Config, data: dict[str, Any]) -> None:
    """Check the rules that tie keys together; raise ConfigError naming the key to change."""
    smtp, tracker, verp = config.smtp, config.tracker, config.verp
    _, _, port = smtp.listen.rpartition(":")
    if int(port) > 65535:
        raise ConfigError(f"smtp.listen: the port must be 0 to 65535 (got {_shown(smtp.listen)})")
    if smtp.max_connections_per_ip > smtp.max_connections:
        raise ConfigError(
            f"smtp.max_connections_per_ip: must be at most smtp.max_connections"
            f" ({smtp.max_connections}) (got {smtp.max_connections_per_ip}"
            f"{_default_note(data, 'smtp', 'max_connections_per_ip')})"
        )
    if bool(smtp.tls_cert) != bool(smtp.tls_key):
        unset, given = ("tls_key", "tls_cert") if smtp.tls_cert else ("tls_cert", "tls_key")
        raise ConfigError(
            f"smtp.{unset}: must be set when smtp.{given} is (both for STARTTLS, or neither)"
        )
    _order(data, tracker, "warn_after", "give_up_after", "shorter than")
    _order(data, tracker, "give_up_after", "retry_until_limit", "at most")
    if verp.key_id and verp.key_id not in verp.keys:
        known = ", ".join(_shown(key) for key in verp.keys) or "none"
        raise ConfigError(
            f"verp.key_id: must be one of verp.keys ({known}) (got {_shown(verp.key_id)})"
        )
    if verp.require_valid and not verp.keys:
        raise ConfigError(
            "verp.require_valid: true needs verp.keys: without a key no return path is validly"
            " signed, so no report would count"
        )
    urls = [hook.url for hook in config.webhooks]
    for number, url in enumerate(urls, 1):
        if url in urls[: number - 1]:
            first = urls.index(url) + 1
            raise ConfigError(
                f"webhooks #{number}.url: must differ from webhooks #{first}.url"
                f" (got {_shown(url)} again)"
            )


def _order(data: dict[str, Any], tracker: TrackerConfig, short: str, long: str, how: str) -> None:
    """Raise ConfigError unless tracker.<short> is shorter than (or at most) tracker.<long>."""
    first, second = getattr(tracker, short), getattr(tracker, long)
    if first < second or (how == "at most" and first == second):
        return
    raise ConfigError(
        f"tracker.{short}: must be {how} tracker.{long} ({_written_duration(second)}"
        f"{_default_note(data, 'tracker', long)}) (got {_written_duration(first)}"
        f"{_default_note(data, 'tracker', short)})"
    )


def _default_note(data: dict[str, Any], section: str, key: str) -> str:
    """Return ', the default' when the file leaves the key out (so the user knows to set it)."""
    table = data.get(section)
    return "" if isinstance(table, dict) and key in table else ", the default"


def _written_duration(duration: timedelta) -> str:
    """Write a duration the way the file does: '4d', '90m', '30s'."""
    seconds = duration.total_seconds()
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:g}s"


# Reading msgspec's errors ("Expected `int` >= 1 - at `$.smtp.max_connections`") back into
# the file's terms: follow the path through the schema and the data to the key, its type and
# the value written there.
_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]|\[(\.\.\.)\]")
_MISSING = object()


def _explain(message: str, schema: type, data: dict[str, Any]) -> str:
    """Turn one msgspec ValidationError message into 'key: must be ... (got ...)'."""
    problem, _, where = message.partition(" - at `")
    on_name = where.startswith("key` in `")
    path = where.removeprefix("key` in `").rstrip("`").removeprefix("$")
    key, kind, value = _follow(schema, data, path)
    unknown = re.fullmatch(r"Object contains unknown field `(.*)`", problem)
    if unknown:
        name = unknown.group(1)
        allowed = ", ".join(_bare(kind).__struct_fields__)
        if not key:
            return f"{_toml_key(name)}: unknown section; the sections are {allowed}"
        return f"{key}.{_toml_key(name)}: unknown key; {_table_name(key)} has {allowed}"
    missing = re.fullmatch(r"Object missing required field `(.*)`", problem)
    if missing:
        name = missing.group(1)
        kind = get_type_hints(_bare(kind), include_extras=True)[name]
        return f"{key}.{name}: missing; it must be {_describe(kind)}"
    if on_name:  # a key of a table of names (verp.keys, classify.class_overrides)
        name_kind = get_args(_bare(kind))[0]
        name = next(name for name in value if not _fits(name, name_kind))
        return (
            f"{key}.{_toml_key(name)}: not a valid name; names here must be {_describe(name_kind)}"
        )
    return f"{key}: must be {_describe(kind)} (got {_shown(value, kind)})"


def _follow(schema: type, data: Any, path: str) -> tuple[str, Any, Any]:
    """Follow a msgspec error path: return the key as the file names it, its type, its value."""
    key, kind, value = "", schema, data
    for name, index, any_value in _STEP.findall(path):
        bare = _bare(kind)
        if name:
            kind = get_type_hints(bare, include_extras=True)[name]
            value = value.get(name, _MISSING) if isinstance(value, dict) else _MISSING
            key = f"{key}.{name}" if key else name
        elif index:
            kind, value = get_args(bare)[0], value[int(index)]
            key = f"{key} #{int(index) + 1}"
        elif any_value:  # msgspec does not say which entry of a table: find the one that fails
            kind = get_args(bare)[1]
            name = next(name for name, item in value.items() if not _fits(item, kind))
            value, key = value[name], f"{key}.{_toml_key(name)}"
    return key, kind, value


def _fits(value: Any, kind: Any) -> bool:
    """Tell whether a value passes the schema type."""
    import msgspec

    try:
        msgspec.convert(value, kind)
    except msgspec.ValidationError:
        return False
    return True


def _settable(kind: Any) -> Any:
    """Strip 'or UNSET' from the type of a key."""
    if get_origin(kind) in (Union, UnionType):
        members = [m for m in get_args(kind) if getattr(m, "__name__", "") != "UnsetType"]
        if len(members) == 1:
            return members[0]
    return kind


def _bare(kind: Any) -> Any:
    """Strip 'or UNSET' and Annotated from a schema type: the table, list or dict below."""
    kind = _settable(kind)
    return _bare(get_args(kind)[0]) if get_origin(kind) is Annotated else kind


def _describe(kind: Any) -> str:
    """Say in words what a schema type allows."""
    kind = _settable(kind)
    if get_origin(kind) is Annotated:
        for meta in kind.__metadata__:
            if getattr(meta, "description", None):
                return meta.description
        return _describe(get_args(kind)[0])
    if get_origin(kind) is Literal:
        return "one of " + ", ".join(_shown(value) for value in get_args(kind))
    if get_origin(kind) is list:
        return f"a list of values, each {_describe(get_args(kind)[0])}"
    if get_origin(kind) is dict or hasattr(kind, "__struct_fields__"):
        return "a table"
    return {bool: "true or false", int: "a whole number", float: "a number"}.get(kind, "text")


def _shown(value: Any, kind: Any = None) -> str:
    """Write a value for an error message as TOML would, on one line; never show a secret."""
    if value is _MISSING:
        return "nothing"
    if _is_secret(kind) and isinstance(value, str):
        return f"a secret of {len(value)} character{'s' if len(value) != 1 else ''}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # inf, -inf, nan: as TOML writes them
    if isinstance(value, dict):
        return "a table"
    import json

    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = str(value)  # a TOML date or time
    return text if len(text) <= 80 else text[:77] + "..."


def _is_secret(kind: Any) -> bool:
    """Tell whether a schema type holds a secret (its value must not appear in messages)."""
    kind = _settable(kind)
    metadata = kind.__metadata__ if get_origin(kind) is Annotated else ()
    return any((getattr(meta, "extra", None) or {}).get("secret") for meta in metadata)


def _toml_key(name: str) -> str:
    """Write a key as TOML does: bare when it can be, else quoted."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else _shown(name)


def _table_name(key: str) -> str:
    """Name the table a key lives in as the file heads it: '[smtp]', '[[webhooks]]'."""
    return "[[webhooks]]" if key.startswith("webhooks #") else f"[{key}]"
