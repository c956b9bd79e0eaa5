"""Scale benchmark: what processing, sweeps, reprocessing, stats, lookups and the file cost as
the store grows from 10k to 1M messages (issue 11, "Checks").

    .venv/bin/python bench/scale.py [--sizes 10000,100000,1000000] [--quick]
        [--keep-dir DIR] [--per-day 1000] [--batch 1000] [--runs 5] [--slice 10000] [--verify]

Databases. Each size N is built through the product's own processing path. Every message is a
Postfix-shaped DSN (tests/messages.py `postfix_dsn`, with the returned headers a real one
carries: ~2.3 KB): 40 % hard bounces, 50 % soft ones (action failed: mailbox full, disabled,
blocked, spam, too many connections, and Postfix's 4.x.x give-up after 5 days), 10 % delay
notices (action delayed, Will-Retry-Until 5 days after arrival). Recipients are spread over ~20k
domains (35 % at five big ones): most hard bounces are about an address seen once, the rest of
the traffic comes from a sliding pool of "troubled" mailboxes that fail on and off for ~20 days
(so deferrals open, update and close, soft days count, some addresses escalate and expire).
Messages arrive at a fixed rate (`--per-day`, 1,000 a day: 10k = 10 days of traffic, 1M =
1,000 days) on a simulated clock from 2026-01-01 UTC. Every size then holds more days than what
is live spans (a deferral's 5 days, the 9 days a copy of a report is looked for), so what is
live (open deferrals: 265, 281 and 306; the last 24 h) is the same at every size and only the
history grows. With `--per-day 10000` (a sender with 10,000 bounces a day) 10k is the store's
first day, whose live state is still filling (open deferrals 738, against 2,926 at 100k and
1M): its 100k/10k step then mixes the live windows filling with the history growing. 1,000
days is longer than records are kept by default (400): a lookup by address reads each day
kept, so its 1M figure is that of a store keeping 2.7 years.

The build stores each message with `inbox.insert_batch` (32 at a time, as intake batches) and
writes it with `processor.write()` in a savepoint, as the worker does, with `now` its arrival,
and runs `sweeping.sweep_once` every 4 simulated hours (a timer event's `at` is the moment it
became due whatever the cadence; only `recorded_at` moves). What differs, for speed: the
transactions hold 1024 messages (synchronous=OFF, a large page cache), nothing is pruned, and
prepare() runs once per template (kind, diagnostic, alias: ~1,000 of them) rather than per
message; each message's Prepared is the template's with the message's recipient, domain,
original Message-ID and times put in, and its own fingerprint. The first message of every
template and every 97th message are also prepared for real, and the build stops unless both
are equal. (Forking workers for prepare() does not pay on this 2-CPU machine: two busy
processes each run at about half speed.) `--verify` builds 2,000 messages this way and through
the worker's own loop (`inbox.insert_batch` + `Processor.drain` per message, the same sweeps)
and compares every table row by row (event ids aside), then exits (1 when they differ).

With `--keep-dir DIR` a built database is kept as
DIR/bouncer-scale-v<VERSION>-s<schema version>-<N>-<per-day>.db and reused by later runs
(measurements always run on a copy in a temporary directory); a new migration builds afresh,
and when what processing writes changes otherwise, delete the file or bump VERSION. The copy
is read once before measuring (`read_through`): the OS page cache then holds it, as it holds
the pages a long-running daemon keeps touching, instead of whatever part the copy left cached.

Figures (per size; time "now" is the end of the simulated period):
* processing msg/s: `--batch` new messages are inserted (inbox.insert_batch), then the
  worker's real loop (`Processor.drain`) processes them; `--runs` times (5), the sizes taken
  in turn run after run (every size's database is open at once, each read into the OS cache
  once), so that the machine's drifts in speed weigh on all sizes alike; the median is the
  figure and the first run (on a connection whose page cache is still cold) is printed apart as
  "processing, first run"; "no fetch" is the same loop (median of 3) on
  another batch with `inbox.unprocessed` answered from a list fetched beforehand;
* sweep nothing due: the daemon's sweep (`sweeping.sweep_bounded` until nothing is left, a
  write transaction each, as bouncer.daemon.scheduler runs it) at the end of the period, right
  after the build's last sweep (median of 5); sweep +5h: that sweep deciding 5 hours later,
  after the processing runs
  (it fires what became due meanwhile: delay warnings, give-ups, suppression expiries);
* longest write-lock hold: `BouncerDatabase.atomic` is wrapped to time each outermost
  BEGIN IMMEDIATE ... COMMIT (and each incremental-vacuum statement of
  `retention.give_back_pages`, which takes the lock too), per path: sweep (both sweeps
  above), prune (the daemon's `prune_once` pass at
  the end of the period, then 3 passes as at 91 days later, when every raw copy is past
  `keep_raw`), reprocess (one transaction per message), processing (one per batch of 32);
  "background" is the longest of sweep, prune and reprocess;
* reprocess msg/s: median of 3 runs of `reprocessing.reprocess` (the first printed apart as
  "reprocess, first run") over `--slice` messages from the middle of the
  history (--since/--until, as `bouncer reprocess` does);
* stats ms: `store.stats.summary` over the last 24 h (what `bouncer stats` calls; median of 3);
* lookups, ms, in-process, median of 5: `suppressions.get` of a suppressed address and of an
  unknown one, `suppression list` first page (100), `log --recipient ADDRESS` and
  `log --recipient @domain` (a small domain; 100 rows), `events --since` the last hour (1000),
  `deferrals --open` (1000);
* bytes/msg: PRAGMA page_count * page_size over the stored messages, before pruning and after
  dropping every raw copy (a few `prune_once` passes, then `inbox.prune_raw` in bulk, all as
  at 91 days later) and giving the free pages back (`retention.give_back_pages`);
* file page / memory page µs (context, bench/machine.py): a random 4 KB page of the size's
  database file read (os.pread) again at once and after 2 s untouched, and the same for a page
  of a 64 MB buffer: what this machine charges for memory nobody touched lately, the price a
  lookup by a key in no order pays at every message in a large store and seldom in a small;
* x10 columns: growth of each figure per 10x of N between neighbouring sizes, (b/a)^(1/log10
  (Nb/Na)): 1.00 is flat; above 1 a time (or bytes) grows, below 1 a rate falls.

The last line is `ratio processing <largest>/<smallest>: N.NN` (processing msg/s of the
largest size over the smallest; with the default sizes `ratio processing 1M/10k: N.NN`).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import dataclasses
import hashlib
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from machine import page_reads  # noqa: E402

from bouncer.app.processing import Prepared, Settings, prepare, write  # noqa: E402
from bouncer.app.reprocess import reprocess  # noqa: E402
from bouncer.app.sweeping import sweep_bounded, sweep_once  # noqa: E402
from bouncer.app.tracking import policy_from  # noqa: E402
from bouncer.clock import from_iso, to_iso  # noqa: E402
from bouncer.config import Config  # noqa: E402
from bouncer.core.dsn.fingerprint import fingerprint  # noqa: E402
from bouncer.daemon import worker  # noqa: E402
from bouncer.logs import configure  # noqa: E402
from bouncer.store import (  # noqa: E402
    BouncerDatabase,
    deferrals,
    events,
    inbox,
    open_db,
    records,
    retention,
    stats,
    suppressions,
    wal_checkpoint,
)
from bouncer.store.inbox import Incoming, StoredMessage  # noqa: E402
from bouncer.store.schema import MIGRATIONS  # noqa: E402
from tests.messages import postfix_dsn, rfc2822  # noqa: E402

VERSION = 5  # bump when the generated traffic or what processing writes changes
T0 = datetime(2026, 1, 1, tzinfo=UTC)
SEED = 11
BOUNCE_ADDRESS = "bounces@localhost"
SWEEP_EVERY = timedelta(hours=4)  # the build's sweeps (the daemon's: every 30 s)
TASK = 1024  # messages per build transaction
VERIFY_EVERY = 97  # every so many messages the build also runs prepare() and compares
DOMAINS = 20011
BIG_DOMAINS = ("mail.example", "inbox.example", "post.example", "webmail.example", "mx.example")
TROUBLED_NEW = 0.06  # new troubled mailboxes a day, per message a day
TROUBLED_DAYS = 20  # how long a troubled mailbox keeps failing
PAGE = 100  # first page of `log` and `suppression list`
CLI_PAGE = 1000  # `events` and `deferrals` default --limit

HARD = (
    ("5.1.1", "550 5.1.1 <{r}>: Recipient address rejected: User unknown in virtual mailbox table"),
    ("5.1.1", "550 5.1.1 <{r}>... User unknown"),
    ("5.1.1", "550-5.1.1 The email account that you tried to reach does not exist. Please try"),
    ("5.1.10", "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address"),
    ("5.4.4", "Host or domain name not found. Name service error for name={d} type=MX"),
)
SOFT = (
    ("5.2.2", "552 5.2.2 <{r}>: Mailbox full"),
    ("4.2.2", "452 4.2.2 <{r}>: Mailbox full, please try again later"),
    ("4.4.1", "connect to mx1.{d}[192.0.2.{n}]:25: Connection timed out"),
    ("5.7.1", "554 5.7.1 Service unavailable; Client host [203.0.113.{n}] blocked using zen"),
    ("5.7.1", "550 5.7.1 Message rejected as spam by Content Filtering"),
    ("4.7.0", "421 4.7.0 Too many connections from your IP, try again later"),
    ("5.2.1", "550 5.2.1 <{r}>: Mailbox disabled, not accepting messages"),
)
DELAY = (
    ("4.2.2", "452 4.2.2 <{r}>: Mailbox full, please try again later"),
    ("4.4.1", "connect to mx1.{d}[192.0.2.{n}]:25: Connection timed out"),
    ("4.7.1", "450 4.7.1 <{r}>: Recipient address rejected: Greylisted, try again later"),
    ("4.3.0", "451 4.3.0 Temporary lookup failure"),
)
RETURNED = (
    "Return-Path: <news@shop.example>\n"
    "Received: from app.shop.example (app.shop.example [192.0.2.10])\n"
    "\tby mx.sender.example (Postfix) with ESMTPS id {q}\n"
    "\tfor <{r}>; {date}\n"
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=shop.example; s=s1;\n"
    "\th=from:to:subject:date:message-id:list-unsubscribe; bh={bh};\n"
    "\tb={b}\n"
    "List-Unsubscribe: <https://shop.example/unsubscribe/{q}>, <mailto:unsub-{q}@shop.example>\n"
    "List-Unsubscribe-Post: List-Unsubscribe=One-Click\n"
    "Feedback-ID: {campaign}:newsletter:shop\n"
    "X-Mailer: shop-mailer 4.2\n"
).replace("\n", "\r\n")
DELAY_SUBJECT = b"Subject: Delayed Mail (still being retried)"
DELAY_TEXT = (
    b"####################################################################\r\n"
    b"# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\r\n"
    b"####################################################################\r\n\r\n"
    b"Your message could not be delivered for more than 4 hour(s).\r\n"
    b"It will be retried until it is 5 day(s) old."
)
FAILED_TEXT = (
    b"I'm sorry to have to inform you that your message could not\r\n"
    b"be delivered to one or more recipients."
)


# --- the simulated traffic ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Shape:
    """What one message is: its report's kind, recipient, status and times.

    `template` names the messages that differ from it only in these values (kind, row of the
    diagnostic table, IP octet in the diagnostic, alias or not): one prepare() serves them all.
    """

    kind: str  # hard | soft | delay
    recipient: str  # Final-Recipient
    original: str  # Original-Recipient (the address the application sent to)
    domain: str
    status: str
    diagnostic: str
    received: datetime
    arrival: datetime
    orig_id: str
    template: tuple


TABLES = {"hard": HARD, "soft": SOFT, "delay": DELAY}


def received_at(i: int, per_day: int) -> datetime:
    """Return when message i arrives (fixed rate, a deterministic jitter within its slot)."""
    jitter = random.Random(i * 2 + SEED).random()
    return T0 + timedelta(seconds=(i + jitter) * 86400 / per_day)


def domain_of(number: int) -> str:
    """Return the domain of address number `number` (35 % at the big providers)."""
    h = (number * 2654435761 + 12345) & 0xFFFFFFFF
    if h % 100 < 35:
        return BIG_DOMAINS[h % len(BIG_DOMAINS)]
    return f"dom{h % DOMAINS}.example"


def _address(rng: random.Random, i: int, kind: str, day: float, per_day: int) -> tuple[str, int]:
    """Pick the recipient of message i and the number behind it (negative: seen once).

    Most hard bounces are about an address seen once; the rest of the traffic comes from a
    sliding pool of troubled mailboxes, each failing on and off for TROUBLED_DAYS.
    """
    if kind == "hard" and rng.random() >= 0.1:
        return f"p{_scrambled(i)}@{domain_of(i + 7_000_000)}", -i - 1
    new = per_day * TROUBLED_NEW
    number = int(day * new + rng.random() * new * TROUBLED_DAYS)
    return f"u{_scrambled(number)}@{domain_of(number)}", number


def _scrambled(number: int) -> str:
    """Return a local part for address `number` (one to one): in no relation to the order
    addresses appear, as real mailboxes are, so the indexes on recipients take each new one
    at a random place, not at the end of a run of ascending names."""
    return f"{(number * 2654435761 + 0x9E3779B9) & 0xFFFFFFFF:08x}"


def shape(i: int, per_day: int) -> Shape:
    """Return message i of the simulated traffic (deterministic)."""
    rng = random.Random(i * 2 + 1 + SEED)
    received = received_at(i, per_day)
    day = (received - T0).total_seconds() / 86400
    draw = rng.random()
    kind = "hard" if draw < 0.4 else "soft" if draw < 0.9 else "delay"
    address, number = _address(rng, i, kind, day, per_day)
    row = rng.randrange(len(TABLES[kind]))
    status, text = TABLES[kind][row]
    octet = rng.randrange(1, 255) if "{n}" in text else 0
    alias = rng.random() < 0.03
    local, domain = address.split("@")
    final = f"{local}@store{number % 4}.{domain}" if alias else address
    orig_id = f"<n{number}.{int(day // 3)}@news.shop.example>" if number >= 0 else f"<o{i}@shop>"
    diagnostic = text.format(r=address, d=domain, n=octet)
    arrival = received - _lag(rng, kind, status)
    key = (kind, row, octet, alias)
    return Shape(kind, final, address, domain, status, diagnostic, received, arrival, orig_id, key)


def _lag(rng: random.Random | None, kind: str, status: str) -> timedelta:
    """Return how long before the report the message arrived: Postfix warns after ~4 h
    (some sites sooner) and gives up on a 4.x.x failure after 5 days (rng None: typical)."""
    draw = rng.random if rng else lambda: 0.5
    if kind == "delay":
        if draw() < 0.3:
            return timedelta(minutes=30 + draw() * 150)
        return timedelta(hours=4, minutes=draw() * 10)
    if status.startswith("4."):
        return timedelta(days=5, minutes=draw() * 30)
    return timedelta(seconds=1 + draw() * 120)


def render(s: Shape, i: int) -> bytes:
    """Return the bytes of a message of this shape (a ~2 KB Postfix DSN)."""
    retry = s.arrival + timedelta(days=5)
    raw = postfix_dsn(
        s.recipient,
        s.status,
        s.diagnostic,
        action="delayed" if s.kind == "delay" else "failed",
        message_id=s.orig_id,
        at=s.received,
        arrival=s.arrival,
        original_recipient=s.original if s.original != s.recipient else None,
        report_id=f"<{s.received:%Y%m%d%H%M%S}.Q{i:x}@mx.sender.example>",
        extra_fields=f"Will-Retry-Until: {rfc2822(retry)}" if s.kind == "delay" else "",
    )
    raw = raw.replace(b"text/rfc822-headers\r\n\r\n", _returned(i, s), 1)
    if s.kind == "delay":
        raw = raw.replace(b"Subject: Undelivered Mail Returned to Sender", DELAY_SUBJECT, 1)
        raw = raw.replace(FAILED_TEXT, DELAY_TEXT, 1)
    return raw


def _returned(i: int, s: Shape) -> bytes:
    """Return the returned-headers part's opening with the headers a real message carries."""
    digest = hashlib.sha256(f"{SEED}:{i}".encode()).digest()
    signature = base64.b64encode(digest * 8).decode()[:144]
    headers = RETURNED.format(
        q=f"4{i:011X}",
        r=s.original,
        date=rfc2822(s.arrival),
        bh=base64.b64encode(digest).decode(),
        b="\r\n\t".join(signature[k : k + 72] for k in range(0, len(signature), 72)),
        campaign=f"c{int((s.received - T0).days // 3)}",
    )
    return b"text/rfc822-headers\r\n\r\n" + headers.encode()


