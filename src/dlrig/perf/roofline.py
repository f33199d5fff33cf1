"""The roofline model: per-GPU throughput of one workload class on one chip.

One step of work is split the way the kernels run:

- matmuls run at the chip's *achievable* tensor rate: the dense peak of the precision the
  matmuls run in (see :mod:`dlrig.perf.chips`), capped by what the board's power limit allows
  at the fitted TFLOPS per watt of its power class (tensor-core design and process node), × the
  class's fitted efficiency;
- everything else (norms, activations, softmax, QLoRA's dequantisation, decode's weight and
  KV-cache reads) is memory-bound and runs at the memory bandwidth × a fitted factor for the
  memory kind;
- once per step, the optimizer step reads and writes every trained parameter's state
  (memory-bound), spread over the items of the step: small batches (cards with little
  memory) pay it more often.

Training and prefill add the two times (the kernels run one after the other); batched decode
takes the larger of its memory and compute time per step (the roofline) plus a fixed latency
per layer (kernel launches, which dominate small quantised models on fast GPUs).

The fitted numbers live in ``perf/data/model.yaml`` (written by :mod:`dlrig.perfcal.calibrate`,
checked by tests/test_perf_calibration.py); docs/performance.md lists them with the fit's
residuals. This module sits below :mod:`dlrig.sizing`: it takes a :class:`Work` (the numbers of
one workload) and never imports sizing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from dlrig.parts import GpuChip
from dlrig.perf import chips as C
from dlrig.textfile import load_data_yaml

TRAINING_CLASSES = ("llm-train", "lora", "qlora", "encoder-finetune", "cnn-train")
INFERENCE_CLASSES = ("prefill", "decode", "decode-b1")
WORKLOAD_CLASSES = TRAINING_CLASSES + INFERENCE_CLASSES


@dataclass(frozen=True)
class Work:
    """The numbers of one workload the model needs (built by :func:`dlrig.sizing.work_of`).

    ``flops_per_item`` counts model FLOPs per token (per sample for vision) the way PaLM
    (Chowdhery et al. 2022, appendix B) and Megatron count them: 6N + 12·L·h·s for training,
    2N + 4·L·h·s forward only; recomputation is *not* in it (MFU, not hardware FLOPs).
    """

    cls: str
    precision: str
    flops_per_item: float
    item: str = "tokens"
    hidden: int | None = None
    layers: int = 0
    recompute: bool = False
    items_per_step: float = 1.0
    optimizer_bytes_per_step: float = 0.0
    dequant_bytes_per_step: float = 0.0
    weight_bytes: float = 0.0
    kv_bytes: float = 0.0
    batch: int = 1
    model: str | None = None
    sequence: int | None = None

    @property
    def trains(self) -> bool:
        """Whether the work is a training class."""
        return self.cls in TRAINING_CLASSES

    @property
    def hardware_factor(self) -> float:
        """Hardware FLOPs (and memory traffic) per model FLOP: recomputation runs the forward
        again, 8N instead of 6N (Narayanan et al. 2021, eq. 4), so 4/3 of both."""
        return 4.0 / 3.0 if self.recompute else 1.0


@cache
def model_data() -> dict[str, Any]:
    """``perf/data/model.yaml``: sourced defaults and the fitted parameters."""
    text = (resources.files("dlrig.perf") / "data" / "model.yaml").read_text("utf-8")
    data: dict[str, Any] = load_data_yaml(text)
    return data


def fitted() -> dict[str, Any]:
    """The fitted constants of ``perf/data/model.yaml``."""
    fit: dict[str, Any] = model_data()["fit"]
    return fit


# Classes without cross-GPU measurements of their own use a calibrated class's matmul
# efficiency and memory share; their extra memory traffic (QLoRA's dequantisation, the smaller
# optimizer step of LoRA) is modelled explicitly in Work. Decode's compute floor runs at
# prefill's rate.
REFERENCE_HIDDEN = 1024  # the hidden size bytes_per_flop is stated at

CLASS_PROXY = {
    "lora": "llm-train",
    "qlora": "lora",  # QLoRA runs LoRA's matmuls; its dequantisation is physical bytes in Work
    "decode": "prefill",
    "decode-b1": "prefill",
}


def class_params(p: dict[str, Any], cls: str) -> dict[str, Any]:
    """The fitted parameters of workload class ``cls`` (its proxy class when it has none,
    following the chain: qlora → lora → llm-train)."""
    classes: dict[str, Any] = p["classes"]
    c = cls
    while not classes.get(c):
        c = CLASS_PROXY[c]
    return dict(classes[c])


def step_latency_s(work: Work, params: dict[str, Any]) -> float:
    """Fixed time per optimizer step of a class with a fitted per-layer latency (LoRA/QLoRA):
    kernel launches and host-side work per layer and forward-equivalent pass (the backward is
    two, the recomputed forward one more), which a small step (1,024 tokens) cannot hide and a
    large one (16,384) amortises. Fitted on the LoRA/QLoRA points (calibrate._fit_peft)."""
    latency_us = float(params.get("layer_latency_us", 0.0))
    if not latency_us or not work.layers:
        return 0.0
    passes = 3.0 * work.hardware_factor  # forward + backward (2×), × 4/3 with recomputation
    return work.layers * passes * latency_us * 1e-6


def _activation_scale(work: Work) -> float:
    """fp32/tf32 runs keep 4-byte activations: twice the elementwise traffic of 16-bit."""
    return 2.0 if work.precision in ("fp32", "tf32") else 1.0


def compute_rate_flops(
    chip: GpuChip, work: Work, params: dict[str, Any] | None = None
) -> float | None:
    """Achievable matmul FLOP/s of one GPU for ``work`` (None: no rate for the precision)."""
    p = params or fitted()
    sustained = sustained_tflops(chip, work, p)
    if sustained is None:
        return None
    return sustained * 1e12 * float(class_params(p, work.cls)["efficiency"])


def sustained_tflops(
    chip: GpuChip, work: Work, params: dict[str, Any] | None = None
) -> float | None:
    """The tensor TFLOPS the board sustains for ``work``'s matmuls before the class's
    efficiency: the peak of the precision, power-capped, × the early-tensor-core factor."""
    p = params or fitted()
    accumulate = "fp32" if work.trains else "fp16"
    peak = C.tensor_tflops(chip, work.precision, accumulate)
    if peak is None:
        return None
    ref16 = C.tensor_tflops(chip, "fp16", accumulate)
    return achievable_tflops(chip, peak, p, ref16) * early_tensor_factor(chip, work, p)


def early_tensor_factor(chip: GpuChip, work: Work, p: dict[str, Any]) -> float:
    """Volta's and Turing's tensor cores (first and second generation) sustain a smaller share
    of their peak in *training* than Ampere and later: the sourced ratio in model.yaml
    (``early_tensor_cores``, Megatron-LM's MFU on V100 against A100), on tensor-core work only.

    Inference GEMMs do not get it: the ratio is a training stack's (mixed-precision kernels,
    fused optimizers, attention), while one large cuBLAS FP16 GEMM reaches ~90 % of a V100's
    peak (``early_tensor_cores.inference`` in model.yaml), the share it reaches on Ampere; the
    llama.cpp prompt rate of a V100 PCIe is 40 % of its peak, as an RTX 3090's is of its own."""
    if chip.tensor_core_gen not in (1, 2) or C.compute_dtype(work.precision) in ("fp32", "tf32"):
        return 1.0
    factor = model_data()["early_tensor_cores"]
    return float(factor["value"] if work.trains else factor["inference"]["value"])


