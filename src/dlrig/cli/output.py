"""Shared CLI output: JSON to stdout, messages and errors to stderr, Rich tables."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast

from rich.console import Console
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from dlrig.parts import Part

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


# Above this many rows a listing is printed as plain aligned text: a Rich table of thousands of
# imported parts (or the ~1,400 chips of an imported catalog) takes seconds to lay out.
PLAIN_LISTING_ROWS = 200


def plain_table(title: str, headers: list[str], rows: list[list[Any]]) -> None:
    """A fast fixed-width table (no wrapping) for long listings; None shows as an em dash."""
    text = [[("—" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in text)]) for i, h in enumerate(headers)]
    widths[1] = min(widths[1], 70)
    out = [title, "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    out.append("  ".join("-" * w for w in widths))
    for r in text:
        r[1] = r[1] if len(r[1]) <= widths[1] else r[1][: widths[1] - 1] + "…"
        out.append("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
    sys.stdout.write("\n".join(out) + "\n")


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


def price_note(part: Any) -> str:
    """When and how a part was priced, for a parts table: ``2025-07-23``, ``used 2026-05-16``,
    ``launch 2019-11-25``; empty when unpriced."""
    from dlrig.catalog.offers import is_launch_price, is_used_price

    if part.price_date is None:
        return ""
    kind = "used " if is_used_price(part) else "launch " if is_launch_price(part) else ""
    return f"{kind}{part.price_date.isoformat()}"


def line_price_note(item: Any) -> str:
    """The ``priced`` cell of a build-file line: the line's own ``price_usd`` ("your price",
    "your used price"), else :func:`price_note` of its part; a used line with neither says so.
    A renamed catalog part (``with: {name: ...}``) is another product with no offer of its own,
    so its ``condition: used`` is priced by the line's price_usd and shown here, never lost."""
    cond = item.condition
    if item.price_usd is not None:
        return f"your {cond} price" if cond else "your price"
    note = price_note(item.part)
    if note or not cond:
        return note
    return f"{cond}, no price (give price_usd)"


def print_price_summary(parts: Iterable[Part] | dict[str, Any] | None) -> None:
    """One line under a build: the date range of its prices, stale and launch-priced parts
    (from the parts, or from a summary's JSON form)."""
    from dlrig.catalog.offers import price_summary, summary_line

    if isinstance(parts, dict) or parts is None:
        line = summary_line(parts)
    else:
        line = price_summary(cast("Iterable[Part]", parts)).line()
    if line:
        style = "yellow" if ("older than" in line or "launch" in line) else "dim"
        stdout.print(Text(line, style=style))
