"""`dlrig bench`: measure the assembled machine and compare it with the baseline.

Probes (one module each): :mod:`~dlrig.bench.gemm`, :mod:`~dlrig.bench.membw`,
:mod:`~dlrig.bench.loader`, :mod:`~dlrig.bench.disk`, :mod:`~dlrig.bench.allreduce`; system
facts from :mod:`~dlrig.bench.nvml`. :mod:`~dlrig.bench.expected` says what the machine should
deliver, :mod:`~dlrig.bench.diagnose` compares and explains, :mod:`~dlrig.bench.report` renders.
PyTorch is optional (``dlrig[bench]``): without it the CPU path uses NumPy and the torch-only
probes report "skipped: needs torch". Nothing here imports torch at import time.

>>> from dlrig.bench import BenchOptions, bench
>>> report = bench(BenchOptions(mode="quick", device="cpu"))  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlrig.bench.diagnose import compare
from dlrig.bench.expected import (
    Baseline,
    attach_disks,
    baseline_from_build_file,
    baseline_from_detected,
)
from dlrig.bench.results import BenchFinding, BenchReport, BenchResult, GpuFacts, Measurement

if TYPE_CHECKING:
    from dlrig.bench.runner import BenchOptions, BenchProgress, run_bench

# The runner (and through it the probe modules) loads on first use, not with the package:
# `python -m dlrig.bench.allreduce` would otherwise find its own module already imported by
# the package and warn (RuntimeWarning from runpy, once per spawned rank).
_LAZY = ("BenchOptions", "BenchProgress", "run_bench")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from dlrig.bench import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'dlrig.bench' has no attribute {name!r}")


__all__ = [
    "Baseline",
    "BenchFinding",
    "BenchOptions",
    "BenchReport",
    "BenchResult",
    "GpuFacts",
    "Measurement",
    "bench",
    "compare",
    "run_bench",
]


def bench(
    options: BenchOptions,
    catalog: Any | None = None,
    build_path: str | Path | None = None,
    disk_args: list[str] | None = None,
    progress: BenchProgress | None = None,
) -> BenchReport:
    """Run the probes and compare with the build file (or the detected GPUs' chip specs).

    ``disk_args`` are ``PATH`` or ``PATH=DRIVE`` (a storage part of the build or catalog); the
    paths are measured and the named drive gives the expected read speed.
    """
    if catalog is None:
        from dlrig.catalog import open_catalog

        catalog = open_catalog()
    # Read the build file and resolve drive names first: bad input fails before the measuring.
    build_baseline = baseline_from_build_file(build_path, catalog) if build_path else None
    named = build_baseline or Baseline(source="")
    paths = attach_disks(named, disk_args or [], catalog)
    options.disk_paths = options.disk_paths or tuple(paths)
    from dlrig.bench.runner import run_bench

    result = run_bench(options, progress)
    baseline = build_baseline or replace(
        baseline_from_detected(result.gpus, catalog), disks=named.disks
    )
    return compare(result, baseline, catalog)
