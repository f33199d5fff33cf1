"""`dlrig cost FILE`: own vs prebuilt vs cloud, total cost over time and break-even."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dlrig.app.cost import CostRequest
from dlrig.cli.options import CATALOG, JSON, from_request, option
from dlrig.cli.output import fmt_num, print_json, print_price_summary, stderr, stdout, table

if TYPE_CHECKING:
    from dlrig.cost.tco import CostReport


@from_request(
    CostRequest,
    option(
        "plot",
        Annotated[
            Path | None,
            typer.Option("--plot", help="Write the cumulative-cost chart to FILE.png or FILE.svg."),
        ],
    ),
    option(
        "top",
        Annotated[int, typer.Option("--top", min=0, help="Cloud rows shown in the table.")],
        12,
    ),
    JSON,
    CATALOG,
)
def cost_cmd(
    req: CostRequest,
    plot: Path | None = None,
    top: int = 12,
    json_: bool = False,
    catalog: str | None = None,
) -> None:
    """Total cost of owning a build vs prebuilt workstations and cloud GPUs (same work).

    Cloud hours are normalised by GPU throughput: renting an H100 for the work your build does in
    an hour takes less than an hour. Break-even is when owning has cost less cash than renting.

    Examples:
      dlrig cost examples/warmachine.yaml --hours-per-day 8 --years 3
      dlrig cost build.yaml --vs cloud --kwh-usd 0.30 --plot cost.png
      dlrig cost build.yaml --prices my_quotes.csv --run-hours 72 --json
    """
    from dlrig.app import cost
    from dlrig.catalog import open_catalog

    report = cost.run(req, open_catalog(catalog))
    if plot is not None:
        from dlrig.cost.plot import plot_cumulative

        written = plot_cumulative(report, plot)
        stderr.print(f"wrote {written}", markup=False, highlight=False)
    if json_:
        print_json(report)
        return
    render(report, top)


def render(report: CostReport, top: int = 12) -> None:
    """The cost comparison as text and a table (``top`` cloud rows, cheapest first)."""
    from rich.markup import escape

    d = report.to_dict()
    b, u = d["build"], d["usage"]
    stdout.print(
        f"[bold]{escape(b['name'])}[/bold]: ${b['upfront_usd']:,.0f} up front "
        f"(parts ${b['parts_usd']:,.0f} + extras ${b['extras_usd']:,.0f}), "
        f"{b['gpu_count']} GPU(s), {b['wall_power_w']:,.0f} W at the wall in use "
        f"(peak {b['peak_power_w']:,.0f} W × load {b['load_fraction']:g} ÷ PSU "
        f"{b['psu_efficiency']:.0%}), ${b['electricity_usd_per_kwh']:g}/kWh → "
        f"${b['electricity_usd_per_use_hour']:.3f} per hour of use",
        highlight=False,
    )
    print_price_summary(b.get("prices"))
    stdout.print(
        f"usage: {u['hours_per_day']:g} h/day for {u['years']:g} years = "
        f"{u['use_hours']:,.0f} hours ({u['gpu_hours']:,.0f} GPU-hours)",
        highlight=False,
    )
    own = d["own"]
    rows = [
        [
            own["label"],
            "—",
            "—",
            fmt_num(own["usd_per_use_hour"], 3),
            fmt_num(own["total_usd"]),
            fmt_num(own["net_total_usd"]),
            "—",
            "—",
        ]
    ]
    opts = d["options"]
    prebuilt = [o for o in opts if o["kind"] == "prebuilt"]
    cloud = sorted((o for o in opts if o["kind"] != "prebuilt"), key=lambda o: o["total_usd"])
    for o in [*prebuilt, *cloud[:top]]:
        be = o["break_even"]
        rows.append(
            [
                o["label"] + (" (stale)" if o["stale"] else ""),
                "—" if o["list_usd_per_hour"] is None else f"{o['list_usd_per_hour']:.2f}",
                "—" if o["speed_ratio"] is None else f"{o['speed_ratio']:.2f}",
                fmt_num(o["usd_per_use_hour"], 3),
                fmt_num(o["total_usd"]),
                fmt_num(o["net_total_usd"]),
                "never" if be is None else f"{be['months']:.1f}",
                "—" if be is None else fmt_num(be["gpu_hours"]),
            ]
        )
    stdout.print(
        table(
            f"Cost over {u['years']:g} years (cloud normalised to the same work)",
            [
                "option",
                "list $/h",
                "hours per own hour",
                "$ per own hour",
                "total $",
                "net of resale $",
                "break-even months",
                "break-even GPU-h",
            ],
            rows,
        )
    )
    if len(cloud) > top:
        stdout.print(f"{len(cloud) - top} more cloud rows: --top N or --json")
    if d["run"]:
        r = d["run"]
        best = sorted(r["cloud"].items(), key=lambda kv: kv[1]["usd"])[:5]
        stdout.print(
            f"one run: {r['own_hours']:,.1f} h here, ${r['own_electricity_usd']:,.2f} of "
            f"electricity (${r['own_amortised_usd']:,.2f} with the machine amortised); "
            "cheapest cloud: "
            + "; ".join(f"{k} ${v['usd']:,.2f} ({v['hours']:,.1f} h)" for k, v in best),
            highlight=False,
        )
    if d["stale"]:
        stderr.print(
            f"[yellow]stale:[/yellow] {len(d['stale'])} price(s) older than a year "
            "(marked (stale); refresh with --prices)",
            highlight=False,
        )
    missing = {chip: len(notes) for chip, notes in report.unknown_chips.items()}
    summarised = {note for notes in report.unknown_chips.values() for note in notes}
    for note in d["unchecked"]:
        if note not in summarised:
            stderr.print(f"[yellow]unchecked:[/yellow] {escape(note)}", highlight=False)
    if missing:
        stderr.print(
            f"[yellow]unchecked:[/yellow] {sum(missing.values())} cloud offering(s) left out: "
            "their GPU chip is not in the chip table ("
            + ", ".join(f"{escape(c)} ×{n}" for c, n in sorted(missing.items()))
            + "); --json lists them",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    """Add ``dlrig cost`` to the CLI."""
    app.command("cost")(cost_cmd)
