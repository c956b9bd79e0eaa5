"""`bouncer suppression export` and `import` against real SQLite files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bouncer.app.processing import process
from bouncer.cli.main import main
from bouncer.clock import utcnow
from bouncer.store import inbox, open_db
from bouncer.store.inbox import Incoming
from tests.messages import postfix_dsn


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=stdin)


@pytest.fixture
def source(store_url: str) -> Path | str:
    """A store with bounce-made entries (one about an alias) and manual ones, on each backend
    in turn (a SQLite file's path, or a postgresql:// URL)."""
    path = store_url if "://" in store_url else Path(store_url)
    db = open_db(path)
    raws = [
        postfix_dsn("gone@example.com", "5.1.1", "550 5.1.1 <gone@example.com>: unknown, sorry"),
        postfix_dsn(
            "u4711@mbox.example.net",
            "5.1.1",
            "550 5.1.1 no such user",
            original_recipient="Ann.Lee@Example.net",
        ),
    ]
    inbox.insert_batch(db, [Incoming(utcnow(), "<>", ("b@localhost",), None, r) for r in raws])
    for message in inbox.unprocessed(db):
        process(db, message, utcnow())
    db.close()
    for address, extra in (("hand@example.org", ["--expires", "30d"]), ("Ops@Example.org", [])):
        added = run(
            "suppression", "add", address, "--reason", "asked, by mail", *extra, "--db", str(path)
        )
        assert added.exit_code == 0
    return path


def _export(db: Path, *args: str) -> str:
    result = run("suppression", "export", *args, "--db", str(db))
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_then_import_into_an_empty_database_exports_the_same(
    source: Path, tmp_path: Path, fmt: str
) -> None:
    exported = _export(source, "--format", fmt)
    assert exported.count("\n") == 4 + (fmt == "csv")
    file = tmp_path / f"list.{fmt}"
    written = run("suppression", "export", "--format", fmt, "-o", str(file), "--db", str(source))
    assert written.exit_code == 0 and written.stdout == ""
    assert file.read_text() == exported
    target = tmp_path / "target.db"
    imported = run("suppression", "import", str(file), "--db", str(target))
    assert imported.exit_code == 0 and imported.stdout == "added 4, updated 0, skipped 0\n"
    assert _export(target, "--format", fmt) == exported
    again = run("suppression", "import", str(file), "--db", str(target))
    assert again.stdout == "added 0, updated 0, skipped 4\n"
    assert _export(target, "--format", fmt) == exported


def test_export_fields_and_order(source: Path) -> None:
    rows = [json.loads(line) for line in _export(source, "--format", "json").splitlines()]
    assert [r["address"] for r in rows] == [
        "Ann.Lee@Example.net",
        "gone@example.com",
        "hand@example.org",
        "Ops@Example.org",
    ]  # by address key: caseless
    alias = rows[0]
    assert (alias["final_recipient"], alias["source"], alias["count"]) == (
        "u4711@mbox.example.net",
        "bounce",
        1,
    )
    assert rows[2]["expires_at"] and rows[3]["expires_at"] is None
    assert "message_id" not in alias  # local to a database


def test_an_import_adds_updates_and_skips_and_records_who_and_why(
    source: Path, tmp_path: Path
) -> None:
    file = tmp_path / "changes.csv"
    file.write_text(
        "address,reason,class,note\n"
        "gone@example.com,userunknown,hard,\n"  # as stored: skipped
        "OPS@example.org,left the company,hard,ticket 42\n"  # differs: updated
        "new@example.com,asked,soft,\n"  # added
    )
    result = run(
        "suppression", "import", str(file), "--by", "cli:alice", "--reason", "CRM sync",
        "--db", str(source),
    )  # fmt: skip
    assert result.exit_code == 0 and result.stdout == "added 1, updated 1, skipped 1\n"
    shown = json.loads(run("suppression", "show", "ops@example.org", "--json",
                           "--db", str(source)).stdout)  # fmt: skip
    assert (shown["address"], shown["reason"], shown["note"]) == (
        "Ops@Example.org",
        "left the company",
        "ticket 42",
    )
    assert shown["changes"][-1] | {"at": None} == {
        "address": "Ops@Example.org",
        "action": "added",
        "at": None,
        "by": "cli:alice",
        "reason": "CRM sync",
    }
    new = json.loads(run("suppression", "show", "new@example.com", "--json",
                         "--db", str(source)).stdout)  # fmt: skip
    assert (new["class"], new["source"], new["count"]) == ("soft", "manual", 1)
    untouched = json.loads(run("suppression", "show", "gone@example.com", "--json",
                               "--db", str(source)).stdout)  # fmt: skip
    assert untouched["changes"] == [] and untouched["source"] == "bounce"
    added = run("events", "--type", "suppression.added", "--json", "--db", str(source)).stdout
    last = json.loads(added.splitlines()[-1])
    assert (last["recipient"], last["by"], last["class"]) == (
        "new@example.com",
        "cli:alice",
        "soft",
    )


def test_a_bad_row_means_nothing_is_imported(source: Path, tmp_path: Path) -> None:
    before = _export(source)
    file = tmp_path / "bad.csv"
    file.write_text(
        "address,reason,class\nfine@example.com,r,hard\nworse@example.com,r,firm\nbad address,r,\n"
    )
    result = run("suppression", "import", str(file), "--db", str(source))
    assert result.exit_code == 1 and result.stdout == ""
    assert "bad.csv: line 3, class: 'firm'" in result.stderr
    assert "bad.csv: line 4, address:" in result.stderr
    assert "nothing imported: 2 bad row(s)" in result.stderr
    assert _export(source) == before


def test_two_rows_about_one_address_are_refused(source: Path, tmp_path: Path) -> None:
    before = _export(source)
    lines = [
        {"address": "x@example.com", "reason": "a"},
        {"address": "y@example.com", "reason": "a"},
        {"address": "X@EXAMPLE.com", "reason": "b"},
    ]
    text = "".join(json.dumps(line) + "\n" for line in lines)
    result = run("suppression", "import", "-", "--db", str(source), stdin=text)
    assert result.exit_code == 1
    assert "line 3, address: X@EXAMPLE.com is on line 1 too" in result.stderr
    assert _export(source) == before


def test_an_expired_row_is_skipped(tmp_path: Path) -> None:
    text = (
        "address,reason,expires_at\n"
        "old@example.com,r,2001-01-01T00:00:00Z\nlater@example.com,r,2999-01-01\n"
    )
    result = run("suppression", "import", "-", "--db", str(tmp_path / "e.db"), stdin=text)
    assert result.stdout == "added 1, updated 0, skipped 1 (1 already expired)\n"
