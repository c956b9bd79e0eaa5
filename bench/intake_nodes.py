"""`bench/intake.py --database URL`: bouncer's intake on a PostgreSQL store, with one node and
with two nodes on this machine, against SQLite on one node, in the same run (issue 15).

Each configuration is started afresh for every run (--repeat, median reported): a new SQLite
file, or a new database on the PostgreSQL server (created with CREATE DATABASE through the URL's
own database, so its user needs CREATEDB; dropped after the run). `--database auto` starts a
throwaway PostgreSQL cluster of its own (tests/pg.py) with fsync and synchronous commits on, as
a production server runs. The nodes are `bouncer serve` processes with the default
configuration (each with its intake and processing processes); the load (20 sessions, a 4 KB
DSN, connections reused) is split evenly between them and runs on all at once. Figures:
messages/s acknowledged (all nodes together), its ratio to SQLite on one node, p50/p99 from
the end of DATA to the reply, the processing lag (seconds from the end of the load until every
stored message is processed), and lost/doubled (every acknowledged message stored, recorded
and acted on exactly once).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import intake_servers as servers

SESSIONS, SIZE, MESSAGES = 20, 4096, 3000
CONFIGS = (("SQLite, 1 node", False, 1), ("PostgreSQL, 1 node", True, 1))
CONFIGS += (("PostgreSQL, 2 nodes", True, 2),)


def run(database: str, repeat: int, scale: float) -> None:
    """Run every configuration `repeat` times and print the table."""
    messages = int(MESSAGES * scale)
    with ExitStack() as stack:
        url = database
        if database == "auto":
            from tests import pg

            reason = pg.available()
            if reason:
                raise SystemExit(f"--database auto: {reason}")
            url = stack.enter_context(pg.running(durable=True)).url("postgres")
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        rows = []
        for name, shared, count in CONFIGS:
            runs = [
                _one_run(url if shared else None, count, messages, folder / f"{name}-{k}", k)
                for k in range(repeat)
            ]
            rows.append((name, runs))
            print(f"# done: {name}", flush=True)
    _print(rows)


def _one_run(url: str | None, count: int, messages: int, folder: Path, k: int) -> dict:
    """Start `count` nodes on a new store, load them together, wait for processing, check."""
    store = _new_database(url, f"bench_{k}_{count}_{int(time.time())}") if url else None
    nodes = [servers.start_bouncer(folder / f"node{n}", store) for n in range(count)]
    try:
        with ThreadPoolExecutor(count) as pool:
            shares = list(
                pool.map(
                    lambda n: _load(nodes[n], messages // count, f"n{n}r{k}", count), range(count)
                )
            )
        ended = time.perf_counter()
        for node in nodes:
            servers.drain(node)
        lag = time.perf_counter() - ended
        acked = [i for share in shares for i in share["ids"]]
        lost, doubled = servers.check_once(nodes[0], acked)
    finally:
        for node in nodes:
            node.stop()
        if store:
            _drop_database(url, store)
    latencies = sorted(x for share in shares for x in share["latencies_ms"])
    return {
        "rate": sum(share["accepted"] for share in shares) / max(s["seconds"] for s in shares),
        "p50": latencies[len(latencies) // 2] if latencies else None,
        "p99": latencies[int(0.99 * len(latencies))] if latencies else None,
        "lag": lag,
        "lost": lost,
        "doubled": doubled,
    }


def _load(node: servers.Server, messages: int, tag: str, count: int) -> dict:
    """Run the Python client against one node with its share of the sessions."""
    import json
    import subprocess

    command = [sys.executable, str(servers.BENCH / "smtp_load.py"), str(node.port)]
    command += ["--sessions", str(SESSIONS // count), "--messages", str(messages)]
    command += ["--size", str(SIZE), "--tag", tag]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def _new_database(url: str, name: str) -> str:
    """Create a database on the URL's server; return its URL."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _drop_database(url: str, store: str) -> None:
    """Drop a database made by _new_database."""
    import psycopg

    name = urlsplit(store).path.lstrip("/")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _print(rows: list[tuple[str, list[dict]]]) -> None:
    """Print the table (medians over the runs) and the PostgreSQL ratios last."""
    print("| store | msgs/s | × SQLite | p50 ms | p99 ms | lag after load s | lost / doubled |")
    print("|---|--:|--:|--:|--:|--:|--:|")
    base = statistics.median(run["rate"] for run in rows[0][1])
    for name, runs in rows:
        rate = statistics.median(run["rate"] for run in runs)
        p50 = statistics.median(run["p50"] for run in runs)
        p99 = statistics.median(run["p99"] for run in runs)
        lag = statistics.median(run["lag"] for run in runs)
        lost, doubled = sum(r["lost"] for r in runs), sum(r["doubled"] for r in runs)
        print(
            f"| {name} | {rate:,.0f} | {rate / base:.2f} | {p50:.1f} | {p99:.1f} | {lag:.1f} "
            f"| {lost} / {doubled} |"
        )
    for name, runs in rows[1:]:
        rate = statistics.median(run["rate"] for run in runs)
        print(f"ratio {name}/SQLite: {rate / base:.2f}")