def stored(i: int, per_day: int) -> StoredMessage:
    """Return message i as the inbox would hand it to the processor (id i + 1)."""
    s = shape(i, per_day)
    return StoredMessage(i + 1, to_iso(s.received), "", (BOUNCE_ADDRESS,), render(s, i), "new")


def incoming(message: StoredMessage) -> Incoming:
    """Return what intake stores for a message."""
    peer = "192.0.2.25"
    return Incoming(
        from_iso(message.received_at), message.mail_from, message.rcpt_to, peer, message.raw
    )


# --- preparing many messages from a few hundred prepare() calls ------------------------------

TEMPLATE_AT = datetime(2030, 6, 15, 12, 0, tzinfo=UTC)
MARKS = ("zz", "2030")  # what every value a template holds for a message contains


def template_shape(key: tuple) -> Shape:
    """Return the shape of a template: every per-message value a recognisable stand-in."""
    kind, row, octet, alias = key
    status, text = TABLES[kind][row]
    original = "zzlocal@zzdomain.example"
    final = "zzlocal@zzstore.zzdomain.example" if alias else original
    diagnostic = text.format(r=original, d="zzdomain.example", n=octet)
    arrival = TEMPLATE_AT - _lag(None, kind, status)
    return Shape(
        kind,
        final,
        original,
        "zzdomain.example",
        status,
        diagnostic,
        TEMPLATE_AT,
        arrival,
        "<zzorig@zzshop.example>",
        key,
    )


