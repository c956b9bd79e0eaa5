"""The rules that tie config keys together, checked once every key has passed the schema.

A rule broken raises ConfigError naming the key to change, what it must be and what the file
has (", the default" when the file leaves a key out, so the user knows to set it). Imported by
bouncer.config only when a file is read.
"""

from datetime import timedelta
from typing import Any

from bouncer.config import (
    Config,
    ConfigError,
    HttpConfig,
    SmtpConfig,
    TrackerConfig,
    VerpConfig,
    WebhookConfig,
)
from bouncer.config.schema import shown


def check(config: Config, data: dict[str, Any]) -> None:
    """Check the rules that tie keys together; raise ConfigError naming the key to change.

    data is the parsed TOML the config was built from (to tell a key written from a default).
    """
    _check_smtp(config.smtp, data)
    _check_store(config, data)
    _order(data, config.tracker, "warn_after", "give_up_after", "shorter than")
    _order(data, config.tracker, "give_up_after", "retry_until_limit", "at most")
    _check_verp(config.verp)
    _check_webhooks(config.webhooks)
    _check_http(config.http)


def _check_smtp(smtp: SmtpConfig, data: dict[str, Any]) -> None:
    """Check the port range, the connection limits and the STARTTLS pair of [smtp]."""
    _, _, port = smtp.listen.rpartition(":")
    if int(port) > 65535:
        raise ConfigError(f"smtp.listen: the port must be 0 to 65535 (got {shown(smtp.listen)})")
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


def _check_store(config: Config, data: dict[str, Any]) -> None:
    """Check that the store is given once (url or path), and that records are kept at least
    as long as raw copies (a raw copy lives in its message record)."""
    store = data.get("store", {})
    if "url" in store and "path" in store:
        raise ConfigError(
            "store.url: give store.url or store.path, not both (a path is sqlite:///PATH)"
        )
    if "spool" in store and _same_file(config.spool_path, config.db_path):
        raise ConfigError(
            f"store.spool: must be another file than the store (got {shown(config.spool_path)})"
        )
    records, raw = config.keep_records, config.keep_raw
    if records is None or (raw is not None and raw <= records):
        return
    raw_text = "forever" if raw is None else _written_duration(raw)
    raise ConfigError(
        f"store.keep_records: must be at least store.keep_raw ({raw_text}"
        f"{_default_note(data, 'store', 'keep_raw')}), as a raw copy is kept in its record"
        f" (got {_written_duration(records)}{_default_note(data, 'store', 'keep_records')})"
    )


def _same_file(spool: str, store: str) -> bool:
    """Say whether the spool's path names the store's SQLite file (path or sqlite:// URL)."""
    import os

    scheme, sep, rest = store.partition("://")
    if sep and scheme.lower() != "sqlite":
        return False
    return os.path.abspath(spool) == os.path.abspath(rest if sep else store)


def _check_verp(verp: VerpConfig) -> None:
    """Check that verp.key_id names one of verp.keys, and that require_valid has keys."""
    if verp.key_id and verp.key_id not in verp.keys:
        known = ", ".join(shown(key) for key in verp.keys) or "none"
        raise ConfigError(
            f"verp.key_id: must be one of verp.keys ({known}) (got {shown(verp.key_id)})"
        )
    if verp.require_valid and not verp.keys:
        raise ConfigError(
            "verp.require_valid: true needs verp.keys: without a key no return path is validly"
            " signed, so no report would count"
        )


def _check_webhooks(webhooks: tuple[WebhookConfig, ...]) -> None:
    """Check that no two [[webhooks]] tables have the same url."""
    urls = [hook.url for hook in webhooks]
    for number, url in enumerate(urls, 1):
        if url in urls[: number - 1]:
            first = urls.index(url) + 1
            raise ConfigError(
                f"webhooks #{number}.url: must differ from webhooks #{first}.url"
                f" (got {shown(url)} again)"
            )


def _check_http(http: HttpConfig) -> None:
    """Check the port of http.listen and that no two [[http.tokens]] share a name."""
    _, _, port = http.listen.rpartition(":")
    if int(port) > 65535:
        raise ConfigError(f"http.listen: the port must be 0 to 65535 (got {shown(http.listen)})")
    names = [token.name for token in http.tokens]
    for number, name in enumerate(names, 1):
        if name in names[: number - 1]:
            raise ConfigError(
                f"http.tokens #{number}.name: must differ from http.tokens"
                f" #{names.index(name) + 1}.name (got {shown(name)} again)"
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
