"""``dlrig bench``: measure this machine and compare it with its build (or its GPUs' specs).

Front doors: ``dlrig bench`` and :func:`dlrig.bench` (the web app does not measure the server).
The result is :class:`~dlrig.bench.results.BenchReport` (needs ``dlrig[bench]`` for the GPU
probes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, field_validator

from dlrig.app.base import Cli, Command, Request
from dlrig.errors import InputError

if TYPE_CHECKING:
    from dlrig.bench import BenchReport
    from dlrig.bench.runner import BenchProgress
    from dlrig.catalog import Catalog

__all__ = ["BenchRequest", "run"]


class BenchRequest(Request):
    """What ``dlrig bench`` takes."""

    quick: Annotated[bool, Cli("--quick")] = Field(
        False, description="Small sizes, one shape: done in about 3 minutes."
    )
    build: Annotated[Any, Cli("--build", "-b", metavar="<path>")] = Field(
        None,
        description="Build file giving the expected figures (default: the detected GPUs' "
        "chip specs).",
    )
    disk: Annotated[list[str], Cli("--disk")] = Field(
        [],
        description="Directory whose drive to test (repeatable). PATH=DRIVE names the drive (a "
        "storage part) giving its expected read speed.",
    )
    disk_size_mb: Annotated[int | None, Cli("--disk-size-mb")] = Field(
        None,
        ge=1,
        description="Size of the disk test file in MB (default 1,074 quick, 4,295 full). Larger "
        "than RAM is most honest where the page cache cannot be bypassed.",
    )
    device: Annotated[str | None, Cli("--device")] = Field(
        None, description="cpu or cuda (default: cuda when a GPU is visible)."
    )
    only: Annotated[list[str], Cli("--only")] = Field(
        [],
        description="Run only these probes (repeatable): gemm, membw, loader, disk, allreduce.",
    )

    # checked here, before a front door starts its progress bars or minutes of measuring
    @field_validator("device")
    @classmethod
    def _device(cls, value: str | None) -> str | None:
        if value not in (None, "cpu", "cuda"):
            raise InputError(f"unknown device '{value}'", "use --device cpu or --device cuda")
        return value

    @field_validator("only")
    @classmethod
    def _probes(cls, value: list[str]) -> list[str]:
        from dlrig.bench.runner import PROBES

        unknown = [p for p in value if p not in PROBES]
        if unknown:
            raise InputError(f"unknown probe '{unknown[0]}'", "choose from: " + ", ".join(PROBES))
        return value


def run(
    req: BenchRequest, catalog: Catalog, progress: BenchProgress | None = None
) -> BenchReport | None:
    """Measure and compare. Under torchrun only the all-reduce runs, across every rank; rank 0
    gets the report and the other ranks None."""
    from dlrig.bench import BenchOptions, bench
    from dlrig.bench.allreduce import launched_by_torchrun
    from dlrig.units import BYTES_PER_GB

    mode: Literal["quick", "full"] = "quick" if req.quick else "full"
    if launched_by_torchrun():
        return _torchrun(mode, catalog)
    options = BenchOptions(
        mode=mode,
        device=req.device,  # type: ignore[arg-type]  # checked by choose_device
        disk_file_bytes=req.disk_size_mb * BYTES_PER_GB // 1000 if req.disk_size_mb else None,
    )
    if req.only:
        options.probes = tuple(req.only)
    return bench(options, catalog, req.build, list(req.disk), progress)


def _torchrun(mode: str, catalog: Catalog) -> BenchReport | None:
    from dlrig.bench import compare
    from dlrig.bench.context import full_sizes, quick_sizes
    from dlrig.bench.expected import Baseline
    from dlrig.bench.runner import run_torchrun_allreduce

    result = run_torchrun_allreduce(quick_sizes() if mode == "quick" else full_sizes())
    if result is None:
        return None
    return compare(result, Baseline(source="nothing (multi-node all-reduce)"), catalog)


COMMAND = Command("bench", BenchRequest, run, "Measure this machine against its build.", web=False)
