"""Time to train from a run's MFU, in the FLOPs accounting the run's source used.

MFU is a ratio of *model* FLOPs to peak, and sources count model FLOPs differently:

- ``palm``: 6N + 12·L·h·s per token (PaLM appendix B; Megatron; nanoGPT) — dlrig's own
  accounting (``-u`` means this);
- ``llmc``: 6N + 6·L·h·s with N every parameter (karpathy/llm.c ``gpt2_estimate_mfu``);
- ``6n``: 6N with N every parameter (Kaplan et al. 2020's C ≈ 6ND; Llama and GPT-3 compute);
- ``megatron-recompute``: 8N (Narayanan et al. 2021 eq. 4: forward, backward and the
  recomputed forward; their per-GPU TFLOP/s count it).

:func:`run_time` reproduces the published runs of ``data/measurements.yaml``
(``training_runs``); tests/test_perf_training.py holds them to ±3 %. :func:`convert_mfu`
turns a source's MFU into dlrig's accounting. This module sits above :mod:`dlrig.sizing`.
"""

from __future__ import annotations

from typing import Any

ACCOUNTINGS = ("palm", "llmc", "6n", "megatron-recompute")


def flops_per_token(model: Any, sequence: int, accounting: str = "palm") -> float:
    """Training FLOPs per token of ``model`` (a preset id or a mapping) in ``accounting``."""
    from dlrig.sizing import model_flops_per_token, param_breakdown
    from dlrig.workload import load_workload

    spec = {**model, "arch": model.get("arch", "generic")} if isinstance(model, dict) else model
    w = load_workload({"task": "train", "model": spec, "sequence": sequence})
    m = w.model
    total = param_breakdown(m).total
    attn = float(m.layers or 0) * float(m.hidden or 0) * sequence
    if accounting == "palm":
        return model_flops_per_token(w)
    if accounting == "llmc":
        return 6 * total + 6 * attn
    if accounting == "6n":
        return 6 * total
    if accounting == "megatron-recompute":
        return 8 * total
    raise ValueError(f"unknown FLOPs accounting {accounting!r}: one of {ACCOUNTINGS}")


def convert_mfu(mfu: float, model: Any, sequence: int, accounting: str) -> float:
    """The same run's MFU in dlrig's (PaLM) accounting."""
    ratio = flops_per_token(model, sequence, "palm") / flops_per_token(model, sequence, accounting)
    return mfu * ratio


def _peak(chip_id: str) -> float:
    from dlrig.catalog import open_catalog
    from dlrig.perf.chips import tensor_tflops

    peak = tensor_tflops(open_catalog().chip(chip_id), "bf16")
    assert peak is not None
    return peak


def run_mfu(run: dict[str, Any]) -> float:
    """The run's MFU in its own accounting: stated, or from its stated per-GPU rate."""
    if "mfu" in run:
        return float(run["mfu"])
    peak = _peak(run["chip"]) * 1e12
    if "tflops_per_gpu" in run:
        return float(run["tflops_per_gpu"]) * 1e12 / peak
    per_token = flops_per_token(run["model"], run["sequence"], run["accounting"])
    return float(run["tokens_per_s_per_gpu"]) * per_token / peak


def run_time(run: dict[str, Any], accounting: str | None = None) -> dict[str, float]:
    """Hours and GPU-hours of a published run from its MFU: tokens × FLOPs per token / (GPUs ×
    peak × MFU), counted in the source's accounting (or ``accounting``, converting the MFU)."""
    own = run["accounting"]
    mfu = run_mfu(run)
    acc = accounting or own
    if acc != own:
        mfu = convert_mfu(mfu, run["model"], run["sequence"], own)
        if acc != "palm":
            mfu = mfu / convert_mfu(1.0, run["model"], run["sequence"], acc)
    per_token = flops_per_token(run["model"], run["sequence"], acc)
    gpus = int(run["gpus"])
    seconds = float(run["tokens"]) * per_token / (gpus * _peak(run["chip"]) * 1e12 * mfu)
    return {"hours": seconds / 3600, "gpu_hours": seconds / 3600 * gpus}


def training_runs() -> list[dict[str, Any]]:
    """The published training runs of the measurements file."""
    from dlrig.perfcal.calibrate import measurements

    runs: list[dict[str, Any]] = measurements()["training_runs"]
    return runs
