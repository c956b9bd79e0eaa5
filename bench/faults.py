"""Fault-injection benchmark: no accepted message lost or doubled across SIGKILLs and a full disk.

The real daemon (`python -m bouncer serve`) runs as a subprocess on a free loopback port with its
database in a temporary directory. Client threads behave like sending MTAs: each message (a
Postfix hard bounce, 5.1.1, with its own recipient and report id, the "token") is sent again,
with a short backoff, after a refused or dropped connection, a timeout or any 4xx reply, until
the daemon answers 250; only then is it counted as accepted. Meanwhile the daemon is killed
with SIGKILL at random moments (seeded) and started again after a short pause, and, where a
tmpfs can be mounted (root), the database's file system is filled up (ENOSPC) for 1-2 s at a
time. At the end the daemon processes everything stored, is stopped with SIGTERM, and the
database is checked:

* lost: an accepted token found in no stored message;
* doubled: a token with more than one bounce record, or more than one bounce.hard /
  suppression.added event. A report resent after a lost 250 is stored again, but its
  fingerprint names an earlier copy and it adds no record and no event: it is counted under
  "duplicates recognised", not as doubled.

Exit status 0 when nothing was lost or doubled, 1 when something was, 2 when the run itself did
not complete (not every message accepted in time, processing or shutdown hung, the daemon
crashed); the working directory (config, daemon logs, database) is then kept.

    .venv/bin/python bench/faults.py [--clients 20] [--messages 3000] [--kills 3]
        [--full-windows 2] [--seed 1] [--timeout 150] [--keep]
"""

from __future__ import annotations

import argparse
import errno
import queue
import random
import re
import shutil
import signal
import smtplib
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.messages import postfix_dsn  # noqa: E402

HOST = "127.0.0.1"
TOKEN = re.compile(rb"(fx\d{6})@example\.com")
TMPFS_SIZE = "64m"


def token(number: int) -> str:
    """Return the unique token of message `number` (its recipient's local part)."""
    return f"fx{number:06d}"


def build_message(number: int) -> bytes:
    """Return the DSN of message `number`: a hard bounce for its own recipient and report id."""
    name = token(number)
    recipient = f"{name}@example.com"
    return postfix_dsn(
        recipient,
        "5.1.1",
        f"550 5.1.1 <{recipient}>: Recipient address rejected: User unknown",
        message_id=f"<order-{name}@shop.example>",
        report_id=f"<{name}@mx.sender.example>",
    )


def free_port() -> int:
    """Return a loopback port that is free now (reused for every start of the daemon)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def write_config(path: Path, db: Path, port: int, clients: int) -> None:
    """Write the daemon's configuration file."""
    per_ip = max(20, clients + 5)
    path.write_text(
        f'[store]\npath = "{db}"\n\n'
        f'[smtp]\nlisten = "{HOST}:{port}"\ndomains = ["localhost"]\n'
        f"max_connections = {max(100, per_ip)}\nmax_connections_per_ip = {per_ip}\n"
        "shutdown_grace = 5.0\n\n"
        '[http]\nlisten = "127.0.0.1:0"\n\n'
        '[log]\nformat = "json"\nlevel = "info"\n'
    )


