"""A build as the pages show it: its parts table (each line with what the build file says of
it: power limit, PSU, slots, riser, circuit, condition, ``with:`` overrides) and its power
budget per PSU and per wall circuit — what ``dlrig check`` and ``dlrig power`` print, for the
check page, the editor and saved builds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dlrig.build import Build, BuildItem

__all__ = ["part_rows", "power_tables"]


def part_rows(build: Build) -> list[dict[str, Any]]:
    """One row per build-file line (and one per line's riser cables), in category order:
    category, name, link (a catalog id, or None for a custom part), count, price, priced, notes."""
    from dlrig.exports import line_notes
    from dlrig.parts import Category

    rows: list[dict[str, Any]] = []
    for cat in Category:
        for it in build.items[cat]:
            rows.append(
                {
                    "category": cat.value,
                    "name": it.part.name,
                    "link": _link(it),
                    "count": it.count,
                    "unit_price_usd": it.unit_price_usd,
                    "priced": _priced(it),
                    "notes": line_notes(it),
                }
            )
            r = it.riser
            if r is not None:  # one cable per card, counted in the total when priced
                rows.append(
                    {
                        "category": "riser",
                        "name": r.name,
                        "link": None,
                        "count": it.count,
                        "unit_price_usd": r.price_usd,
                        "priced": "" if r.price_date is None else r.price_date.isoformat(),
                        "notes": [f"for {it.part.name}"],
                    }
                )
    return rows


def _link(it: BuildItem) -> str | None:
    """The catalog part a line's link opens: its own, or the one a ``with:`` line starts from."""
    if it.base is not None:
        return it.base.id
    return None if it.part.custom else it.part.id


def _priced(it: BuildItem) -> str:
    """When and how a line is priced: "your price", "used 2026-05-16", "2025-07-23" (the CLI's
    ``priced`` column)."""
    from dlrig.catalog.offers import is_launch_price, is_used_price

    cond = it.condition
    if it.price_usd is not None:
        return f"your {cond} price" if cond else "your price"
    part = it.part
    if part.price_date is None:
        return f"{cond}, no price (give price_usd)" if cond else ""
    kind = "used " if is_used_price(part) else "launch " if is_launch_price(part) else ""
    return f"{kind}{part.price_date.isoformat()}"


def power_tables(build: Build) -> dict[str, Any] | None:
    """The build's power budget (``dlrig power --json``) with its per-PSU and per-circuit
    rows; None without a PSU (nothing to judge the load against)."""
    from dlrig.app.power import budget

    if build.psu is None:
        return None
    return budget(build).to_dict()
