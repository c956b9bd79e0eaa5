"""The `bouncer` executable: the click command line, with a lean path for `classify`.

`bouncer classify [--json] FILE...` is run by scripts over many files and timed as a whole
process, start-up included; with plain arguments (files and --json) it runs without importing
the command-line framework. Anything else (options, --help, mistakes) goes through click, which
prints the same results and the usual help and errors.
"""

from __future__ import annotations

import os
import sys


def run() -> None:
    """Run the command named on the command line; a reader that stops early (`| head`) ends
    it quietly, as it does any Unix tool."""
    try:
        _dispatch()
    except BrokenPipeError:
        # Python's advice (docs "Note on SIGPIPE"): point stdout at devnull so the flush at
        # exit does not raise again, and exit as a tool killed by SIGPIPE would (128 + 13).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(141)


def _dispatch() -> None:
    """Run `classify`'s lean path or the click command line."""
    args = sys.argv[1:]
    if args[:1] == ["classify"] and _plain(args[1:]):
        from bouncer.cli.batch import run_classify

        files = [arg for arg in args[1:] if arg != "--json"]
        sys.exit(run_classify(files, "--json" in args[1:]))
    from bouncer.cli.main import main

    main()


def _plain(args: list[str]) -> bool:
    """Tell whether classify's arguments are only files and --json (at least one file)."""
    files = [arg for arg in args if arg != "--json"]
    return bool(files) and not any(arg.startswith("-") for arg in files)