STRING_VALUES: tuple[Callable[[Shape], str], ...] = (
    lambda s: s.recipient,  # longest first: an address holds its domain and local part
    lambda s: s.original,
    lambda s: s.orig_id,
    lambda s: s.domain,
    lambda s: s.original.split("@")[0],
    lambda s: rfc2822(s.received),
    lambda s: rfc2822(s.received - timedelta(minutes=2)),
    lambda s: rfc2822(s.arrival),
    lambda s: rfc2822(_retry(s)),
)


def _times(s: Shape) -> tuple[datetime, ...]:
    """Return a shape's times as a parsed report holds them (to the second)."""
    return tuple(t.replace(microsecond=0) for t in (s.received, s.arrival, _retry(s)))


def _retry(s: Shape) -> datetime:
    """Return the Will-Retry-Until a delay notice of this shape carries."""
    return s.arrival + timedelta(days=5)


def plan(value: object, times: frozenset) -> object:
    """Return where a template's analysis holds per-message values (None: nowhere).

    A plan is "s" (a string to rewrite), "t" (a time to map), or (kind, [(where, plan)]) for
    a tuple, dict or dataclass whose parts named by `where` hold some.
    """
    if isinstance(value, str):
        return "s" if any(mark in value for mark in MARKS) else None
    if isinstance(value, datetime):
        return "t" if value in times else None
    if isinstance(value, tuple | dict):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        parts = [(k, p) for k, item in items if (p := plan(item, times)) is not None]
        return (type(value), parts) if parts else None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        named = ((f.name, getattr(value, f.name)) for f in dataclasses.fields(value))
        parts = [(name, p) for name, item in named if (p := plan(item, times)) is not None]
        return ("dataclass", parts) if parts else None
    return None


