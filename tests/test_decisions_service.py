"""Identity and the operator's word, end to end: bounces sent over SMTP to a real daemon, the
outcome read and edited through the `bouncer` command."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from bouncer.cli.main import main
from tests.conftest import deliver, make_config
from tests.messages import postfix_dsn

UNKNOWN = "550 5.1.1 Recipient address rejected: User unknown"


def _cli(db_path: Path, *args: str) -> tuple[int, list[dict] | str]:
    """Run a command with --json where it has one; return exit code and parsed lines."""
    result = CliRunner().invoke(main, [*args, "--db", str(db_path)])
    if "--json" not in args:
        return result.exit_code, result.output
    return result.exit_code, [json.loads(line) for line in result.stdout.splitlines()]


def test_a_mixed_case_address_is_one_identity_everywhere(tmp_path: Path) -> None:
    running = deliver(make_config(tmp_path), postfix_dsn("Gone.Mixed@Dest.Test", "5.1.1", UNKNOWN))
    for asked in ("gone.mixed@dest.test", "GONE.MIXED@dest.TEST"):
        code, (entry,) = _cli(running.db_path, "suppression", "show", asked, "--json")
        assert code == 0 and entry["address"] == "Gone.Mixed@Dest.Test"
        code, records = _cli(running.db_path, "log", "--recipient", asked, "--json")
        assert [r["recipient"] for r in records] == ["Gone.Mixed@Dest.Test"]


def test_records_are_about_the_address_the_application_sent_to(tmp_path: Path) -> None:
    alias, sent_to = "u4711@mbox.dest.test", "Ann.Lee@Dest.Test"
    running = deliver(
        make_config(tmp_path),
        postfix_dsn(
            alias, "4.2.2", "452 4.2.2 Mailbox full", action="delayed", original_recipient=sent_to
        ),
    )
    for asked in (sent_to.lower(), alias):
        code, (record,) = _cli(running.db_path, "log", "--recipient", asked, "--json")
        assert (record["recipient"], record["final_recipient"]) == (sent_to, alias)
        code, events = _cli(running.db_path, "events", "--recipient", asked, "--json")
        assert [(e["type"], e["recipient"], e["final_recipient"]) for e in events] == [
            ("delivery.deferred", sent_to, alias)
        ]
        code, (deferral,) = _cli(running.db_path, "deferrals", "--recipient", asked, "--json")
        assert (deferral["recipient"], deferral["final_recipient"]) == (sent_to, alias)


def test_reprocess_does_not_undo_a_removal_and_new_evidence_does(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    running = deliver(config, postfix_dsn("back@example.com", "5.1.1", UNKNOWN))
    db = running.db_path
    removal = ("suppression", "remove", "Back@Example.com", "--reason", "mailbox recreated")
    assert _cli(db, *removal, "--by", "cli:ops")[0] == 0
    assert _cli(db, "reprocess")[0] == 0
    assert _cli(db, "suppression", "show", "back@example.com")[0] == 1
    code, added = _cli(db, "events", "--type", "suppression.added", "--json")
    assert len(added) == 1  # the first one only: the reprocess sent no new webhook event
    code, (entry,) = _cli(db, "suppression", "show", "back@example.com", "--json")
    assert [(c["action"], c["by"], c["reason"]) for c in entry["changes"]] == [
        ("removed", "cli:ops", "mailbox recreated")
    ]
    deliver(config, postfix_dsn("back@example.com", "5.1.1", UNKNOWN))  # bounces again, later
    assert _cli(db, "suppression", "show", "back@example.com")[0] == 0


def test_serve_refuses_a_database_kept_by_another_identity_rule(tmp_path: Path) -> None:
    running = deliver(make_config(tmp_path), postfix_dsn("a@example.com", "5.1.1", UNKNOWN))
    config = tmp_path / "exact.toml"
    config.write_text(
        f'[store]\npath = "{running.db_path}"\ncase_sensitive_local_part = true\n'
        '[smtp]\nlisten = "127.0.0.1:0"\n[http]\nlisten = "127.0.0.1:0"\n'
    )
    result = CliRunner().invoke(main, ["serve", "--config", str(config)])
    assert result.exit_code == 78  # EX_CONFIG
    assert "case_sensitive_local_part" in result.output
    assert "Traceback" not in result.output


def test_serve_on_a_port_in_use_says_so_in_one_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = ["serve", "--listen", f"127.0.0.1:{port}", "--http", "127.0.0.1:0"]
        args += ["--db", str(tmp_path / "b.db")]
        result = CliRunner().invoke(main, args)
    assert result.exit_code == 69  # EX_UNAVAILABLE
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "b.db").exists()  # no empty database left behind
