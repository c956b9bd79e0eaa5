"""A private Postfix instance for tests: its own config, queue and data directories in a temp
dir, loopback only, no DNS, every route pinned to a loopback port, and timers short enough
that delay and expiry DSNs come out within seconds."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

LOOPBACK = "127.0.0.1"
MTA_HOSTNAME = "mta.sender.example"
MAIL_OWNER = "postfix"

MASTER_SERVICES = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def installed(program: str) -> str | None:
    """Return the path of a Postfix program (on PATH or in /usr/sbin), or None if missing."""
    in_sbin = f"/usr/sbin/{program}"
    return shutil.which(program) or (in_sbin if os.access(in_sbin, os.X_OK) else None)


def unavailable_reason() -> str | None:
    """Say why a private Postfix cannot run here, or return None when it can."""
    if installed("postfix") is None:
        return "Postfix is not installed (no postfix command)"
    if installed("smtp-sink") is None:
        return "Postfix's smtp-sink is not installed"
    try:
        pwd.getpwnam(MAIL_OWNER)
    except KeyError:
        return f"the {MAIL_OWNER!r} user that Postfix runs as does not exist"
    if os.geteuid() != 0:
        return "a private Postfix instance must be started as root"
    return None


def free_port() -> int:
    """Return a loopback TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def wait_listening(port: int, deadline: float) -> None:
    """Block until something accepts TCP connections on the loopback port, or fail."""
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {LOOPBACK}:{port}")


