"""API benchmark: the HTTP API of a real `bouncer serve` against a database holding 1,000,000
bounce records and 1,000,000 suppressions (issue "HTTP API", Benchmark).

    .venv/bin/python bench/api.py [--size 1000000] [--keep-dir DIR] [--singles 5000]
        [--rounds 15]

The database is built by bench/api_data.py (bulk SQL, the rows the product writes), kept under
--keep-dir as bouncer-api-v<VERSION>-s<schema>-<size>.db and reused; each run copies it to a
temporary directory and starts `python -m bouncer serve` on it (its own process, SMTP and the
API on free loopback ports, one read token). The clients run in this process over keep-alive
connections (the machine's two cores are shared by client and daemon). Figures (after one
warm-up pass of each request):
* batch check: POST /v1/suppressions/check with 10,000 addresses (half suppressed, picked over
  the whole table; half unknown), median and slowest of --rounds;
* single checks/s: GET /v1/suppressions/{address} (alternately suppressed and unknown), one
  keep-alive connection one request at a time, and 4 at once (stdlib http.client, a thread
  each);
* bounce page: GET /v1/bounces?limit=100 with each filter in FILTERS (and the page after the
  first by its cursor), median of --rounds; the last two filters match no row, the worst
  case of a keyset page (the index walked to its end).
Targets (printed, not asserted): a 10,000-address check < 200 ms, single checks >= 2,000/s, a
filtered page < 50 ms. `ratio` is target/measured for times and measured/target for rates:
1.00 or more meets the target.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import api_data  # noqa: E402
from bouncer.store.schema import MIGRATIONS  # noqa: E402

SECRET = "bench-read-secret-0123456789"
HEADERS = {"Authorization": f"Bearer {SECRET}"}
SINCE = (datetime.now(UTC) - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
FILTERS = (
    "class=hard&reason=userunknown",
    "recipient=@mail.example",
    "recipient=@d4242.example",
    f"kind=delay&since={SINCE}",
    "class=soft",
    "sender=bounces@bounces.example&reason=mailboxfull",
    "message_id=<n777777@shop.example>",
    # worst cases: a filter no row meets walks its whole index (1M entries, no row read)
    "kind=complaint&class=hard",
    "reason=hostunknown&kind=delay",
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database(keep_dir: Path | None, work: Path, size: int) -> Path:
    """Return the built database for `size` (from --keep-dir when there), copied into work."""
    name = f"bouncer-api-v{api_data.VERSION}-s{len(MIGRATIONS)}-{size}.db"
    kept = (keep_dir or work) / name
    if not kept.exists():
        kept.parent.mkdir(parents=True, exist_ok=True)
        partial = kept.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        api_data.build(partial, size)
        partial.rename(kept)
    if keep_dir is None:
        return kept
    copy = work / name
    shutil.copyfile(kept, copy)
    return copy


def start(db: Path, port: int) -> subprocess.Popen:
    """Start `bouncer serve` on the database; return once /readyz answers 200."""
    env = {k: v for k, v in os.environ.items() if k not in ("BOUNCER_CONFIG", "BOUNCER_DB")}
    command = [sys.executable, "-m", "bouncer", "serve", "--listen", "127.0.0.1:0"]
    command += ["--http", f"127.0.0.1:{port}", "--db", str(db)]
    command += ["--token", f"bench:read:{SECRET}"]
    daemon = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return daemon
        except OSError:
            time.sleep(0.1)
    daemon.kill()
    raise SystemExit("the daemon did not start")


async def timed(session: aiohttp.ClientSession, method: str, url: str, **options) -> float:  # noqa: ANN003
    """Return the seconds one request takes (its body read); fail on a status but 200/404."""
    started = time.perf_counter()
    async with session.request(method, url, headers=HEADERS, **options) as response:
        await response.read()
        if response.status not in (200, 404):
            raise SystemExit(f"{method} {url}: {response.status} {await response.text()}")
    return time.perf_counter() - started


async def batch(session: aiohttp.ClientSession, base: str, addresses: list[str], rounds: int):  # noqa: ANN201
    """Time the 10,000-address check: (median, slowest) seconds."""
    url = f"{base}/v1/suppressions/check"
    await timed(session, "POST", url, json={"addresses": addresses})
    times = [
        await timed(session, "POST", url, json={"addresses": addresses}) for _ in range(rounds)
    ]
    return statistics.median(times), max(times)


def singles(port: int, addresses: list[str], connections: int) -> float:
    """Return single checks a second over `connections` keep-alive connections (stdlib
    http.client, one thread each: a lighter client than aiohttp's, which would be measured
    more than the server)."""
    work = [addresses[n::connections] for n in range(connections)]

    def client(share: list[str]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for address in share:
            conn.request("GET", f"/v1/suppressions/{address}", headers=HEADERS)
            response = conn.getresponse()
            response.read()
            if response.status not in (200, 404):
                raise SystemExit(f"GET /v1/suppressions/{address}: {response.status}")
        conn.close()

    client(addresses[:connections])  # warm-up
    threads = [threading.Thread(target=client, args=(share,)) for share in work]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(addresses) / (time.perf_counter() - started)


async def pages(session: aiohttp.ClientSession, base: str, rounds: int) -> list[tuple[str, float]]:
    """Time a filtered page of /v1/bounces for each filter, and the page after the first."""
    found = []
    for query in FILTERS:
        url = f"{base}/v1/bounces?limit=100&{query}"
        async with session.get(url, headers=HEADERS) as response:
            cursor = (await response.json())["next_cursor"]
        times = [await timed(session, "GET", url) for _ in range(rounds)]
        found.append((query, statistics.median(times)))
        if cursor:
            url = f"{url}&cursor={cursor}"
            times = [await timed(session, "GET", url) for _ in range(rounds)]
            found.append((f"{query} (page 2)", statistics.median(times)))
    return found


async def measure(port: int, db: Path, singles_count: int, rounds: int) -> list[tuple]:
    """Run every measurement; return table rows (figure, measured, unit, target, ratio)."""
    suppressed = api_data.suppressed_sample(db, 5_000, seed=1)
    unknown = [f"nobody{n}@{api_data.BIG[n % 5]}" for n in range(5_000)]
    mixed = [a for pair in zip(suppressed, unknown, strict=True) for a in pair]
    rows = []
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:
        median, slowest = await batch(session, base, mixed, rounds)
        rows.append(
            ("check 10,000 addresses, median", median * 1000, "ms", 200, 200 / (median * 1000))
        )
        rows.append(
            ("check 10,000 addresses, slowest", slowest * 1000, "ms", 200, 200 / (slowest * 1000))
        )
        for query, seconds in await pages(session, base, rounds):
            rows.append((f"/v1/bounces?{query}", seconds * 1000, "ms", 50, 50 / (seconds * 1000)))
    singles_list = (mixed * (singles_count // len(mixed) + 1))[:singles_count]
    for connections in (1, 4):
        rate = singles(port, singles_list, connections)
        rows.append((f"single checks, {connections} connection(s)", rate, "/s", 2000, rate / 2000))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--keep-dir", type=Path, default=None)
    parser.add_argument("--singles", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = database(args.keep_dir, Path(folder), args.size)
        port = _free_port()
        daemon = start(db, port)
        try:
            rows = asyncio.run(measure(port, db, args.singles, args.rounds))
        finally:
            daemon.terminate()
            daemon.wait(30)
    print(f"\n{args.size:,} bounce records, {args.size:,} suppressions\n")
    width = max(len(row[0]) for row in rows)
    print(f"| {'figure':<{width}} | {'measured':>12} | {'target':>11} | {'ratio':>6} |")
    print(f"|{'-' * (width + 2)}|{'-' * 13}:|{'-' * 12}:|{'-' * 7}:|")
    for figure, value, unit, target, ratio in rows:
        bound = f"< {target} {unit}" if unit == "ms" else f">= {target:,} {unit}"
        print(f"| {figure:<{width}} | {value:>9,.1f} {unit:<2} | {bound:>11} | {ratio:>6.2f} |")


if __name__ == "__main__":
    main()
