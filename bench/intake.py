"""Intake benchmark: messages/s that `bouncer serve` acknowledges over SMTP, side by side with a
do-nothing aiosmtpd server and (where Postfix's tools are installed) Postfix's smtp-sink.

One run, one server after the other on loopback, every server a process of its own:

* (a) `aiosmtpd`: a do-nothing aiosmtpd server (bench/intake_servers.py);
* (b) `bouncer`: `bouncer serve` as a user runs it (default configuration: fsync on, every
  CPU, processing running), a new database per load;
* (c) `smtp-sink`, the C reference, loaded with the Python client and with `smtp-source`.

Loads: 20 sessions and 1 session; a 4 KB DSN (returned headers) and a 40 KB DSN (the full
returned message); connections reused, or one per message. The Python client
(bench/smtp_load.py) runs as its own process; every DSN names a recipient of its own. For each
load and server: messages/s (median of --repeat runs), bouncer's ratio to (a) and to (c) under
the same client, the time from the end of DATA to the reply (p50/p99 over all runs), the
server's CPU per message (all its processes; bouncer's counted until its backlog is
processed), the peak resident memory of its processes (summed), and bouncer's backlog drain
rate once the load stops (messages processed per second; "kept up" when fewer than 100 were
waiting). After each bouncer run every message that got a 250 must be stored and processed
exactly once (lost/doubled). The last line is `ratio bouncer/aiosmtpd: N.NN` for 20 sessions,
4 KB, reused connections.

    .venv/bin/python bench/intake.py [--repeat 3] [--scale 1.0] [--quick]
    .venv/bin/python bench/intake.py --database postgresql://USER@HOST/DB|auto [--repeat 3]

With --database it compares stores instead: see bench/intake_nodes.py.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import intake_servers as servers  # noqa: E402
import smtp_load  # noqa: E402

DRAIN_MIN = 100  # a backlog below this at the end of a load: processing kept up


@dataclass(frozen=True)
class Load:
    """One load shape: sessions, message size (bytes), reused connections, messages a run."""

    sessions: int
    size: int
    reuse: bool
    messages: int

    @property
    def label(self) -> str:
        """Say the load in a few words."""
        kind = "reused" if self.reuse else "new conn."
        return f"{self.sessions} sess., {self.size // 1024} KB, {kind}"


LOADS = (
    Load(20, 4096, True, 4000),
    Load(20, 4096, False, 2000),
    Load(20, 40960, True, 1200),
    Load(20, 40960, False, 1000),
    Load(1, 4096, True, 400),
    Load(1, 4096, False, 300),
    Load(1, 40960, True, 300),
    Load(1, 40960, False, 200),
)


def python_load(server: servers.Server, load: Load, messages: int, tag: str) -> dict:
    """Run the Python client against a server; return its figures with the server's CPU."""
    command = [sys.executable, str(Path(smtp_load.__file__)), str(server.port)]
    command += ["--sessions", str(load.sessions), "--messages", str(messages)]
    command += ["--size", str(load.size), "--tag", tag]
    command += [] if load.reuse else ["--new-connections"]
    cpu = server.cpu_seconds()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout)
    result["cpu"] = server.cpu_seconds() - cpu
    return result


def c_load(server: servers.Server, load: Load, messages: int, file: Path) -> dict:
    """Run Postfix's smtp-source against a server; return messages/s and the server's CPU."""
    source = servers.postfix_tool("smtp-source")
    command = [source, "-s", str(load.sessions), "-m", str(messages), "-f", ""]
    command += ["-t", "bounces@localhost", "-F", str(file)] + (["-d"] if load.reuse else [])
    cpu, started = server.cpu_seconds(), time.perf_counter()
    subprocess.run([*command, f"127.0.0.1:{server.port}"], check=True, capture_output=True)
    elapsed = time.perf_counter() - started
    return {"rate": messages / elapsed, "accepted": messages, "cpu": server.cpu_seconds() - cpu}


