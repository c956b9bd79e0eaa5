"""`bouncer explain`: the part read and the rules that spoke, consistent with `classify`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bouncer.cli.main import main
from bouncer.core.analyse import analyse_bytes
from bouncer.core.explain import as_text, explain_bytes

FIXTURES = sorted((Path(__file__).parent / "data" / "bounces").glob("*.eml"))


@pytest.mark.parametrize("path", FIXTURES, ids=lambda path: path.name)
def test_explain_reaches_the_same_verdict_as_classify(path: Path) -> None:
    raw = path.read_bytes()
    explained = explain_bytes(raw)
    classified = analyse_bytes(raw).as_dict()
    assert explained["kind"] == classified["kind"]
    got = [(r["address"], r["class"], r["reason"]) for r in explained["recipients"]]
    want = [(r["address"], r["class"], r["reason"]) for r in classified["recipients"]]
    assert got == want
    for recipient in explained["recipients"]:
        assert recipient["steps"][-1]["rule"] in ("class", "class override")


def test_explain_names_the_part_read_and_the_rule_that_fired() -> None:
    raw = (Path(__file__).parent / "data" / "bounces" / "01-postfix-dsn-5.1.1.eml").read_bytes()
    explained = explain_bytes(raw)
    assert "delivery-status" in explained["source"]
    (recipient,) = explained["recipients"]
    rules = {step["rule"]: step for step in recipient["steps"]}
    assert rules["status code"]["says"] == "userunknown" and rules["status code"]["read"] == "5.1.1"
    assert rules["phrase"]["says"] == "userunknown"
    assert "user unknown" in rules["phrase"]["read"]
    assert "=> hard userunknown 5.1.1" in as_text("f.eml", explained)


def test_explain_command_prints_text_and_json(tmp_path: Path) -> None:
    source = Path(__file__).parent / "data" / "bounces" / "07-mailbox-full-552-5.2.2.eml"
    text = CliRunner().invoke(main, ["explain", str(source)])
    assert text.exit_code == 0 and "mailboxfull" in text.output and "read from" in text.output
    as_json = CliRunner().invoke(main, ["explain", "--json", str(source)])
    (line,) = [json.loads(row) for row in as_json.output.splitlines()]
    assert line["file"] == str(source) and line["recipients"][0]["reason"] == "mailboxfull"
    missing = CliRunner().invoke(main, ["explain", str(tmp_path / "none.eml")])
    assert missing.exit_code == 2
