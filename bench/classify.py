"""Benchmark: messages per second of parse + classify, side by side with Sisimai (Perl).

Reads every file of the corpus into memory once, then runs `bouncer.core.analyse.analyse_bytes`
over them repeatedly for about --seconds. When Perl's Sisimai is installed it runs one Perl
process over the same files for the same time, timed inside Perl (start-up excluded) and around
the process (start-up included), and prints the ratio bouncer / Sisimai.

Then it times classification as a user sees it: the whole `bouncer classify --json FILE...`
process (start-up included), installed with `pip install .` into a fresh venv as README does
(--dev-install: this venv's instead), against a `perl -MSisimai` one-liner that runs
Sisimai->dump (its JSON output) on each of the same files, alternating, --runs times each, after
one untimed run of each, and prints messages/s (median run) for both. The last line is
`ratio bouncer/sisimai (whole command): N.NNx`.

    .venv/bin/python bench/classify.py [--seconds 5] [--runs 3] [--corpus DIR] [--dev-install]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
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


# What a user runs: Sisimai->dump(path), Sisimai's documented call for JSON output, on each
# file named on the command line (one JSON array per file: reason, recipient, status ...).
PERL_COMMAND = (
    "for my $f (@ARGV) { my $v = eval { Sisimai->dump($f, delivered => 1, vacation => 1) }; "
    'print $v // "[]", "\\n" }'
)
REPO = Path(__file__).resolve().parent.parent
RATIO_LABEL = "ratio bouncer/sisimai (whole command)"


def load_corpus(corpus: Path) -> list[tuple[Path, bytes]]:
    """Return every regular file under the corpus directory with its bytes, sorted by path."""
    paths = sorted(path for path in corpus.rglob("*") if path.is_file())
    return [(path, path.read_bytes()) for path in paths]


def bench_bouncer(messages: list[bytes], seconds: float) -> tuple[int, int, float]:
    """Run parse + classify over the messages in rounds; return (messages, recipients, secs)."""
    from bouncer.core.analyse import analyse_bytes

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


def bouncer_command(installed: Path | None = None) -> list[str]:
    """Return the argv prefix of `bouncer classify --json`: the given install's executable,
    else this interpreter's venv (a development install may start slower)."""
    if installed is not None:
        return [str(installed), "classify", "--json"]
    beside = Path(sys.executable).parent / "bouncer"
    found = str(beside) if beside.is_file() else shutil.which("bouncer")
    if found is None:
        return [sys.executable, "-c", "from bouncer.entry import run; run()", "classify", "--json"]
    return [found, "classify", "--json"]


def user_install(workdir: Path) -> Path | None:
    """Install bouncer as README tells a user (`pip install .` in a fresh venv) under workdir;
    return its `bouncer` executable, or None when that fails (no network, no pip)."""
    venv = workdir / "venv"
    steps = (
        [sys.executable, "-m", "venv", str(venv)],
        [str(venv / "bin" / "pip"), "install", "-q", str(REPO)],
    )
    for step in steps:
        if subprocess.run(step, capture_output=True, timeout=600).returncode != 0:
            return None
    return venv / "bin" / "bouncer"


def arg_batches(prefix: list[str], names: list[str]) -> list[list[str]]:
    """Split names into full command lines that each fit well inside the kernel's ARG_MAX."""
    environ = sum(len(key) + len(value) + 2 for key, value in os.environ.items())
    budget = min(os.sysconf("SC_ARG_MAX") // 2, 1 << 20) - environ - 4096
    batches: list[list[str]] = []
    current, size = list(prefix), sum(len(arg) + 1 for arg in prefix)
    for name in names:
        if size + len(name) + 1 > budget and len(current) > len(prefix):
            batches.append(current)
            current, size = list(prefix), sum(len(arg) + 1 for arg in prefix)
        current.append(name)
        size += len(name) + 1
    batches.append(current)
    return batches


def time_command(batches: list[list[str]]) -> tuple[float, int]:
    """Run every command line in turn; return (wall seconds, stdout lines) over all of them."""
    lines = 0
    started = time.perf_counter()
    for argv in batches:
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)
        lines += done.stdout.count(b"\n")
    return time.perf_counter() - started, lines


