"""The schema of a config file (msgspec Structs), and its errors put in the file's terms.

`File` says which keys exist and what each may hold: one Struct per table, every key optional
(one the file leaves out stays UNSET and keeps its default in bouncer.config). `convert` checks
parsed TOML against it and turns msgspec's error ("Expected `int` >= 1 - at `$.smtp.timeout`")
into one line naming the key, what it allows and what the file has. It imports msgspec, so
bouncer.config imports it only when a file is read.
"""

import json
import math
import re
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from bouncer.config import (
    CLASS_NAMES,
    LOG_FORMATS,
    LOG_LEVELS,
    REASON_NAMES,
    TOKEN_SCOPES,
    ConfigError,
)
from bouncer.core.tracker_types import EVENT_TYPES

# What the file may hold, for each kind of value: a regular expression, and the words for it.
_DURATION_TEXT = r"\s*(?=[\d.]*[1-9])\d+(?:\.\d+)?\s*[smhdw]?\s*"  # more than zero
DURATION_WORDS = 'a duration above 0 such as "30s", "90m", "4h", "4d", "2w" or a number of seconds'
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*\.?$"
_DOMAIN_WORDS = 'a domain name such as "bounces.example.com" (IDNs in their xn-- form)'
_LISTEN = r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]*):\d{1,5}$"  # the port range: config_rules
_URL = (
    r"^https?://"
    r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)"  # a host is required
    r"(?::\d{1,5})?(?:[/?#]\S*)?$"
)
_SECONDS_MAX = 31_536_000.0  # a year: a finite bound, so that inf is refused


def _allows(description: str, **constraints: Any) -> Meta:
    """Return constraints with the words an error message gives for what they allow."""
    return Meta(description=description, **constraints)


# The types of the keys: msgspec.convert checks the constraints; each description is what an
# error message says the key allows.
_YEAR = f"{_SECONDS_MAX:.0f} (a year)"
Count = Annotated[int, _allows("a whole number, at least 1", ge=1)]
Threshold = Annotated[int, _allows("a whole number, 0 (off) or more", ge=0)]
Seconds = Annotated[
    float, _allows(f"a number of seconds above 0, at most {_YEAR}", gt=0, le=_SECONDS_MAX)
]
Grace = Annotated[float, _allows(f"a number of seconds from 0 to {_YEAR}", ge=0, le=_SECONDS_MAX)]
DurationText = Annotated[str, Meta(pattern=f"^{_DURATION_TEXT}$")]
Duration = Annotated[DurationText | Annotated[float, Meta(gt=0)], _allows(DURATION_WORDS)]
RetentionText = Annotated[str, Meta(pattern=f"^(?:forever|{_DURATION_TEXT})$")]
Retention = Annotated[
    RetentionText | Annotated[float, Meta(gt=0)], _allows(f'{DURATION_WORDS}, or "forever"')
]
Processes = Annotated[
    Literal["auto"] | Annotated[int, Meta(ge=1, le=64)],
    _allows('"auto" (one per CPU) or a whole number from 1 to 64'),
]
FilePath = Annotated[str, _allows("a file path (not empty)", min_length=1)]
# A store URL may hold a password: an error message gives its length only ("secret").
StoreUrl = Annotated[
    str,
    _allows(
        "a postgresql://USER:PASSWORD@HOST:PORT/DATABASE or sqlite:///PATH URL",
        pattern=r"^(?:postgres|postgresql|sqlite)://\S+$",
        extra={"secret": True},
    ),
]
PemFile = Annotated[str, _allows('a file path, or "" for no STARTTLS')]
Listen = Annotated[
    str, _allows('HOST:PORT such as "127.0.0.1:2525" or "[::1]:2525"', pattern=_LISTEN)
]
Domain = Annotated[str, _allows(_DOMAIN_WORDS, pattern=_DOMAIN)]
Domains = Annotated[list[Domain], _allows("a list of one or more domain names", min_length=1)]
MessageSize = Annotated[
    int, _allows("a number of bytes, at least 65536 (RFC 5321 §4.5.3.1.7)", ge=65536)
]
Reason = Annotated[
    Literal[REASON_NAMES], _allows(f"a reason bouncer gives ({', '.join(REASON_NAMES)})")
]
Overrides = dict[Reason, Literal[CLASS_NAMES]]
Secret = Annotated[  # "secret": error messages give its length, never the text
    str, _allows("a secret of at least 16 characters", min_length=16, extra={"secret": True})
]
VerpKeys = dict[Annotated[str, _allows("one letter or digit", pattern=r"^[A-Za-z0-9]$")], Secret]
VerpKeyId = Annotated[str, _allows('"", or the id of one of verp.keys', pattern=r"^[A-Za-z0-9]?$")]
Url = Annotated[str, _allows("an http:// or https:// URL with a host", pattern=_URL)]
TokenName = Annotated[
    str, _allows('letters, digits, ".", "_" or "-" (not empty)', pattern=r"^[A-Za-z0-9._-]+$")
]
Sha256 = Annotated[
    str, _allows("the SHA-256 of the secret, 64 hex digits", pattern=r"^[0-9a-fA-F]{64}$")
]
HookKeyId = Annotated[
    str, _allows('letters, digits, ".", "_" or "-" (not empty)', pattern=r"^[A-Za-z0-9._-]+$")
]