def achievable_tflops(
    chip: GpuChip, peak: float, p: dict[str, Any], ref16: float | None = None
) -> float:
    """The tensor rate a board sustains: its peak, or what its power limit allows at the fitted
    TFLOPS per watt of its power class (full-rate 300 W workstation Ada boards, the 350 W
    H100 PCIe, the 72 W L4). Nodes without a fitted figure are not capped.

    The TFLOPS per watt are fitted on 16-bit matmuls. A precision whose peak is a multiple of
    the 16-bit one (``ref16``: FP8 on Ada/Hopper, twice the FP16 rate) does that multiple of
    the operations per joule: its tensor cores run as many cycles at the same clock and
    power, each cycle doing more, narrower operations (NVIDIA rates FP8 at twice the FP16
    throughput within the same power limit). So the cap scales with the peak's ratio to the
    16-bit peak; slower precisions (TF32) keep the 16-bit cap."""
    per_w = p.get("tflops_per_watt", {}).get(C.power_class(chip) or "", None)
    if per_w and chip.tdp_w:
        per_op = max(1.0, peak / ref16) if ref16 else 1.0
        return min(peak, float(per_w) * chip.tdp_w * per_op)
    return peak


def bandwidth_bytes(
    chip: GpuChip, work: Work, params: dict[str, Any] | None = None
) -> float | None:
    """Achievable memory bytes/s of one GPU for ``work``'s memory-bound kernels."""
    p = params or fitted()
    if chip.memory_bandwidth_gb_s is None:
        return None
    if work.cls == "decode-b1":
        return decode_bandwidth_bytes(chip, p)
    if work.cls == "decode":
        return batched_decode_bandwidth_bytes(chip, p)
    factor = float(p["memory"][C.memory_kind(chip)])
    return chip.memory_bandwidth_gb_s * 1e9 * factor


