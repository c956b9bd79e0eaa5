"""Signed return paths at the SMTP edge: with verp.require_valid, a bounce address whose token
does not hold (or an unsigned VERP address) is refused at RCPT with 550 5.7.1."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bouncer.clock import utcnow
from bouncer.config import VerpConfig
from bouncer.core.verp import day_number, encode
from tests.conftest import make_config, start_daemon

SECRET = "a long enough verp secret"


def test_rcpt_refuses_return_paths_not_signed_here(tmp_path: Path) -> None:
    verp = VerpConfig(keys={"a": SECRET}, key_id="a", require_valid=True)
    config = replace(make_config(tmp_path, domains=("bounces.example",)), verp=verp)
    good = encode("x@example.com", "b@bounces.example", "a", SECRET.encode(), day_number(utcnow()))
    running = start_daemon(config)
    try:
        with running.client() as client:
            client.ehlo()
            client.mail("<>")
            assert client.rcpt(good)[0] == 250
            assert client.rcpt("b@bounces.example")[0] == 250  # a plain bounce address
            for bad in (good.replace("x=", "victim="), "b+victim=example.com@bounces.example"):
                code, reply = client.rcpt(bad)
                assert code == 550 and reply.startswith(b"5.7.1")
    finally:
        running.stop()