def bench_commands(commands: dict[str, list[list[str]]], runs: int) -> dict[str, list[float]]:
    """Time each command's batches `runs` times, alternating between commands; seconds per run."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, batches in commands.items():
            seconds, _lines = time_command(batches)
            times[name].append(seconds)
    return times


def report_in_process(corpus: list[tuple[Path, bytes]], seconds: float, sisimai: bool) -> None:
    """Run the in-process benchmark (and Sisimai's, when installed) and print its figures."""
    count, recipients, elapsed = bench_bouncer([raw for _, raw in corpus], seconds)
    ours = rate(count, elapsed)
    print(
        f"bouncer (in-process): {ours:,.0f} messages/s ({count} messages, {recipients} "
        f"recipients, {elapsed:.2f} s, {1e6 / ours:.0f} us/message)"
    )
    if not sisimai:
        print("sisimai (in-process): not installed (apt-get install libsisimai-perl); skipped")
        return
    report, wall = bench_sisimai([path for path, _ in corpus], seconds)
    inside = rate(report["messages"], report["seconds"])
    around = rate(report["messages"], wall)
    print(
        f"sisimai (in-process): {inside:,.0f} messages/s timed inside Perl, {around:,.0f} with "
        f"start-up ({report['messages']} messages, {report['recipients']} recipients)"
    )
    print(
        f"ratio bouncer/sisimai (in-process): {ours / inside:.2f}x inside Perl, "
        f"{ours / around:.2f}x around"
    )


def report_whole_command(
    paths: list[Path], runs: int, sisimai: bool, installed: Path | None
) -> None:
    """Time the whole commands, alternating, and print messages/s; the ratio line comes last."""
    names = [str(path) for path in paths]
    print(f"bouncer command: {installed or 'this venv (development install)'}")
    commands = {"bouncer": arg_batches(bouncer_command(installed), names)}
    if sisimai:
        commands["sisimai"] = arg_batches(["perl", "-MSisimai", "-e", PERL_COMMAND], names)
    outputs = {name: time_command(batches)[1] for name, batches in commands.items()}  # warm-up
    times = bench_commands(commands, runs)
    rates = {name: len(names) / statistics.median(secs) for name, secs in times.items()}
    for name, secs in times.items():
        runs_ms = ", ".join(f"{1000 * s:.0f}" for s in secs)
        print(
            f"{name} (whole command): {rates[name]:,.0f} messages/s, median of {runs} runs "
            f"({len(names)} files in {len(commands[name])} invocation(s), {outputs[name]} JSON "
            f"lines; runs {runs_ms} ms)"
        )
    if not sisimai:
        print(f"{RATIO_LABEL}: skipped, Sisimai not installed (apt-get install libsisimai-perl)")
        return
    print(f"{RATIO_LABEL}: {rates['bouncer'] / rates['sisimai']:.2f}x")


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the in-process and whole-command benchmarks and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="time budget per analyser")
    parser.add_argument("--runs", type=int, default=3, help="whole-command runs per tool")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="directory of emails")
    parser.add_argument(
        "--dev-install",
        action="store_true",
        help="time this venv's bouncer instead of a fresh `pip install .` (as README installs it)",
    )
    args = parser.parse_args(argv)
    corpus = load_corpus(args.corpus) if args.corpus.is_dir() else []
    if not corpus:
        print(f"no files under {args.corpus} (no other sample set; pass --corpus)", file=sys.stderr)
        return 2
    sisimai = sisimai_installed()
    print(f"corpus: {len(corpus)} files in {args.corpus}")
    report_in_process(corpus, args.seconds, sisimai)
    with tempfile.TemporaryDirectory(prefix="bouncer-bench-") as workdir:
        installed = None if args.dev_install else user_install(Path(workdir))
        paths = [path for path, _ in corpus]
        report_whole_command(paths, max(1, args.runs), sisimai, installed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
