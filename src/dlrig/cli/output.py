"""Shared CLI output: JSON to stdout, messages and errors to stderr, Rich tables."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

# Data goes to stdout, everything a human reads while waiting goes to stderr.
stdout = Console(soft_wrap=False)
stderr = Console(stderr=True)


def print_json(result: Any) -> None:
    """A result's JSON on stdout: :func:`dlrig.app.base.to_json`, byte for byte what the web
    API answers."""
    from dlrig.app.base import to_json

    sys.stdout.write(to_json(result) + "\n")


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """A Rich table; None renders as an em dash so 'unknown' is visible.

    Cells and the title are plain text, never Rich markup: they quote part names and file
    contents ("Big [/] PSU" must print as written, not crash). Pass a ``Text`` for styling.
    """
    t = Table(title=Text(title), show_lines=False, header_style="bold")
    for col in columns:
        t.add_column(col, overflow="fold")
    for row in rows:
        t.add_row(*(_cell(v) for v in row))
    return t


def _cell(value: Any) -> Text:
    if value is None:
        return Text("—")
    if isinstance(value, Text):
        return value
    return Text(str(value))


def fmt_num(value: float | None, digits: int = 0, unit: str = "") -> str:
    """12,345 W / 1.5 TB style; None becomes an em dash."""
    if value is None:
        return "—"
    text = f"{value:,.{digits}f}"
    return f"{text} {unit}".rstrip()
