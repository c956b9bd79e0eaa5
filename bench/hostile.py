"""Hostile-input benchmark: time of worst-case messages of 1, 5 and 10 MB, and a robustness check.

Each input is built in memory at every size and run through `bouncer.core.analyse.analyse_bytes`
(parse and classify, in-process, timed with time.perf_counter); the parser alone
(`bouncer.core.dsn.parse`) is timed too, so the classification's share shows. The table gives the
seconds per size as "total (parse)" and the ratio of the largest size's total to the smallest's:
work linear in the input gives about the ratio of the sizes (10 for 10 MB / 1 MB), more means
super-linear work. Inputs over 1 s are listed (the target: every input up to 10 MB under 1 s).

The second part checks robustness: the parser's raw reader (`bouncer.core.dsn.report.read`, which
unlike `bouncer.core.dsn.parse` does not catch exceptions) must return one Report for each input,
with a kind among bouncer.core.model.KINDS; the exit status is 1 when it does not.

    .venv/bin/python bench/hostile.py [--sizes 1,5,10] [--only NAME,...] [--repeat N]
"""

from __future__ import annotations

import argparse
import base64
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bouncer.core.analyse import analyse_bytes  # noqa: E402
from bouncer.core.dsn import parse  # noqa: E402
from bouncer.core.dsn.report import read  # noqa: E402
from bouncer.core.model import KINDS  # noqa: E402

MB = 1024 * 1024
LIMIT_SECONDS = 1.0
RECIPIENTS = 4000  # "thousands of recipients": as many as the report that took 80 s named
HEAD = (
    b"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
    b"To: sender@example.com\n"
    b"Subject: Undelivered Mail Returned to Sender\n"
    b"Date: Mon, 6 Jan 2025 10:00:00 +0000\n"
    b"Message-ID: <hostile@mx.example.net>\n"
    b"MIME-Version: 1.0\n"
)
PROSE = (
    b"The mail system could not deliver the message after RCPT TO: the remote host said "
    b"550 5.1.1 user unknown (in reply to RCPT TO command); will not retry. "
)
# Text that names no SMTP command: a recipient's paragraph does not tell, so the command is
# looked for in the text (the recipients' paragraphs and the whole bounce region).
PLAIN = b"The recipient server is unavailable at the moment; check the address and try later.\n"


