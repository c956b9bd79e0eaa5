"""The bouncer command through click's runner, against a real SQLite file."""

from __future__ import annotations

import getpass
import json
import subprocess
import sys
from datetime import timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from bouncer.app.processing import Settings, process
from bouncer.cli.main import main
from bouncer.clock import to_iso, utcnow
from bouncer.store import inbox, open_db
from bouncer.store.inbox import Incoming
from tests.messages import postfix_dsn

UNKNOWN = "550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown"


def run(*args: str, env: dict | None = None) -> tuple[int, str]:
    """Invoke the CLI; return exit code and stdout."""
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.stdout


@pytest.fixture
def db_path(store_url: str) -> Path | str:
    """A store holding one processed hard bounce and one mailbox-full delay, on each backend
    in turn (a SQLite file's path, or a postgresql:// URL)."""
    path = store_url if "://" in store_url else Path(store_url)
    db = open_db(path)
    raws = [
        postfix_dsn("gone@example.com", "5.1.1", UNKNOWN),
        postfix_dsn("full@example.com", "4.2.2", "452 4.2.2 Mailbox full", action="delayed"),
    ]
    items = [Incoming(utcnow(), "<>", ("b@localhost",), None, raw) for raw in raws]
    inbox.insert_batch(db, items)
    for message in inbox.unprocessed(db):
        process(db, message, utcnow())
    db.close()
    return path


def test_classify_json_prints_one_line_per_file(tmp_path: Path) -> None:
    dsn = tmp_path / "dsn.eml"
    dsn.write_bytes(postfix_dsn("gone@example.com", "5.1.1", UNKNOWN))
    junk = tmp_path / "junk.eml"
    junk.write_bytes(b"\x00\xff garbage")
    code, output = run("classify", "--json", str(dsn), str(junk))
    assert code == 0
    lines = [json.loads(line) for line in output.splitlines()]
    assert [line["file"] for line in lines] == [str(dsn), str(junk)]
    assert lines[0]["kind"] == "bounce"
    assert lines[0]["recipients"][0] == {
        "address": "gone@example.com",
        "status": "5.1.1",
        "action": "failed",
        "class": "hard",
        "reason": "userunknown",
        "diagnostic": UNKNOWN,
        "command": None,
    }
    assert lines[1]["kind"] == "unknown"


def test_classify_missing_file_exits_nonzero(tmp_path: Path) -> None:
    code, _ = run("classify", "--json", str(tmp_path / "nope.eml"))
    assert code != 0


def test_suppression_show_exit_codes(db_path: Path) -> None:
    code, output = run("suppression", "show", "gone@example.com", "--db", str(db_path), "--json")
    assert code == 0 and json.loads(output)["reason"] == "userunknown"
    assert run("suppression", "show", "full@example.com", "--db", str(db_path))[0] == 1


def test_db_from_environment(db_path: Path) -> None:
    code, _ = run("suppression", "show", "gone@example.com", env={"BOUNCER_DB": str(db_path)})
    assert code == 0


def test_add_list_remove_with_who_and_why(db_path: Path) -> None:
    db = str(db_path)
    added = run("suppression", "add", "Ops@Example.org", "--reason", "asked", "--db", db)
    assert added[0] == 0
    code, output = run("suppression", "list", "--json", "--db", db)
    assert {json.loads(line)["address"] for line in output.splitlines()} == {
        "gone@example.com",
        "Ops@Example.org",
    }
    removal = ("--reason", "customer wrote in", "--by", "cli:alice", "--db", db)
    assert run("suppression", "remove", "ops@EXAMPLE.org", *removal)[0] == 0
    assert run("suppression", "remove", "Ops@example.org", *removal)[0] == 1
    code, output = run("events", "--type", "suppression.removed", "--json", "--db", db)
    (removed,) = [json.loads(line) for line in output.splitlines()]
    assert (removed["recipient"], removed["by"], removed["note"]) == (
        "Ops@Example.org",
        "cli:alice",
        "customer wrote in",
    )
    code, output = run("suppression", "show", "OPS@example.org", "--json", "--db", db)
    shown = json.loads(output)
    assert code == 1 and shown["suppressed"] is False
    assert [(c["action"], c["by"], c["reason"]) for c in shown["changes"]] == [
        ("added", f"cli:{getpass.getuser()}", "asked"),
        ("removed", "cli:alice", "customer wrote in"),
    ]


