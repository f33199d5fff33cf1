"""GPU throughput used to put cloud hours and owned hours on the same work.

Uses the performance model (:mod:`dlrig.perf`): the planner's objective coefficient for the
training workloads of the default mix at the requested precision (renting a GPU by the hour
is compared for training work), or a given workload's own rate, both in effective model
TFLOPS. A chip with no figure for the precision (bf16 on Turing or Volta) is
measured in fp16 instead, the precision it would train in; a chip with no figure at all gives
None. Only ratios matter here, so the same function is applied to the owned GPUs and to every
cloud offering.
"""

from __future__ import annotations

from typing import Any

from dlrig.parts import GpuChip
from dlrig.sizing import objective_coefficient as coefficient

# bf16 on a chip without it trains in fp16 (loss scaling), the closest it can run
FALLBACK_PRECISIONS = {"bf16": "fp16", "fp8": "bf16"}


def interconnect_for(chip: GpuChip) -> str:
    """SXM / NVL parts talk over NVLink; everything else in a desktop over PCIe."""
    text = f"{chip.id} {chip.name}".lower()
    return "nvlink" if ("sxm" in text or "nvl" in text) else "pcie"


def throughput_tflops(
    chip: GpuChip,
    n_gpus: int = 1,
    precision: str = "bf16",
    interconnect: str | None = None,
    workload: Any = None,
) -> float | None:
    """Effective model TFLOPS of ``n_gpus`` of ``chip`` for ``workload`` (default mix without)."""
    link = interconnect or interconnect_for(chip)
    seen = set()
    p: str | None = precision
    while p is not None and p not in seen:
        seen.add(p)
        value = coefficient(chip, n_gpus, workload, p, link, mix="training")
        if value:
            return float(value)
        p = FALLBACK_PRECISIONS.get(p)
    return None
