"""dlrig: plan, check, size, cost and benchmark a self-built deep-learning machine.

The public API, one function per question (the CLI command of the same name prints the result)::

    import dlrig

    result = dlrig.check("examples/warmachine.yaml")          # CheckResult: findings, totals
    need = dlrig.size("llama-3.1-8b", gpu="RTX 4090")          # SizingResult: GiB, time, ...
    report = dlrig.estimate_cost("examples/warmachine.yaml", hours_per_day=8)   # CostReport
    best = dlrig.plan(7000, "llama-3.1-8b", task="qlora")      # PlanResult (needs dlrig[plan])
    catalog = dlrig.open_catalog()                             # parts and GPU chip specs

Each function imports what it needs when called, so ``import dlrig`` stays light.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlrig.errors import DlrigError

__version__ = "0.1.0"

if TYPE_CHECKING:
    from collections.abc import Mapping

    from dlrig.build import Build
    from dlrig.catalog import Catalog
    from dlrig.cost.tco import CostReport
    from dlrig.optimize import PlanResult
    from dlrig.parts import Category, GpuChip
    from dlrig.rules.base import CheckResult
    from dlrig.sizing import SizingResult
    from dlrig.workload import Workload

__all__ = [
    "Catalog",
    "Category",
    "DlrigError",
    "__version__",
    "check",
    "estimate_cost",
    "open_catalog",
    "plan",
    "size",
]

# Suffixes that make a string passed as a workload a file name rather than a model preset.
_WORKLOAD_FILE_SUFFIXES = (".yaml", ".yml", ".json")


def open_catalog(path: str | Path | None = None) -> Catalog:
    """The catalog at ``path`` (an imported store), else at $DLRIG_CATALOG, else the built-in
    one."""
    from dlrig.catalog import open_catalog as _open

    return _open(path)


def check(
    build_or_path: Build | str | Path,
    catalog: Catalog | str | Path | None = None,
    gpus: int | None = None,
) -> CheckResult:
    """``dlrig check``: every compatibility finding for a build (a Build or a build file path).

    ``catalog`` (a Catalog or a store path; default as :func:`open_catalog`) resolves the part
    names of a build file. ``gpus`` checks the build with that many of its GPUs.
    """
    from dlrig.build import Build
    from dlrig.rules import check as run_rules

    build = build_or_path
    if not isinstance(build, Build):
        from dlrig.buildfile import load_build

        build = load_build(build, _catalog(catalog))
    if gpus is not None:
        build = build.with_gpu_count(gpus)
    return run_rules(build)


def size(
    workload: Workload | Mapping[str, Any] | str | Path,
    gpu: GpuChip | str | None = None,
    gpus: int = 1,
    interconnect: str = "pcie",
    utilization: float | None = None,
    catalog: Catalog | str | Path | None = None,
) -> SizingResult:
    """``dlrig size``: GPU memory, compute, time and system needs of a workload.

    ``workload``: a Workload, a mapping of workload-file fields, a workload file path, or a
    model preset name (a string that is not an existing file and has no .yaml/.json suffix).
    ``gpu``: a chip spec, or a chip or card name resolved in ``catalog``.
    """
    from dlrig.sizing import size as run_size
    from dlrig.workload import load_workload

    if isinstance(workload, str) and not _is_workload_file(workload):
        workload = {"model": workload}
    chip = _catalog(catalog).gpu_chip(gpu) if isinstance(gpu, str) else gpu
    return run_size(
        load_workload(workload),
        chip,
        n_gpus=gpus,
        interconnect=interconnect,
        utilization=utilization,
    )


def estimate_cost(
    build_or_path: Build | str | Path,
    hours_per_day: float | None = None,
    years: float | None = None,
    kwh_usd: float | None = None,
    versus: str = "all",
    price_files: list[str | Path] | tuple[str | Path, ...] = (),
    run_hours: float | None = None,
    catalog: Catalog | str | Path | None = None,
    workload: Any = None,
) -> CostReport:
    """``dlrig cost``: owning a build vs prebuilt workstations and cloud GPUs (same work).

    See :func:`dlrig.cost.estimate_cost`; ``catalog`` may also be a store path here.
    """
    from dlrig.cost import estimate_cost as run_cost

    return run_cost(
        build_or_path,
        hours_per_day=hours_per_day,
        years=years,
        kwh_usd=kwh_usd,
        versus=versus,
        price_files=price_files,
        run_hours=run_hours,
        catalog=_catalog(catalog),
        workload=workload,
    )


def plan(budget_usd: float | None = None, workload: Any = None, **kwargs: Any) -> PlanResult:
    """``dlrig plan``: the provably optimal compatible build for a budget (and a workload).

    A pass-through to :func:`dlrig.optimize.plan` (keywords: objective, task, gpus, upgrade_to,
    min_vram_gib, include, exclude, site, catalog, time_limit_s, ...); needs ``dlrig[plan]``.
    """
    from dlrig.optimize import plan as run_plan

    return run_plan(budget_usd, workload, **kwargs)


def _catalog(catalog: Catalog | str | Path | None) -> Catalog:
    from dlrig.catalog import Catalog

    return catalog if isinstance(catalog, Catalog) else open_catalog(catalog)


def _is_workload_file(text: str) -> bool:
    return text.lower().endswith(_WORKLOAD_FILE_SUFFIXES) or Path(text).is_file()


def __getattr__(name: str) -> Any:
    """``dlrig.Catalog`` and ``dlrig.Category``, imported on first use."""
    if name == "Catalog":
        from dlrig.catalog import Catalog

        return Catalog
    if name == "Category":
        from dlrig.parts import Category

        return Category
    raise AttributeError(f"module 'dlrig' has no attribute {name!r}")
