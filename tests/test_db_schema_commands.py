"""`bouncer db status` and `bouncer db migrate` on each backend (a real SQLite file, a real
PostgreSQL database), and the SQLite-only upkeep commands refusing a PostgreSQL store."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result

from bouncer.cli.main import main
from bouncer.store.schema import MIGRATIONS


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_status_before_and_after_migrate(new_store) -> None:  # noqa: ANN001
    url = new_store(empty=True)
    before = _run("db", "status", "--json", "--database", url)
    assert before.exit_code == 1, before.output
    assert json.loads(before.output)["schema_version"] is None
    migrated = _run("db", "migrate", "--database", url)
    assert migrated.exit_code == 0, migrated.output
    assert f"schema version {len(MIGRATIONS)} (was new)" in migrated.output
    after = _run("db", "status", "--json", "--db", url)
    assert after.exit_code == 0, after.output
    facts = json.loads(after.output)
    assert facts["schema_version"] == facts["latest_version"] == len(MIGRATIONS)
    assert facts["identity"] == "caseless" and facts["current"] is True
    assert facts["backend"] == ("postgresql" if url.startswith("postgresql:") else "sqlite")
    again = _run("db", "migrate", "--database", url)
    assert f"(was version {len(MIGRATIONS)})" in again.output


def test_the_store_url_comes_from_the_config(new_store, tmp_path) -> None:  # noqa: ANN001
    url = new_store()
    config = tmp_path / "bouncer.toml"
    location = url if "://" in url else f"sqlite://{url}"
    config.write_text(f'[store]\nurl = "{location}"\n')
    result = _run("db", "status", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "current: True" in result.output


def test_a_password_never_shows_and_an_unreachable_server_is_one_line() -> None:
    url = "postgresql://bouncer:hunter2-long@127.0.0.1:9/bouncer?connect_timeout=2"
    for command in ("status", "migrate"):
        result = _run("db", command, "--database", url)
        assert result.exit_code == 3
        assert "hunter2" not in result.output
        assert result.output.count("\n") == 1 and "bouncer:***@127.0.0.1:9" in result.output


@pytest.mark.parametrize("command", ["backup", "check", "vacuum"])
def test_sqlite_upkeep_commands_say_what_to_use_on_postgresql(command: str) -> None:
    args = ["db", command, "--database", "postgresql://bouncer@db.example/bouncer"]
    result = _run(*args, *(["copy.db"] if command == "backup" else []))
    assert result.exit_code == 3
    assert "works on a SQLite file; for PostgreSQL use" in result.output


def test_a_command_on_a_store_not_yet_created_is_one_line(new_store) -> None:  # noqa: ANN001
    url = new_store(empty=True)
    result = _run("suppression", "show", "a@example.com", "--database", url)
    assert result.exit_code == 3
    assert result.output.count("\n") == 1
    assert "no such database" in result.output or "no bouncer tables" in result.output
    assert _run("db", "status", "--database", url).exit_code == 1  # nothing was created
