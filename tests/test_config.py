"""Config loading: defaults, the documented example file, and errors that name the key."""

from __future__ import annotations

import re
import tomllib
from dataclasses import fields, replace
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bouncer.config import (
    CLASS_NAMES,
    REASON_NAMES,
    AlertsConfig,
    Config,
    ConfigError,
    HttpConfig,
    SmtpConfig,
    TokenConfig,
    TrackerConfig,
    VerpConfig,
    WebhookConfig,
    from_mapping,
    load,
    parse_duration,
    parse_token,
    secret_hash,
    split_listen,
    with_overrides,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config" / "bouncer.toml"
SECRET = "0123456789abcdef"  # 16 characters: the shortest secret allowed
TOKEN = '[[http.tokens]]\nname = "shop"\nscope = "read"\n'
HOOK = f'[[webhooks]]\nurl = "https://app.example.com/h"\nsecret = "{SECRET}"\n'


def test_no_file_gives_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOUNCER_CONFIG", raising=False)
    config = load(None)
    assert config == Config()
    assert (config.listen_host, config.listen_port) == ("127.0.0.1", 2525)
    assert config.smtp.domains == ("localhost",)


def test_documented_example_equals_defaults() -> None:
    config = load(EXAMPLE)
    assert config.smtp == Config().smtp
    assert config.tracker == Config().tracker
    assert config.db_path == Config().db_path
    assert config.keep_raw == Config().keep_raw
    assert config.case_sensitive_local_part is False
    assert replace(config, source=None) == Config()  # every key, the new ones too


def test_the_example_token_table_uncommented_is_a_working_config(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    table = text[text.index("# [[http.tokens]]") :].split("\n\n")[0].splitlines()
    assert len(table) >= 4
    uncommented = "\n".join(line.removeprefix("# ").split("  #")[0] for line in table)
    digest = "0" * 64
    file = tmp_path / "bouncer.toml"
    file.write_text(
        text.replace(
            "\n".join(table), uncommented.replace("<the 64 hex digits of sha256sum>", digest)
        )
    )
    [token] = load(file).http.tokens
    assert (token.name, token.scope) == ("shop", "read")


def test_documented_example_shows_every_key() -> None:
    documented = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert set(documented) == {
        "store",
        "smtp",
        "classify",
        "tracker",
        "alerts",
        "verp",
        "log",
        "http",
    }
    # tokens: shown as a commented [[http.tokens]] table, ready to uncomment
    assert set(documented["http"]) | {"tokens"} == {f.name for f in fields(HttpConfig)}
    assert set(documented["smtp"]) == {f.name for f in fields(SmtpConfig)}
    assert set(documented["alerts"]) == {f.name for f in fields(AlertsConfig)}
    assert set(documented["tracker"]) == {f.name for f in fields(TrackerConfig)}
    assert set(documented["verp"]) == {f.name for f in fields(VerpConfig)}
    assert set(documented["store"]) == {
        "path", "spool", "keep_raw", "keep_records", "keep_events", "case_sensitive_local_part"
    }  # fmt: skip
    assert "\n# url = " in EXAMPLE.read_text(encoding="utf-8")  # [store] url: in place of path
    assert set(documented["log"]) == {"format", "level"}
    assert set(documented["classify"]) == {"class_overrides"}
    commented = set(re.findall(r"^# (\w+) = ", EXAMPLE.read_text(encoding="utf-8"), re.M))
    assert {f.name for f in fields(WebhookConfig)} <= commented  # [[webhooks]]: an example
    assert {f.name for f in fields(TokenConfig)} <= commented  # [[http.tokens]] too


def test_local_part_case_switch(tmp_path: Path) -> None:
    file = tmp_path / "b.toml"
    file.write_text("[store]\ncase_sensitive_local_part = true\n")
    assert load(file).identity.keep_local_case is True
    assert Config().identity.key("Gone.Mixed@Dest.Test") == "gone.mixed@dest.test"


def test_values_are_read_and_typed(tmp_path: Path) -> None:
    file = tmp_path / "b.toml"
    file.write_text(
        '[smtp]\nlisten = "[::1]:2600"\ndomains = ["b.example"]\ntimeout = 60\n'
        '[tracker]\nwarn_after = "90m"\n[classify]\n'
        'class_overrides = { mailboxfull = "hard" }\n'
    )
    config = load(file)
    assert (config.listen_host, config.listen_port) == ("::1", 2600)
    assert config.smtp.timeout == 60.0
    assert config.tracker.warn_after == timedelta(minutes=90)
    assert config.class_overrides == {"mailboxfull": "hard"}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[smtp]\nlisten = 5\n", "smtp.listen"),
        ('[smtp]\nmax_recipients = "many"\n', "smtp.max_recipients"),
        ("[smtp]\nbogus = 1\n", "bogus"),
        ("[nonsense]\n", "nonsense"),
        ('[tracker]\ngive_up_after = "soon"\n', "tracker.give_up_after"),
        ('[classify]\nclass_overrides = { blocked = "maybe" }\n', "class_overrides.blocked"),
        ("[smtp\n", "b.toml"),
        ('[verp]\nkeys = { ab = "x" }\n', "verp.keys.ab"),
        (f'[verp]\nkeys = {{ a = "{SECRET}" }}\nkey_id = "b"\n', "verp.key_id"),
        ('[verp]\nrequire_valid = "yes"\n', "verp.require_valid"),
        ('[store]\nkeep_raw = "never"\n', "store.keep_raw"),
        ('[store]\nkeepraw = "1d"\n', "keepraw"),
        ('[store]\ncase_sensitive_local_part = "yes"\n', "store.case_sensitive_local_part"),
        ('[tracker]\nexpired_ttl = "14d"\n', "no longer suppresses"),
    ],
)
def test_errors_name_the_key_and_file(tmp_path: Path, text: str, needle: str) -> None:
    file = tmp_path / "b.toml"
    file.write_text(text)
    with pytest.raises(ConfigError) as error:
        load(file)
    assert needle in str(error.value)
    assert str(file) in str(error.value)


