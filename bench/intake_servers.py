"""The servers bench/intake.py compares, each a process of its own on loopback, and what it
reads of them: CPU time and peak memory of a process and its children (/proc), and bouncer's
database after a run (backlog, and every acknowledged message stored and processed once).

* `aiosmtpd`: a do-nothing aiosmtpd server (its handler answers 250 and keeps nothing), as
  aiosmtpd's documentation shows one, on asyncio's own loop, hostname= given.
* `bouncer`: `bouncer serve` as a user runs it: its default configuration (fsync on, every
  CPU, processing running), a new database, the log on stdout (to a file).
* `smtp-sink`: Postfix's C test server, where it is installed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
if str(ROOT) not in sys.path:  # bouncer and tests importable from a checkout
    sys.path.insert(0, str(ROOT))
_DO_NOTHING = """
import asyncio, sys
from aiosmtpd.smtp import SMTP

class Nothing:
    async def handle_DATA(self, server, session, envelope):
        return "250 2.0.0 Ok"

async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Nothing(), hostname="ref.localhost"),
                                      "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


@dataclass
class Server:
    """A running server process: its name, port and process."""

    name: str
    port: int
    process: subprocess.Popen
    folder: Path | None = None
    log: object = None
    extra: dict = field(default_factory=dict)

    def pids(self) -> list[int]:
        """Return the server's pid and its children's."""
        pids = [self.process.pid]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, IndexError):
                    stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    if int(stat[1]) == self.process.pid:
                        pids.append(int(entry.name))
        return pids

    def cpu_seconds(self) -> float:
        """Return the CPU time (user + system) the server's processes have used so far."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(stat[11]) + int(stat[12])
        return total / ticks

    def peak_rss_mb(self) -> float:
        """Return the sum of the peak resident sizes (VmHWM) of the server's processes."""
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError, StopIteration):
                status = Path(f"/proc/{pid}/status").read_text()
                total += int(next(re.finditer(r"VmHWM:\s+(\d+)", status)).group(1))
        return total / 1024

    def stop(self) -> None:
        """SIGTERM the server and wait for it (SIGKILL after 30 s)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log is not None:
            self.log.close()


def start_aiosmtpd() -> Server:
    """Start the do-nothing aiosmtpd server."""
    process = subprocess.Popen(
        [sys.executable, "-c", _DO_NOTHING], stdout=subprocess.PIPE, text=True
    )
    port = int(process.stdout.readline())
    return Server("aiosmtpd", port, process)


def start_bouncer(folder: Path, db: str | None = None) -> Server:
    """Start `bouncer serve` with its default configuration and a new database in folder (or
    the store at `db`, a path or URL)."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOUNCER_")}
    env["BOUNCER_CACHE_DIR"] = str(folder / "cache")
    log = (folder / "log.jsonl").open("w+")
    command = [str(Path(sys.executable).parent / "bouncer"), "serve", "--listen", "127.0.0.1:0"]
    command += ["--http", "127.0.0.1:0"]  # the API on a free port (8025 may be taken)
    process = subprocess.Popen(
        [*command, "--db", db or str(folder / "bouncer.db")],
        cwd=folder,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = (folder / "log.jsonl").read_text()
        if found := re.search(r'"listen": "127\.0\.0\.1:(\d+)".*"service\.started"', text):
            server = Server("bouncer", int(found.group(1)), process, folder, log)
            server.extra["db"] = db or str(folder / "bouncer.db")
            return server
        if process.poll() is not None:
            raise RuntimeError(f"bouncer serve ended: {text[-2000:]}")
        time.sleep(0.05)
    raise RuntimeError("bouncer serve did not start")


def postfix_tool(name: str) -> str | None:
    """Return the path of a Postfix test tool (smtp-sink, smtp-source), or None."""
    return shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name) if p.exists()),
        None,
    )


def start_smtp_sink() -> Server | None:
    """Start Postfix's smtp-sink (None when it is not installed)."""
    sink = postfix_tool("smtp-sink")
    if sink is None:
        return None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    process = subprocess.Popen([sink, *user, f"127.0.0.1:{port}", "256"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return Server("smtp-sink", port, process)
        time.sleep(0.05)
    process.kill()
    return None


def backlog(server: Server) -> int:
    """Return how many stored messages bouncer has not processed yet."""
    with contextlib.closing(_read(server)) as db:
        return db.conn.execute("SELECT COUNT(*) FROM messages WHERE state = 'new'").fetchone()[0]


def drain(server: Server, timeout: float = 300.0) -> tuple[int, float]:
    """Wait until bouncer has processed everything; return (backlog at start, seconds)."""
    started, first = time.perf_counter(), backlog(server)
    left = first
    while left and time.perf_counter() - started < timeout:
        time.sleep(0.02)
        left = backlog(server)
    return first, time.perf_counter() - started


def check_once(server: Server, acknowledged: list[int]) -> tuple[int, int]:
    """Return (lost, doubled): acknowledged messages not stored and processed, and messages
    stored, recorded or acted on more than once (each DSN names a recipient of its own)."""
    with contextlib.closing(_read(server)) as db:
        run = db.conn.execute
        stored = dict(run("SELECT id, state FROM messages").fetchall())
        records = dict(
            run("SELECT message_id, COUNT(*) FROM bounces GROUP BY message_id").fetchall()
        )
        hard = run("SELECT data FROM events WHERE type = 'bounce.hard'").fetchall()
        counts = run("SELECT COUNT(*) FROM suppressions WHERE count > 1").fetchone()
    events = Counter(json.loads(data).get("message") for (data,) in hard)
    wanted = set(acknowledged)
    lost = sum(1 for i in wanted if stored.get(i) != "processed" or records.get(i) != 1)
    doubled = len(acknowledged) - len(wanted) + len(set(stored) - wanted)
    doubled += sum(1 for i in wanted if records.get(i, 0) > 1 or events.get(i, 0) > 1)
    return lost, doubled + counts[0]


def _read(server: Server):  # noqa: ANN202 - a BouncerDatabase or a PgDatabase
    """Open bouncer's store (SQLite file or PostgreSQL) for reading."""
    from bouncer.store import open_db

    return open_db(server.extra["db"], create=False)
