"""``dlrig gpus``: every GPU chip in the catalog ranked for a workload (fit, speed, price).

Front doors: ``dlrig gpus``, ``GET /api/gpus``, the ranking on the ``/size`` page, and
:func:`dlrig.gpus`. The result is :class:`GpuRanking`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from dlrig.app.base import Cli, Command, GpuFlags, WorkloadFlags
from dlrig.app.size import load_workload_input
from dlrig.errors import InputError

if TYPE_CHECKING:
    from dlrig.catalog import Catalog

__all__ = ["GpuRanking", "GpusRequest", "run"]


class GpusRequest(GpuFlags, WorkloadFlags):
    """What ``dlrig gpus`` takes: an optional workload and how to rank."""

    workload: Annotated[Any, Cli("--workload", "-w")] = Field(
        None, description="Workload YAML file (or model preset)."
    )
    sort: Annotated[str, Cli("--sort")] = Field(
        "fit", description="fit, perf, price, perf-per-dollar or perf-per-watt."
    )


@dataclass(frozen=True)
class GpuRanking:
    """The ranked chips: ``workload`` (its description, or None: ranked by dense 16-bit
    TFLOPS), the GPUs per machine, the sort key and one row per chip."""

    workload: str | None
    n_gpus: int
    sort: str
    gpus: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """The JSON ``dlrig gpus --json`` prints."""
        return {"workload": self.workload, "n_gpus": self.n_gpus, "sort": self.sort,
                "gpus": self.gpus}  # fmt: skip


def run(req: GpusRequest, catalog: Catalog, read_files: bool = True) -> GpuRanking:
    """Rank every chip of ``catalog`` for the workload (without one, by the default mix; workload
    flags without a model or a workload file are refused, as they would size nothing)."""
    from dlrig.sizing import rank_chips

    w = None
    if req.workload is not None or req.model is not None:
        w = load_workload_input(req, req.workload, read_files)
    elif req.has_flags():  # `gpus --precision fp16` ranked by the bf16 mix, and said nothing
        given = [name for name, value in req.flags().items() if value is not None]
        raise InputError(
            f"{', '.join(given)} given without a workload",
            "add --model PRESET (see dlrig size --list-models) or --workload FILE; without "
            "one, every chip is ranked by the default mix",
        )
    rows = rank_chips(catalog.chips, w, req.gpus, req.interconnect, req.utilization, req.sort)
    return GpuRanking(None if w is None else w.describe(), req.gpus, req.sort, rows)


COMMAND = Command("gpus", GpusRequest, run, "Every GPU chip ranked for a workload.")
