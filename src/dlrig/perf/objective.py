"""The planner's objective: how much of the workload's own figure of merit n cards deliver.

:func:`coefficient` is what ``dlrig plan`` maximises per (card, count). It is in *effective
model TFLOPS* so the plan's table keeps one unit:

- with a workload: the estimated rate (tokens/s for inference decode, tokens/s or samples/s
  for training) × the workload's model FLOPs per token/sample. For one workload this is
  proportional to its own figure of merit, so maximising it maximises tokens/s (inference) or
  minimises time-to-train (training);
- without a workload: the documented default mix (``default_mix`` in data/model.yaml), each
  reference workload's rate relative to the reference card, weighted, times the reference
  card's LLM-training model TFLOPS ("reference-equivalent TFLOPS").

This module sits above :mod:`dlrig.sizing` (it turns a workload into work with it).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from dlrig.parts import GpuChip
from dlrig.perf import model as M
from dlrig.perf.estimate import estimate


def _mix() -> dict[str, Any]:
    mix: dict[str, Any] = M.model_data()["default_mix"]
    return mix


@cache
def _mix_works(precision: str) -> tuple[tuple[float, M.Work], ...]:
    from dlrig.sizing import work_of
    from dlrig.workload import load_workload

    out = []
    for item in _mix()["workloads"]:
        spec = dict(item["workload"])
        if spec.get("task") != "inference" and spec.get("task") not in ("qlora",):
            spec["precision"] = precision
        out.append((float(item["weight"]), work_of(load_workload(spec))))
    return tuple(out)


def _model_tflops(chip: GpuChip, work: M.Work, n: int, interconnect: str) -> float | None:
    est = estimate(chip, work, n, interconnect)
    if est.rate is None:
        return None
    return est.rate * work.flops_per_item / 1e12


@cache
def _reference_chip() -> GpuChip:
    from dlrig.catalog import open_catalog

    return open_catalog().chip(str(_mix()["reference_chip"]))


def coefficient(
    chip: GpuChip,
    n_gpus: int = 1,
    workload: Any = None,
    precision: str = "bf16",
    interconnect: str = "pcie",
) -> float | None:
    """Effective model TFLOPS of ``n_gpus`` of ``chip`` for ``workload`` (a Workload, mapping
    or path), or for the default mix at ``precision`` without one; None when the chip has no
    figure for it (e.g. bf16 on Turing)."""
    from dlrig.sizing import work_of
    from dlrig.workload import load_workload

    if workload is not None:
        w = load_workload(workload)
        return _model_tflops(chip, work_of(w, n_gpus), n_gpus, interconnect)
    ref = _reference_chip()
    total = 0.0
    for weight, work in _mix_works(precision):
        mine = _model_tflops(chip, work, n_gpus, interconnect)
        if mine is None:
            return None
        base = _model_tflops(ref, work, 1, "pcie")
        if not base:
            return None
        total += weight * mine / base
    ref_train = _model_tflops(ref, _mix_works(precision)[0][1], 1, "pcie") or 0.0
    return total * ref_train