def decode_bandwidth_bytes(chip: GpuChip, p: dict[str, Any]) -> float | None:
    """Bytes/s decode's weight and KV-cache reads reach: the memory bandwidth × the fitted
    efficiency, but no more than the SMs stream (:func:`sm_stream_bytes`)."""
    if chip.memory_bandwidth_gb_s is None:
        return None
    bw = chip.memory_bandwidth_gb_s * 1e9 * float(p["decode"]["bandwidth_efficiency"])
    stream = sm_stream_bytes(chip, p)
    return bw if stream is None else min(bw, stream)


def batched_decode_bandwidth_bytes(chip: GpuChip, p: dict[str, Any]) -> float | None:
    """Bytes/s batched decode (serving engines: several sequences per step) reads its weights
    and KV cache at: the memory bandwidth × decode's fitted efficiency, without the SM
    streaming limit of :func:`sm_stream_bytes`. That limit belongs to batch-1 matrix-vector
    kernels, which keep few loads in flight per SM; a batched step runs GEMMs over the batch
    and attention kernels over many sequences' KV blocks, enough independent loads to fill
    HBM (TensorRT-LLM's FP8 batches read 2.9 TB/s on an H100 SXM: with the SM limit the model
    gave half the measured rate, the L40S within 9 %)."""
    if chip.memory_bandwidth_gb_s is None:
        return None
    return chip.memory_bandwidth_gb_s * 1e9 * float(p["decode"]["bandwidth_efficiency"])


def sm_stream_bytes(chip: GpuChip, p: dict[str, Any]) -> float | None:
    """The read rate decode's matrix-vector kernels sustain on ``chip``'s SMs: SMs × boost
    clock × the fitted bytes per SM and cycle (None: SM count or clock unknown, no limit).

    A memory-bound kernel reaches bandwidth = bytes in flight ÷ memory latency (Little's law;
    Volkov 2016, "Understanding Latency Hiding on GPUs", ch. 4); a batch-1 GEMV keeps a bounded
    number of loads in flight per SM and issues them at the SM clock, so boards with much
    bandwidth per SM (HBM: A100, H100, B200) reach a smaller share of it than GDDR boards.
    Replaces a per-memory-kind decode efficiency with one term that follows the SM count."""
    if not chip.sm_count or not chip.boost_clock_mhz:
        return None
    per_cycle = float(p["decode"]["sm_bytes_per_cycle"])
    return chip.sm_count * chip.boost_clock_mhz * 1e6 * per_cycle


