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
from dlrig.perf.estimate import Estimate, estimate


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
    mix: str = "all",
) -> float | None:
    """Effective model TFLOPS of ``n_gpus`` of ``chip`` for ``workload`` (a Workload, mapping
    or path), or for the default mix at ``precision`` without one; None when the chip has no
    figure for it (e.g. bf16 on Turing). ``mix="training"`` keeps the mix's training workloads
    only (``dlrig cost`` compares rented *training* hours)."""
    from dlrig.sizing import work_of
    from dlrig.workload import load_workload

    if workload is not None:
        w = load_workload(workload)
        return _model_tflops(chip, work_of(w, n_gpus), n_gpus, interconnect)
    return _mix_coefficient(chip, n_gpus, precision, interconnect, mix)


_MIX_CACHE: dict[tuple[str, int, str, str, str], float | None] = {}


def _mix_coefficient(
    chip: GpuChip, n_gpus: int, precision: str, interconnect: str, mix: str
) -> float | None:
    """The default mix's coefficient (cached per chip id: the planner asks for every card)."""
    key = chip.id if chip.origin == "builtin" else f"{chip.id}@{id(chip)}"
    k = (key, n_gpus, precision, interconnect, mix)
    if k not in _MIX_CACHE:
        _MIX_CACHE[k] = _mix_value(chip, n_gpus, precision, interconnect, mix)
    return _MIX_CACHE[k]


def _mix_value(
    chip: GpuChip, n_gpus: int, precision: str, interconnect: str, mix: str
) -> float | None:
    ref = _reference_chip()
    total = weights = 0.0
    for weight, work in _mix_works(precision):
        if mix == "training" and not work.trains:
            continue
        mine = _model_tflops(chip, work, n_gpus, interconnect)
        base = _model_tflops(ref, work, 1, "pcie")
        if mine is None and (chip.memory_bandwidth_gb_s is not None or work.trains):
            return None  # no rate for the precision (e.g. bf16 on Turing, no tensor figure)
        if mine is None or not base:
            continue  # decode on a chip without a bandwidth figure: the rest of the mix
        total += weight * mine / base
        weights += weight
    if not weights:
        return None
    ref_train = _model_tflops(ref, _mix_works(precision)[0][1], 1, "pcie") or 0.0
    return total / weights * ref_train


def mix_estimate(chip: GpuChip, n_gpus: int = 1, interconnect: str = "pcie") -> Estimate:
    """The default mix as an :class:`Estimate` (for ``dlrig gpus`` without a workload): the
    coefficient at the chip's best 16-bit training precision, the weakest provenance of the
    mix's parts and the largest expected error among them."""
    precision = "bf16" if chip.bf16_tflops is not None else "fp16"
    value = coefficient(chip, n_gpus, None, precision, interconnect)
    unit = f"mix TFLOPS ({precision})"
    if value is None:
        from dlrig.perf.chips import why_no_rate

        return Estimate(None, unit, n_gpus, reason=why_no_rate(chip, precision))
    parts = [estimate(chip, work, n_gpus, interconnect) for _, work in _mix_works(precision)]
    order = {"measured": 0, "given": 0, "interpolated": 1, "modelled": 2}
    worst = max((e for e in parts if e.rate is not None), key=lambda e: order[e.provenance])
    errors = [e.expected_error for e in parts if e.expected_error is not None]
    return Estimate(
        rate=value,
        unit=unit,
        n_gpus=n_gpus,
        per_gpu=value / n_gpus,
        provenance=worst.provenance,
        expected_error=max(errors) if errors else None,
        basis=f"default mix, {precision} (docs/performance.md); "
        + (worst.basis if chip.vendor != "nvidia" else "weakest part: " + worst.provenance),
    )
