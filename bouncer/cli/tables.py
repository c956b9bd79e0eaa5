"""Text tables for the commands, drawn by rich: every cell whole, every column under its header.

On a terminal a table fits the window: a long address or diagnostic wraps inside its own column
(folded where it has no space to break), never cut. Piped or redirected, each row is one line as
wide as its longest cells, so grep, awk and cut see whole rows. Counts are right-aligned.

A table printed in parts (`bouncer events --follow`) keeps the column widths of its first part,
so later rows come out in the same columns under the header printed first.
"""

from __future__ import annotations

import io
import re
import shutil
import sys
from collections.abc import Mapping, Sequence
from typing import IO

import click

GAP = 2  # spaces between columns
LAST_ROOM = 24  # what a kept layout leaves the last column at least, on a terminal
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")  # a row stays one line: breaks and tabs become spaces


class Table:
    """Columns named by row keys (headers: the names in capitals), printed as text.

    With `keep_widths` the first print fixes the widths of every column but the last (its widest
    cell, header, or `minimum`, shrunk to fit a terminal) and later prints reuse them; the last
    column takes what the line has left.
    """

    def __init__(
        self,
        columns: Sequence[str],
        minimum: Mapping[str, int] | None = None,
        *,
        keep_widths: bool = False,
    ) -> None:
        self.columns = tuple(columns)
        self.minimum = dict(minimum or {})
        self.keep_widths = keep_widths
        self.widths: list[int | None] | None = None
        self.justify: list[str] | None = None

    def print(
        self, rows: Sequence[Mapping], *, header: bool = True, out: IO[str] | None = None
    ) -> None:
        """Print the rows, with the header line unless `header` is False, to stdout or `out`."""
        stream = out or sys.stdout
        terminal = stream.isatty()
        cells = [[_text(row.get(name)) for name in self.columns] for row in rows]
        if self.justify is None or not self.keep_widths:
            self.justify = [_justify(rows, name) for name in self.columns]
        room = shutil.get_terminal_size().columns if terminal else None
        if self.keep_widths and self.widths is None:
            self.widths = [*_fit(self._widest(cells)[:-1], room, len(self.columns)), None]
        widths = self.widths or [None] * len(self.columns)
        if room is None:  # not a terminal: as wide as the widest cells
            natural = self._widest(cells)
            room = sum(w or n for w, n in zip(widths, natural, strict=True))
            room += GAP * (len(self.columns) - 1)
        text = self.render(cells, widths, room, header=header, styled=terminal)
        if terminal:
            stream.write(text)
        else:
            for line in text.splitlines():
                click.echo(line.rstrip(), file=stream)

    def _widest(self, cells: list[list[str]]) -> list[int]:
        """Return each column's widest cell, header or minimum, in terminal cells."""
        from rich.cells import cell_len

        return [
            max([cell_len(name), self.minimum.get(name, 0), *(cell_len(line[i]) for line in cells)])
            for i, name in enumerate(self.columns)
        ]

    def render(
        self,
        cells: list[list[str]],
        widths: Sequence[int | None],
        room: int,
        *,
        header: bool = True,
        styled: bool = False,
    ) -> str:
        """Lay the cells out with rich in `room` columns; `styled`: a bold header line.

        A column whose width is None gets what rich gives it (its widest cell when there is
        room; else a share, the text wrapped or folded inside it).
        """
        from rich.table import Column
        from rich.table import Table as RichTable
        from rich.text import Text

        justify = self.justify or ["left"] * len(self.columns)
        layout = RichTable(
            *(
                Column(Text(name.upper()), width=w, justify=j, overflow="fold")  # type: ignore[arg-type]
                for name, w, j in zip(self.columns, widths, justify, strict=True)
            ),
            box=None,
            padding=(0, GAP // 2),
            pad_edge=False,
            show_header=header,
            header_style="bold" if styled else "",
        )
        for line in cells:
            layout.add_row(*(Text(cell) for cell in line))
        buffer = io.StringIO()
        _console(buffer, room, styled).print(layout)
        return buffer.getvalue()


def _console(buffer: IO[str], room: int, styled: bool):  # noqa: ANN202 - a rich Console
    """Return a rich console writing plain text (or, `styled`, a terminal's) into `buffer`."""
    from rich.console import Console

    return Console(
        file=buffer,
        width=room,
        force_terminal=styled,
        color_system="standard" if styled else None,
        highlight=False,
        markup=False,
        emoji=False,
    )


def _fit(widths: list[int], room: int | None, count: int) -> list[int]:
    """Shrink the widest of the fixed columns until they leave the last one LAST_ROOM cells."""
    if room is None:
        return widths
    fitted = list(widths)
    spare = room - GAP * (count - 1) - LAST_ROOM
    while fitted and sum(fitted) > spare and max(fitted) > 8:
        fitted[fitted.index(max(fitted))] -= 1
    return fitted


def _text(value: object) -> str:
    """Write a cell on one line: empty for None."""
    return "" if value is None else _CONTROL.sub(" ", str(value))


def _justify(rows: Sequence[Mapping], name: str) -> str:
    """Right-align a column whose cells are all whole numbers (at least one)."""
    values = [row.get(name) for row in rows if row.get(name) is not None]
    numbers = values and all(isinstance(v, int) and not isinstance(v, bool) for v in values)
    return "right" if numbers else "left"


def print_table(rows: Sequence[Mapping], columns: Sequence[str]) -> None:
    """Print rows as a table of the named columns (see `Table`)."""
    Table(columns).print(rows)