class Daemon:
    """The daemon subprocess: start (one log file per start), wait until listening, kill."""

    def __init__(self, config: Path, logs: Path) -> None:
        self.config, self.logs = config, logs
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.log_path: Path | None = None
        self.crashes: list[str] = []  # exits we did not cause, with their log file

    def start(self, timeout: float = 30.0) -> None:
        """Start the daemon and return once it serves; raise RuntimeError if it does not."""
        for _ in range(5):
            self.starts += 1
            self.log_path = self.logs / f"daemon-{self.starts}.log"
            with open(self.log_path, "wb") as out:
                self.proc = subprocess.Popen(
                    [sys.executable, "-m", "bouncer", "serve", "--config", str(self.config)],
                    cwd=ROOT,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            if self._wait_ready(timeout):
                return
            time.sleep(0.5)
        raise RuntimeError(f"the daemon does not start; see {self.log_path}")

    def _wait_ready(self, timeout: float) -> bool:
        """Wait for the service.started line; note an exit during start-up as a crash."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if b'"service.started"' in self.log_path.read_bytes():
                return True
            if self.proc.poll() is not None:
                self.crashes.append(f"exit {self.proc.returncode} at start ({self.log_path.name})")
                return False
            time.sleep(0.02)
        self.kill()
        self.crashes.append(f"no start within {timeout:.0f} s ({self.log_path.name})")
        return False

    def running(self) -> bool:
        """Tell whether the daemon process is alive."""
        return self.proc is not None and self.proc.poll() is None

    def check(self) -> None:
        """If the daemon exited on its own, note it and start it again."""
        if self.proc is not None and self.proc.poll() is not None:
            self.crashes.append(f"exit {self.proc.returncode} while serving ({self.log_path.name})")
            self.start()

    def kill(self) -> None:
        """SIGKILL the daemon and reap it."""
        if self.running():
            self.proc.send_signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait()
            self.proc = None

    def terminate(self, timeout: float = 30.0) -> int | None:
        """SIGTERM the daemon; return its exit status, or None if it hung (then SIGKILL it)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            status = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None
        self.proc = None
        return status


@dataclass
class Tally:
    """What the clients saw, updated under a lock."""

    accepted: set[int] = field(default_factory=set)
    replies: Counter = field(default_factory=Counter)  # 4xx/5xx reply codes
    connection_errors: int = 0
    timeouts: int = 0
    rejected: set[int] = field(default_factory=set)
    dropped: set[int] = field(default_factory=set)  # messages that saw a connection error
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self) -> int:
        """Return how many messages have been accepted so far."""
        with self.lock:
            return len(self.accepted)


def _reply_code(exc: smtplib.SMTPException) -> int:
    """Return the SMTP reply code an smtplib exception carries (0 if none)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return min(code for code, _ in exc.recipients.values())
    return getattr(exc, "smtp_code", 0)


class Client:
    """One sending MTA: takes message numbers from a queue, sends each until it gets 250."""

    def __init__(self, port: int, work: queue.Queue, tally: Tally, stop: threading.Event, seed):
        self.port, self.work, self.tally, self.stop = port, work, tally, stop
        self.rng = random.Random(seed)
        self.conn: smtplib.SMTP | None = None

    def run(self) -> None:
        """Send messages until the queue is empty or stop is set."""
        try:
            while not self.stop.is_set():
                try:
                    number = self.work.get_nowait()
                except queue.Empty:
                    return
                self.deliver(number, build_message(number))
        finally:
            self.close()

    def deliver(self, number: int, raw: bytes) -> None:
        """Send one message until 250 (accepted), a 5xx (rejected) or stop."""
        delay = 0.05
        while not self.stop.is_set():
            code = self.attempt(raw)
            if code == 250:
                with self.tally.lock:
                    self.tally.accepted.add(number)
                return
            if code >= 500:
                with self.tally.lock:
                    self.tally.rejected.add(number)
                return
            if code == 0:
                with self.tally.lock:
                    self.tally.dropped.add(number)
            time.sleep(delay * self.rng.uniform(0.5, 1.5))
            delay = min(delay * 2, 1.0)

    def attempt(self, raw: bytes) -> int:
        """Make one delivery attempt; return 250, the 4xx/5xx code, or 0 for a connection error."""
        try:
            if self.conn is None:
                self.conn = smtplib.SMTP(HOST, self.port, timeout=10)
            self.conn.sendmail("", ["bounces@localhost"], raw)
            return 250
        except smtplib.SMTPServerDisconnected:
            return self.connection_error(timeout=False)
        except smtplib.SMTPException as exc:
            code = _reply_code(exc)
            with self.tally.lock:
                self.tally.replies[code] += 1
            if code == 421 or isinstance(exc, smtplib.SMTPConnectError):
                self.close()
            return code or 400
        except TimeoutError:
            return self.connection_error(timeout=True)
        except OSError:
            return self.connection_error(timeout=False)

    def connection_error(self, *, timeout: bool) -> int:
        """Count a refused, reset or timed-out connection and drop it."""
        with self.tally.lock:
            self.tally.connection_errors += 1
            self.tally.timeouts += timeout
        self.close()
        return 0

    def close(self) -> None:
        """Drop the session, politely if it still answers."""
        if self.conn is not None:
            try:
                self.conn.quit()
            except (smtplib.SMTPException, OSError):
                self.conn.close()
            self.conn = None


class Disk:
    """The database's tmpfs: mount, fill to ENOSPC, empty again, unmount."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.mounted = False

    def mount(self) -> str | None:
        """Mount a small tmpfs on the folder; return why not when that fails."""
        try:
            done = subprocess.run(
                ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(self.folder)],
                capture_output=True,
                text=True,
            )
        except OSError as exc:
            return str(exc)
        if done.returncode != 0:
            return done.stderr.strip() or f"mount exited {done.returncode}"
        self.mounted = True
        return None

    def fill(self) -> tuple[Path, int]:
        """Write a filler file until no space is left; return it and its size."""
        filler = self.folder / "filler"
        written = 0
        with open(filler, "wb", buffering=0) as out:
            for chunk in (b"\0" * (1 << 20), b"\0" * 4096, b"\0"):
                try:
                    while True:
                        written += out.write(chunk)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
        return filler, written

    def unmount(self) -> None:
        """Unmount the tmpfs (lazily if something still holds it)."""
        if self.mounted:
            if subprocess.run(["umount", str(self.folder)], capture_output=True).returncode:
                subprocess.run(["umount", "-l", str(self.folder)], capture_output=True)
            self.mounted = False


