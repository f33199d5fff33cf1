"""``dlrig prices import|list|stale``: dated price offers (new, used) beside the catalog.

Front doors: the CLI, and ``dlrig.app.prices`` from Python. The web app does not import price
files (it never reads a path named by a request); plans made there use the same price book.
Results: :class:`PriceImportReport` (import), :class:`OfferList` (list) and :class:`StaleList`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, field_validator

from dlrig.app.base import Cli, Request
from dlrig.catalog.offers import (
    STALE_AFTER_DAYS,
    Offer,
    PriceBook,
    PriceImportReport,
    all_offers,
    apply_offers,
    is_launch_price,
    match_rows,
    parse_conditions,
    read_price_rows,
    shipped_unavailable,
)
from dlrig.errors import InputError
from dlrig.textfile import read_text

if TYPE_CHECKING:
    from dlrig.catalog import Catalog

__all__ = [
    "ImportRequest",
    "ListRequest",
    "OfferList",
    "StaleList",
    "StaleRequest",
    "import_prices",
    "list_offers",
    "stale_parts",
]

DbField = Annotated[Path | None, Cli("--db", metavar="<path>")]
_DB_HELP = (
    "Price book (SQLite) to use (default: $DLRIG_PRICES, else prices.sqlite in the user data "
    "folder)."
)


class ImportRequest(Request):
    """What ``dlrig prices import`` takes."""

    file: Annotated[Path, Cli(argument=True, metavar="FILE")] = Field(
        description="CSV or JSON: part (name or id), price (USD), currency, date, condition "
        "(new, used, refurbished), source, url."
    )
    db: DbField = Field(None, description=_DB_HELP)
    dry_run: Annotated[bool, Cli("--dry-run")] = Field(
        False, description="Match and report, but store nothing."
    )


class ListRequest(Request):
    """What ``dlrig prices list`` takes."""

    part: Annotated[str | None, Cli("--part")] = Field(
        None, description="Only this part (name or id) or GPU chip."
    )
    condition: Annotated[str, Cli("--condition")] = Field(
        "new,used,refurbished", description="Conditions to list, comma-separated."
    )
    db: DbField = Field(None, description=_DB_HELP)

    @field_validator("condition")
    @classmethod
    def _condition(cls, value: str) -> str:
        """Refused when the request is made, as plan's --condition is."""
        parse_conditions(value)
        return value


class StaleRequest(Request):
    """What ``dlrig prices stale`` takes."""

    days: Annotated[int, Cli("--days")] = Field(
        STALE_AFTER_DAYS, ge=1, le=36500, description="A price older than this is stale."
    )
    category: Annotated[str | None, Cli("--category", "-c")] = Field(
        None, description="Only this category (gpu, cpu, ...)."
    )
    db: DbField = Field(None, description=_DB_HELP)


def import_prices(req: ImportRequest, catalog: Catalog) -> PriceImportReport:
    """Read the file, match every row with the catalog's resolver, and store what matched."""
    path = str(req.file)
    text = read_text(
        req.file,
        "price file",
        lambda msg, hint: InputError(f"{path}: {msg}", hint),
        "give the path of a CSV or JSON price file",
    )
    rows, problems = read_price_rows(text, path)
    report = match_rows(catalog, rows)
    report.problems = sorted([*problems, *report.problems], key=lambda p: p.line)
    if not rows and not report.problems:
        raise InputError(f"{path}: no price rows", "add one row per offer under the header line")
    if not req.dry_run and report.offers:
        report.added = PriceBook(req.db).add(report.offers)
    return report


@dataclass(frozen=True)
class OfferList:
    """Stored and shipped offers, newest first."""

    offers: list[Offer]

    def to_dict(self) -> list[dict[str, Any]]:
        """``dlrig prices list --json``: the offers, newest first."""
        return [o.model_dump(mode="json", exclude_none=True) for o in self.offers]


def list_offers(req: ListRequest, catalog: Catalog) -> OfferList:
    """The shipped snapshot and the price book, filtered by part/chip and condition."""
    allowed = parse_conditions(req.condition)
    offers = [o for o in all_offers(PriceBook(req.db)) if o.condition in allowed]
    if req.part:
        wanted = _targets(catalog, req.part)
        offers = [o for o in offers if {o.part, o.chip} & wanted]
    return OfferList(sorted(offers, key=lambda o: (o.date, o.price_usd), reverse=True))


def _targets(catalog: Catalog, text: str) -> set[str | None]:
    """The part id ``text`` names, or a GPU chip's id with the ids of its cards (a chip's
    offers and its cards' offers both price it)."""
    from dlrig.errors import DlrigError
    from dlrig.parts import Category

    try:
        return {catalog.resolve(text).id}
    except DlrigError:
        try:
            chip = catalog.gpu_chip(text).id
        except DlrigError:
            raise InputError(
                f"no part or GPU chip '{text[:80]}'", "find names with `dlrig catalog search`"
            ) from None
    return {chip, *(g.id for g in catalog.list(Category.GPU) if getattr(g, "chip", None) == chip)}


@dataclass(frozen=True)
class StaleList:
    """Catalog parts whose current price is older than ``days`` (or has none)."""

    days: int
    today: dt.date
    rows: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """``dlrig prices stale --json``."""
        return {"days": self.days, "today": self.today.isoformat(), "parts": self.rows}


def stale_parts(req: StaleRequest, catalog: Catalog) -> StaleList:
    """Parts priced longer ago than ``days`` at the best new offer known (oldest first)."""
    from dlrig.asof import today as asof_today
    from dlrig.parts import parse_category

    today = asof_today()
    cat = parse_category(req.category) if req.category else None
    priced = apply_offers(catalog, all_offers(PriceBook(req.db)))
    marks = shipped_unavailable()
    rows = []
    for p in priced.parts(cat):
        if p.price_date is not None and (today - p.price_date).days <= req.days:
            continue
        rows.append(
            {
                "id": p.id,
                "category": p.category.value,
                "name": p.name,
                "price_usd": p.price_usd,
                "price_date": p.price_date.isoformat() if p.price_date else None,
                "age_days": (today - p.price_date).days if p.price_date else None,
                "launch_price": is_launch_price(p),
                # why a part has no price at all (shipped reasons, offers.yaml)
                "unavailable": (
                    marks[p.id].model_dump(mode="json", exclude_none=True, exclude={"part"})
                    if p.price_date is None and p.id in marks
                    else None
                ),
            }
        )
    rows.sort(key=lambda r: (r["price_date"] is not None, r["price_date"] or ""))
    return StaleList(req.days, today, rows)
