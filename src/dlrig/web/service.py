"""What each web endpoint does, as plain functions: parsed input in, the CLI's JSON dict out.

Every function here calls the same library function as the matching CLI command and returns
the same shape as its ``--json``. Some CLI commands still do part of their work inline; the
adapters that repeat that work are marked **ADAPTER** and should move into the library (then
both the CLI and this module call it and the two cannot drift):

- ``part_json`` and ``rank_chips`` live in ``dlrig.cli.catalog`` / ``dlrig.cli.size``; they are
  imported from there (same function, no copy) until they move into ``report``/``sizing``.
- :func:`workload_from_flags` repeats ``cli.size._workload`` without the file argument.
- :func:`resolve_chip` repeats ``cli.size._chip`` on an open catalog.
- :func:`cost_report` repeats ``cost.estimate_cost`` on a parsed build instead of a file path.
- :func:`parse_build_text` is ``buildfile.load_build`` on text instead of a path.
- :func:`site_from_circuit` repeats ``cli.plan._site``.

Nothing here imports FastAPI: the functions work without the web extra.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import yaml

from dlrig.errors import InputError, PartNotFoundError, WorkloadError
from dlrig.parts import parse_category

if TYPE_CHECKING:
    from dlrig.build import Build, Site
    from dlrig.catalog import Catalog
    from dlrig.cost.tco import CostReport
    from dlrig.optimize import PlanResult
    from dlrig.parts import GpuChip
    from dlrig.workload import Workload

# The name a build pasted into the browser goes by in error messages ("<build>:5: ...").
BUILD_SOURCE = "<build>"
# Text beyond this size is refused before parsing (a build file is a few hundred bytes).
MAX_TEXT_BYTES = 256 * 1024
VERSUS = ("cloud", "prebuilt", "all")


# --- catalog (dlrig catalog list|search|show|chips --json) ------------------------------------
def catalog_parts(
    catalog: Catalog,
    category: str | None = None,
    q: str | None = None,
    filters: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """``catalog list`` (category + filters) or ``catalog search`` (q), filtered either way."""
    from dlrig.cli.catalog import part_json  # ADAPTER: belongs in dlrig.report

    cat = parse_category(category) if category else None
    if q:
        parsed = [catalog.parse_filter(f, cat) for f in filters]
        parts = [p for p in catalog.search(q, cat) if all(f.matches(p) for f in parsed)]
    else:
        parts = catalog.list(cat, list(filters))
    return [part_json(p) for p in parts]


def part_detail(catalog: Catalog, text: str) -> dict[str, Any]:
    """``catalog show --json``: every field of one part (id or fuzzy name) and its chip spec."""
    from dlrig.cli.catalog import part_json  # ADAPTER: belongs in dlrig.report

    found = catalog.resolve(text)
    data = part_json(found)
    chip = catalog.chip_of(found)
    if chip is not None:
        data["chip_spec"] = chip.model_dump(mode="json")
    return data


def chips(catalog: Catalog) -> list[dict[str, Any]]:
    """``catalog chips --json``."""
    return [c.model_dump(mode="json") for c in catalog.chips]


# --- check (dlrig check --json) ---------------------------------------------------------------
def parse_build_text(text: str, catalog: Catalog, source: str = BUILD_SOURCE) -> Build:
    """ADAPTER: ``load_build`` on the text of a build file (YAML or JSON) instead of a path."""
    from dlrig.buildfile import parse_build, parse_text

    _check_size(text, "build")
    data, lines = parse_text(text, source)
    return parse_build(data, catalog, source, lines=lines)


def check_text(text: str, catalog: Catalog, gpus: int | None = None) -> dict[str, Any]:
    """``dlrig check FILE [--gpus N] --json`` on the text of a build file."""
    from dlrig.rules import check

    build = parse_build_text(text, catalog)
    if gpus is not None:
        build = build.with_gpu_count(gpus)
    return check(build).to_dict()


# --- size and gpus (dlrig size --json, dlrig gpus --json) -------------------------------------
def workload_from_flags(
    *,
    task: str | None = None,
    model: str | None = None,
    precision: str | None = None,
    optimizer: str | None = None,
    batch: int | None = None,
    seq: int | None = None,
    checkpointing: bool | None = None,
    zero: int | None = None,
    lora_rank: int | None = None,
    tokens: str | None = None,
    samples: str | None = None,
    epochs: float | None = None,
) -> dict[str, Any]:
    """ADAPTER (``cli.size._workload`` without a file): the ``dlrig size`` flags as a mapping."""
    data: dict[str, Any] = {}
    flags: dict[str, Any] = {
        "task": task,
        "model": model,
        "precision": precision,
        "optimizer": optimizer,
        "micro_batch": batch,
        "sequence": seq,
        "gradient_checkpointing": checkpointing,
        "zero_stage": zero,
    }
    data.update({k: v for k, v in flags.items() if v is not None})
    if lora_rank is not None:
        data["lora"] = {"rank": lora_rank}
    spec = {
        k: v
        for k, v in {"tokens": tokens, "samples": samples, "epochs": epochs}.items()
        if v is not None
    }
    if spec:
        data["data"] = spec
    return data


def load_workload_input(value: Mapping[str, Any] | str) -> Workload:
    """A workload from a mapping (the workload-file fields) or the text of a workload file."""
    from dlrig.workload import load_workload

    if isinstance(value, str):
        _check_size(value, "workload")
        try:
            value = yaml.safe_load(value) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f":{mark.line + 1}" if mark is not None else ""
            raise WorkloadError(
                f"workload{line}: not valid YAML ({getattr(exc, 'problem', exc)})",
                "fix the YAML syntax (indentation, colons, quotes)",
            ) from None
    if isinstance(value, Mapping) and "model" not in value:
        raise WorkloadError(
            "no workload given", "choose a model preset (see GET /api/models) or give raw numbers"
        )
    return load_workload(value)


def resolve_chip(catalog: Catalog, name: str | None) -> GpuChip | None:
    """ADAPTER (``cli.size._chip``): a GPU chip by id/name, or through a card's name."""
    if not name:
        return None
    try:
        return catalog.chip(name)
    except PartNotFoundError:
        try:
            part = catalog.resolve(name)
        except PartNotFoundError:
            raise PartNotFoundError(
                f"unknown GPU chip '{name}'", "list chips with `dlrig catalog chips`"
            ) from None
        chip = catalog.chip_of(part)
        if chip is None:
            raise
        return chip


