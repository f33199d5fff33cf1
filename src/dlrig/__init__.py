"""dlrig: plan, check, size, cost and benchmark a self-built deep-learning machine.

The public API, one function per question (the CLI command of the same name prints the result)::

    import dlrig

    result = dlrig.check("examples/warmachine.yaml")          # CheckResult: findings, totals
    need = dlrig.size("llama-3.1-8b", gpu="RTX 4090")          # SizingResult: GiB, time, ...
    report = dlrig.estimate_cost("examples/warmachine.yaml", hours_per_day=8)   # CostReport
    best = dlrig.plan("7k", "llama-3.1-8b", task="qlora")      # PlanResult (needs dlrig[plan])
    ranking = dlrig.gpus("llama-3.1-8b", task="inference")     # GpuRanking
    catalog = dlrig.open_catalog()                             # parts and GPU chip specs
    text = dlrig.to_json(result)                               # what `dlrig check --json` prints

Each function takes the same inputs as its CLI command (the request model in
:mod:`dlrig.app`, so "7k" is a budget and ``gpus=0`` is refused here too) and calls the same
run function. Each imports what it needs when called, so ``import dlrig`` stays light.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlrig.errors import DlrigError

__version__ = "0.1.0"

if TYPE_CHECKING:
    from collections.abc import Mapping

    from dlrig.app.gpus import GpuRanking
    from dlrig.app.power import PowerBudget
    from dlrig.bench.results import BenchReport
    from dlrig.build import Build
    from dlrig.catalog import Catalog
    from dlrig.cost.tco import CostReport
    from dlrig.importlist import ImportListResult
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
    "benchmark",
    "check",
    "estimate_cost",
    "gpus",
    "import_list",
    "open_catalog",
    "plan",
    "power",
    "size",
    "to_json",
]


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
    from dlrig.app import check as command

    req = command.CheckRequest.parse(build=build_or_path, gpus=gpus)
    return command.run(req, _catalog(catalog))


def size(
    workload: Workload | Mapping[str, Any] | str | Path | None = None,
    gpu: GpuChip | str | None = None,
    gpus: int = 1,
    interconnect: str = "pcie",
    utilization: float | None = None,
    catalog: Catalog | str | Path | None = None,
    **flags: Any,
) -> SizingResult:
    """``dlrig size``: GPU memory, compute, time and system needs of a workload.

    ``workload``: a Workload, a mapping of workload-file fields, a workload file path, or a
    model preset name (a string that is not an existing file and has no .yaml/.json suffix).
    ``gpu``: a chip spec, or a chip or card name resolved in ``catalog``. ``flags``: the
    workload flags of ``dlrig size`` (task, model, precision, batch, seq, ...) laid over the
    workload.
    """
    from dlrig.app import size as command

    req = command.SizeRequest.parse(
        workload=workload, gpu=gpu, gpus=gpus, interconnect=interconnect,
        utilization=utilization, **flags,
    )  # fmt: skip
    return command.run(req, _catalog(catalog))


def gpus(
    workload: Workload | Mapping[str, Any] | str | Path | None = None,
    *,
    catalog: Catalog | str | Path | None = None,
    **options: Any,
) -> GpuRanking:
    """``dlrig gpus``: every GPU chip of the catalog ranked for a workload (or by TFLOPS).

    ``options``: the request fields of :class:`dlrig.app.gpus.GpusRequest` (gpus, interconnect,
    utilization, sort and the workload flags).
    """
    from dlrig.app import gpus as command

    req = command.GpusRequest.parse(workload=workload, **options)
    return command.run(req, _catalog(catalog))


def estimate_cost(
    build_or_path: Build | str | Path,
    *,
    catalog: Catalog | str | Path | None = None,
    **options: Any,
) -> CostReport:
    """``dlrig cost``: owning a build vs prebuilt workstations and cloud GPUs (same work).

    ``options``: the request fields of :class:`dlrig.app.cost.CostRequest` (hours_per_day,
    years, kwh_usd, versus, workload, run_hours, prices).
    """
    from dlrig.app import cost as command

    req = command.CostRequest.parse(build=build_or_path, **options)
    return command.run(req, _catalog(catalog))


def plan(
    budget_usd: float | str | None = None,
    workload: Any = None,
    *,
    catalog: Catalog | str | Path | None = None,
    **options: Any,
) -> PlanResult:
    """``dlrig plan``: the provably optimal compatible build for a budget (and a workload).

    ``budget_usd`` may be written like a price ("7k", "$7,000"). ``options``: the request
    fields of :class:`dlrig.app.plan.PlanRequest` (objective, task, gpus, upgrade_to,
    min_vram_gib, include, exclude, circuit, alternatives, time_limit, ...); needs
    ``dlrig[plan]``.
    """
    from dlrig.app import plan as command

    req = command.PlanRequest.parse(budget_usd=budget_usd, workload=workload, **options)
    return command.run(req, _catalog(catalog))


def import_list(
    parts_list: str | Path, catalog: Catalog | str | Path | None = None, name: str | None = None
) -> ImportListResult:
    """``dlrig import-list``: a PCPartPicker plain-text parts list (a file, or "-" for stdin)
    resolved into a build; lines that do not resolve are listed in the result."""
    from dlrig.app import importlist as command

    req = command.ImportListRequest.parse(parts_list=parts_list, name=name)
    return command.run(req, _catalog(catalog))


def benchmark(catalog: Catalog | str | Path | None = None, **options: Any) -> BenchReport | None:
    """``dlrig bench``: measure this machine and compare it with its build (``build=`` a build
    file) or its GPUs' specs. ``options``: the fields of :class:`dlrig.app.bench.BenchRequest`
    (quick, build, disk, disk_size_mb, device, only); needs ``dlrig[bench]`` for GPU probes.
    None only on a torchrun rank other than 0."""
    from dlrig.app import bench as command

    req = command.BenchRequest.parse(**options)
    return command.run(req, _catalog(catalog))


def power(
    build_or_path: Build | str | Path,
    catalog: Catalog | str | Path | None = None,
    gpus: int | None = None,
) -> PowerBudget:
    """``dlrig power``: a build's power budget — the PSU it needs, its draw at the wall against
    the circuit's limit, and the per-GPU power limit that fits both."""
    from dlrig.app import power as command

    req = command.PowerRequest.parse(build=build_or_path, gpus=gpus)
    return command.run(req, _catalog(catalog))


def to_json(result: Any) -> str:
    """A command's result as JSON text: byte for byte what ``dlrig COMMAND --json`` prints
    (without the final newline) and what the web API answers."""
    from dlrig.app.base import to_json as dump

    return dump(result)


def _catalog(catalog: Catalog | str | Path | None) -> Catalog:
    from dlrig.catalog import Catalog

    return catalog if isinstance(catalog, Catalog) else open_catalog(catalog)


def __getattr__(name: str) -> Any:
    """``dlrig.Catalog`` and ``dlrig.Category``, imported on first use."""
    if name == "Catalog":
        from dlrig.catalog import Catalog

        return Catalog
    if name == "Category":
        from dlrig.parts import Category

        return Category
    raise AttributeError(f"module 'dlrig' has no attribute {name!r}")
