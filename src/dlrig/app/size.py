"""``dlrig size``: GPU memory, compute, time and system needs of a workload.

Front doors: ``dlrig size``, ``POST /api/size``, the ``/size`` page, and :func:`dlrig.size`.
The result is :class:`~dlrig.sizing.SizingResult`; its ``to_dict()`` is the JSON shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from dlrig.app.base import Cli, Command, GpuFlags, WorkloadFlags, workload_ref

if TYPE_CHECKING:
    from dlrig.catalog import Catalog
    from dlrig.parts import GpuChip
    from dlrig.sizing import SizingResult
    from dlrig.workload import Workload

__all__ = ["SizeRequest", "load_workload_input", "run"]


class SizeRequest(GpuFlags, WorkloadFlags):
    """What ``dlrig size`` takes: a workload (file, preset or fields) with the workload flags
    laid over it, and the GPUs to size it on."""

    # a Workload, a mapping of its fields, a file path, a preset name or YAML text
    workload: Annotated[Any, Cli(argument=True, metavar="WORKLOAD")] = Field(
        None,
        description="Workload YAML file or model preset (or use --model and flags); "
        "on the web, the workload's fields or YAML text.",
    )
    # a chip or card name (fuzzy matched), or (from Python) a GpuChip
    gpu: Annotated[Any, Cli("--gpu", "-g")] = Field(
        None, description="GPU chip (name or id, fuzzy matched)."
    )


def load_workload_input(req: WorkloadFlags, value: Any, read_files: bool) -> Workload:
    """The workload ``value`` names (see :func:`dlrig.app.base.workload_ref`) with the request's
    workload flags laid over it."""
    from dlrig.workload import Workload, workload_from_flags

    ref = workload_ref(value, read_files)
    if isinstance(ref, Workload):
        return ref.model_copy(update={k: v for k, v in req.flags().items() if v is not None})
    return workload_from_flags(ref, **req.flags())


def gpu_chip(catalog: Catalog, gpu: GpuChip | str | None) -> GpuChip | None:
    """The chip a GPU name (chip or card, fuzzy) means in ``catalog``; a GpuChip as given."""
    if gpu is None or gpu == "":
        return None
    if isinstance(gpu, str):
        return catalog.gpu_chip(gpu)
    from dlrig.errors import InputError
    from dlrig.parts import GpuChip

    if not isinstance(gpu, GpuChip):  # a number or a list from a JSON body
        raise InputError(
            f"gpu: expected a chip name, got {type(gpu).__name__}", "write e.g. RTX 4090"
        )
    return gpu


def run(req: SizeRequest, catalog: Catalog, read_files: bool = True) -> SizingResult:
    """Size the requested workload on ``gpus`` of the requested chip."""
    from dlrig.sizing import size

    w = load_workload_input(req, req.workload, read_files)
    return size(
        w,
        gpu_chip(catalog, req.gpu),
        n_gpus=req.gpus,
        interconnect=req.interconnect,
        utilization=req.utilization,
    )


COMMAND = Command(
    "size", SizeRequest, run, "GPU memory, compute, time and system needs of a workload."
)