def rate_per_gpu(
    chip: GpuChip, work: Work, params: dict[str, Any] | None = None, ceiling: bool = True
) -> float | None:
    """Items (tokens or samples) per second on one GPU; None when the chip lacks a figure.

    ``ceiling``: cap the rate at the MFU ceiling (off while calibrating on small benchmark
    models, whose fitted efficiencies stand for overlapped compute and memory time)."""
    p = params or fitted()
    flops = compute_rate_flops(chip, work, p)
    bw = bandwidth_bytes(chip, work, p)
    if work.cls in ("decode", "decode-b1"):
        return _decode_rate(work, flops, bw, p)
    if flops is None:
        return None
    if bw is None:
        bw = math.inf  # no bandwidth figure: the memory-bound part is left out (optimistic)
    k = float(class_params(p, work.cls)["bytes_per_flop"]) * _activation_scale(work)
    if work.hidden:
        # elementwise traffic per token and layer grows with h, matmul FLOPs with h²: the
        # memory-bound share per FLOP falls as 1/h (fitted at h = 1024)
        k *= REFERENCE_HIDDEN / work.hidden
    hw_flops = work.flops_per_item * work.hardware_factor
    step_bytes = work.optimizer_bytes_per_step + work.dequant_bytes_per_step
    if work.cls == "prefill":
        step_bytes += work.weight_bytes  # the weights are read once per prompt batch
    per_item_bytes = work.flops_per_item * k * work.hardware_factor
    per_item_bytes += step_bytes / max(work.items_per_step, 1.0)
    per_item_s = combine(hw_flops / flops, per_item_bytes / bw, float(p.get("overlap", 1.0)))
    per_item_s += step_latency_s(work, class_params(p, work.cls)) / max(work.items_per_step, 1.0)
    rate = 1.0 / per_item_s
    # the class's absolute level (its measured points' software stack; calibrate.fit)
    rate *= float(class_params(p, work.cls).get("scale", 1.0))
    if not ceiling:
        return rate
    return min(rate, mfu_cap(chip, work, p))


def mfu_cap(chip: GpuChip, work: Work, params: dict[str, Any] | None = None) -> float:
    """The rate at the MFU ceiling of what the board sustains (its power-capped peak ×
    the early-tensor-core factor): no training run or prefill reaches more."""
    sustained = sustained_tflops(chip, work, params) or 0.0
    if not sustained or not work.flops_per_item:
        return math.inf
    # the ceiling bounds the FLOPs the hardware runs: recomputation's extra forward counts
    hw_flops = work.flops_per_item * work.hardware_factor
    return float(model_data()["mfu_ceiling"]["value"]) * sustained * 1e12 / hw_flops


def combine(compute_s: float, memory_s: float, q: float) -> float:
    """Step time from its compute-bound and memory-bound parts: (c^q + m^q)^(1/q). q = 1 adds
    them (kernels in sequence), large q tends to the larger of the two (the roofline, work
    that overlaps); the calibration fits q."""
    if q <= 1.0:
        return compute_s + memory_s
    hi = max(compute_s, memory_s)
    if hi == 0:
        return 0.0
    return hi * ((compute_s / hi) ** q + (memory_s / hi) ** q) ** (1.0 / q)


def _decode_rate(
    work: Work, flops: float | None, bw: float | None, p: dict[str, Any]
) -> float | None:
    """Tokens/s of all sequences: each step reads the weights and the KV cache once
    (Pope et al. 2022, "Efficiently Scaling Transformer Inference", §2), or is compute-bound
    at large batch; plus a per-layer latency."""
    if bw is None:
        return None
    mem_s = (work.weight_bytes + work.kv_bytes) / bw
    comp_s = 0.0 if flops is None else work.batch * work.flops_per_item / flops
    latency_s = work.layers * float(p["decode"]["layer_latency_us"]) * 1e-6
    return work.batch / (max(mem_s, comp_s) + latency_s)


def mfu(chip: GpuChip, work: Work, rate: float) -> float | None:
    """Model FLOPs utilisation of ``rate`` items/s on one GPU (PaLM accounting)."""
    peak = C.tensor_tflops(chip, work.precision, "fp32" if work.trains else "fp16")
    if peak is None or work.cls in ("decode", "decode-b1"):
        return None
    return rate * work.flops_per_item / (peak * 1e12)


def log_error(predicted: float, measured: float) -> float:
    """log(predicted / measured): the error the fit minimises."""
    return math.log(predicted / measured)