def test_alerts_section(tmp_path: Path) -> None:
    file = tmp_path / "a.toml"
    file.write_text(
        '[alerts]\nthreshold = 50\nwindow = "15m"\ndomain_threshold = 0\n'
        "blocked_threshold = 5\nblocked_window = 120\nenabled = false\n"
    )
    assert load(file).alerts == AlertsConfig(
        enabled=False,
        threshold=50,
        window=timedelta(minutes=15),
        domain_threshold=0,
        blocked_threshold=5,
        blocked_window=timedelta(minutes=2),
    )


def test_alert_defaults_are_the_alert_policy() -> None:
    from bouncer.app.alerts import policy_from
    from bouncer.core.alerts import AlertPolicy

    assert policy_from(AlertsConfig()) == AlertPolicy()
    assert policy_from(AlertsConfig(threshold=7)).threshold == 7


def test_the_example_lists_every_event_type_a_webhook_may_take() -> None:
    from bouncer.core.tracker_types import EVENT_TYPES

    text = EXAMPLE.read_text(encoding="utf-8")
    webhooks = text[text.index("# [[webhooks]]") :]
    assert [name for name in EVENT_TYPES if name not in webhooks] == []


def test_verp_section(tmp_path: Path) -> None:
    file = tmp_path / "v.toml"
    file.write_text(
        f'[verp]\nkeys = {{ a = "{SECRET}1", b = "{SECRET}2" }}\nkey_id = "b"\n'
        "require_valid = true\n"
    )
    verp = load(file).verp
    assert verp.secrets() == {"a": f"{SECRET}1".encode(), "b": f"{SECRET}2".encode()}
    assert (verp.key_id, verp.require_valid) == ("b", True)


def test_durations() -> None:
    assert parse_duration("4h", "k") == timedelta(hours=4)
    assert parse_duration("4d", "k") == timedelta(days=4)
    assert parse_duration(30, "k") == timedelta(seconds=30)
    with pytest.raises(ConfigError):
        parse_duration("4 parsecs", "k")


def test_listen_must_have_a_port() -> None:
    with pytest.raises(ConfigError):
        split_listen("localhost")