class Table(Struct, forbid_unknown_fields=True):
    """A table of the file: a key it does not list is an error."""


class Store(Table):
    path: FilePath | UnsetType = UNSET
    url: StoreUrl | UnsetType = UNSET
    spool: FilePath | UnsetType = UNSET
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
    processes: Processes | UnsetType = UNSET


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


class Alerts(Table):
    enabled: bool | UnsetType = UNSET
    threshold: Count | UnsetType = UNSET
    window: Duration | UnsetType = UNSET
    domain_threshold: Threshold | UnsetType = UNSET
    blocked_threshold: Threshold | UnsetType = UNSET
    blocked_window: Duration | UnsetType = UNSET


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


class HttpToken(Table):
    name: TokenName
    scope: Literal[TOKEN_SCOPES]
    secret: Secret | UnsetType = UNSET
    secret_sha256: Sha256 | UnsetType = UNSET


class Http(Table):
    enabled: bool | UnsetType = UNSET
    listen: Listen | UnsetType = UNSET
    metrics_open: bool | UnsetType = UNSET
    tokens: Annotated[list[HttpToken], _allows("a list of [[http.tokens]] tables")] | UnsetType = (
        UNSET
    )


Webhooks = Annotated[list[Webhook], _allows("a list of [[webhooks]] tables")]


class File(Table):
    """The whole file: a section it leaves out is an empty table."""

    store: Store = msgspec.field(default_factory=Store)
    smtp: Smtp = msgspec.field(default_factory=Smtp)
    classify: Classify = msgspec.field(default_factory=Classify)
    tracker: Tracker = msgspec.field(default_factory=Tracker)
    alerts: Alerts = msgspec.field(default_factory=Alerts)
    verp: Verp = msgspec.field(default_factory=Verp)
    log: Log = msgspec.field(default_factory=Log)
    webhooks: Webhooks = msgspec.field(default_factory=list)
    http: Http = msgspec.field(default_factory=Http)


def domain_problem(text: str) -> str | None:
    """Return what is wrong with a bounce domain given outside the file (`serve --domain`),
    in the words a config error uses, or None when it is a domain name."""
    if re.match(_DOMAIN, text):
        return None
    return f"must be {_DOMAIN_WORDS} (got {text!r})"


def convert(data: dict[str, Any]) -> File:
    """Check parsed TOML data against the schema and return it as a File.

    Raise ConfigError with one line, 'key: must be ... (got ...)', when a key is unknown,
    missing or holds what it may not.
    """
    try:
        return msgspec.convert(data, File)
    except msgspec.ValidationError as exc:
        try:
            message = _explain(str(exc), File, data)
        except (LookupError, StopIteration, TypeError, AttributeError):  # a shape not foreseen
            message = str(exc)
        raise ConfigError(message) from exc


# Reading msgspec's errors back into the file's terms: follow the path through the schema and
# the data to the key, its type and the value written there.
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
    return f"{key}: must be {_describe(kind)} (got {shown(value, kind)})"


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
        return "one of " + ", ".join(shown(value) for value in get_args(kind))
    if get_origin(kind) is list:
        return f"a list of values, each {_describe(get_args(kind)[0])}"
    if get_origin(kind) is dict or hasattr(kind, "__struct_fields__"):
        return "a table"
    return {bool: "true or false", int: "a whole number", float: "a number"}.get(kind, "text")


def shown(value: Any, kind: Any = None) -> str:
    """Write a value for an error message as TOML would, on one line; never show a secret.

    kind is the schema type the value was meant for (a Secret is shown by its length only).
    """
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
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else shown(name)


def _table_name(key: str) -> str:
    """Name the table a key lives in as the file heads it: '[smtp]', '[[webhooks]]'."""
    for array in ("webhooks", "http.tokens"):
        if key.startswith(f"{array} #"):
            return f"[[{array}]]"
    return f"[{key}]"
