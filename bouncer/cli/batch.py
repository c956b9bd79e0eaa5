"""Classify many saved messages for `bouncer classify`, on every core the machine has.

The messages are independent, so a long list is cut into contiguous slices: the process
forks one worker per extra core (after the rules are loaded, so workers start warm), each
worker writes its slice's lines to a temporary file, and the parent prints its own slice
and then each worker's file in order: the output is the same, line for line, as one process
would print. Where fork is unavailable, or a worker fails, the slice is done in-process.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

MIN_PER_WORKER = 32  # fewer files than this per core: forking costs more than it saves


def run_classify(paths: Sequence[str], as_json: bool) -> int:
    """Classify the files (directories walked) to stdout; return the exit status (2: missing)."""
    import bouncer.core.analyse  # noqa: F401 - load the rules once, before any worker is forked

    sys.stdout.flush()
    missing = classify_files(expand_paths(paths), as_json, sys.stdout, stderr_line)
    return 2 if missing else 0


def expand_paths(paths: Sequence[str]) -> list[str]:
    """Return the given files, with every directory replaced by the files beneath it, sorted."""
    files: list[str] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            files.extend(str(p) for p in sorted(path.rglob("*")) if p.is_file())
        else:
            files.append(name)
    return files


def classify_files(
    names: Sequence[str], as_json: bool, out: IO[str], err: Callable[[str], None]
) -> int:
    """Write one line (or text block) per file to `out`; return how many files were missing.

    `err` receives one message per file that could not be read.
    """
    slices = _slices(list(names), _workers(len(names)))
    children = [_fork(part, as_json) for part in slices[1:]]
    missing = _classify_slice(slices[0], as_json, out, err) if slices else 0
    for part, child in zip(slices[1:], children, strict=True):
        missing += _collect(child, part, as_json, out, err)
    return missing


def _workers(count: int) -> int:
    """Return how many processes to use for `count` files (1 where fork is unavailable)."""
    if not hasattr(os, "fork") or count < 2 * MIN_PER_WORKER:
        return 1
    return max(1, min(os.cpu_count() or 1, count // MIN_PER_WORKER))


def _slices(names: list[str], parts: int) -> list[list[str]]:
    """Cut the list into `parts` contiguous slices of nearly equal length."""
    size, extra = divmod(len(names), parts)
    bounds = [0]
    for index in range(parts):
        bounds.append(bounds[-1] + size + (1 if index < extra else 0))
    return [names[bounds[i] : bounds[i + 1]] for i in range(parts) if bounds[i] < bounds[i + 1]]


def _fork(part: list[str], as_json: bool) -> tuple[int, IO[bytes]] | None:
    """Start a worker for one slice; return (pid, its output file), or None if fork failed."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - handed to _collect, which closes it
    try:
        pid = os.fork()
    except OSError:
        spool.close()
        return None
    if pid == 0:  # the worker: classify, write, leave without running the parent's exit code
        code = 0
        try:
            with open(spool.fileno(), "w", encoding="utf-8", closefd=False) as text:
                failures = _classify_slice(part, as_json, text, lambda line: None)
                text.write(f"\0{failures}\n")
        except BaseException:  # noqa: BLE001 - the parent redoes the slice
            code = 1
        os._exit(code)
    return pid, spool


def _collect(
    child: tuple[int, IO[bytes]] | None,
    part: list[str],
    as_json: bool,
    out: IO[str],
    err: Callable[[str], None],
) -> int:
    """Print a worker's lines (or redo its slice if it failed); return its missing count."""
    if child is not None:
        pid, spool = child
        _, status = os.waitpid(pid, 0)
        spool.seek(0)
        body = spool.read().decode("utf-8")
        spool.close()
        lines, marker, tail = body.rpartition("\0")
        if status == 0 and marker:
            out.write(lines)
            _report_missing(part, err)
            return int(tail)
    return _classify_slice(part, as_json, out, err)


def _report_missing(part: list[str], err: Callable[[str], None]) -> None:
    """Tell, from the parent, which files of a worker's slice could not be read."""
    for name in part:
        if not os.path.exists(name):
            err(f"bouncer: {name}: no such file")


def _classify_slice(
    part: list[str], as_json: bool, out: IO[str], err: Callable[[str], None]
) -> int:
    """Classify files in order, writing each result; return how many were missing."""
    from bouncer.core.analyse import analyse_bytes

    missing = 0
    for name in part:
        try:
            raw = Path(name).read_bytes()
        except FileNotFoundError:
            err(f"bouncer: {name}: no such file")
            missing += 1
            continue
        except OSError as exc:
            err(f"bouncer: {name}: {exc.strerror}")
            raw = b""
        result = analyse_bytes(raw)
        if as_json:
            out.write(json.dumps({"file": name, **result.as_dict()}, ensure_ascii=False) + "\n")
        else:
            out.write(result.as_text(name) + "\n")
    out.flush()
    return missing


def stderr_line(message: str) -> None:
    """Write one message line to stderr."""
    sys.stderr.write(message + "\n")
