"""Progress bars for long commands (reprocess, suppression import), drawn by rich on stderr.

Shown only when stderr is a terminal: scripts, pipes and logs get no bar and no escape codes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO


@contextmanager
def progress_bar(
    total: int | Callable[[], int], label: str, stream: IO[str] | None = None
) -> Iterator[Callable[[int], None] | None]:
    """Yield `advance(n)` moving a bar of `total` steps on a terminal, else None.

    `total` may be a function, called only when a bar is shown (counting may cost a query).
    """
    out = stream or sys.stderr
    if not out.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    steps = total() if callable(total) else total
    columns = (
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(file=out)) as bar:
        task = bar.add_task(label, total=steps)
        yield lambda n: bar.advance(task, n)