# Each value the issue "Config that means what it says" lists, then every other kind of bad
# value: the message names the file and the key, and says what is allowed.
BAD = [
    # accepted silently before
    ('[log]\nlevle = "debug"\n', "log.levle", "[log] has format, level"),
    ("[classify]\nclass_override = {}\n", "classify.class_override", "has class_overrides"),
    (
        '[classify]\nclass_overrides = { mailboxful = "hard" }\n',
        "classify.class_overrides.mailboxful",
        "a reason bouncer gives (authfailure,",
    ),
    ('[log]\nlevel = "verbose"\n', "log.level", '"debug", "info", "warning", "error"'),
    ('[log]\nformat = "text"\n', "log.format", '"auto", "json", "console"'),
    ('[tracker]\nwarn_after = "5d"\n', "tracker.warn_after", "shorter than tracker.give_up_after"),
    (
        '[tracker]\nwarn_after = "4h"\ngive_up_after = "4h"\n',
        "tracker.warn_after",
        "shorter than tracker.give_up_after (4h)",
    ),
    ('[verp]\nkeys = { a = "" }\n', "verp.keys.a", "at least 16 characters"),
    (
        '[[webhooks]]\nurl = "ftp://files.example.com/in"\nsecret = "0123456789abcdef"\n',
        "webhooks #1.url",
        "http:// or https:// URL with a host",
    ),
    # accepted, then refusing all mail
    ("[smtp]\nmax_connections = 0\n", "smtp.max_connections", "at least 1 (got 0)"),
    ("[smtp]\ntimeout = -5\n", "smtp.timeout", "above 0"),
    ("[smtp]\nmax_recipients = 0\n", "smtp.max_recipients", "at least 1 (got 0)"),
    ("[smtp]\nmax_message_size = -1\n", "smtp.max_message_size", "at least 65536 "),
    ("[smtp]\ndomains = []\n", "smtp.domains", "one or more domain names (got [])"),
    # the new [smtp] keys
    ("[smtp]\nmax_connections_per_ip = 0\n", "smtp.max_connections_per_ip", "at least 1"),
    (
        "[smtp]\nmax_connections = 10\n",
        "smtp.max_connections_per_ip",
        "at most smtp.max_connections (10) (got 20, the default)",
    ),
    (
        "[smtp]\nmax_connections = 10\nmax_connections_per_ip = 11\n",
        "smtp.max_connections_per_ip",
        "(got 11)",
    ),
    ("[smtp]\njunk_command_limit = 0\n", "smtp.junk_command_limit", "at least 1"),
    ("[smtp]\nsession_lifetime = 0\n", "smtp.session_lifetime", "above 0"),
    ("[smtp]\ndata_timeout = -1.5\n", "smtp.data_timeout", "above 0"),
    ("[smtp]\ndata_timeout = inf\n", "smtp.data_timeout", "(got inf)"),
    ('[smtp]\ntimeout = "5m"\n', "smtp.timeout", "a number of seconds"),
    ('[smtp]\ntls_cert = "/etc/bouncer/cert.pem"\n', "smtp.tls_key", "smtp.tls_cert"),
    ('[smtp]\ntls_key = "/etc/bouncer/key.pem"\n', "smtp.tls_cert", "smtp.tls_key"),
    ("[smtp]\ntls_cert = 1\n", "smtp.tls_cert", "a file path"),
    ("[smtp]\nshutdown_grace = -1\n", "smtp.shutdown_grace", "from 0"),
    # other [smtp] keys
    ('[smtp]\nlisten = "localhost"\n', "smtp.listen", "HOST:PORT"),
    ('[smtp]\nlisten = "127.0.0.1:70000"\n', "smtp.listen", "0 to 65535"),
    ('[smtp]\nhostname = "bad host"\n', "smtp.hostname", "a domain name"),
    ('[smtp]\ndomains = ["b.example", "not a domain"]\n', "smtp.domains #2", "a domain name"),
    ('[smtp]\ndomains = "b.example"\n', "smtp.domains", "a list of one or more domain names"),
    ("[smtp]\nmax_connections = 1.5\n", "smtp.max_connections", "a whole number"),
    ("[smtp]\nmax_connections = true\n", "smtp.max_connections", "(got true)"),
    ("smtp = 5\n", "smtp", "must be a table (got 5)"),
    # [store]
    ('[store]\npath = ""\n', "store.path", "not empty"),
    ('[store]\nspool = ""\n', "store.spool", "not empty"),
    ("[store]\nspool = 1\n", "store.spool", "a file path"),
    ('[store]\npath = "s/b.db"\nspool = "s/b.db"\n', "store.spool", "another file"),
    ('[store]\nkeep_raw = "0d"\n', "store.keep_raw", '"forever"'),
    ("[store]\nkeep_records = -1\n", "store.keep_records", '"forever"'),
    ('[store]\nkeep_events = "400 days"\n', "store.keep_events", '"forever"'),
    ('[store]\nkeep_records = "30d"\n', "store.keep_records", "at least store.keep_raw (90d"),
    ('[store]\nkeep_raw = "forever"\n', "store.keep_records", "(got 400d, the default)"),
    # [tracker]
    ('[tracker]\ngive_up_after = "2h"\n', "tracker.warn_after", "(2h) (got 4h, the default)"),
    ('[tracker]\nretry_until_limit = "1d"\n', "tracker.give_up_after", "at most"),
    ("[tracker]\nescalation_threshold = 0\n", "tracker.escalation_threshold", "at least 1"),
    ("[tracker]\nescalation_window = 0\n", "tracker.escalation_window", "a duration above 0"),
    ('[tracker]\nsoft_ttl = "-7d"\n', "tracker.soft_ttl", "a duration above 0"),
    ('[tracker]\nsweep_interval = "0s"\n', "tracker.sweep_interval", "a duration above 0"),
    ("[tracker]\nsweep_interval = nan\n", "tracker.sweep_interval", "(got nan)"),
    ("[tracker]\nsoft_ttl = 1e300\n", "tracker.soft_ttl", "too long"),
    # [alerts]
    ("[alerts]\nthreshold = 0\n", "alerts.threshold", "at least 1 (got 0)"),
    ("[alerts]\ndomain_threshold = -1\n", "alerts.domain_threshold", "0 (off) or more"),
    ("[alerts]\nblocked_threshold = 2.5\n", "alerts.blocked_threshold", "0 (off) or more"),
    ('[alerts]\nwindow = "0s"\n', "alerts.window", "a duration above 0"),
    ('[alerts]\nblocked_window = "soon"\n', "alerts.blocked_window", "a duration above 0"),
    ('[alerts]\nenabled = "yes"\n', "alerts.enabled", "true or false"),
    ("[alerts]\nspike = 5\n", "alerts.spike", "[alerts] has enabled, threshold, window"),
    # [verp]
    ('[verp]\nkey_id = "ab"\n', "verp.key_id", "one of verp.keys"),
    ('[verp]\nmax_age = "forever"\n', "verp.max_age", "a duration"),
    ("[verp]\nrequire_valid = true\n", "verp.require_valid", "needs verp.keys"),
    ('[verp]\nkeys = "secret"\n', "verp.keys", "a table"),
    # [classify]
    (
        '[classify]\nclass_overrides = { blocked = "Hard" }\n',
        "classify.class_overrides.blocked",
        '"hard", "soft", "none"',
    ),
    # [[webhooks]]
    ('[[webhooks]]\nurl = "https://app.example.com/h"\n', "webhooks #1.secret", "missing"),
    ('[[webhooks]]\nsecret = "0123456789abcdef"\n', "webhooks #1.url", "missing"),
    (HOOK.replace(SECRET, "change-me"), "webhooks #1.secret", "at least 16 characters"),
    (HOOK.replace("https://app.example.com/h", "https://"), "webhooks #1.url", "with a host"),
    (HOOK + 'key_id = "a,b"\n', "webhooks #1.key_id", "letters, digits"),
    (HOOK + 'events = ["bounce.hard", "bounced"]\n', "webhooks #1.events #2", '"bounce.soft"'),
    (HOOK + "retries = 3\n", "webhooks #1.retries", "[[webhooks]] has url, secret"),
    (HOOK + HOOK, "webhooks #2.url", "must differ from webhooks #1.url"),
    ('webhooks = { url = "https://app.example.com/h" }\n', "webhooks", "[[webhooks]] tables"),
    ("[webhook]\n", "webhook", "unknown section; the sections are store, smtp"),
    # [http]
    ('[http]\nlisten = "8025"\n', "http.listen", "HOST:PORT"),
    ('[http]\nlisten = "127.0.0.1:80250"\n', "http.listen", "0 to 65535"),
    ('[http]\nmetrics_open = "yes"\n', "http.metrics_open", "true or false"),
    ("[http]\nport = 8025\n", "http.port", "[http] has enabled, listen, metrics_open, tokens"),
    (TOKEN, "http.tokens #1", "secret or secret_sha256, one of them (got neither)"),
    (
        TOKEN + f'secret = "{SECRET}"\nsecret_sha256 = "{"a" * 64}"\n',
        "http.tokens #1",
        "(got secret and secret_sha256)",
    ),
    (TOKEN + 'secret = "short"\n', "http.tokens #1.secret", "at least 16 characters"),
    (TOKEN + 'secret_sha256 = "abc"\n', "http.tokens #1.secret_sha256", "64 hex digits"),
    (
        TOKEN.replace('"read"', '"write"') + f'secret = "{SECRET}"\n',
        "http.tokens #1.scope",
        '"read", "admin"',
    ),
    (
        TOKEN.replace('"shop"', '"my shop"') + f'secret = "{SECRET}"\n',
        "http.tokens #1.name",
        "letters, digits",
    ),
    (
        TOKEN + f'secret = "{SECRET}"\nexpires = 1\n',
        "http.tokens #1.expires",
        "[[http.tokens]] has name",
    ),
    (
        2 * (TOKEN + f'secret = "{SECRET}"\n'),
        "http.tokens #2.name",
        "must differ from http.tokens #1.name",
    ),
    ('[[http.tokens]]\nscope = "read"\n', "http.tokens #1.name", "missing"),
]


