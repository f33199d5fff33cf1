"""`dlrig cost`: build, buy prebuilt, or rent — total cost of ownership and break-even.

- :mod:`~dlrig.cost.economics`: the TCO model on plain numbers (usage, electricity, resale,
  break-even).
- :mod:`~dlrig.cost.snapshot`: dated, sourced price snapshots and user price lists (CSV/YAML).
- :mod:`~dlrig.cost.throughput`: GPU throughput for normalising cloud hours to the same work.
- :mod:`~dlrig.cost.tco`: build → options → :class:`~dlrig.cost.tco.CostReport`.
- :mod:`~dlrig.cost.plot`: cumulative-cost chart (matplotlib, imported lazily).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlrig.cost.economics import BreakEven, Electricity, Option, Usage, break_even, resale_fraction
from dlrig.cost.snapshot import PriceSet, builtin_prices, defaults, load_price_list
from dlrig.cost.tco import (
    CostInputs,
    CostReport,
    check_chips,
    compare,
    inputs_from_build,
    workload_run_hours,
)

if TYPE_CHECKING:
    from dlrig.build import Build
    from dlrig.catalog import Catalog

__all__ = [
    "VERSUS",
    "BreakEven",
    "CostInputs",
    "CostReport",
    "Electricity",
    "Option",
    "PriceSet",
    "Usage",
    "break_even",
    "builtin_prices",
    "check_chips",
    "compare",
    "defaults",
    "estimate_cost",
    "inputs_from_build",
    "load_price_list",
    "resale_fraction",
    "workload_run_hours",
]

DEFAULT_HOURS_PER_DAY = 24.0
DEFAULT_YEARS = 3.0
VERSUS = ("cloud", "prebuilt", "all")


def estimate_cost(
    build: Build | str | Path,
    hours_per_day: float | None = None,
    years: float | None = None,
    kwh_usd: float | None = None,
    versus: str = "all",
    price_files: list[str | Path] | tuple[str | Path, ...] = (),
    run_hours: float | None = None,
    catalog: Catalog | None = None,
    workload: Any = None,
) -> CostReport:
    """Compare owning ``build`` (a Build, or the path of a build file) with prebuilt and cloud
    options.

    ``run_hours`` (or ``workload``, sized on the build's GPUs) adds the cost of one run.
    ``price_files`` are the user's own price lists, added to the built-in snapshot.
    """
    from dlrig.build import Build
    from dlrig.buildfile import load_build
    from dlrig.catalog import open_catalog
    from dlrig.cost.tco import usage_defaults_from_build
    from dlrig.errors import InputError

    if workload is not None and run_hours is not None:
        raise InputError("give a workload or the run hours, not both", "drop one of them")
    if versus not in VERSUS:
        raise InputError(
            f"versus: unknown '{versus}'", "choose cloud, prebuilt or all", field="versus"
        )
    cat = catalog or open_catalog()
    if not isinstance(build, Build):
        build = load_build(build, cat)
    if workload is not None:
        run_hours = workload_run_hours(build, workload, cat)
    hpd_default, years_default = usage_defaults_from_build(build)
    if hours_per_day is None:
        hours_per_day = DEFAULT_HOURS_PER_DAY if hpd_default is None else hpd_default
    if years is None:
        years = DEFAULT_YEARS if years_default is None else years_default
    usage = Usage(hours_per_day=hours_per_day, years=years)
    prices = PriceSet()
    prices.extend(builtin_prices())
    for f in price_files:
        user = load_price_list(f)
        check_chips(user, cat)
        prices.extend(user)
    inp = inputs_from_build(build, cat, kwh_usd=kwh_usd, source=build.source)
    return compare(inp, usage, cat, prices, versus=versus, run_hours=run_hours)  # type: ignore[arg-type]
