"""Config loading: defaults, the documented example file, and errors that name the key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bouncer.config import Config, ConfigError, load, parse_duration, split_listen

ROOT = Path(__file__).resolve().parent.parent


def test_no_file_gives_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOUNCER_CONFIG", raising=False)
    config = load(None)
    assert config == Config()
    assert (config.listen_host, config.listen_port) == ("127.0.0.1", 2525)
    assert config.smtp.domains == ("localhost",)


def test_documented_example_equals_defaults() -> None:
    config = load(ROOT / "config" / "bouncer.toml")
    assert config.smtp == Config().smtp
    assert config.tracker == Config().tracker
    assert config.db_path == Config().db_path
    assert config.keep_raw == Config().keep_raw
    assert config.case_sensitive_local_part is False


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
        ('[verp]\nkeys = { a = "x" }\nkey_id = "b"\n', "verp.key_id"),
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


def test_verp_section(tmp_path: Path) -> None:
    file = tmp_path / "v.toml"
    file.write_text('[verp]\nkeys = { a = "s1", b = "s2" }\nkey_id = "b"\nrequire_valid = true\n')
    verp = load(file).verp
    assert verp.secrets() == {"a": b"s1", "b": b"s2"}
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