def bouncer_run(server: servers.Server, load: Load, messages: int, tag: str, acked: list) -> dict:
    """One bouncer run: the load, then its backlog processed, then the exactly-once check."""
    cpu = server.cpu_seconds()
    result = python_load(server, load, messages, tag)
    first, seconds = servers.drain(server)
    result["cpu"] = server.cpu_seconds() - cpu
    result["drain"] = first / seconds if first >= DRAIN_MIN else None
    result["backlog"] = first
    acked.extend(result["ids"])
    result["lost"], result["doubled"] = servers.check_once(server, acked)
    return result


def summary(name: str, runs: list[dict], rss: float) -> dict:
    """Reduce a server's runs under one load to the figures of the table."""
    latencies = sorted(x for run in runs for x in run.get("latencies_ms", []))

    def at(q: float) -> float | None:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else None

    drains = [run["drain"] for run in runs if run.get("drain")]
    return {
        "server": name,
        "rate": statistics.median(run["rate"] for run in runs),
        "p50": at(0.5),
        "p99": at(0.99),
        "cpu_us": statistics.median(run["cpu"] * 1e6 / max(1, run["accepted"]) for run in runs),
        "rss": rss,
        "drain": statistics.median(drains) if drains else None,
        "backlog": max((run.get("backlog", 0) for run in runs), default=0),
        "lost": sum(run.get("lost", 0) for run in runs) if "lost" in runs[0] else None,
        "doubled": sum(run.get("doubled", 0) for run in runs) if "lost" in runs[0] else None,
        "failures": sum(len(run.get("failures", [])) for run in runs),
        "sent": sum(run.get("sent", run["accepted"]) for run in runs),
    }


def measure(load: Load, args: argparse.Namespace, ref, sink, folder: Path) -> list[dict]:
    """Run every server under one load, --repeat times, interleaved; return the summaries."""
    messages = max(load.sessions, int(load.messages * args.scale))
    source_file = folder / f"dsn-{load.size}.eml"
    source_file.write_bytes(smtp_load.messages(load.size, 1, "c")[0][:-3].replace(b"\r\n", b"\n"))
    bouncer = servers.start_bouncer(folder / f"bouncer-{load.sessions}-{load.size}-{load.reuse}")
    runs: dict[str, list[dict]] = {"aiosmtpd": [], "bouncer": [], "smtp-sink": [], "source": []}
    acked: list[int] = []
    try:
        for rep in range(args.repeat):
            runs["aiosmtpd"].append(python_load(ref, load, messages, f"a{rep}"))
            runs["bouncer"].append(bouncer_run(bouncer, load, messages, f"b{rep}", acked))
            if sink is not None:
                runs["smtp-sink"].append(python_load(sink, load, messages, f"c{rep}"))
                runs["source"].append(c_load(sink, load, messages, source_file))
        rss = {"aiosmtpd": ref.peak_rss_mb(), "bouncer": bouncer.peak_rss_mb()}
    finally:
        bouncer.stop()
    if sink is not None:
        rss["smtp-sink"] = rss["source"] = sink.peak_rss_mb()
    names = {"aiosmtpd": "(a) aiosmtpd", "bouncer": "(b) bouncer"}
    names |= {"smtp-sink": "(c) smtp-sink", "source": "(c) smtp-sink + smtp-source"}
    return [summary(names[key], runs[key], rss[key]) for key in names if runs[key]]