@pytest.mark.parametrize(("text", "key", "allowed"), BAD)
def test_bad_values_are_refused_naming_file_key_and_what_is_allowed(
    tmp_path: Path, text: str, key: str, allowed: str
) -> None:
    file = tmp_path / "bad.toml"
    file.write_text(text)
    with pytest.raises(ConfigError) as error:
        load(file)
    message = str(error.value)
    assert message.startswith(f"{file}: {key}"), message
    assert allowed in message, message
    assert "\n" not in message and "Expected `" not in message  # msgspec's words translated


def test_messages_say_what_the_file_has() -> None:
    with pytest.raises(ConfigError, match=r"^smtp\.max_connections: .* \(got 0\)$"):
        from_mapping({"smtp": {"max_connections": 0}})
    with pytest.raises(ConfigError, match=r'\(got "verbose"\)$'):
        from_mapping({"log": {"level": "verbose"}})


def test_messages_never_show_a_secret() -> None:
    with pytest.raises(ConfigError) as verp:
        from_mapping({"verp": {"keys": {"a": "hunter2"}}})
    with pytest.raises(ConfigError) as hook:
        from_mapping({"webhooks": [{"url": "https://a.example/", "secret": "hunter2"}]})
    for error in (verp, hook):
        assert "hunter2" not in str(error.value)
        assert "a secret of 7 characters" in str(error.value)