@dataclass
class Faults:
    """The fault schedule and what was done."""

    plan: list[tuple[int, str]]  # (accepted count to wait for, "kill" | "full")
    kills: int = 0
    full_windows: int = 0
    filled: list[int] = field(default_factory=list)  # filler sizes, bytes


def plan_faults(rng: random.Random, messages: int, kills: int, windows: int) -> Faults:
    """Spread the faults over the run: each in its own slice of 8-90 % of the messages."""
    kinds = ["kill"] * kills + ["full"] * windows
    rng.shuffle(kinds)
    slot = 0.82 / max(1, len(kinds))
    plan = [
        (int(messages * (0.08 + slot * (i + rng.uniform(0.1, 0.9)))), kind)
        for i, kind in enumerate(kinds)
    ]
    return Faults(plan)


def inject(
    faults: Faults, daemon: Daemon, disk: Disk, tally: Tally, done: threading.Event, rng
) -> None:
    """Run the fault plan, watching the daemon for exits of its own in between."""
    for threshold, kind in faults.plan:
        while tally.count() < threshold and not done.is_set():
            daemon.check()
            time.sleep(0.02)
        if done.is_set():
            return
        time.sleep(rng.uniform(0.0, 0.2))  # a random point in whatever the daemon is doing
        if kind == "kill":
            daemon.kill()
            faults.kills += 1
            time.sleep(rng.uniform(0.3, 0.8))
            daemon.start()
        else:
            filler, size = disk.fill()
            faults.full_windows += 1
            faults.filled.append(size)
            time.sleep(rng.uniform(1.0, 2.0))
            filler.unlink()
    while not done.is_set():
        daemon.check()
        time.sleep(0.05)


