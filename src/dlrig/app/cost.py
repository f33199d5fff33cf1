"""``dlrig cost``: owning a build vs prebuilt workstations and cloud GPUs, for the same work.

Front doors: ``dlrig cost FILE``, ``POST /api/cost`` (the body is the build file), the ``/cost``
page, and :func:`dlrig.estimate_cost`. The result is :class:`~dlrig.cost.CostReport`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BeforeValidator, Field

from dlrig.app.base import Cli, Command, Request, workload_ref
from dlrig.app.check import load_build_input
from dlrig.errors import InputError

if TYPE_CHECKING:
    from dlrig.catalog import Catalog
    from dlrig.cost import CostReport

__all__ = ["CostRequest", "cost_svg", "run"]


def _paths(value: Any) -> Any:
    """One path (a query parameter, a keyword) as a list of one."""
    return [value] if isinstance(value, str | Path) else value


class CostRequest(Request):
    """What ``dlrig cost`` takes."""

    # a Build, a build file's path, or (on the web) its text
    build: Annotated[Any, Cli(argument=True, metavar="BUILD_FILE")] = Field(
        description="Build file (YAML or JSON); on the web, its text."
    )
    hours_per_day: Annotated[float | None, Cli("--hours-per-day")] = Field(
        None,
        description="Average hours a day the GPUs are busy (0-24; default: the build file's "
        "cost.hours_per_day, else 24).",
    )
    years: Annotated[float | None, Cli("--years")] = Field(
        None, description="Horizon in years (default 3)."
    )
    kwh_usd: Annotated[float | None, Cli("--kwh-usd")] = Field(
        None, description="Electricity price in USD per kWh (default: US average)."
    )
    versus: Annotated[str, Cli("--vs")] = Field(
        "all", description="Compare with cloud, prebuilt or all."
    )
    workload: Annotated[Any, Cli("--workload")] = Field(
        None,
        description="Workload file (or model preset): adds the cost of one training run "
        "(needs `dlrig size`).",
    )
    run_hours: Annotated[float | None, Cli("--run-hours")] = Field(
        None, description="Or: hours one training run takes on this build."
    )
    prices: Annotated[list[Path], BeforeValidator(_paths), Cli("--prices", metavar="<path>")] = (
        Field([], description="Your own price list (CSV or YAML); repeatable.")
    )


def run(req: CostRequest, catalog: Catalog, read_files: bool = True) -> CostReport:
    """The cost report of the requested build over the requested usage."""
    from dlrig.catalog.offers import priced_catalog
    from dlrig.cost import estimate_cost

    if req.prices and not read_files:
        raise InputError(
            "prices: the web app opens no files",
            "put your quote in the build file's cost: section (prebuilt_quote_usd), or run "
            "dlrig cost --prices on your machine",
        )
    catalog = priced_catalog(catalog)  # priced as `dlrig plan` prices (shipped offers, book)
    build = load_build_input(req.build, catalog, read_files)
    return estimate_cost(
        build,
        hours_per_day=req.hours_per_day,
        years=req.years,
        kwh_usd=req.kwh_usd,
        versus=req.versus,
        price_files=tuple(req.prices),
        run_hours=req.run_hours,
        catalog=catalog,
        workload=workload_ref(req.workload, read_files),
    )


def cost_svg(report: CostReport) -> str:
    """The cumulative-cost chart as SVG text (``dlrig cost --plot FILE.svg``; the cost extra)."""
    from dlrig.cost.plot import cumulative_svg

    return cumulative_svg(report)


COMMAND = Command(
    "cost",
    CostRequest,
    run,
    "Owning a build vs prebuilt and cloud GPUs, for the same work.",
    text_field="build",
)
