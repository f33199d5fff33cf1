"""GPU throughput used to put cloud hours and owned hours on the same work.

Uses the sizing model's sustained throughput (:func:`dlrig.sizing.effective_tflops`), trying the
requested precision and then fp16 → bf16 → fp32 for chips without it (e.g. bf16 on Turing),
else the chip's dense peak. Only ratios matter here, so the same function is applied to the
owned GPUs and to every cloud offering.
"""

from __future__ import annotations

from dlrig.parts import GpuChip
from dlrig.sizing import effective_tflops

FALLBACK_PRECISIONS = ("fp16", "bf16", "fp32")


def interconnect_for(chip: GpuChip) -> str:
    """SXM / NVL parts talk over NVLink; everything else in a desktop over PCIe."""
    text = f"{chip.id} {chip.name}".lower()
    return "nvlink" if ("sxm" in text or "nvl" in text) else "pcie"


def throughput_tflops(
    chip: GpuChip, n_gpus: int = 1, precision: str = "bf16", interconnect: str | None = None
) -> float | None:
    """Throughput of ``n_gpus`` of ``chip`` in TFLOPS (sustained, else dense peak)."""
    link = interconnect or interconnect_for(chip)
    precisions = (precision, *FALLBACK_PRECISIONS)
    for p in precisions:
        sustained = effective_tflops(chip, n_gpus=n_gpus, precision=p, interconnect=link)
        if sustained:
            return float(sustained)
    for p in precisions:
        peak = chip.peak_tflops(p)
        if peak:
            return peak * n_gpus
    return None