def test_remove_needs_a_reason(db_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["suppression", "remove", "gone@example.com", "--db", str(db_path)]
    )
    assert result.exit_code == 2 and "--reason" in result.output


def test_log_shows_both_records_newest_first(db_path: Path) -> None:
    code, output = run("log", "--json", "--db", str(db_path))
    rows = [json.loads(line) for line in output.splitlines()]
    assert code == 0
    assert [r["recipient"] for r in rows] == ["full@example.com", "gone@example.com"]
    assert rows[1]["orig_from"] == "Shop <orders@shop.example>"
    assert rows[1]["diagnostic"] == UNKNOWN
    code, output = run("log", "--recipient", "gone@example.com", "--db", str(db_path))
    assert "userunknown" in output and "full@" not in output


def test_log_by_return_path_takes_its_subaddresses(db_path: Path) -> None:
    db = open_db(db_path)
    raw = postfix_dsn("verp@example.com", "5.1.1", UNKNOWN)
    inbox.insert_batch(
        db, [Incoming(utcnow(), "<>", ("b+t1-verp=example.com@localhost",), None, raw)]
    )
    for message in inbox.unprocessed(db):
        process(db, message, utcnow())
    db.close()

    def recipients(*args: str) -> list[str]:
        code, output = run("log", "--json", "--db", str(db_path), *args)
        assert code == 0
        return [json.loads(line)["recipient"] for line in output.splitlines()]

    everything = ["verp@example.com", "full@example.com", "gone@example.com"]
    assert recipients("--sender", "B@localhost") == everything
    assert recipients("--sender", "b+t1-verp=example.com@localhost") == everything[:1]
    assert recipients("--sender", "b+other@localhost") == []
    assert recipients("--sender", "a@localhost") == []


def test_reprocess_counts_messages(db_path: Path) -> None:
    code, output = run("reprocess", "--db", str(db_path))
    assert code == 0 and "messages=2" in output
    assert run("suppression", "show", "gone@example.com", "--db", str(db_path))[0] == 0