def _cell(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def table(results: dict[Load, list[dict]]) -> list[str]:
    """Return the Markdown table lines."""
    lines = [
        "| load | server | msgs/s | ×(a) | ×(c) | p50 ms | p99 ms | CPU µs/msg | RSS MB "
        "| drain msgs/s | lost / doubled |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for load, rows in results.items():
        ref = next(r["rate"] for r in rows if r["server"].startswith("(a)"))
        sink = next((r["rate"] for r in rows if r["server"] == "(c) smtp-sink"), None)
        for row in rows:
            mine = row["server"].startswith("(b)")
            drain = _cell(row["drain"]) if row["drain"] else ("kept up" if mine else "")
            checked = f"{row['lost']} / {row['doubled']}" if row["lost"] is not None else ""
            lines.append(
                f"| {load.label} | {row['server']} | {_cell(row['rate'])} "
                f"| {_cell(row['rate'] / ref, 2) if mine else ''} "
                f"| {_cell(row['rate'] / sink, 2) if mine and sink else ''} "
                f"| {_cell(row['p50'], 1)} | {_cell(row['p99'], 1)} | {_cell(row['cpu_us'])} "
                f"| {_cell(row['rss'])} | {drain} | {checked} |"
            )
    return lines


def verdicts(results: dict[Load, list[dict]]) -> list[str]:
    """Return one line per target: the figure and whether it holds."""
    main = next(iter(results.values()))
    ref = next(r for r in main if r["server"].startswith("(a)"))
    mine = next(r for r in main if r["server"].startswith("(b)"))
    twenty = [r for load, rows in results.items() if load.sessions == 20 for r in rows]
    p99 = max((r["p99"] or 0) for r in twenty if r["server"].startswith("(b)"))
    bouncer_rows = [r for rows in results.values() for r in rows if r["server"].startswith("(b)")]
    lost = sum(r["lost"] for r in bouncer_rows)
    doubled = sum(r["doubled"] for r in bouncer_rows)
    failures = sum(r["failures"] for r in bouncer_rows)
    ratio = mine["rate"] / ref["rate"]
    drain = mine["drain"]
    return [
        f"target 20 sessions 4 KB ≥ 1.00×: {ratio:.2f}× {'holds' if ratio >= 1 else 'MISSED'}",
        f"target drain ≥ 1,500 msgs/s: {_cell(drain)} "
        f"{'holds' if drain and drain >= 1500 else 'MISSED' if drain else '(kept up)'}",
        f"target p99 < 50 ms at 20 sessions: {p99:.1f} ms {'holds' if p99 < 50 else 'MISSED'}",
        f"target 0 lost, 0 doubled: {lost} lost, {doubled} doubled, {failures} refused "
        f"{'holds' if lost == doubled == 0 else 'MISSED'}",
    ]


def main() -> None:
    """Run the loads, print the table, the targets, and the ratio line last."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0, help="messages per run × this")
    parser.add_argument("--quick", action="store_true", help="only 20 sessions, 4 KB, reused")
    parser.add_argument(
        "--load", type=int, action="append", help="only LOADS[N] (1-8, repeatable), first as main"
    )
    parser.add_argument(
        "--database",
        help="postgresql://... (or auto: a throwaway cluster): PostgreSQL with 1 and 2 nodes "
        "against SQLite, instead of the loads above (bench/intake_nodes.py)",
    )
    args = parser.parse_args()
    if args.database:
        import intake_nodes

        intake_nodes.run(args.database, args.repeat, args.scale)
        return
    loads = LOADS[:1] if args.quick else LOADS
    loads = tuple(LOADS[n - 1] for n in args.load) if args.load else loads
    print(f"# {platform.node()}: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f} at start")
    print(f"# Python {platform.python_version()}, bouncer loop: {_loop_name()}")
    ref, sink = servers.start_aiosmtpd(), servers.start_smtp_sink()
    if sink is None:
        print("# smtp-sink not installed (Debian: postfix): (c) skipped")
    results: dict[Load, list[dict]] = {}
    try:
        with tempfile.TemporaryDirectory() as folder:
            for load in loads:
                results[load] = measure(load, args, ref, sink, Path(folder))
                print(f"# done: {load.label} (load {os.getloadavg()[0]:.2f})", flush=True)
    finally:
        ref.stop()
        if sink is not None:
            sink.stop()
    print("\n".join(table(results)))
    print(f"# load average at end: {os.getloadavg()[0]:.2f}")
    print("\n".join(verdicts(results)))
    main_rows = results[loads[0]]
    ratio = main_rows[1]["rate"] / main_rows[0]["rate"]
    print(f"ratio bouncer/aiosmtpd: {ratio:.2f}")


def _loop_name() -> str:
    from bouncer.daemon.eventloop import loop_name

    return loop_name()


if __name__ == "__main__":
    main()
