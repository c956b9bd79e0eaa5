"""Suppression import and export benchmark: `bouncer suppression import` of 100,000 rows.

    .venv/bin/python bench/cli_import.py [--rows 100000] [--format csv|json]

Each figure is one run of the real `bouncer` command in its own process (start-up included),
on a fresh SQLite file in a temporary directory:
* import new: the file's rows into an empty database (every row added: entry, change record
  and suppression.added event, one transaction);
* import again: the same file once more (every row compared and skipped);
* import changed: the file with every reason changed (every row updated and recorded);
* export: the whole list back out to a file.
Rows are made up: addresses at 500 domains, a reason, a class, a note on every tenth row, an
expiry on every fifth. Prints seconds and rows per second for each.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REASONS = ("userunknown", "hostunknown", "mailboxfull", "blocked", "asked")


def make_file(path: Path, rows: int, fmt: str, reason_prefix: str = "") -> None:
    """Write `rows` made-up entries as CSV (with a header) or JSON Lines."""
    with path.open("w", encoding="utf-8") as out:
        if fmt == "csv":
            out.write("address,reason,class,note,expires_at\n")
        for i in range(rows):
            row = {
                "address": f"user{i}@domain{i % 500}.example",
                "reason": reason_prefix + REASONS[i % len(REASONS)],
                "class": "soft" if i % 7 == 0 else "hard",
                "note": f"ticket {i}" if i % 10 == 0 else None,
                "expires_at": "2999-01-01T00:00:00Z" if i % 5 == 0 else None,
            }
            if fmt == "csv":
                out.write(",".join("" if v is None else str(v) for v in row.values()) + "\n")
            else:
                out.write(json.dumps(row) + "\n")


def bouncer(*args: str) -> tuple[float, str]:
    """Run the bouncer command; return its wall time in seconds and its stdout."""
    command = [sys.executable, "-m", "bouncer", *args]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(args[:2])} failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed, done.stdout.strip()


def main() -> None:
    """Build the files, run the four commands, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", dest="fmt", choices=("csv", "json"), default="csv")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        db, first, changed = base / "bench.db", base / "list.txt", base / "changed.txt"
        make_file(first, options.rows, options.fmt)
        make_file(changed, options.rows, options.fmt, reason_prefix="re-")
        size = first.stat().st_size / 1e6
        print(f"{options.rows:,} rows, {options.fmt}, {size:.1f} MB")
        runs = (
            ("import new", ("suppression", "import", str(first), "--db", str(db))),
            ("import again", ("suppression", "import", str(first), "--db", str(db))),
            ("import changed", ("suppression", "import", str(changed), "--db", str(db))),
            ("export", ("suppression", "export", "-o", str(base / "out.csv"), "--db", str(db))),
        )
        for label, args in runs:
            seconds, said = bouncer(*args)
            rate = options.rows / seconds
            print(f"{label:<15} {seconds:6.2f} s  {rate:9,.0f} rows/s  {said}")


if __name__ == "__main__":
    main()