def test_missing_database_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["log", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 3
    assert "no such database" in result.output
    shown = CliRunner().invoke(
        main, ["suppression", "show", "a@b.example", "--db", str(tmp_path / "none.db")]
    )
    assert shown.exit_code == 3  # not 1: that would read as "not suppressed"


def test_bad_config_names_the_key(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[smtp]\nmax_connections = 'lots'\n")
    result = CliRunner().invoke(main, ["log", "--config", str(config)])
    assert result.exit_code == 3 and "smtp.max_connections" in result.output


def test_reprocess_applies_current_rules_to_old_messages(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = open_db(path)
    raw = postfix_dsn("gone@example.com", "5.1.1", UNKNOWN)
    inbox.insert_batch(db, [Incoming(utcnow(), "<>", ("b@localhost",), None, raw)])
    process(db, inbox.unprocessed(db)[0], utcnow(), Settings({"userunknown": "soft"}))
    db.close()
    assert run("suppression", "show", "gone@example.com", "--db", str(path))[0] == 1

    assert run("reprocess", "--db", str(path))[0] == 0
    assert run("suppression", "show", "gone@example.com", "--db", str(path))[0] == 0
    code, output = run("log", "--json", "--db", str(path))
    assert [json.loads(line)["class"] for line in output.splitlines()] == ["hard"]

    lenient = tmp_path / "lenient.toml"
    lenient.write_text('[classify]\nclass_overrides = { userunknown = "soft" }\n')
    assert run("reprocess", "--config", str(lenient), "--db", str(path))[0] == 0
    assert run("suppression", "show", "gone@example.com", "--db", str(path))[0] == 1


def test_classify_walks_directories(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.eml").write_bytes(postfix_dsn("x@example.com", "5.1.1", UNKNOWN))
    (tmp_path / "two.eml").write_bytes(b"Subject: hello\n\nnot a bounce\n")
    code, output = run("classify", "--json", str(tmp_path))
    assert code == 0
    assert [json.loads(line)["file"] for line in output.splitlines()] == [
        str(tmp_path / "a" / "one.eml"),
        str(tmp_path / "two.eml"),
    ]


def test_events_follow_prints_new_events_as_they_commit(db_path: Path) -> None:
    import subprocess
    import sys

    from bouncer.store import events

    follower = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bouncer",
            "events",
            "--follow",
            "--json",
            "--type",
            "suppression.added",
            "--db",
            str(db_path),
        ],
        stdout=subprocess.PIPE,
    )
    import threading

    watchdog = threading.Timer(60, follower.kill)  # a hung readline ends with the process
    watchdog.start()
    try:
        first = json.loads(follower.stdout.readline())
        assert first["recipient"] == "gone@example.com"
        db = open_db(db_path)
        with db.atomic():
            events.add(db, "suppression.added", utcnow(), "new@example.com", {"source": "t"})
        db.close()
        assert json.loads(follower.stdout.readline())["recipient"] == "new@example.com"
    finally:
        watchdog.cancel()
        follower.kill()
        follower.wait()


def test_stats_counts_the_window(db_path: Path) -> None:
    code, output = run("stats", "--json", "--db", str(db_path))
    counts = json.loads(output)
    assert code == 0
    assert counts["messages"] == {"processed": 2}
    assert counts["classes"] == {"hard": 1, "soft": 1}
    assert counts["domains"] == {"example.com": 2}
    assert (counts["open_deferrals"], counts["active_suppressions"]) == (1, 1)
    later = run("stats", "--json", "--since", "2099-01-01T00:00:00Z", "--db", str(db_path))[1]
    assert json.loads(later)["messages"] == {}


CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "dev" / "emails"


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared dev corpus is not beside the repo")
def test_classify_prints_one_valid_line_per_corpus_file() -> None:
    code, output = run("classify", "--json", str(CORPUS))
    files = sorted(str(p) for p in CORPUS.rglob("*") if p.is_file())
    lines = [json.loads(line) for line in output.splitlines()]
    assert code == 0
    assert [line["file"] for line in lines] == files
    kinds = {"bounce", "delay", "delivered", "autoreply", "complaint", "unknown"}
    assert all(line["kind"] in kinds for line in lines)
    for recipient in (r for line in lines for r in line["recipients"]):
        assert recipient["class"] in ("hard", "soft", "none") and recipient["reason"]


def _entry(*args: str) -> subprocess.CompletedProcess:
    """Run the `bouncer` executable's entry point in a fresh process."""
    code = "import sys; from bouncer.entry import run; sys.argv[0] = 'bouncer'; run()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, timeout=60)


def test_the_lean_classify_path_prints_what_click_prints(tmp_path: Path) -> None:
    fixtures = Path(__file__).parent / "data" / "bounces"
    missing = str(tmp_path / "gone.eml")
    lean = _entry("classify", "--json", str(fixtures), missing)
    via_click = CliRunner().invoke(main, ["classify", "--json", str(fixtures), missing])
    assert lean.returncode == via_click.exit_code == 2
    assert lean.stdout.decode() == via_click.stdout
    assert b"gone.eml: no such file" in lean.stderr
    assert b"Usage:" in _entry("classify", "--help").stdout  # options go through click


def test_times_may_be_relative_or_iso(db_path: Path) -> None:
    db = str(db_path)
    recent = run("log", "--json", "--since", "1h", "--db", db)[1]
    assert len(recent.splitlines()) == 2
    assert run("log", "--json", "--until", "1h", "--db", db)[1] == ""  # nothing before then
    assert run("log", "--json", "--since", "+1h", "--db", db)[1] == ""  # nothing yet
    assert len(run("log", "--json", "--since", "2000-01-01", "--db", db)[1].splitlines()) == 2
    # an ISO time with an offset: an hour from now, on the clock of UTC+14 (another date)
    later = (utcnow() + timedelta(hours=1)).astimezone(timezone(timedelta(hours=14)))
    assert len(run("log", "--json", "--until", later.isoformat(), "--db", db)[1]) > 0
    earlier = (utcnow() - timedelta(hours=1)).astimezone(timezone(timedelta(hours=14)))
    assert run("log", "--json", "--until", earlier.isoformat(), "--db", db)[1] == ""
    counts = json.loads(run("stats", "--json", "--since", "7d", "--db", db)[1])
    assert counts["classes"] == {"hard": 1, "soft": 1}
    assert run("events", "--json", "--since", "30m", "--db", db)[1].count("\n") >= 1
    code, output = run("reprocess", "--since", "2w", "--until", "+1m", "--db", db)
    assert code == 0 and "messages=2" in output


@pytest.mark.parametrize(
    "command",
    [
        ("log", "--since"),
        ("log", "--until"),
        ("events", "--since"),
        ("stats", "--since"),
        ("reprocess", "--since"),
        ("reprocess", "--until"),
        ("sweep", "--now"),
        ("suppression", "add", "a@example.com", "--reason", "r", "--expires"),
    ],
)
def test_a_bad_time_is_a_usage_error_naming_the_option(db_path: Path, command: tuple) -> None:
    result = CliRunner().invoke(main, [*command, "yesterday", "--db", str(db_path)])
    assert result.exit_code == 2
    assert result.output.count("Traceback") == 0
    (line,) = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert f"'{command[-1]}'" in line and "'yesterday'" in line and "7d" in line


def test_an_expiry_is_ahead_of_now(db_path: Path) -> None:
    db = str(db_path)
    before = utcnow()
    added = run(
        "suppression", "add", "a@example.com", "--reason", "r", "--expires", "14d", "--db", db
    )
    assert added[0] == 0
    shown = json.loads(run("suppression", "show", "a@example.com", "--json", "--db", db)[1])
    assert shown["expires_at"] > to_iso(before + timedelta(days=13, hours=23))
    late = CliRunner().invoke(
        main,
        [
            "suppression",
            "add",
            "b@example.com",
            "--reason",
            "r",
            "--expires",
            "2000-01-01",
            "--db",
            db,
        ],
    )
    assert late.exit_code == 2 and "not in the future" in late.output


def test_sweep_now_takes_a_time_ahead(db_path: Path) -> None:
    db = str(db_path)
    assert "would fire 0 event(s)" in run("sweep", "--dry-run", "--now", "1h", "--db", db)[1]
    code, output = run("sweep", "--dry-run", "--now", "5h", "--json", "--db", db)
    assert code == 0 and [json.loads(line)["type"] for line in output.splitlines()] == [
        "delivery.delayed"
    ]


LONG_ADDRESS = "first.middle.last." + "x" * 50 + "@department.subsidiary.example.org"
LONG_TEXT = ("550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown " * 4)[:197]
LONG_TEXT += "end"  # 200 characters, the last of them kept as written


@pytest.fixture
def long_db(tmp_path: Path) -> Path:
    """A database whose one hard bounce has a long address and a 200-character diagnostic."""
    path = tmp_path / "long.db"
    db = open_db(path)
    raw = postfix_dsn(LONG_ADDRESS, "5.1.1", LONG_TEXT)
    inbox.insert_batch(db, [Incoming(utcnow(), "<>", ("b@localhost",), None, raw)])
    for message in inbox.unprocessed(db):
        process(db, message, utcnow())
    db.close()
    return path


def assert_under_headers(output: str, values: dict[str, str]) -> None:
    """Assert a table has data rows holding each value whole, starting under its header."""
    header, *rows = output.splitlines()
    found = [line for line in rows if all(value in line for value in values.values())]
    assert found, output
    for row in found:
        for name, value in values.items():
            start = header.index(name.upper())
            assert row[start : start + len(value)] == value, (name, row)


@pytest.mark.parametrize(
    ("command", "columns"),
    [
        (("log",), ("recipient", "diagnostic")),
        (("events",), ("recipient", "diagnostic")),
        (("suppression", "list"), ("address", "reason")),
        (("deferrals",), ()),
    ],
)
def test_tables_show_long_cells_whole_under_their_headers(
    long_db: Path, command: tuple[str, ...], columns: tuple[str, ...]
) -> None:
    code, output = run(*command, "--db", str(long_db))
    assert code == 0
    if not columns:  # no deferral: the header alone
        assert output.split() == [
            "RECIPIENT", "STARTED_AT", "LAST_SEEN", "ATTEMPTS", "LAST_STATUS",
            "WILL_RETRY_UNTIL", "WARNED_AT", "CLOSED_AT", "CLOSE_REASON", "KEY",
        ]  # fmt: skip
        return
    known = {"recipient": LONG_ADDRESS, "address": LONG_ADDRESS, "diagnostic": LONG_TEXT}
    assert_under_headers(output, {name: known.get(name, "userunknown") for name in columns})


def _types(output: str) -> list[str]:
    """The TYPE column of an events table, top to bottom."""
    header, *rows = output.splitlines()
    start = header.index("TYPE")
    return [row[start:].split()[0] for row in rows]


def test_events_lists_the_newest_first_and_says_when_it_cut(db_path: Path) -> None:
    db = str(db_path)
    listing = run("events", "--json", "--db", db)[1]
    in_order = [json.loads(line)["type"] for line in listing.splitlines()]
    assert len(in_order) >= 3
    listed = CliRunner().invoke(main, ["events", "--db", db])
    assert _types(listed.stdout) == in_order[::-1] and listed.stderr == ""
    cut = CliRunner().invoke(main, ["events", "--limit", "2", "--db", db])
    assert _types(cut.stdout) == in_order[::-1][:2]
    assert "showing the 2 newest events" in cut.stderr and "--since" in cut.stderr
    cut_json = CliRunner().invoke(main, ["events", "--json", "--limit", "2", "--db", db])
    assert [json.loads(line)["type"] for line in cut_json.stdout.splitlines()] == in_order[-2:]
    assert "showing the 2 newest" in cut_json.stderr
    whole = CliRunner().invoke(main, ["events", "--limit", str(len(in_order)), "--db", db])
    assert whole.stderr == ""


def test_events_follow_prints_rows_under_the_listing_header_and_stops_on_ctrl_c(
    db_path: Path,
) -> None:
    import signal
    import threading

    from bouncer.store import events

    follower = subprocess.Popen(
        [sys.executable, "-m", "bouncer", "events", "--follow", "--type", "suppression.added"]
        + ["--db", str(db_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C as in a terminal, even when the suite itself runs as a background job of a
        # shell without job control (which starts its commands with SIGINT ignored).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
    )
    watchdog = threading.Timer(120, follower.kill)  # a hung readline ends with the process
    watchdog.start()
    try:
        header = follower.stdout.readline()
        assert "gone@example.com" in follower.stdout.readline()
        db = open_db(db_path)
        with db.atomic():
            data = {"source": "manual", "reason": "asked"}
            events.add(db, "suppression.added", utcnow(), LONG_ADDRESS, data)
        db.close()
        row = follower.stdout.readline()
        start, end = header.index("TYPE"), header.index("RECIPIENT")
        assert row[start:end].rstrip() == "suppression.added"
        # longer than the listing's column: folded inside it, whole, on the lines that follow
        recipient = row[end:].split()[0]
        while recipient != LONG_ADDRESS:
            assert LONG_ADDRESS.startswith(recipient)
            recipient += follower.stdout.readline()[end:].split()[0]
        watchdog.cancel()  # from here communicate's own timeout bounds the wait
        follower.send_signal(signal.SIGINT)
        _, errors = follower.communicate(timeout=60)
    finally:
        watchdog.cancel()
        follower.kill()
    assert follower.returncode == 0 and "Traceback" not in errors


@pytest.mark.parametrize(
    ("command", "said"),
    [
        (("log",), "showing the 1 newest records"),
        (("deferrals", "--open"), None),  # one open deferral: nothing cut
        (("suppression", "list"), None),
        (("events",), "showing the 1 newest events"),
    ],
)
def test_listings_say_when_they_cut(db_path: Path, command: tuple, said: str | None) -> None:
    result = CliRunner().invoke(main, [*command, "--limit", "1", "--db", str(db_path)])
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 2  # header and a row
    if said:
        assert said in result.stderr and "more match" in result.stderr
    else:
        assert result.stderr == ""


def test_a_reader_that_stops_early_ends_the_command_quietly(tmp_path: Path) -> None:
    """`bouncer ... | head`: no traceback when the pipe closes (a real process and pipe)."""
    fixtures = Path(__file__).parent / "data" / "bounces"
    files = [str(path) for path in sorted(fixtures.glob("*.eml"))] * 200
    command = [sys.executable, "-c", "from bouncer.entry import run; run()", "classify", *files]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    process.stdout.readline()
    process.stdout.close()  # the reader goes away, as `head -1` does
    _, errors = process.communicate(timeout=60)
    assert b"Traceback" not in errors, errors.decode()
    assert process.returncode in (0, 141)


def test_a_write_from_the_wrong_directory_creates_no_list_of_its_own(
    tmp_path: Path, monkeypatch
) -> None:  # noqa: ANN001
    """Without --db the store is state/bouncer.db under the working directory: a command
    that writes refuses there when nothing is stored, instead of starting a new list."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BOUNCER_DB", raising=False)
    result = CliRunner().invoke(main, ["suppression", "add", "typo@example.com", "--reason", "x"])
    assert result.exit_code == 3, result.output
    assert "no such database" in result.output
    assert not (tmp_path / "state").exists()
    chosen = tmp_path / "chosen.db"  # a location the user names is created
    result = CliRunner().invoke(
        main, ["suppression", "add", "a@example.com", "--reason", "x", "--db", str(chosen)]
    )
    assert result.exit_code == 0 and chosen.exists()


def test_the_list_takes_addresses_only_and_a_complaint_goes_with_force(tmp_path: Path) -> None:
    from tests.messages import arf_complaint

    db_path = tmp_path / "c.db"
    bad = CliRunner().invoke(
        main, ["suppression", "add", "notanaddress", "--reason", "x", "--db", str(db_path)]
    )
    assert bad.exit_code == 2 and "not an email address" in bad.output
    db = open_db(db_path)
    complaint = arf_complaint("comp@example.net")
    inbox.insert_batch(db, [Incoming(utcnow(), "<>", ("b@localhost",), None, complaint)])
    process(db, inbox.unprocessed(db)[0], utcnow(), Settings())
    db.close()
    removal = ["suppression", "remove", "comp@example.net", "--reason", "asked", "--db"]
    refused = CliRunner().invoke(main, [*removal, str(db_path)])
    assert refused.exit_code == 2 and "--force" in refused.output
    assert "Traceback" not in refused.output
    forced = CliRunner().invoke(main, [*removal, str(db_path), "--force"])
    assert forced.exit_code == 0 and "removed" in forced.output


def test_a_bad_domain_on_the_command_line_is_one_line(tmp_path: Path) -> None:
    args = ["serve", "--domain", "not a domain", "--db", str(tmp_path / "d.db")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 78
    assert "--domain: must be a domain name" in result.output
    assert not (tmp_path / "d.db").exists()