def wait_processed(db: Path, daemon: Daemon, timeout: float) -> bool:
    """Wait until no stored message is in state 'new'; return False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        daemon.check()
        try:
            with sqlite3.connect(db, timeout=5) as conn:
                waiting = conn.execute("SELECT COUNT(*) FROM messages WHERE state = 'new'")
                if waiting.fetchone()[0] == 0:
                    return True
        except sqlite3.Error:
            pass
        time.sleep(0.2)
    return False


@dataclass
class Findings:
    """What the database shows."""

    stored: int = 0
    duplicates: int = 0
    bounce_rows: int = 0
    lost: list[str] = field(default_factory=list)
    doubled: dict[str, str] = field(default_factory=dict)
    states: Counter = field(default_factory=Counter)
    unrecorded: list[str] = field(default_factory=list)  # accepted, stored, no bounce record
    copied: set[str] = field(default_factory=set)  # tokens stored more than once


def examine(db: Path, accepted: set[str]) -> Findings:
    """Check the stopped daemon's database against the accepted tokens."""
    found = Findings()
    conn = sqlite3.connect(db)
    try:
        messages = conn.execute(
            "SELECT m.id, COALESCE(r.raw, m.raw), m.state, m.fingerprint FROM messages m "
            "LEFT JOIN raw_messages r ON r.message_id = m.id"
        ).fetchall()
        bounces = conn.execute("SELECT recipient, message_id FROM bounces").fetchall()
        events = conn.execute(
            "SELECT recipient, type FROM events WHERE type IN ('bounce.hard', 'suppression.added')"
        ).fetchall()
    finally:
        conn.close()
    first: dict[str, int] = {}
    stored = Counter()
    for message_id, raw, state, fingerprint in messages:
        found.states[state] += 1
        stored.update({match.decode() for match in TOKEN.findall(raw)})
        if fingerprint is not None:
            first[fingerprint] = min(message_id, first.get(fingerprint, message_id))
    firsts = set(first.values())
    found.stored = len(messages)
    found.duplicates = sum(1 for m in messages if m[3] is not None and m[0] not in firsts)
    found.bounce_rows = len(bounces)
    stored_tokens = set(stored)
    found.copied = {name for name, count in stored.items() if count > 1}
    found.lost = sorted(accepted - stored_tokens)
    records = Counter(local(r) for r, _ in bounces)
    found.unrecorded = sorted((accepted & stored_tokens) - {local(r) for r, _ in bounces})
    per_event = Counter((local(recipient), kind) for recipient, kind in events)
    doubled: dict[str, list[str]] = defaultdict(list)
    for name, count in records.items():
        if count > 1:
            doubled[name].append(f"{count} bounce records")
    for (name, kind), count in per_event.items():
        if count > 1:
            doubled[name].append(f"{count} {kind} events")
    found.doubled = {name: ", ".join(why) for name, why in sorted(doubled.items())}
    return found


def local(address: str | None) -> str:
    """Return the token of a recipient address (its local part)."""
    return (address or "").partition("@")[0].lower()


def report(args, tally: Tally, faults: Faults, found: Findings, daemon: Daemon, wall: float):
    """Print the result table and any problems."""
    dropped = {token(n) for n in tally.dropped}
    unexplained = sorted(found.copied - dropped)
    codes = ", ".join(f"{code}: {n}" for code, n in sorted(tally.replies.items()) if code != 451)
    lines = [
        ("accepted (250)", f"{len(tally.accepted)} of {args.messages}"),
        ("stored rows", f"{found.stored}"),
        ("duplicates recognised", f"{found.duplicates}"),
        ("bounce records", f"{found.bounce_rows}"),
        ("message states", ", ".join(f"{s}: {n}" for s, n in sorted(found.states.items()))),
        ("lost", f"{len(found.lost)}"),
        ("doubled", f"{len(found.doubled)}"),
        ("kills", f"{faults.kills} of {args.kills}"),
        ("full windows", f"{faults.full_windows} of {args.full_windows}"),
        ("451 replies seen", f"{tally.replies[451]}"),
        ("other 4xx/5xx replies", codes or "none"),
        ("connection errors", f"{tally.connection_errors} ({tally.timeouts} timeouts)"),
        ("daemon starts", f"{daemon.starts}"),
        ("wall time", f"{wall:.1f} s"),
    ]
    for name, value in lines:
        print(f"{name:<24}{value}")
    for label, items in (
        ("LOST", found.lost),
        ("DOUBLED", [f"{k}: {v}" for k, v in found.doubled.items()]),
        ("ACCEPTED BUT NO BOUNCE RECORD", found.unrecorded),
        ("REJECTED (5xx)", sorted(token(n) for n in tally.rejected)),
        ("DAEMON CRASHED", daemon.crashes),
        ("STORED TWICE THOUGH THE CLIENT SAW NO DROPPED CONNECTION", unexplained),
    ):
        if items:
            print(f"{label} ({len(items)}): {', '.join(items[:20])}")


