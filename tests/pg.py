"""A throwaway PostgreSQL cluster for the tests: initdb into a temporary directory, `postgres`
on a free loopback port, one database per test copied from a migrated template.

Debian's `postgresql` package puts its programs in /usr/lib/postgresql/<version>/bin; they are
looked up there and on PATH. initdb refuses to run as root, so as root the cluster runs as the
`postgres` user (the package creates it) in a directory that user owns. Without the programs
`available()` says why, and the PostgreSQL-backed tests skip with that reason.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

START_SECONDS = 30.0
# Settings of a cluster whose data is thrown away: no fsync, no waiting for the log.
_THROWAWAY = ("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")


def _bin_dir() -> Path | None:
    """Return the directory holding initdb and postgres (newest Debian version first)."""
    found = shutil.which("initdb")
    if found:  # Debian links them onto PATH from their own directory
        directory = Path(found).resolve().parent
        if all((directory / name).exists() for name in ("postgres", "pg_ctl")):
            return directory
    for directory in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(directory) / "initdb").exists() and (Path(directory) / "postgres").exists():
            return Path(directory)
    return None


def available() -> str | None:
    """Return None when a cluster can be started here, else why not (a skip reason)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'psycopg[binary]')"
    if _bin_dir() is None:
        return "PostgreSQL's initdb/postgres not found (apt-get install postgresql)"
    if os.geteuid() == 0:
        import pwd

        if shutil.which("runuser") is None:
            return "running as root without runuser to start PostgreSQL as the postgres user"
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a postgres user to run PostgreSQL as"
    return None


def _free_port() -> int:
    """Return a TCP port free on 127.0.0.1 now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    """One running PostgreSQL server in a temporary directory (trust authentication, loopback
    only, fsync off: its data is thrown away; `durable`: fsync and synchronous commits on, as
    a production server runs, for benchmarks)."""

    def __init__(self, *, durable: bool = False) -> None:
        self.durable = durable
        self.bin = _bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="bouncer-pg-"))
        self.port = _free_port()
        self.user = "postgres"
        self._process: subprocess.Popen | None = None
        self._serial = 0
        self._admin = None  # one autocommit connection to `postgres`, for CREATE/DROP DATABASE

    def _command(self, *args: str) -> list[str]:
        """Return a command line run as the postgres user when we are root."""
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *args]
        return list(args)

    def start(self) -> Cluster:
        """initdb and start the server; return once it accepts connections."""
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        else:
            self.user = os.environ.get("USER") or "postgres"
        data = self.root / "data"
        subprocess.run(
            self._command(
                str(self.bin / "initdb"), "-D", str(data), "-A", "trust", "-U", self.user,
                "-E", "UTF8", "--locale=C.UTF-8", "-N",
            ),
            check=True,
            capture_output=True,
        )  # fmt: skip
        return self.resume()

    def resume(self) -> Cluster:
        """Start the server on the cluster's data and port; return once it accepts
        connections (after `pause`, the same databases are there again)."""
        data = self.root / "data"
        log = open(self.root / "server.log", "ab")  # noqa: SIM115 - the server's for its life
        self._process = subprocess.Popen(
            self._command(
                str(self.bin / "postgres"), "-D", str(data), "-p", str(self.port),
                "-k", str(self.root), "-c", "listen_addresses=127.0.0.1",
                *([] if self.durable else _THROWAWAY), "-c", "max_connections=200",
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        """Wait until the server answers, or raise with the end of its log."""
        import psycopg

        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                psycopg.connect(self.url("postgres"), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    tail = (self.root / "server.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"PostgreSQL did not start:\n{tail}") from None
                time.sleep(0.05)

    def url(self, database: str) -> str:
        """Return the postgresql:// URL of a database on this cluster."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        """Run one statement outside a transaction (CREATE/DROP DATABASE) on `postgres`."""
        import psycopg

        if self._admin is None:
            self._admin = psycopg.connect(self.url("postgres"), autocommit=True)
        self._admin.execute(sql)

    def new_database(self, template: str | None = None) -> str:
        """Create an empty database (or a copy of `template`); return its name.

        A copy is made file by file (STRATEGY FILE_COPY, PostgreSQL 15's fastest for small
        databases: about a third of the time of the WAL_LOG default here)."""
        self._serial += 1
        name = f"t{os.getpid()}_{self._serial}"
        copy = f" TEMPLATE {template}" if template else ""
        if template and self._version() >= 150000:
            copy += " STRATEGY FILE_COPY"
        self.admin(f'CREATE DATABASE "{name}"{copy}')
        return name

    def _version(self) -> int:
        """The server's version number (150004 for 15.4)."""
        self.admin("SELECT 1")
        return self._admin.info.server_version

    def drop(self, name: str) -> None:
        """Drop a database, ending whatever connections a test left open to it."""
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def pause(self) -> None:
        """Stop the server (fast shutdown: open sessions are ended), keeping its data."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if self._process is not None and self._process.poll() is None:
            subprocess.run(
                self._command(str(self.bin / "pg_ctl"), "stop", "-D", str(self.root / "data"),
                              "-m", "fast", "-w"),
                capture_output=True,
                check=False,
            )  # fmt: skip
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def stop(self) -> None:
        """Stop the server and delete its directory."""
        self.pause()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def running(*, durable: bool = False) -> Iterator[Cluster]:
    """Start a cluster for the length of the block."""
    cluster = Cluster(durable=durable)
    try:
        yield cluster.start()
    finally:
        cluster.stop()