def size_workload(
    catalog: Catalog,
    workload: Mapping[str, Any] | str,
    gpu: str | None = None,
    gpus: int = 1,
    interconnect: str = "pcie",
    utilization: float | None = None,
) -> dict[str, Any]:
    """``dlrig size --json``: memory, compute, time and system needs of a workload."""
    from dlrig.sizing import size

    w = load_workload_input(workload)
    chip = resolve_chip(catalog, gpu)
    return size(w, chip, n_gpus=gpus, interconnect=interconnect, utilization=utilization).as_dict()


def rank_gpus(
    catalog: Catalog,
    workload: Mapping[str, Any] | str | None,
    gpus: int = 1,
    interconnect: str = "pcie",
    utilization: float | None = None,
    sort: str = "fit",
) -> dict[str, Any]:
    """``dlrig gpus --json``: every chip ranked for the workload (or by TFLOPS without one)."""
    from dlrig.cli.size import rank_chips  # ADAPTER: belongs in dlrig.sizing

    w = None if workload is None else load_workload_input(workload)
    if gpus < 1:
        raise InputError(f"gpus is {gpus}", "use at least 1 GPU")
    rows = rank_chips(catalog.chips, w, gpus, interconnect, utilization, sort)
    return {
        "workload": None if w is None else w.describe(),
        "n_gpus": gpus,
        "sort": sort,
        "gpus": rows,
    }


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
def cost_report(
    build: Build,
    catalog: Catalog,
    hours_per_day: float | None = None,
    years: float | None = None,
    kwh_usd: float | None = None,
    versus: str = "all",
    run_hours: float | None = None,
) -> CostReport:
    """ADAPTER (``cost.estimate_cost`` on a Build): own vs prebuilt vs cloud."""
    from dlrig.cost import DEFAULT_HOURS_PER_DAY, DEFAULT_YEARS, PriceSet, Usage, builtin_prices
    from dlrig.cost.tco import compare, inputs_from_build, usage_defaults_from_build

    if versus not in VERSUS:
        raise InputError(f"unknown vs '{versus}'", "choose cloud, prebuilt or all")
    hpd_default, years_default = usage_defaults_from_build(build)
    usage = Usage(
        hours_per_day=hours_per_day
        if hours_per_day is not None
        else hpd_default or DEFAULT_HOURS_PER_DAY,
        years=years if years is not None else years_default or DEFAULT_YEARS,
    )
    prices = PriceSet()
    prices.extend(builtin_prices())
    inp = inputs_from_build(build, catalog, kwh_usd=kwh_usd, source=build.source)
    return compare(inp, usage, catalog, prices, versus=versus, run_hours=run_hours)  # type: ignore[arg-type]


def cost_svg(report: CostReport) -> str:
    """The ``dlrig cost --plot FILE.svg`` chart as SVG text (matplotlib, the cost extra)."""
    import tempfile
    from pathlib import Path

    from dlrig.cost.plot import plot_cumulative

    with tempfile.TemporaryDirectory(prefix="dlrig-web-") as tmp:
        out = plot_cumulative(report, Path(tmp) / "cost.svg")
        return out.read_text(encoding="utf-8")


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


def site_from_circuit(circuit: str | None) -> Site:
    """ADAPTER (``cli.plan._site``): the wall circuit from VOLTSxAMPS text (default 120x15)."""
    from dlrig.build import Site

    if not circuit:
        return Site()
    try:
        volts, amps = (float(x) for x in circuit.lower().replace("v", "").split("x"))
    except ValueError:
        raise InputError(
            f"circuit '{circuit}' is not VOLTSxAMPS", "write e.g. 120x20 or 230x16"
        ) from None
    return Site(volts, amps)


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
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise WorkloadError(
                f"workload: not valid YAML ({getattr(exc, 'problem', exc)})",
                "fix the YAML syntax, or give a model preset name",
            ) from None
        if not isinstance(value, Mapping):
            raise WorkloadError(
                "workload: expected a mapping of fields", "write e.g. model: llama-3.1-8b"
            )
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
        site=site_from_circuit(circuit),
        catalog=catalog,
        time_limit_s=time_limit_s,
        **options,
    )
