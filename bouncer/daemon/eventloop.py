"""The event loop the daemon runs on: uvloop when it is installed (the `fast` extra), else
asyncio's own (also when $BOUNCER_EVENT_LOOP is "asyncio")."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_name() -> str:
    """Return "uvloop" when uvloop can be imported (and is not declined), else "asyncio"."""
    if os.environ.get("BOUNCER_EVENT_LOOP") == "asyncio":
        return "asyncio"
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a new loop (uvloop when installed) and close it."""
    if loop_name() == "asyncio":
        return asyncio.run(main)
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)
