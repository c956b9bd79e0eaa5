"""systemd/bouncer.service: the settings the daemon depends on, its sandbox, and its
`systemd-analyze security` exposure score (at most 2.5; skipped without systemd-analyze)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parent.parent / "systemd" / "bouncer.service"
MAX_EXPOSURE = 2.5


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """Return {section: {key: [value, ...]}}; a key may repeat (Environment=, SystemCallFilter=).

    Enough of systemd.syntax(7) for this file: comments, sections, `Key=value`, and a trailing
    backslash continuing a line.
    """
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    pending = ""
    for raw in text.splitlines():
        line = pending + raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1].rstrip() + " "
            continue
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"setting outside a section: {line!r}"
        key, sep, value = line.partition("=")
        assert sep, f"not a Key=value line: {line!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


@pytest.fixture(scope="module")
def service() -> dict[str, list[str]]:
    return parse_unit(UNIT.read_text())["Service"]


def one(service: dict[str, list[str]], key: str) -> str:
    """The value of a setting given exactly once."""
    values = service.get(key, [])
    assert len(values) == 1, f"{key}= should be set once, found {values}"
    return values[0]


def words(service: dict[str, list[str]], key: str) -> set[str]:
    """Every space-separated item over all of a setting's lines."""
    return {item for value in service.get(key, []) for item in value.split()}


def is_true(value: str) -> bool:
    return value.lower() in {"1", "yes", "true", "on"}


def test_parser_keeps_repeated_keys_and_continuations() -> None:
    parsed = parse_unit("[S]\n# c\nA=1\nA=2\nB=x \\\n  y\n")
    assert parsed == {"S": {"A": ["1", "2"], "B": ["x y"]}}


def test_runs_as_its_own_user_with_private_files(service: dict[str, list[str]]) -> None:
    assert one(service, "User") == "bouncer"
    assert one(service, "Group") == "bouncer"
    assert "DynamicUser" not in service
    assert one(service, "UMask") == "0077"  # the database is created 0600, never world-readable
    assert one(service, "StateDirectory") == "bouncer"
    assert one(service, "WorkingDirectory") == "/var/lib/bouncer"


def test_port_25_by_one_capability_and_nothing_more(service: dict[str, list[str]]) -> None:
    assert "CAP_NET_BIND_SERVICE" in words(service, "AmbientCapabilities")
    assert words(service, "CapabilityBoundingSet") == {"CAP_NET_BIND_SERVICE"}
    assert is_true(one(service, "NoNewPrivileges"))
    # In a user namespace the capability no longer covers the host's network: port 25 fails.
    assert not is_true(service.get("PrivateUsers", ["no"])[-1])


def test_notify_watchdog_and_restart(service: dict[str, list[str]]) -> None:
    assert one(service, "Type") == "notify"
    assert one(service, "NotifyAccess") == "main"
    assert one(service, "WatchdogSec") not in {"", "0", "infinity"}
    assert one(service, "Restart") == "on-failure"  # also restarts on a watchdog timeout
    assert "78" in words(service, "RestartPreventExitStatus")  # EX_CONFIG: no restart loop
    assert "ExecStartPre" not in service
    # the main process stops its worker processes in order (bouncer.daemon.pool); only what is
    # left at the timeout is killed
    assert one(service, "KillMode") == "mixed"
    assert one(service, "KillSignal") == "SIGTERM"


def test_command_and_environment(service: dict[str, list[str]]) -> None:
    assert one(service, "ExecStart") == "/opt/bouncer/.venv/bin/bouncer serve"
    assert "BOUNCER_CONFIG=/etc/bouncer/bouncer.toml" in words(service, "Environment")


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("ProtectSystem", "strict"),
        ("ProtectHome", "true"),
        ("PrivateTmp", "true"),
        ("PrivateDevices", "true"),
        ("ProtectKernelTunables", "true"),
        ("ProtectKernelModules", "true"),
        ("ProtectKernelLogs", "true"),
        ("ProtectControlGroups", "true"),
        ("ProtectClock", "true"),
        ("ProtectHostname", "true"),
        ("ProtectProc", "invisible"),
        ("ProcSubset", "pid"),
        ("RestrictNamespaces", "true"),
        ("RestrictRealtime", "true"),
        ("RestrictSUIDSGID", "true"),
        ("LockPersonality", "true"),
        ("MemoryDenyWriteExecute", "true"),
        ("SystemCallArchitectures", "native"),
    ],
)
def test_sandbox_setting(service: dict[str, list[str]], key: str, expected: str) -> None:
    assert one(service, key) == expected


def test_network_stays_open_to_tcp_and_unix_sockets_only(service: dict[str, list[str]]) -> None:
    # Inbound SMTP and outbound webhooks need the network; sd_notify and journald need AF_UNIX.
    assert words(service, "RestrictAddressFamilies") == {"AF_INET", "AF_INET6", "AF_UNIX"}
    assert "PrivateNetwork" not in service
    assert "IPAddressDeny" not in service


def test_system_call_filter_lines_are_each_an_allow_or_a_deny_list(
    service: dict[str, list[str]],
) -> None:
    # "~" negates a whole line only when it comes first: "@system-service ~@privileged" would
    # allow a group named "~@privileged" instead of denying @privileged.
    lines = service["SystemCallFilter"]
    for line in lines:
        items = line.lstrip("~").split()
        assert not any(item.startswith("~") for item in items), line
    allowed = {i for line in lines if not line.startswith("~") for i in line.split()}
    denied = {i for line in lines if line.startswith("~") for i in line[1:].split()}
    assert allowed == {"@system-service"}
    assert {"@privileged", "@resources"} <= denied


def _offline_supported(analyze: str) -> bool:
    help_text = subprocess.run([analyze, "--help"], capture_output=True, text=True).stdout
    return "--offline" in help_text


def test_exposure_score_is_at_most_2_5() -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    if not _offline_supported(analyze):
        pytest.skip("this systemd-analyze has no --offline (systemd < 250)")
    result = subprocess.run(
        [analyze, "security", "--offline=true", "--no-pager", str(UNIT)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    match = re.search(r"Overall exposure level for bouncer\.service: ([0-9.]+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= MAX_EXPOSURE, result.stdout
