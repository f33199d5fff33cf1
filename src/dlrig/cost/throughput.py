"""GPU throughput used to put cloud hours and owned hours on the same work.

Uses the sizing model's sustained throughput (:func:`dlrig.sizing.effective_tflops`) when it is
available, else the chip's dense peak for the precision (falling back fp16 → fp32 for chips
without the requested type, e.g. bf16 on Turing). Only ratios matter here, so the same function
is applied to the owned GPUs and to every cloud offering.
"""

from __future__ import annotations

from typing import Any

from dlrig.parts import GpuChip

FALLBACK_PRECISIONS = ("fp16", "bf16", "fp32")


def interconnect_for(chip: GpuChip) -> str:
    """SXM / NVL parts talk over NVLink; everything else in a desktop over PCIe."""
    text = f"{chip.id} {chip.name}".lower()
    return "nvlink" if ("sxm" in text or "nvl" in text) else "pcie"


def throughput_tflops(
    chip: GpuChip, n_gpus: int = 1, precision: str = "bf16", interconnect: str | None = None
) -> float | None:
    """Throughput of ``n_gpus`` of ``chip`` in TFLOPS (sustained when sizing is available)."""
    link = interconnect or interconnect_for(chip)
    effective = _effective(chip, n_gpus, precision, link)
    if effective is not None:
        return effective
    for p in (precision, *FALLBACK_PRECISIONS):
        peak = chip.peak_tflops(p)
        if peak:
            return peak * n_gpus
    return None


def _effective(chip: GpuChip, n_gpus: int, precision: str, link: str) -> float | None:
    try:
        from dlrig.sizing import effective_tflops
    except ImportError:
        return None
    fn: Any = effective_tflops
    for p in (precision, *FALLBACK_PRECISIONS):
        try:
            value = fn(chip, n_gpus=n_gpus, precision=p, interconnect=link)
        except (TypeError, ValueError, KeyError):
            return None
        except Exception:  # a sizing error on one chip must not hide the others
            return None
        if value:
            return float(value)
    return None