def test_every_section_read_and_typed(tmp_path: Path) -> None:
    file = tmp_path / "all.toml"
    file.write_text(
        f"""
[store]
path = "/var/lib/bouncer/b.db"
spool = "/var/spool/bouncer/spool.db"
keep_raw = "30d"
keep_records = "520w"
keep_events = 86400
case_sensitive_local_part = true

[smtp]
listen = "[::]:25"
hostname = "mx.bounces.example"
domains = ["bounces.example", "xn--bcher-kva.example", "Bounces.Example."]
max_message_size = 65536
max_recipients = 1
max_connections = 2
max_connections_per_ip = 2
junk_command_limit = 5
session_lifetime = 60
timeout = 0.5
data_timeout = 120.5
tls_cert = "/etc/bouncer/cert.pem"
tls_key = "/etc/bouncer/key.pem"
shutdown_grace = 0

[classify]
class_overrides = {{ mailboxfull = "hard", undefined = "none", onhold = "soft" }}

[tracker]
warn_after = "90m"
give_up_after = "2d"
retry_until_limit = "2d"
escalation_threshold = 1
escalation_window = "1w"
soft_ttl = " 1.5 d "
sweep_interval = 0.25

[verp]
keys = {{ a = "{SECRET}", 7 = "{SECRET}{SECRET}" }}
key_id = "7"
max_age = "30d"
require_valid = true

[log]
format = "console"
level = "warning"

[[webhooks]]
url = "http://127.0.0.1:8080/hooks?x=1"
secret = "{SECRET}"

[[webhooks]]
url = "https://[::1]/b"
secret = "{SECRET}x"
key_id = "2026-11.a"
events = ["bounce.hard", "suppression.added"]
"""
    )
    config = load(file)
    assert config.source == str(file)
    assert (config.db_path, config.keep_raw) == ("/var/lib/bouncer/b.db", timedelta(days=30))
    assert config.spool_path == "/var/spool/bouncer/spool.db"
    assert (config.keep_records, config.keep_events) == (timedelta(weeks=520), timedelta(days=1))
    assert config.identity.keep_local_case is True
    assert config.smtp == SmtpConfig(
        listen="[::]:25",
        hostname="mx.bounces.example",
        domains=("bounces.example", "xn--bcher-kva.example", "Bounces.Example."),
        max_message_size=65536,
        max_recipients=1,
        max_connections=2,
        max_connections_per_ip=2,
        junk_command_limit=5,
        session_lifetime=60.0,
        timeout=0.5,
        data_timeout=120.5,
        tls_cert="/etc/bouncer/cert.pem",
        tls_key="/etc/bouncer/key.pem",
        shutdown_grace=0.0,
    )
    assert isinstance(config.smtp.session_lifetime, float)
    assert (config.listen_host, config.listen_port) == ("::", 25)
    assert config.class_overrides == {"mailboxfull": "hard", "undefined": "none", "onhold": "soft"}
    assert config.tracker == TrackerConfig(
        warn_after=timedelta(minutes=90),
        give_up_after=timedelta(days=2),
        retry_until_limit=timedelta(days=2),
        escalation_threshold=1,
        escalation_window=timedelta(weeks=1),
        soft_ttl=timedelta(hours=36),
        sweep_interval=timedelta(seconds=0.25),
    )
    assert config.verp == VerpConfig(
        keys={"a": SECRET, "7": SECRET * 2},
        key_id="7",
        max_age=timedelta(days=30),
        require_valid=True,
    )
    assert (config.log_format, config.log_level) == ("console", "warning")
    assert config.webhooks == (
        WebhookConfig("http://127.0.0.1:8080/hooks?x=1", SECRET),
        WebhookConfig(
            "https://[::1]/b", SECRET + "x", "2026-11.a", ("bounce.hard", "suppression.added")
        ),
    )