def _repeat(unit: bytes, size: int) -> bytes:
    """Return `unit` repeated to about `size` bytes."""
    return unit * max(1, size // len(unit))


def _addresses(count: int) -> list[bytes]:
    """Return `count` distinct recipient addresses."""
    return [b"user%d@example.org" % i for i in range(count)]


def folded_header(size: int) -> bytes:
    """One To: field folded over many continuation lines, each with two distinct addresses."""
    fold = b"".join(b" <u%d@example.org>, o%d@example.org,\n" % (i, i) for i in range(size // 40))
    return HEAD + b"Cc: first@example.org,\n" + fold + b"\nbody\n"


def folded_subject(size: int) -> bytes:
    """One Subject: field folded over many continuation lines of bounce-like words."""
    words = b" Undelivered Mail Returned =?utf-8?q?caf=C3=A9?= to Sender 550 5.1.1\n"
    head = HEAD.replace(b"Subject:", b"X-Old-Subject:") + b"Subject: x\n" + _repeat(words, size)
    return head + b"\nThe message could not be delivered to <rcpt@example.org>.\n"


def many_headers(size: int) -> bytes:
    """Many header fields (vendor fields, Received lines), then a short bounce."""
    block = b"".join(
        b"X-Field-%d: value\nReceived: from h%d.example.net\n" % (i, i) for i in range(500)
    )
    return _repeat(block, size) + HEAD + b"\nThe message could not be delivered.\n"


def deep_mime(size: int) -> bytes:
    """Multipart in multipart, as deep as the size allows, a bounce text innermost."""
    depth = size // 90
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (i, i) for i in range(depth)
    )
    closing = b"".join(b"\n--b%d--\n" % i for i in reversed(range(depth)))
    inner = b"Content-Type: text/plain\n\nDelivery to rcpt@example.org failed: 550 5.1.1\n"
    return HEAD + opening + inner + closing


def _report(human: bytes, status: bytes) -> bytes:
    """Return a multipart/report with a human-readable part and a delivery-status part."""
    return (
        HEAD + b'Content-Type: multipart/report; report-type=delivery-status; boundary="R"\n\n'
        b"--R\nContent-Type: text/plain\n\n" + human + b"\n--R\n"
        b"Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n"
        + status
        + b"\n--R--\n"
    )


def _status_blocks(addresses: list[bytes]) -> bytes:
    """Per-recipient blocks whose diagnostics carry no words (so the text is consulted)."""
    block = b"Final-Recipient: rfc822; %s\nAction: failed\nStatus: 5.0.0\n"
    block += b"Diagnostic-Code: smtp; 550\n\n"
    return b"".join(block % a for a in addresses)


def _padded(text: bytes, size: int) -> bytes:
    """Return a text followed by plain prose up to about `size` bytes."""
    return text + b"\n" + _repeat(PLAIN, size - len(text))


def dsn_recipients(size: int) -> bytes:
    """A DSN of 4,000 recipients; the human part gives each a paragraph, then a long text."""
    addresses = _addresses(RECIPIENTS)
    human = b"".join(b"<%s>: host mx.example.org said: 550 no such user\n\n" % a for a in addresses)
    return _report(_padded(human, size), _status_blocks(addresses))


def dsn_transcript(size: int) -> bytes:
    """A DSN of 4,000 recipients and an SMTP transcript naming each, then a long text."""
    addresses = _addresses(RECIPIENTS)
    human = b"".join(b">>> RCPT TO:<%s>\n<<< 550 5.1.1 unknown\n" % a for a in addresses)
    return _report(_padded(human, size), _status_blocks(addresses))


def dsn_blocks(size: int) -> bytes:
    """A DSN with as many per-recipient blocks as the size allows (tens of thousands)."""
    return _report(b"Delivery failed.\n", _status_blocks(_addresses(size // 100)))


def dsn_folded(size: int) -> bytes:
    """A DSN whose one Diagnostic-Code is folded over many continuation lines."""
    folded = _repeat(b"    550 5.1.1 <rcpt@example.org>: user unknown, try again later\n", size)
    status = b"Final-Recipient: rfc822; rcpt@example.org\nAction: failed\nStatus: 5.1.1\n"
    return _report(b"Delivery failed.\n", status + b"Diagnostic-Code: smtp; 550\n" + folded)


def text_recipients(size: int) -> bytes:
    """A text bounce listing 4,000 addresses, then a long text (80% of the size)."""
    listing = b"".join(b"  %s\n" % a for a in _addresses(RECIPIENTS))
    filler = _repeat(PLAIN, size * 8 // 10)
    return HEAD + b"\nThe following addresses failed:\n\n" + listing + b"\n" + filler


def text_lines(size: int) -> bytes:
    """A text bounce that is nothing but recipient lines with their replies."""
    lines = b"".join(b"<%s>: 550 5.1.1 no such user\n" % a for a in _addresses(size // 45))
    return HEAD + b"\nThe following addresses failed:\n\n" + lines


def phrase_line(size: int) -> bytes:
    """A text bounce whose one line names a recipient with a phrase every few words."""
    unit = b"could not deliver to <%s>, "
    line = b"".join(unit % a for a in _addresses(size // 45))
    return HEAD + b"\nDelivery failed: " + line + b"\n"


def long_line(size: int) -> bytes:
    """A bounce whose body is one line of `size` bytes without a newline."""
    return HEAD + b"\nrcpt@example.org: " + _repeat(PROSE + b"<a@b.example> ", size)


def long_dashes(size: int) -> bytes:
    """A bounce text of header-like lines, then one line of dashes and one of blanks."""
    return (
        HEAD + b"\nX-a: b\nX-c: d\n" + _repeat(b"-", size // 2) + b"\n " + _repeat(b" ", size // 2)
    )


def html_tags(size: int) -> bytes:
    """An HTML part of unclosed tags ("<br<br<br..."), then a closed one at the very end."""
    body = _repeat(b"<br<p ", size) + b"<p>rcpt@example.org: 550 5.1.1 unknown</p>"
    return HEAD + b"Content-Type: text/html\n\n" + body


def binary_junk(size: int) -> bytes:
    """Random bytes (fixed seed), after a bounce header block."""
    return HEAD + b"\n" + random.Random(1).randbytes(size)


def base64_part(size: int) -> bytes:
    """A text/plain part of `size` base64 bytes (bounce prose once decoded)."""
    encoded = base64.encodebytes(_repeat(PROSE, size * 3 // 4))
    return HEAD + b"Content-Transfer-Encoding: base64\n\n" + encoded


def many_parts(size: int) -> bytes:
    """A multipart with as many tiny parts as the size allows."""
    part = b"--P\nContent-Type: text/plain\n\nrcpt@example.org: 550\n"
    body = _repeat(part, size) + b"--P--\n"
    return HEAD + b'Content-Type: multipart/mixed; boundary="P"\n\n' + body


INPUTS: dict[str, Callable[[int], bytes]] = {
    "folded-header": folded_header,
    "folded-subject": folded_subject,
    "many-headers": many_headers,
    "deep-mime": deep_mime,
    "dsn-recipients": dsn_recipients,
    "dsn-transcript": dsn_transcript,
    "dsn-blocks": dsn_blocks,
    "dsn-folded": dsn_folded,
    "text-recipients": text_recipients,
    "text-lines": text_lines,
    "phrase-line": phrase_line,
    "long-line": long_line,
    "long-dashes": long_dashes,
    "html-tags": html_tags,
    "binary-junk": binary_junk,
    "base64-part": base64_part,
    "many-parts": many_parts,
}


def _timed(raw: bytes, repeat: int) -> tuple[float, float, str]:
    """Return the seconds analyse_bytes and parse take on raw (the least of `repeat` runs),
    and a summary of the result."""
    totals, parsings = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        parse(raw)
        parsings.append(time.perf_counter() - started)
        started = time.perf_counter()
        analysis = analyse_bytes(raw)
        totals.append(time.perf_counter() - started)
    return min(totals), min(parsings), f"{analysis.report.kind}/{len(analysis.verdicts)}"


Row = tuple[str, list[tuple[float, float, float]]]  # name, [(MB, total s, parse s)]


def run_times(names: list[str], sizes: list[float], repeat: int = 1) -> list[Row]:
    """Time every input at every size (after an untimed run of each at 64 KB, so that lazy
    imports and compiled patterns are in place); print one row per input as it finishes."""
    for name in names:
        analyse_bytes(INPUTS[name](64 * 1024))
    header = "".join(f"{f'{size:g} MB':>16}" for size in sizes)
    print(f"{'input':<16}{header}{'ratio':>7}  kind/entries  (seconds: total (parse))")
    rows = []
    for name in names:
        timings, summary = [], ""
        for size in sizes:
            raw = INPUTS[name](int(size * MB))
            total, parsing, summary = _timed(raw, repeat)
            timings.append((len(raw) / MB, total, parsing))
        ratio = timings[-1][1] / max(timings[0][1], 1e-6)
        cells = "".join(f"{f'{total:.3f} ({parsing:.3f})':>16}" for _, total, parsing in timings)
        print(f"{name:<16}{cells}{ratio:>7.1f}  {summary}", flush=True)
        rows.append((name, timings))
    return rows


def report_slow(rows: list[Row]) -> None:
    """Print which inputs exceeded the time limit, at which sizes (total and parse alone)."""
    for index, label in ((1, "analyse_bytes"), (2, "parse alone")):
        slow = [
            f"{name} ({timing[0]:.1f} MB: {timing[index]:.2f} s)"
            for name, timings in rows
            for timing in timings
            if timing[index] > LIMIT_SECONDS
        ]
        verdict = ", ".join(slow) if slow else "none"
        print(f"over {LIMIT_SECONDS:g} s ({label}): {verdict}")


def check_reports(names: list[str], sizes: list[float]) -> bool:
    """Check the raw reader returns one Report of a known kind for every input (no raise)."""
    failed = []
    for name in names:
        for size in sizes:
            try:
                report = read(INPUTS[name](int(size * MB)))
            except Exception as error:  # noqa: BLE001 - reported, not raised
                failed.append(f"{name} {size:g} MB: {type(error).__name__}: {error}")
                continue
            if report.kind not in KINDS:
                failed.append(f"{name} {size:g} MB: kind {report.kind!r}")
    print("robustness: " + ("every input gives one report" if not failed else "FAILED"))
    for line in failed:
        print(f"  {line}")
    return not failed


def main() -> int:
    """Run the timing table and the robustness check; exit 1 when a check fails."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,5,10", help="sizes in MB, comma-separated")
    parser.add_argument("--only", default="", help="input names, comma-separated")
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell (least is shown)")
    args = parser.parse_args()
    sizes = [float(s) for s in args.sizes.split(",") if s.strip()]
    names = [n for n in args.only.split(",") if n] or list(INPUTS)
    unknown = [n for n in names if n not in INPUTS]
    if unknown:
        parser.error(f"unknown input(s): {', '.join(unknown)}; known: {', '.join(INPUTS)}")
    rows = run_times(names, sizes, max(1, args.repeat))
    report_slow(rows)
    return 0 if check_reports(names, sizes) else 1


if __name__ == "__main__":
    sys.exit(main())
