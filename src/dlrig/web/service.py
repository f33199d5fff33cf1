"""What each web endpoint does, as plain functions: parsed input in, the CLI's JSON dict out.

Every function here calls the same library function as the matching CLI command and returns
the same shape as its ``--json``; the work itself lives in the library (``report.part_dict``,
``sizing.gpu_ranking``, ``workload.workload_from_flags``, ``Catalog.gpu_chip``,
``cost.estimate_cost``, ``buildfile.load_build_text``), so the CLI and the web app cannot drift.
What stays here is web input handling: size limits on pasted text, and never reading a path on
the server's disk. The wall circuit is parsed by ``build.Site.parse``, as in the CLI.

Nothing here imports FastAPI: the functions work without the web extra.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from dlrig.build import Site
from dlrig.errors import InputError, WorkloadError
from dlrig.parts import parse_category

if TYPE_CHECKING:
    from dlrig.build import Build
    from dlrig.catalog import Catalog
    from dlrig.cost.tco import CostReport
    from dlrig.optimize import PlanResult
    from dlrig.workload import Workload

# The name a build pasted into the browser goes by in error messages ("<build>:5: ...").
BUILD_SOURCE = "<build>"
# Text beyond this size is refused before parsing (a build file is a few hundred bytes).
MAX_TEXT_BYTES = 256 * 1024


# --- catalog (dlrig catalog list|search|show|chips --json) ------------------------------------
def catalog_parts(
    catalog: Catalog,
    category: str | None = None,
    q: str | None = None,
    filters: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """``catalog list`` (category + filters) or ``catalog search`` (q), filtered either way."""
    from dlrig.report import part_dict

    cat = parse_category(category) if category else None
    if q:
        parsed = [catalog.parse_filter(f, cat) for f in filters]
        parts = [p for p in catalog.search(q, cat, limit=None) if all(f.matches(p) for f in parsed)]
    else:
        parts = catalog.list(cat, list(filters))
    return [part_dict(p) for p in parts]


def part_detail(catalog: Catalog, text: str) -> dict[str, Any]:
    """``catalog show --json``: every field of one part (id or fuzzy name) and its chip spec."""
    from dlrig.report import part_detail as detail

    return detail(catalog.resolve(text), catalog)


def chips(catalog: Catalog) -> list[dict[str, Any]]:
    """``catalog chips --json``."""
    return [c.model_dump(mode="json") for c in catalog.chips]


# --- check (dlrig check --json) ---------------------------------------------------------------
def parse_build_text(text: str, catalog: Catalog, source: str = BUILD_SOURCE) -> Build:
    """The build in the text of a build file (YAML or JSON), refused when over the size limit."""
    from dlrig.buildfile import load_build_text

    _check_size(text, "build")
    return load_build_text(text, catalog, source)


def check_text(text: str, catalog: Catalog, gpus: int | None = None) -> dict[str, Any]:
    """``dlrig check FILE [--gpus N] --json`` on the text of a build file."""
    from dlrig.rules import check

    build = parse_build_text(text, catalog)
    if gpus is not None:
        build = build.with_gpu_count(gpus)
    return check(build).to_dict()


# --- size and gpus (dlrig size --json, dlrig gpus --json) -------------------------------------
def load_workload_input(value: Workload | Mapping[str, Any] | str) -> Workload:
    """A workload from a Workload, a mapping (the workload-file fields) or the text of a
    workload file (never a path: the text is parsed, not opened)."""
    from dlrig.workload import Workload, load_workload, parse_workload_text

    if isinstance(value, Workload):
        return value
    if isinstance(value, str):
        _check_size(value, "workload")
        value = parse_workload_text(value)
    if "model" not in value:
        raise WorkloadError(
            "no workload given", "choose a model preset (see GET /api/models) or give raw numbers"
        )
    return load_workload(value)


def size_workload(
    catalog: Catalog,
    workload: Workload | Mapping[str, Any] | str,
    gpu: str | None = None,
    gpus: int = 1,
    interconnect: str = "pcie",
    utilization: float | None = None,
) -> dict[str, Any]:
    """``dlrig size --json``: memory, compute, time and system needs of a workload."""
    from dlrig.sizing import size

    w = load_workload_input(workload)
    chip = catalog.gpu_chip(gpu) if gpu else None
    return size(w, chip, n_gpus=gpus, interconnect=interconnect, utilization=utilization).as_dict()


def rank_gpus(
    catalog: Catalog,
    workload: Workload | Mapping[str, Any] | str | None,
    gpus: int = 1,
    interconnect: str = "pcie",
    utilization: float | None = None,
    sort: str = "fit",
) -> dict[str, Any]:
    """``dlrig gpus --json``: every chip ranked for the workload (or by TFLOPS without one)."""
    from dlrig.sizing import gpu_ranking

    w = None if workload is None else load_workload_input(workload)
    return gpu_ranking(catalog.chips, w, gpus, interconnect, utilization, sort)


def model_presets() -> list[dict[str, Any]]:
    """``dlrig size --list-models --json``."""
    from dlrig.workload import model_presets as presets

    return [m.model_dump(mode="json") for m in presets().values()]


def rules() -> list[dict[str, Any]]:
    """``dlrig rules --json``."""
    from dlrig.report import rule_dict
    from dlrig.rules import iter_rules

    return [rule_dict(r) for r in iter_rules()]


# --- cost (dlrig cost --json, --plot FILE.svg) ------------------------------------------------
def cost_text(
    text: str,
    catalog: Catalog,
    hours_per_day: float | None = None,
    years: float | None = None,
    kwh_usd: float | None = None,
    versus: str = "all",
    run_hours: float | None = None,
) -> CostReport:
    """``dlrig cost FILE --json`` on the text of a build file: own vs prebuilt vs cloud."""
    from dlrig.cost import estimate_cost

    build = parse_build_text(text, catalog)
    return estimate_cost(
        build,
        hours_per_day=hours_per_day,
        years=years,
        kwh_usd=kwh_usd,
        versus=versus,
        run_hours=run_hours,
        catalog=catalog,
    )


def cost_svg(report: CostReport) -> str:
    """The ``dlrig cost --plot FILE.svg`` chart as SVG text (matplotlib, the cost extra)."""
    from dlrig.cost.plot import cumulative_svg

    return cumulative_svg(report)


# --- helpers ----------------------------------------------------------------------------------
def _check_size(text: str, what: str) -> None:
    if len(text.encode("utf-8")) > MAX_TEXT_BYTES:
        raise InputError(
            f"the {what} is {len(text.encode('utf-8')):,} bytes; the limit is {MAX_TEXT_BYTES:,}",
            f"a {what} file is a few hundred bytes: paste just the {what}",
        )


# --- plan (dlrig plan --json) -----------------------------------------------------------------
def planner_available() -> bool:
    """Whether this install has the planner (``dlrig.optimize.plan``)."""
    try:
        from dlrig import optimize
    except ImportError:
        return False
    return callable(getattr(optimize, "plan", None))


def plan_workload(value: Mapping[str, Any] | str | None) -> dict[str, Any] | None:
    """A plan's workload as a mapping: a preset name, YAML text, or the fields themselves.

    Never a file path: the planner would read a path on the server's disk.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        text = value.strip()
        if "\n" not in text and ":" not in text:
            return {"model": text}
        _check_size(text, "workload")
        from dlrig.workload import parse_workload_text

        return parse_workload_text(text)
    return dict(value)


def plan(
    catalog: Catalog,
    budget_usd: float | None = None,
    workload: Mapping[str, Any] | str | None = None,
    *,
    circuit: str | None = None,
    time_limit_s: float = 10.0,
    **options: Any,
) -> PlanResult:
    """``dlrig plan --json``: the planner on this catalog; ``options`` are ``optimize.plan``'s
    keywords (objective, task, gpus, upgrade_to, min_vram_gib, min_tflops, max_hours, include,
    exclude, cooling, allow, alternatives, frontier, explain)."""
    from dlrig.optimize import plan as run_plan

    return run_plan(
        budget_usd,
        plan_workload(workload),
        site=Site.parse(circuit),
        catalog=catalog,
        time_limit_s=time_limit_s,
        **options,
    )