@dataclass
class SmtpSink:
    """A running smtp-sink that plays a recipient's MX and refuses every RCPT one way."""

    port: int
    process: subprocess.Popen

    def stop(self) -> None:
        """Terminate the sink and reap it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_sink(rcpt_reply: str, deadline: float) -> SmtpSink:
    """Start smtp-sink on a free loopback port answering every RCPT with rcpt_reply; fail if it
    does not listen by the deadline (a time.monotonic() value)."""
    port = free_port()
    rejection = (
        ["-f", "RCPT", "-B", rcpt_reply]
        if rcpt_reply.startswith("5")
        else ["-r", "RCPT", "-b", rcpt_reply]
    )
    run_as = ["-u", "nobody"] if os.geteuid() == 0 else []
    command = [
        installed("smtp-sink") or "smtp-sink",
        *run_as,
        "-h",
        "mx.recipient.example",
        *rejection,
        f"{LOOPBACK}:{port}",
        "10",
    ]
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    sink = SmtpSink(port, process)
    try:
        wait_listening(port, deadline)
    except RuntimeError as failure:
        sink.stop()
        raise RuntimeError(f"smtp-sink did not start: {process.stderr.read()}") from failure
    return sink


def transport_table(routes: Mapping[str, int]) -> str:
    """Render routes (address, domain or '*' -> loopback port) as an inline: transport map."""
    entries = ", ".join(f"{{{key} = smtp:[{LOOPBACK}]:{port}}}" for key, port in routes.items())
    return f"inline:{{ {entries} }}"


def main_cf(base: Path, routes: Mapping[str, int]) -> str:
    """Return main.cf for an instance rooted at base that sends everything via routes."""
    settings = {
        "compatibility_level": "3.6",
        "queue_directory": str(base / "queue"),
        "data_directory": str(base / "data"),
        "maillog_file": str(base / "maillog"),
        "maillog_file_prefixes": str(base),
        "inet_interfaces": "loopback-only",
        "inet_protocols": "ipv4",
        "myhostname": MTA_HOSTNAME,
        "mydomain": "sender.example",
        "myorigin": "$myhostname",
        "mydestination": "",
        "relay_domains": "",
        "local_recipient_maps": "",
        "alias_maps": "",
        "alias_database": "",
        "mynetworks": "127.0.0.0/8",
        "smtpd_relay_restrictions": "permit_mynetworks, reject",
        "smtpd_peername_lookup": "no",
        "smtp_dns_support_level": "disabled",
        "smtp_host_lookup": "native",
        "lmtp_host_lookup": "native",
        "transport_maps": transport_table(routes),
        "smtp_connect_timeout": "5s",
        "delay_warning_time": "1s",
        "maximal_queue_lifetime": "10s",
        "bounce_queue_lifetime": "10s",
        "queue_run_delay": "1s",
        "minimal_backoff_time": "1s",
        "maximal_backoff_time": "2s",
        "notify_classes": "resource, software",
        "biff": "no",
        "readme_directory": "no",
    }
    return "".join(f"{name} = {value}\n" for name, value in settings.items())


def master_cf(smtpd_port: int) -> str:
    """Return master.cf: an smtpd on the loopback port and the services mail needs, no chroot."""
    smtpd = f"{LOOPBACK}:{smtpd_port} inet  n       -       n       -       -       smtpd\n"
    return smtpd + MASTER_SERVICES


@dataclass
class PostfixInstance:
    """A private Postfix: config, queue and data under base, its smtpd on a loopback port."""

    base: Path
    smtpd_port: int

    @property
    def config_dir(self) -> Path:
        """The directory holding this instance's main.cf and master.cf."""
        return self.base / "etc"

    def postfix(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
        """Run `postfix -c CONFIG_DIR ARGS` and return the finished process."""
        command = [installed("postfix") or "postfix", "-c", str(self.config_dir), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)

    def log_text(self) -> str:
        """Return the instance's mail log so far (empty when there is none yet)."""
        path = self.base / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""

    def master_pid(self) -> int | None:
        """Return the master daemon's process id from its pid file, if there is one."""
        try:
            return int((self.base / "queue" / "pid" / "master.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def submit(self, sender: str, recipient: str, message: bytes) -> None:
        """Hand a message to the instance's smtpd with the given envelope."""
        with smtplib.SMTP(LOOPBACK, self.smtpd_port, timeout=10) as client:
            client.sendmail(sender, [recipient], message)

    def stop(self) -> None:
        """Stop the instance, kill whatever of its processes is left, delete its files."""
        master = self.master_pid()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.postfix("stop", timeout=20)
        if master is not None:
            _wait_gone(master, time.monotonic() + 5)
            _kill_session(master)
        shutil.rmtree(self.base, ignore_errors=True)


def _alive(pid: int) -> bool:
    """Tell whether a process with this id exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_gone(pid: int, deadline: float) -> None:
    """Wait until the process has exited or the deadline has passed."""
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _kill_session(session_id: int) -> None:
    """SIGKILL every process of the session the Postfix master leads (its daemons)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session_id:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGKILL)


def start_postfix(routes: Mapping[str, int], deadline: float) -> PostfixInstance:
    """Write a private instance's configuration to a new temp dir, start it and wait (until the
    deadline, a time.monotonic() value) for its smtpd; routes maps addresses, domains or '*'
    to the loopback ports mail goes to."""
    base = Path(tempfile.mkdtemp(prefix="bouncer-postfix-"))
    base.chmod(0o755)  # the postfix user must reach the queue below it
    instance = PostfixInstance(base, free_port())
    for directory in (instance.config_dir, base / "queue", base / "data"):
        directory.mkdir(mode=0o755)
    mail_owner = pwd.getpwnam(MAIL_OWNER)
    os.chown(base / "data", mail_owner.pw_uid, mail_owner.pw_gid)
    (instance.config_dir / "main.cf").write_text(main_cf(base, routes))
    (instance.config_dir / "master.cf").write_text(master_cf(instance.smtpd_port))
    try:
        started = instance.postfix("start", timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        instance.stop()
        raise
    if started.returncode != 0:  # `start` also creates the queue's subdirectories
        report = f"postfix start failed: {started.stdout}{started.stderr}{instance.log_text()}"
        instance.stop()
        raise RuntimeError(report)
    try:
        wait_listening(instance.smtpd_port, deadline)
    except RuntimeError:
        instance.stop()
        raise
    return instance