def test_a_file_sets_only_the_keys_it_writes(tmp_path: Path) -> None:
    file = tmp_path / "one.toml"
    file.write_text('[tracker]\nwarn_after = "1h"\n[store]\nkeep_events = "forever"\n')
    config = load(file)
    assert replace(config, source=None) == replace(
        Config(), tracker=TrackerConfig(warn_after=timedelta(hours=1)), keep_events=None
    )
    assert from_mapping({}) == Config()


def test_overrides_and_direct_construction_still_work() -> None:
    config = with_overrides(Config(), listen="0.0.0.0:25", domains=("b.example",), db_path="x.db")
    assert (config.listen_port, config.smtp.domains, config.db_path) == (25, ("b.example",), "x.db")
    assert replace(SmtpConfig(), max_connections=1).max_connections == 1
    assert (
        TrackerConfig(sweep_interval=timedelta(seconds=0.05)).sweep_interval.total_seconds() == 0.05
    )
    assert CLASS_NAMES == ("hard", "soft", "none")


def test_reason_names_are_every_reason_the_classifier_gives() -> None:
    from bouncer.core import classify
    from bouncer.core.rules.codes import REPLY_REASONS, STATUS_REASONS
    from bouncer.core.rules.evidence import LOCAL_REASONS, PAIR_WINNERS, X_UNIX_REASONS
    from bouncer.core.rules.families import FAMILIES
    from bouncer.core.rules.phrases import ENGLISH, GENERIC, REASON_ORDER
    from bouncer.core.rules.phrases_intl import INTERNATIONAL
    from bouncer.core.rules.providers import PROVIDERS

    given = {*REASON_ORDER, *ENGLISH, *INTERNATIONAL, *FAMILIES, *(r for r, _ in GENERIC)}
    given |= {*STATUS_REASONS.values(), *REPLY_REASONS.values(), *PAIR_WINNERS.values()}
    given |= LOCAL_REASONS | X_UNIX_REASONS | classify.NOT_FAILURES | classify.HARD_REASONS
    given |= set(classify.KIND_REASONS.values())
    for provider in PROVIDERS:
        given |= {rule.reason for rule in provider.rules} | set(provider.codes.values())
    # Reasons written as literals in code: fallbacks, a parser's hint, a rule's verdict.
    sources = [
        ROOT / "bouncer" / "core" / "classify.py",
        *(ROOT / "bouncer" / "core" / "rules").glob("*.py"),
    ]
    for source in sources:
        text = source.read_text(encoding="utf-8")
        given |= set(re.findall(r'(?:return|reason, read =|generic =) "([a-z]+)"', text))
    for source in (ROOT / "bouncer" / "core" / "dsn").glob("*.py"):
        given |= set(re.findall(r'hint="([a-z]+)"', source.read_text(encoding="utf-8")))
    given -= set(CLASS_NAMES)  # class_of() returns these; they are classes, not reasons
    assert set(REASON_NAMES) == given
    assert list(REASON_NAMES) == sorted(REASON_NAMES)


