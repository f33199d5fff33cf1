"""`dlrig prices import|list|stale`: dated price offers, new and used."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from rich.text import Text

from dlrig.app.prices import ImportRequest, ListRequest, StaleRequest
from dlrig.cli.options import CATALOG, JSON, from_request
from dlrig.cli.output import fmt_num, print_json, stderr, stdout, table

if TYPE_CHECKING:
    from dlrig.catalog import Catalog

prices_app = typer.Typer(
    help="Dated price offers (new, used) beside the catalog: import your quotes and marketplace "
    "prices, list them, find stale prices. `dlrig plan --used` buys from them.",
    no_args_is_help=True,
)


def _catalog(path: str | None) -> Catalog:
    from dlrig.catalog import open_catalog

    return open_catalog(path)


@prices_app.command("import")
@from_request(ImportRequest, JSON, CATALOG)
def import_cmd(req: ImportRequest, json_: bool, catalog: str | None) -> None:
    """Import a price file (CSV or JSON) into your price book; history is kept.

    Examples:
      dlrig prices import quotes.csv
      dlrig prices import ebay-sold.json --dry-run
    """
    from dlrig.app.prices import import_prices

    report = import_prices(req, _catalog(catalog))
    if json_:
        print_json(report)
    else:
        verb = "matched (dry run)" if req.dry_run else f"matched, {report.added} new in the book"
        stdout.print(f"{len(report.offers)} offer(s) {verb}", highlight=False)
        for note in report.notes:
            stderr.print(f"note: {note} (matched by similarity: check it)", markup=False)
        for p in report.problems:
            stderr.print(f"line {p.line}: {p.text!r}: {p.reason}", markup=False, highlight=False)
    if report.problems and not report.offers:  # nothing usable in the file
        raise typer.Exit(1)


@prices_app.command("list")
@from_request(ListRequest, JSON, CATALOG)
def list_cmd(req: ListRequest, json_: bool, catalog: str | None) -> None:
    """List price offers (shipped snapshot and your price book), newest first.

    Examples:
      dlrig prices list --condition used
      dlrig prices list --part "RTX 3090"
    """
    from dlrig.app.prices import list_offers

    result = list_offers(req, _catalog(catalog))
    if json_:
        print_json(result)
        return
    rows = [
        [o.part or f"chip {o.chip}", fmt_num(o.price_usd, 0, "USD"), o.condition.value,
         o.date.isoformat(), o.source]
        for o in result.offers
    ]  # fmt: skip
    stdout.print(table("price offers", ["part", "price", "condition", "date", "source"], rows))


@prices_app.command("stale")
@from_request(StaleRequest, JSON, CATALOG)
def stale_cmd(req: StaleRequest, json_: bool, catalog: str | None) -> None:
    """Parts whose newest new-condition price is older than --days (or missing).

    Examples:
      dlrig prices stale --category gpu
      dlrig prices stale --days 90 --json
    """
    from dlrig.app.prices import stale_parts

    result = stale_parts(req, _catalog(catalog))
    if json_:
        print_json(result)
        return
    rows = [
        [r["category"], r["name"], fmt_num(r["price_usd"], 0, "USD"),
         r["price_date"] or "no price", _kind(r)]
        for r in result.rows
    ]  # fmt: skip
    heads = ["category", "part", "price", "priced", "kind / why"]
    stdout.print(table(f"prices older than {req.days} days", heads, rows))
    stdout.print(Text(f"{len(rows)} part(s); add current offers with `dlrig prices import`",
                      style="dim"))  # fmt: skip


def _kind(row: dict[str, Any]) -> str:
    """``launch MSRP``, or for a part without a price the shipped reason (offers.yaml)."""
    mark = row.get("unavailable")
    if mark:
        return f"{mark['status']}: {mark['reason']} ({mark['checked']})"
    return "launch MSRP" if row["launch_price"] else ""


def register(app: typer.Typer) -> None:
    """Add ``dlrig prices`` to the app."""
    app.add_typer(prices_app, name="prices")