def substitute(value: object, where: object, strings: list, times: dict, memo: dict) -> object:
    """Return `value` with the per-message values `where` says it holds replaced."""
    if where == "s":
        for old, new in strings:
            value = value.replace(old, new)
        return value
    if where == "t":
        return times[value]
    if id(value) in memo:  # a part shared by the report and the verdicts
        return memo[id(value)]
    kind, parts = where
    if kind == "dataclass":
        done = dataclasses.replace(
            value,
            **{
                name: substitute(getattr(value, name), p, strings, times, memo) for name, p in parts
            },
        )
    else:
        items = dict(value) if kind is dict else list(value)
        for k, p in parts:
            items[k] = substitute(items[k], p, strings, times, memo)
        done = items if kind is dict else tuple(items)
    memo[id(value)] = done
    return done


@dataclass(frozen=True)
class Template:
    """A template message prepared for real, with where its per-message values sit."""

    prepared: Prepared
    where: object  # plan() of its analysis
    strings: tuple[tuple[int, str], ...]  # (index in STRING_VALUES, value) found in it
    times: tuple[datetime, ...]

    @classmethod
    def of(cls, key: tuple, settings: Settings) -> Template:
        """Prepare the template of a key."""
        s = template_shape(key)
        message = StoredMessage(0, to_iso(s.received), "", (BOUNCE_ADDRESS,), render(s, 0), "")
        prepared = prepare(message, s.received, settings)
        times = _times(s)
        where = plan(prepared.analysis, frozenset(times))
        texts = []
        _texts(prepared.analysis, texts)
        values = [(k, value(s)) for k, value in enumerate(STRING_VALUES)]
        found = tuple((k, old) for k, old in values if any(old in text for text in texts))
        return cls(prepared, where, found, times)

    def fill(self, s: Shape, message: StoredMessage) -> Prepared:
        """Return the template prepared as message `message` of shape `s`."""
        strings = [(old, STRING_VALUES[k](s)) for k, old in self.strings]
        times = dict(zip(self.times, _times(s), strict=True))
        analysis = self.prepared.analysis
        if self.where is not None:
            analysis = substitute(analysis, self.where, strings, times, {})
        return dataclasses.replace(
            self.prepared, message=message, analysis=analysis, copy_of=fingerprint(message.raw)
        )


def _texts(value: object, found: list[str]) -> None:
    """Collect every string inside a value."""
    if isinstance(value, str):
        found.append(value)
    elif isinstance(value, tuple | list):
        for item in value:
            _texts(item, found)
    elif isinstance(value, dict):
        for item in value.values():
            _texts(item, found)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            _texts(getattr(value, f.name), found)


