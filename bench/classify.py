"""Benchmark: messages per second of parse + classify, side by side with Sisimai (Perl).

Reads every file of the corpus into memory once, then runs `bouncer.analyse.analyse_bytes`
over them repeatedly for about --seconds. When Perl's Sisimai is installed it runs one Perl
process over the same files for the same time, timed inside Perl (start-up excluded) and around
the process (start-up included), and prints the ratio bouncer / Sisimai.

    .venv/bin/python bench/classify.py [--seconds 5] [--corpus ../shared/corpus/dev/emails]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "dev" / "emails"

# Reads NUL-separated file names on stdin, loads them, then calls Sisimai->make on each, in
# rounds, until the time budget (first argument, seconds) is spent. Prints one JSON line.
PERL_BENCH = r"""
use strict; use warnings; use Time::HiRes qw(time); use Sisimai;
my $budget = shift @ARGV; local $/ = "\0";
my @names = grep { length } map { chomp; $_ } <STDIN>;
my @mails = map { local $/; open my $fh, '<:raw', $_ or die "$_: $!"; my $d = <$fh>; $d } @names;
my ($count, $found, $started) = (0, 0, time);
while (time - $started < $budget) {
    for my $mail (@mails) {
        my $facts = eval { Sisimai->make(\$mail, 'delivered' => 1, 'vacation' => 1) };
        $found += scalar @{ $facts || [] }; $count++;
    }
}
printf qq({"messages": %d, "recipients": %d, "seconds": %.6f}\n), $count, $found, time - $started;
"""


def load_corpus(corpus: Path) -> list[tuple[Path, bytes]]:
    """Return every regular file under the corpus directory with its bytes, sorted by path."""
    paths = sorted(path for path in corpus.rglob("*") if path.is_file())
    return [(path, path.read_bytes()) for path in paths]


def bench_bouncer(messages: list[bytes], seconds: float) -> tuple[int, int, float]:
    """Run parse + classify over the messages in rounds; return (messages, recipients, secs)."""
    from bouncer.analyse import analyse_bytes

    count = recipients = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        for raw in messages:
            recipients += len(analyse_bytes(raw).verdicts)
        count += len(messages)
    return count, recipients, time.perf_counter() - started


def sisimai_installed() -> bool:
    """Return True when `perl -MSisimai` loads."""
    try:
        probe = subprocess.run(["perl", "-MSisimai", "-e", "1"], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def bench_sisimai(paths: list[Path], seconds: float) -> tuple[dict, float]:
    """Run Sisimai over the files in one Perl process; return its report and the wall time."""
    names = "\0".join(str(path) for path in paths) + "\0"
    started = time.perf_counter()
    done = subprocess.run(
        ["perl", "-e", PERL_BENCH, str(seconds)],
        input=names.encode(),
        capture_output=True,
        check=True,
    )
    wall = time.perf_counter() - started
    return json.loads(done.stdout.decode().strip().splitlines()[-1]), wall


def rate(count: int, seconds: float) -> float:
    """Return count per second (0 when no time passed)."""
    return count / seconds if seconds > 0 else 0.0


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run both benchmarks and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="time budget per analyser")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="directory of emails")
    args = parser.parse_args(argv)
    corpus = load_corpus(args.corpus)
    if not corpus:
        print(f"no files under {args.corpus}", file=sys.stderr)
        return 2
    paths = [path for path, _ in corpus]
    count, recipients, elapsed = bench_bouncer([raw for _, raw in corpus], args.seconds)
    ours = rate(count, elapsed)
    print(f"corpus: {len(corpus)} files in {args.corpus}")
    print(
        f"bouncer: {ours:,.0f} messages/s ({count} messages, {recipients} recipients, "
        f"{elapsed:.2f} s, {1e6 / ours:.0f} us/message)"
    )
    if not sisimai_installed():
        print("sisimai: not installed (apt-get install libsisimai-perl); no comparison")
        return 0
    report, wall = bench_sisimai(paths, args.seconds)
    inside = rate(report["messages"], report["seconds"])
    around = rate(report["messages"], wall)
    print(
        f"sisimai: {inside:,.0f} messages/s timed inside Perl, {around:,.0f} with start-up "
        f"({report['messages']} messages, {report['recipients']} recipients)"
    )
    print(f"ratio bouncer/sisimai: {ours / inside:.2f}x inside Perl, {ours / around:.2f}x around")
    return 0


if __name__ == "__main__":
    sys.exit(main())
