"""What the performance model reads off a GPU chip: achievable-rate inputs, not marketing peaks.

- The tensor rate a precision runs at: training matmuls accumulate in FP32, which GeForce cards
  run at half their FP16-accumulate rate (the catalog's fp16/bf16 figures are already that
  rate); inference GEMMs in llama.cpp and similar accumulate in FP16 at the full rate.
- Turing and Volta have no BF16: bf16 work gets no figure (train in fp16 there) instead of
  being credited with the fp16 rate.
- TF32 exists from Ampere on; fp32 means the CUDA-core rate.
- The memory kind (HBM or GDDR) and the product segment (GeForce/TITAN, workstation,
  data-centre) are read from the die name and the product name: the calibration fits one
  factor per segment (sustained clocks: GeForce boards boost above the reference clock,
  300 W workstation boards run below it) and one per memory kind.
"""

from __future__ import annotations

import re
from typing import Literal

from dlrig.parts import GpuChip

Segment = Literal["consumer", "workstation", "datacenter"]
MemoryKind = Literal["hbm", "gddr"]

# Dies with HBM: Volta GV100, Ampere GA100, Hopper GH100, Blackwell GB100/GB200 (whitepapers).
_HBM_DIES = ("GV100", "GA100", "GH100", "GB100", "GB200", "GB110")
_WORKSTATION = re.compile(r"\bRTX (A\d{4}|\d{4} Ada|PRO)\b|Quadro|Radeon PRO|Radeon Pro", re.I)


def segment(chip: GpuChip) -> Segment:
    """consumer (GeForce, TITAN, Radeon RX), workstation (RTX A/Ada/PRO, Radeon PRO), else
    data-centre."""
    name = chip.name
    if "GeForce" in name or "TITAN" in name.upper() or "Radeon RX" in name:
        return "consumer"
    if _WORKSTATION.search(name):
        return "workstation"
    return "datacenter"


def halves_fp32_accumulate(chip: GpuChip) -> bool:
    """GeForce cards (not TITANs) run FP16/BF16 tensor math with FP32 accumulate at half rate
    (GA102 / AD102 / RTX Blackwell whitepapers); the catalog's fp16 figure is that half rate."""
    return chip.vendor == "nvidia" and "GeForce" in chip.name and bool(chip.tensor_cores)


def memory_kind(chip: GpuChip) -> MemoryKind:
    """``hbm`` or ``gddr``, from the chip's architecture and notes."""
    text = f"{chip.architecture} {chip.notes or ''}"
    if any(die in chip.architecture for die in _HBM_DIES) or "HBM" in text:
        return "hbm"
    return "gddr"


def compute_dtype(precision: str) -> str:
    """The matmul dtype a precision runs in: int8/int4 weights are dequantised to 16-bit."""
    return {"int8": "bf16", "int4": "bf16"}.get(precision, precision)


def tensor_tflops(chip: GpuChip, precision: str, accumulate: str = "fp32") -> float | None:
    """Dense peak matmul TFLOPS for ``precision`` on ``chip``; None when the chip cannot run it.

    ``accumulate="fp16"`` (inference GEMMs) doubles a GeForce card's fp16 figure, the rate its
    tensor cores reach with FP16 accumulate. Quantised weights (int8/int4) compute in bf16, or
    in fp16 on chips without bf16 (weight-only kernels dequantise to either). fp8 on a chip
    without FP8 tensor cores runs its matmuls in 16-bit.
    """
    dtype = compute_dtype(precision)
    if precision in ("int8", "int4") and chip.bf16_tflops is None:
        dtype = "fp16"
    if dtype == "fp8" and chip.fp8_tflops is None:
        dtype = "bf16" if chip.bf16_tflops is not None else "fp16"
    if dtype == "tf32" and chip.tf32_tflops is None:
        dtype = "fp32"  # pre-Ampere: TF32 does not exist, matmuls run in fp32
    peak = chip.peak_tflops(dtype)
    if peak is None and dtype == "fp16" and not chip.tensor_cores:
        # no tensor cores (Pascal GP102 runs fp16 at 1/64 rate): AMP falls back to fp32 math
        peak = chip.fp32_tflops
    if peak is None:
        return None
    if accumulate == "fp16" and dtype in ("fp16", "bf16", "fp8") and halves_fp32_accumulate(chip):
        return peak * 2
    return float(peak)


def why_no_rate(chip: GpuChip, precision: str) -> str:
    """One line: why ``chip`` has no figure for ``precision``."""
    dtype = compute_dtype(precision)
    if dtype == "bf16" and chip.fp16_tflops is not None and chip.bf16_tflops is None:
        return f"{chip.name} has no bf16 ({chip.architecture}); train in fp16 with loss scaling"
    if chip.tensor_cores and chip.fp16_tflops is None:
        return f"{chip.vendor.upper()} publishes no dense tensor rate for {chip.name}"
    return f"{chip.name} has no {dtype} rate in the catalog"