def test_serve_with_a_bad_config_exits_with_one_line(tmp_path: Path) -> None:
    from bouncer.cli.main import main

    file = tmp_path / "bad.toml"
    file.write_text("[smtp]\nmax_connections = 0\n")
    result = CliRunner().invoke(main, ["serve", "--config", str(file)])
    assert result.exit_code == 78  # sysexits' EX_CONFIG: systemd does not restart on it
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert str(file) in lines[0] and "smtp.max_connections" in lines[0]
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", [["log"], ["suppression", "show", "a@b.example"]])
def test_other_commands_with_a_bad_config_exit_3_with_one_line(
    tmp_path: Path, command: list[str]
) -> None:
    from bouncer.cli.main import main

    file = tmp_path / "bad.toml"
    file.write_text('[log]\nlevel = "verbose"\n')
    result = CliRunner().invoke(main, [*command, "--config", str(file)])
    assert result.exit_code == 3
    assert result.output.strip().splitlines() == [
        f'Error: {file}: log.level: must be one of "debug", "info", "warning", "error"'
        ' (got "verbose")'
    ]


def test_http_tokens_keep_only_the_hash_of_a_secret(tmp_path: Path) -> None:
    file = tmp_path / "h.toml"
    digest = secret_hash(SECRET + "2")
    file.write_text(
        '[http]\nlisten = "[::1]:8100"\nmetrics_open = false\n'
        f'{TOKEN}secret = "{SECRET}"\n'
        f'[[http.tokens]]\nname = "ops"\nscope = "admin"\nsecret_sha256 = "{digest.upper()}"\n'
    )
    http = load(file).http
    assert (http.listen_host, http.listen_port, http.metrics_open) == ("::1", 8100, False)
    assert http.tokens == (
        TokenConfig("shop", "read", secret_hash(SECRET)),
        TokenConfig("ops", "admin", digest),
    )
    assert SECRET not in repr(http)
    assert Config().http == HttpConfig(True, "127.0.0.1:8025", True, ())


def test_token_option() -> None:
    assert parse_token(f"ci:admin:{SECRET}:x") == TokenConfig(
        "ci", "admin", secret_hash(SECRET + ":x")
    )
    for text, words in [
        (f"ci:write:{SECRET}", "read or admin"),
        ("ci:read:short", "at least 16"),
        (f"c i:read:{SECRET}", "NAME:SCOPE:SECRET"),
        ("ci", "NAME:SCOPE:SECRET expected"),
        ("opsadminsecretsecret", "NAME:SCOPE:SECRET expected"),
    ]:
        with pytest.raises(ConfigError, match=words):
            parse_token(text)


def test_the_store_may_be_a_url_but_is_given_once(tmp_path: Path) -> None:
    file = tmp_path / "b.toml"
    url = "postgresql://bouncer:hunter2-long@db.example:5432/bouncer"
    file.write_text(f'[store]\nurl = "{url}"\n')
    assert load(file).db_path == url
    file.write_text('[store]\nurl = "sqlite:///var/lib/bouncer/b.db"\n')
    assert load(file).db_path == "sqlite:///var/lib/bouncer/b.db"
    file.write_text(f'[store]\nurl = "{url}"\npath = "b.db"\n')
    with pytest.raises(ConfigError, match=r"^\S+: store.url: give store.url or store.path, not"):
        load(file)


def test_a_store_url_of_another_kind_is_one_line_without_its_password(tmp_path: Path) -> None:
    file = tmp_path / "b.toml"
    file.write_text('[store]\nurl = "mysql://bouncer:hunter2-long@db.example/bouncer"\n')
    with pytest.raises(ConfigError) as caught:
        load(file)
    message = str(caught.value)
    assert "store.url: must be a postgresql://" in message and "\n" not in message
    assert "hunter2" not in message