def parse_args() -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--full-windows", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=150.0, help="seconds for sending")
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    return parser.parse_args()


def send(args, port: int, faults: Faults, daemon: Daemon, disk: Disk, rng) -> Tally:
    """Run the clients and the faults until every message is accepted or time is up."""
    tally, stop, done = Tally(), threading.Event(), threading.Event()
    work: queue.Queue = queue.Queue()
    for number in range(1, args.messages + 1):
        work.put(number)
    clients = [Client(port, work, tally, stop, args.seed * 1000 + i) for i in range(args.clients)]
    threads = [threading.Thread(target=client.run, daemon=True) for client in clients]
    injector = threading.Thread(
        target=inject, args=(faults, daemon, disk, tally, done, rng), daemon=True
    )
    deadline = time.monotonic() + args.timeout
    try:
        for thread in [*threads, injector]:
            thread.start()
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
    finally:
        stop.set()
        for thread in threads:
            thread.join(15)
        done.set()
        injector.join(60)
    return tally


def finish(daemon: Daemon, db: Path) -> list[str]:
    """Let the daemon process everything stored, stop it with SIGTERM; return the problems."""
    problems = []
    if not daemon.running():
        daemon.start()
    if not wait_processed(db, daemon, 120):
        problems.append("stored messages were still 'new' 120 s after sending ended")
    status = daemon.terminate()
    if status != 0:
        problems.append(f"SIGTERM: exit status {status} (None: did not stop within 30 s)")
    return problems


def run(args: argparse.Namespace, work: Path) -> int:
    """Run the benchmark in a working directory; return the exit status."""
    rng = random.Random(args.seed)
    folder, logs = work / "db", work / "logs"
    folder.mkdir()
    logs.mkdir()
    db, config, port = folder / "bouncer.db", work / "bouncer.toml", free_port()
    write_config(config, db, port, args.clients)
    disk, daemon = Disk(folder), Daemon(config, logs)
    if args.full_windows and (why := disk.mount()) is not None:
        print(f"cannot mount a tmpfs ({why}): disk-full windows are skipped")
        args.full_windows = 0
    faults = plan_faults(rng, args.messages, args.kills, args.full_windows)
    started = time.monotonic()
    try:
        daemon.start()
        tally = send(args, port, faults, daemon, disk, rng)
        problems = finish(daemon, db)
        wall = time.monotonic() - started
        found = examine(db, {token(n) for n in tally.accepted})
        if len(tally.accepted) < args.messages:
            problems.append(f"only {len(tally.accepted)} of {args.messages} accepted in time")
        failed = bool(problems or daemon.crashes or found.lost or found.doubled)
        if args.keep or failed:
            shutil.copytree(folder, work / "db-copy", ignore=shutil.ignore_patterns("filler"))
    finally:
        daemon.kill()
        disk.unmount()
    report(args, tally, faults, found, daemon, wall)
    for problem in problems:
        print(f"PROBLEM: {problem}")
    if found.lost or found.doubled:
        return 1
    return 2 if failed else 0


def main() -> None:
    """Run the benchmark and exit with its status."""
    args = parse_args()
    work = Path(tempfile.mkdtemp(prefix="bouncer-faults-"))
    status = 2
    try:
        status = run(args, work)
    finally:
        if args.keep or status != 0:
            print(f"working directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    sys.exit(status)


if __name__ == "__main__":
    main()