class Preparer:
    """prepare() per template, then the template's analysis with each message's values.

    The first message of each template, and every VERIFY_EVERY-th message, is also prepared
    for real and must come out equal, else the build stops.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.templates: dict[tuple, Template] = {}
        self.checked = 0

    def prepared(self, i: int, per_day: int) -> Prepared:
        """Return message i prepared as prepare() would."""
        s = shape(i, per_day)
        first = s.template not in self.templates
        if first:
            self.templates[s.template] = Template.of(s.template, self.settings)
        message = StoredMessage(
            i + 1, to_iso(s.received), "", (BOUNCE_ADDRESS,), render(s, i), "new"
        )
        done = self.templates[s.template].fill(s, message)
        if first or i % VERIFY_EVERY == 0:
            self._check(done, s.received)
        return done

    def _check(self, done: Prepared, received: datetime) -> None:
        """Stop unless prepare() gives the same for this message."""
        real = prepare(done.message, received, self.settings)
        if real != done:
            raise SystemExit(
                f"message {done.message.id}: the bulk path differs from prepare():\n"
                f"  prepare():  {real.analysis}\n  bulk path: {done.analysis}"
            )
        self.checked += 1


# --- building a database --------------------------------------------------------------------


def settings_and_policy() -> tuple[Settings, object]:
    """Return the processing settings and tracker policy of the default configuration."""
    config = Config()
    return Settings.from_config(config), policy_from(config.tracker)


class Sweeper:
    """Runs `sweep_once` at each SWEEP_EVERY boundary of simulated time the traffic passes."""

    def __init__(self, db: BouncerDatabase, policy: object) -> None:
        self.db, self.policy, self.next = db, policy, T0 + SWEEP_EVERY
        self.fired = 0

    def until(self, moment: datetime) -> None:
        """Sweep at every boundary up to `moment`."""
        while self.next <= moment:
            self.fired += len(sweep_once(self.db, self.next, self.policy))
            self.next += SWEEP_EVERY

    def final(self, moment: datetime) -> None:
        """Sweep at the boundaries, then once at `moment` itself."""
        self.until(moment)
        self.fired += len(sweep_once(self.db, moment, self.policy))


def write_batch(
    db: BouncerDatabase, batch: list[Prepared], settings: Settings, sweeper: Sweeper
) -> None:
    """Store a batch as intake does, then write each message in a savepoint as the worker
    does (with `now` its arrival), sweeping whenever an hour boundary passes."""
    ids = inbox.insert_batch(db, [incoming(item.message) for item in batch])
    if ids != [item.message.id for item in batch]:
        raise SystemExit(f"ids {ids[0]}.. do not follow the plan: is the database new?")
    for item in batch:
        moment = from_iso(item.message.received_at)
        sweeper.until(moment)
        with db.atomic():
            write(db, item, moment, settings)


def build(path: Path, n: int, per_day: int) -> None:
    """Build a database of n processed messages at `path` (which must not exist)."""
    settings, policy = settings_and_policy()
    preparer = Preparer(settings)
    db = open_db(path)
    db.conn.execute("PRAGMA synchronous=OFF")
    db.conn.execute("PRAGMA cache_size=-1000000")
    sweeper = Sweeper(db, policy)
    started, shown = time.perf_counter(), 0
    for start in range(0, n, TASK):
        with db.atomic():
            for low in range(start, min(start + TASK, n), worker.BATCH):
                high = min(low + worker.BATCH, n)
                batch = [preparer.prepared(i, per_day) for i in range(low, high)]
                write_batch(db, batch, settings, sweeper)
        done = min(start + TASK, n)
        if done * 10 // n > shown:
            shown = done * 10 // n
            rate = done / (time.perf_counter() - started)
            note(f"  built {done:,}/{n:,} ({rate:,.0f} msg/s)")
    sweeper.final(end_of(n, per_day))
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    note(f"  {len(preparer.templates)} templates, {preparer.checked:,} messages checked")


def end_of(n: int, per_day: int) -> datetime:
    """Return the end of the simulated period of n messages."""
    return T0 + timedelta(seconds=n * 86400 / per_day)


def cached_build(keep_dir: Path | None, work: Path, n: int, per_day: int) -> str:
    """Put a built database of n messages at `work`; return how (built in s, or cached)."""
    started = time.perf_counter()
    if keep_dir is None:
        build(work, n, per_day)
        return f"{time.perf_counter() - started:.0f} s"
    keep_dir.mkdir(parents=True, exist_ok=True)
    kept = keep_dir / f"bouncer-scale-v{VERSION}-s{len(MIGRATIONS)}-{n}-{per_day}.db"
    how = "cached"
    if not kept.exists():
        partial = kept.with_suffix(".building")
        for stale in keep_dir.glob(partial.name + "*"):
            stale.unlink()
        build(partial, n, per_day)
        partial.rename(kept)
        how = f"{time.perf_counter() - started:.0f} s"
    shutil.copyfile(kept, work)
    os.sync()  # the copy's pages on disk before timing: its writeback would stall every fsync
    read_through(work)
    return how


def read_through(path: Path) -> None:
    """Read a file once, so the OS page cache holds it as it holds a running daemon's.

    A copy of a 7 GB file leaves an arbitrary part of it cached, different from run to run:
    a probe of a random key (a suppression) then costs a disk read (~36 µs on this VM) or a
    cached one (~5 µs) by chance. A daemon that has run for a while has its indexes' pages
    cached (on a host whose memory holds them; one that cannot pays the disk read).
    """
    with path.open("rb", buffering=0) as file:
        while file.read(1 << 20):
            pass


# --- measuring ------------------------------------------------------------------------------


@dataclass
class Locks:
    """The longest outermost write transaction per labelled path, in seconds."""

    label: str | None = None
    longest: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def path(self, label: str) -> Iterator[None]:
        """Count write transactions under `label` while the block runs."""
        before, self.label = self.label, label
        try:
            yield
        finally:
            self.label = before

    def record(self, seconds: float) -> None:
        """Note one write-lock hold."""
        if self.label is not None:
            self.longest[self.label] = max(self.longest.get(self.label, 0.0), seconds)

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """Time every outermost atomic() and every incremental-vacuum statement (each a write
        transaction of its own, in retention.give_back_pages) while the block runs."""
        atomic, give_back = BouncerDatabase.atomic, retention._vacuum_slice  # noqa: SLF001

        @contextlib.contextmanager
        def timed_atomic(db: BouncerDatabase, **options: bool) -> Iterator[BouncerDatabase]:
            outermost, started = not db.conn.in_transaction, time.perf_counter()
            try:
                with atomic(db, **options) as inner:
                    yield inner
            finally:
                if outermost:
                    self.record(time.perf_counter() - started)

        def timed_give_back(db: BouncerDatabase, pages: int) -> None:
            started = time.perf_counter()
            try:
                give_back(db, pages)
            finally:
                self.record(time.perf_counter() - started)

        with (
            mock.patch.object(BouncerDatabase, "atomic", timed_atomic),
            mock.patch.object(retention, "_vacuum_slice", timed_give_back),
        ):
            yield


def median_ms(work: Callable[[], object], repeat: int = 5) -> float:
    """Return the median wall time of `work` in milliseconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def lookups(db: BouncerDatabase, n: int, per_day: int, now: datetime) -> dict[str, float]:
    """Time key lookups and the first page of each listing."""
    hard = next(shape(i, per_day) for i in range(n // 2, n) if shape(i, per_day).kind == "hard")
    sample = next(shape(i, per_day) for i in range(n // 2, n) if shape(i, per_day).kind != "hard")
    small = next(d for k in range(1, 100) if (d := domain_of(k)) not in BIG_DOMAINS)
    if suppressions.get(db, hard.original, now) is None:
        raise SystemExit(f"{hard.original} should be suppressed")
    hour_ago = to_iso(now - timedelta(hours=1))
    return {
        "suppressions.get (hit) ms": median_ms(lambda: suppressions.get(db, hard.original, now)),
        "suppressions.get (miss) ms": median_ms(
            lambda: suppressions.get(db, "nobody@nowhere.example", now)
        ),
        "suppression list page ms": median_ms(
            lambda: suppressions.list_active(db, now, limit=PAGE)
        ),
        "log --recipient ADDR ms": median_ms(
            lambda: records.search(db, recipient=sample.original, limit=PAGE)
        ),
        "log --recipient @domain ms": median_ms(
            lambda: records.search(db, recipient="@" + small, limit=PAGE)
        ),
        "events --since 1h ms": median_ms(
            lambda: events.search(db, since=hour_ago, limit=CLI_PAGE)
        ),
        "deferrals --open ms": median_ms(
            lambda: deferrals.listing(db, open_only=True, limit=CLI_PAGE)
        ),
    }


def insert_new(db: BouncerDatabase, start: int, count: int, per_day: int) -> datetime:
    """Store messages [start, start + count) as intake does; return the last one's arrival."""
    messages = [stored(i, per_day) for i in range(start, start + count)]
    for k in range(0, count, worker.BATCH):
        inbox.insert_batch(db, [incoming(m) for m in messages[k : k + worker.BATCH]])
    return from_iso(messages[-1].received_at)


def drain_rate(path: Path, db: BouncerDatabase, now: datetime, prefetched: list | None) -> float:
    """Run the worker's loop (Processor.drain) until nothing is left; return msg/s.

    With `prefetched`, inbox.unprocessed answers from that list instead of the database.
    """
    settings, _ = settings_and_policy()
    processor = worker.Processor(path, settings, clock=lambda: now)
    fetch = contextlib.nullcontext()
    if prefetched is not None:

        def from_list(_db: BouncerDatabase, limit: int = 100) -> list[StoredMessage]:
            taken = prefetched[:limit]
            del prefetched[:limit]
            return taken

        fetch = mock.patch.object(inbox, "unprocessed", from_list)
    (cache,) = db.conn.execute("PRAGMA cache_size").fetchone()
    db.conn.execute(f"PRAGMA cache_size = -{worker.CACHE_KIB}")  # as the worker opens its own
    with fetch:
        started = time.perf_counter()
        handled = processor.drain(db)
        elapsed = time.perf_counter() - started
    db.conn.execute(f"PRAGMA cache_size = {cache}")
    processor._executor.shutdown()  # noqa: SLF001 - drain ran on this thread
    return handled / elapsed


@dataclass
class Bench:
    """One size's database being measured."""

    path: Path
    db: BouncerDatabase
    n: int
    per_day: int
    locks: Locks
    figures: dict[str, float] = field(default_factory=dict)
    next: int = 0  # the number of the next message inserted
    moment: datetime | None = None  # the clock after the last processing run

    def __post_init__(self) -> None:
        self.next, self.moment = self.n, self.end

    @property
    def end(self) -> datetime:
        """The end of the simulated period (the build's last sweep)."""
        return end_of(self.n, self.per_day)


def daemon_sweep(db: BouncerDatabase, now: datetime, policy: object) -> list[dict]:
    """Sweep as the daemon's scheduler does: `sweep_bounded` until nothing is left."""
    fired, more = [], True
    while more:
        events, more = sweep_bounded(db, now, policy)
        fired += events
    return fired


def measure_quiet(bench: Bench) -> None:
    """Sweep with nothing due, stats and lookups, at the end of the period."""
    db, now, policy = bench.db, bench.end, settings_and_policy()[1]
    with bench.locks.path("sweep"):
        bench.figures["sweep, nothing due ms"] = median_ms(lambda: daemon_sweep(db, now, policy))
    since = to_iso(now - timedelta(days=1))
    bench.figures["stats 24h ms"] = median_ms(lambda: stats.summary(db, since, now), 3)
    bench.figures.update(lookups(db, bench.n, bench.per_day, now))


def processing_run(bench: Bench, batch: int, prefetch: bool) -> float:
    """Insert `batch` new messages and drain them with the worker's loop; return msg/s.

    With `prefetch`, the unprocessed rows are fetched beforehand ("no fetch"). The run's write
    locks count under "processing", with the daemon's checkpointer beside it.
    """
    bench.moment = insert_new(bench.db, bench.next, batch, bench.per_day) + timedelta(seconds=1)
    bench.next += batch
    prefetched = inbox.unprocessed(bench.db, batch * 2) if prefetch else None
    with bench.locks.installed(), checkpointing(bench.path), bench.locks.path("processing"):
        return drain_rate(bench.path, bench.db, bench.moment, prefetched)


def measure_processing(benches: list[Bench], batch: int, runs: int) -> None:
    """Processing rates with and without the fetch, the sizes taken in turn run after run.

    A size's figure is the median of its `runs` runs; its first run (cold page cache) is kept
    apart. Runs alternate between the sizes so that a change in the machine's speed meanwhile
    (this VM's disk flushes vary 2x over minutes) weighs on every size alike, not on one.
    """
    rates: dict[int, list[float]] = {bench.n: [] for bench in benches}
    unfetched: dict[int, list[float]] = {bench.n: [] for bench in benches}
    for _ in range(runs):
        for bench in benches:
            rates[bench.n].append(processing_run(bench, batch, prefetch=False))
    for _ in range(3):
        for bench in benches:
            unfetched[bench.n].append(processing_run(bench, batch, prefetch=True))
    for bench in benches:
        bench.figures["processing msg/s"] = statistics.median(rates[bench.n])
        bench.figures["processing, first run msg/s"] = rates[bench.n][0]
        bench.figures["processing, no fetch msg/s"] = statistics.median(unfetched[bench.n])


def measure_firing(bench: Bench) -> None:
    """One sweep deciding 5 hours after the end of the period."""
    moment = bench.end + timedelta(hours=5)
    with bench.locks.path("sweep"):
        started = time.perf_counter()
        fired = daemon_sweep(bench.db, moment, settings_and_policy()[1])
        bench.figures["sweep +5h ms"] = (time.perf_counter() - started) * 1000
    bench.figures["  events fired at +5h"] = len(fired)


def measure_reprocess(bench: Bench, size: int, now: datetime) -> None:
    """Reprocess a slice of `size` messages from the middle of the history (median of 3)."""
    low = max(0, bench.n // 2 - size // 2)
    high = min(bench.n, low + size)
    since = to_iso(received_at(low, bench.per_day))
    until = to_iso(received_at(high, bench.per_day)) if high < bench.n else to_iso(bench.end)
    rates = []
    for _ in range(3):
        with bench.locks.path("reprocess"):
            started = time.perf_counter()
            done = reprocess(bench.db, Config(), lambda: now, since=since, until=until)
            rates.append(done["messages"] / (time.perf_counter() - started))
    bench.figures["reprocess msg/s"] = statistics.median(rates)
    bench.figures["reprocess, first run msg/s"] = rates[0]


def file_bytes(db: BouncerDatabase) -> int:
    """Return the database's size in pages times the page size."""
    pages = db.conn.execute("PRAGMA page_count").fetchone()[0]
    return pages * db.conn.execute("PRAGMA page_size").fetchone()[0]


def measure_prune(bench: Bench, now: datetime) -> None:
    """Bytes per message before and after every raw copy is dropped; prune's lock holds."""
    db = bench.db
    count = db.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    bench.figures["bytes/msg before prune"] = file_bytes(db) / count
    config = Config()
    kept = retention.Retention(config.keep_raw, config.keep_records, config.keep_events)
    later = now + (config.keep_raw or timedelta(days=90)) + timedelta(days=1)
    with bench.locks.path("prune"):
        retention.prune_once(db, now, kept)
        for _ in range(3):
            retention.prune_once(db, later, kept)
    cutoff = later - (config.keep_raw or timedelta(days=90))
    while True:
        with db.atomic():
            if not inbox.prune_raw(db, cutoff, later, 50_000):
                break
    while retention.give_back_pages(db, 100_000):
        pass
    bench.figures["bytes/msg after prune"] = file_bytes(db) / count


def context(bench: Bench) -> dict[str, float]:
    """Counts that say what the database holds (not timed)."""
    one = bench.db.conn.execute
    now = to_iso(bench.end)
    return {
        "  messages": one("SELECT COUNT(*) FROM messages").fetchone()[0],
        "  hard %": one("SELECT 100.0 * SUM(class = 'hard') / COUNT(*) FROM bounces").fetchone()[0],
        "  open deferrals": one(
            "SELECT COUNT(*) FROM deferrals WHERE closed_at IS NULL"
        ).fetchone()[0],
        "  deferrals (all)": one("SELECT COUNT(*) FROM deferrals").fetchone()[0],
        "  active suppressions": one(
            "SELECT COUNT(*) FROM suppressions WHERE expires_at IS NULL OR expires_at > ?", (now,)
        ).fetchone()[0],
        "  events": one("SELECT COUNT(*) FROM events").fetchone()[0],
    }


@contextlib.contextmanager
def checkpointing(path: Path, interval: float = 1.0) -> Iterator[None]:
    """Run a PASSIVE checkpoint every `interval` seconds on a thread, as the daemon does."""
    stop = threading.Event()

    def loop() -> None:
        db = open_db(path)
        while not stop.wait(interval):
            wal_checkpoint(db)
        db.close()

    thread = threading.Thread(target=loop, name="bench-checkpoint")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def open_bench(path: Path, n: int, per_day: int) -> Bench:
    """Open a built database for measuring. As in the daemon, the writers leave the
    write-ahead log to a checkpointer on a thread and connection of its own."""
    bench = Bench(path, open_db(path, checkpoint_on_commit=False), n, per_day, Locks())
    bench.figures.update(context(bench))
    return bench


def measure_rest(bench: Bench, slice_size: int) -> None:
    """Measure every figure but processing (after it), then close the database."""
    with bench.locks.installed(), checkpointing(bench.path):
        measure_firing(bench)
        measure_reprocess(bench, slice_size, bench.moment)
        measure_prune(bench, bench.moment)
    bench.figures.update({f"  {k} µs": v for k, v in page_reads(bench.path).items()})
    for label in ("sweep", "prune", "reprocess", "processing"):
        bench.figures[f"longest lock: {label} ms"] = bench.locks.longest.get(label, 0.0) * 1000
    background = ("sweep", "prune", "reprocess")
    bench.figures["longest lock: background ms"] = max(
        bench.figures[f"longest lock: {label} ms"] for label in background
    )
    bench.db.close()


# --- checking the build against the worker's own loop ---------------------------------------


def reference_build(path: Path, n: int, per_day: int) -> None:
    """Build n messages through intake's insert and `Processor.drain`, one message a pass."""
    settings, policy = settings_and_policy()
    db = open_db(path)
    sweeper = Sweeper(db, policy)
    for i in range(n):
        message = stored(i, per_day)
        moment = from_iso(message.received_at)
        sweeper.until(moment)
        inbox.insert_batch(db, [incoming(message)])
        processor = worker.Processor(path, settings, clock=lambda moment=moment: moment)
        processor.drain(db)
        processor._executor.shutdown()  # noqa: SLF001 - drain ran on this thread
    sweeper.final(end_of(n, per_day))
    db.close()


def table_rows(path: Path) -> dict[str, list[tuple]]:
    """Return every table's rows in rowid order (events without their random ids)."""
    db = open_db(path, create=False)
    names = [
        row[0]
        for row in db.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    rows = {}
    for name in names:
        columns = [c[1] for c in db.conn.execute(f"PRAGMA table_info({name})")]
        shown = ", ".join(c for c in columns if not (name == "events" and c == "id"))
        rows[name] = db.conn.execute(f"SELECT {shown} FROM {name} ORDER BY rowid").fetchall()
    db.close()
    return rows


def verify(per_day: int, n: int = 2000) -> bool:
    """Check that the build writes the same rows as the worker's loop; print what differs."""
    with tempfile.TemporaryDirectory(prefix="bouncer-scale-verify-") as folder:
        bulk, reference = Path(folder) / "bulk.db", Path(folder) / "reference.db"
        build(bulk, n, per_day)
        reference_build(reference, n, per_day)
        got, expected = table_rows(bulk), table_rows(reference)
    same = True
    for name in sorted(set(got) | set(expected)):
        a, b = got.get(name, []), expected.get(name, [])
        status = "same" if a == b else "DIFFERENT"
        same = same and a == b
        print(f"{name:<22} {len(a):>6} rows (bulk) {len(b):>6} (worker loop): {status}")
        if a != b:
            first = next(
                (k for k, pair in enumerate(zip(a, b, strict=False)) if pair[0] != pair[1]), None
            )
            if first is not None:
                print(f"  first difference at row {first}:\n  {a[first]}\n  {b[first]}")
    return same


# --- the report -----------------------------------------------------------------------------

ORDER = (
    "processing msg/s",
    "processing, first run msg/s",
    "processing, no fetch msg/s",
    "sweep, nothing due ms",
    "sweep +5h ms",
    "  events fired at +5h",
    "longest lock: background ms",
    "longest lock: sweep ms",
    "longest lock: prune ms",
    "longest lock: reprocess ms",
    "longest lock: processing ms",
    "reprocess msg/s",
    "reprocess, first run msg/s",
    "stats 24h ms",
    "suppressions.get (hit) ms",
    "suppressions.get (miss) ms",
    "suppression list page ms",
    "log --recipient ADDR ms",
    "log --recipient @domain ms",
    "events --since 1h ms",
    "deferrals --open ms",
    "bytes/msg before prune",
    "bytes/msg after prune",
)


def size_label(n: int) -> str:
    """Return 10k, 100k, 1M for 10000, 100000, 1000000."""
    for unit, name in ((1_000_000, "M"), (1000, "k")):
        if n >= unit and n % unit == 0:
            return f"{n // unit}{name}"
    return str(n)


def number(value: float) -> str:
    """Format a figure: whole numbers from 100, else three significant digits."""
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if value else "0"


def growth(low: float, high: float, n_low: int, n_high: int) -> str:
    """Return the growth of a figure per 10x of N between two sizes."""
    if not low or not high:
        return "-"
    return f"{(high / low) ** (1 / math.log10(n_high / n_low)):.2f}"


def report(results: dict[int, dict[str, float]], how: dict[int, str]) -> None:
    """Print the table, the build times and the processing ratio (last line)."""
    sizes = sorted(results)
    names = list(ORDER) + [k for k in results[sizes[0]] if k not in ORDER]
    pairs = list(zip(sizes, sizes[1:], strict=False))
    head = [size_label(n) for n in sizes] + [
        f"x10 {size_label(b)}/{size_label(a)}" for a, b in pairs
    ]
    print(f"{'figure':<30}" + "".join(f"{h:>14}" for h in head))
    for name in names:
        values = [results[n].get(name, 0.0) for n in sizes]
        cells = [number(v) for v in values]
        cells += [growth(results[a].get(name, 0), results[b].get(name, 0), a, b) for a, b in pairs]
        print(f"{name:<30}" + "".join(f"{c:>14}" for c in cells))
    print("build: " + ", ".join(f"{size_label(n)} {how[n]}" for n in sizes))
    low, high = sizes[0], sizes[-1]
    ratio = results[high]["processing msg/s"] / results[low]["processing msg/s"]
    print(f"ratio processing {size_label(high)}/{size_label(low)}: {ratio:.2f}")


def note(text: str) -> None:
    """Print progress on stderr."""
    print(text, file=sys.stderr, flush=True)


def run_sizes(args: argparse.Namespace, folder: Path) -> tuple[list[Bench], dict[int, str]]:
    """Build (or reuse) a copy of each size in `folder`; open them and measure the quiet
    figures; return the benches and how each was built."""
    benches, how = [], {}
    for n in sorted(set(args.sizes)):
        work = folder / f"bench-{n}.db"
        note(f"{size_label(n)}: building")
        how[n] = cached_build(args.keep_dir, work, n, args.per_day)
        note(f"{size_label(n)}: built ({how[n]})")
    for n in sorted(set(args.sizes)):
        bench = open_bench(folder / f"bench-{n}.db", n, args.per_day)
        with bench.locks.installed(), checkpointing(bench.path):
            measure_quiet(bench)
        benches.append(bench)
    return benches, how


def parse_args() -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--quick", action="store_true", help="10k and 100k only")
    parser.add_argument("--keep-dir", type=Path, help="keep built databases here and reuse them")
    parser.add_argument("--per-day", type=int, default=1_000, help="simulated messages a day")
    parser.add_argument("--batch", type=int, default=1000, help="new messages per processing run")
    parser.add_argument("--runs", type=int, default=5, help="processing runs (median)")
    parser.add_argument("--slice", type=int, default=10_000, help="messages reprocessed")
    parser.add_argument("--verify", action="store_true", help="check the build path, then exit")
    args = parser.parse_args()
    args.sizes = [10_000, 100_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    return args


def main() -> None:
    """Build and measure each size, then print the table."""
    args = parse_args()
    configure("json", "warning")
    if args.verify:
        raise SystemExit(0 if verify(args.per_day) else 1)
    with tempfile.TemporaryDirectory(prefix="bouncer-scale-") as folder:
        benches, how = run_sizes(args, Path(folder))
        note("processing, the sizes in turn")
        measure_processing(benches, args.batch, args.runs)
        for bench in benches:
            started = time.perf_counter()
            measure_rest(bench, args.slice)
            note(f"{size_label(bench.n)}: measured in {time.perf_counter() - started:.0f} s")
    report({bench.n: bench.figures for bench in benches}, how)


if __name__ == "__main__":
    main()
