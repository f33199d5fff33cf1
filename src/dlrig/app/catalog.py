"""``dlrig catalog list|search|show|chips``, ``dlrig rules`` and ``dlrig size --list-models``:
what the catalog, the rule registry and the model presets hold.

Front doors: the ``dlrig catalog`` commands, ``GET /api/catalog``, ``/api/parts/{part}``,
``/api/chips``, ``/api/rules``, ``/api/models``, the ``/catalog`` and ``/parts/...`` pages, and
:func:`dlrig.open_catalog`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from dlrig.app.base import Cli, Command, Request

if TYPE_CHECKING:
    from dlrig.catalog import Catalog
    from dlrig.parts import GpuChip, Part

__all__ = [
    "PartDetail",
    "PartList",
    "PartsRequest",
    "ShowRequest",
    "SpecList",
    "part_dict",
    "presets",
    "rules",
    "run",
    "show",
]


# Search matches shown unless --limit says otherwise; the rest are counted, never cut silently.
SEARCH_LIMIT = 20


class PartsRequest(Request):
    """What ``dlrig catalog list`` (and ``search`` with ``q``) takes."""

    category: Annotated[str | None, Cli("--category", "-c")] = Field(
        None, description="cpu, motherboard, memory, gpu, storage, psu, cooler or case."
    )
    filter: Annotated[list[str], Cli("--filter", "-f")] = Field(
        [],
        description="FIELD OP VALUE, e.g. 'vram_gib>=24' (repeatable). "
        "Operators: = != < <= > >= ~ (contains).",
    )
    q: str | None = Field(None, description="Words to look for in names and aliases.")
    # a search's --limit (not a listing's option, like q)
    limit: int | None = Field(
        None, ge=0, description="Show at most N search matches (0: all; default 20)."
    )
    price_only: Annotated[bool, Cli("--price-only")] = Field(
        False, description="List the price-only rows of an imported store."
    )


class ShowRequest(Request):
    """What ``dlrig catalog show`` takes."""

    part: Annotated[str, Cli(argument=True, metavar="PART")] = Field(
        description="A part id or name (fuzzy matched)."
    )


def part_dict(part: Part) -> dict[str, Any]:
    """A part as plain JSON: its category, then every field (unknown ones as null)."""
    data = part.model_dump(mode="json", exclude_none=False)
    return {"category": part.category.value, **data}


@dataclass(frozen=True)
class PartList:
    """Parts of a listing or a search."""

    parts: list[Part]
    total: int | None = None  # a search's matches before the limit (never cut silently)

    def to_dict(self) -> list[dict[str, Any]]:
        """``dlrig catalog list|search --json``."""
        return [part_dict(p) for p in self.parts]


@dataclass(frozen=True)
class PartDetail:
    """One part and, for a GPU card, its chip spec (None when the catalog lacks it)."""

    part: Part
    chip: GpuChip | None

    def to_dict(self) -> dict[str, Any]:
        """``dlrig catalog show --json``: the part's fields plus ``chip_spec`` for a card."""
        data = part_dict(self.part)
        if self.chip is not None:
            data["chip_spec"] = self.chip.model_dump(mode="json")
        return data


@dataclass(frozen=True)
class SpecList:
    """GPU chip specs (``dlrig catalog chips``), or model presets (``size --list-models``)."""

    items: list[Any]

    def to_dict(self) -> list[dict[str, Any]]:
        """Each item's fields as JSON."""
        return [c.model_dump(mode="json") for c in self.items]


@dataclass(frozen=True)
class RuleList:
    """The compatibility rules (``dlrig rules``)."""

    rules: list[Any]

    def to_dict(self) -> list[dict[str, Any]]:
        """``dlrig rules --json``."""
        return [r.to_dict() for r in self.rules]


def run(req: PartsRequest, catalog: Catalog, read_files: bool = False) -> PartList:
    """The parts of a category (filtered), a search, or an imported store's price-only rows
    (``read_files``: unused, as no input is a file)."""
    from dlrig.parts import parse_category

    cat = parse_category(req.category) if req.category else None
    if req.price_only:
        return PartList(getattr(catalog, "price_only_parts", lambda c: [])(cat))
    if req.q:
        parsed = [catalog.parse_filter(f, cat) for f in req.filter]
        found = [
            p for p in catalog.search(req.q, cat, limit=None) if all(f.matches(p) for f in parsed)
        ]
        n = SEARCH_LIMIT if req.limit is None else req.limit
        return PartList(found if n == 0 else found[:n], total=len(found))
    return PartList(catalog.list(cat, list(req.filter)))


def show(req: ShowRequest, catalog: Catalog) -> PartDetail:
    """One part (id or fuzzy name) with its chip spec."""
    part = catalog.resolve(req.part)
    return PartDetail(part, catalog.chip_of(part))


def chips(catalog: Catalog) -> SpecList:
    """Every GPU chip spec of the catalog."""
    return SpecList(list(catalog.chips))


def rules() -> RuleList:
    """Every compatibility rule, in code order."""
    from dlrig.rules import iter_rules

    return RuleList(list(iter_rules()))


def presets() -> SpecList:
    """Every model preset (``dlrig size --list-models``)."""
    from dlrig.workload import model_presets

    return SpecList(list(model_presets().values()))


COMMAND = Command("catalog", PartsRequest, run, "Parts of the catalog, filtered or searched.")
