"""A throughput figure with where it comes from and how far off it may be.

:func:`estimate` answers "how fast does this work run on n GPUs of this chip":

- **measured**: a point in ``data/measurements.yaml`` at this configuration (chip, workload
  class, precision, model, sequence, GPU count and interconnect) — the figure is the
  measurement; expected error: the spread between systems in one source;
- **interpolated**: the chip was measured in this class at other configurations — the model's
  figure corrected by the chip's own residual; expected error: the class's leave-one-source-out
  median error;
- **modelled**: no measurement of the chip in this class — the model alone; expected error: the
  worst held-out source's median error of the class (AMD: the stated AMD error);
- **given**: the caller gave the utilisation (MFU), so the figure is arithmetic.

Multi-GPU figures multiply by the measured scaling of the interconnect (see
:func:`scaling_efficiency`). This module sits below :mod:`dlrig.sizing`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from dlrig.errors import WorkloadError
from dlrig.parts import GpuChip
from dlrig.perf import INTERCONNECTS
from dlrig.perf import chips as C
from dlrig.perf import roofline as M
from dlrig.textfile import load_data_yaml

NODE_GPUS = 8  # beyond this many GPUs a job spans nodes (HGX/DGX nodes hold 8)
PROVENANCES = ("measured", "interpolated", "modelled", "given")


@dataclass(frozen=True)
class Estimate:
    """Throughput of a job: ``rate`` items/s over all GPUs (None with ``reason``)."""

    rate: float | None
    unit: str
    n_gpus: int = 1
    per_gpu: float | None = None
    mfu: float | None = None
    scaling: float = 1.0
    link: str | None = None
    provenance: str = "modelled"
    expected_error: float | None = None
    basis: str = ""
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``performance`` block of ``dlrig size --json``."""
        return {
            "rate": None if self.rate is None else round(self.rate, 4),
            "unit": self.unit,
            "per_gpu": None if self.per_gpu is None else round(self.per_gpu, 4),
            "mfu": None if self.mfu is None else round(self.mfu, 4),
            "scaling_efficiency": round(self.scaling, 4),
            "interconnect": self.link,
            "provenance": self.provenance,
            "expected_error": self.expected_error,
            "basis": self.basis,
            "reason": self.reason,
        }


@cache
def _measurements() -> dict[str, Any]:
    text = (resources.files("dlrig.perf") / "data" / "measurements.yaml").read_text("utf-8")
    data: dict[str, Any] = load_data_yaml(text)
    return data


def validate_interconnect(name: str) -> None:
    """WorkloadError unless ``name`` is a known interconnect."""
    if name not in INTERCONNECTS:
        raise WorkloadError(
            f"unknown interconnect '{name}'", "choose one of: " + ", ".join(INTERCONNECTS)
        )


def resolve_link(chip: GpuChip | None, interconnect: str) -> str:
    """The measured interconnect class a requested link runs as on ``chip``."""
    validate_interconnect(interconnect)
    if interconnect in ("pcie", "pcie-switch"):
        return "pcie-p2p" if chip is not None and chip.p2p else "pcie"
    if interconnect == "nvlink":
        text = "" if chip is None else f"{chip.id} {chip.name}".lower()
        return "nvswitch" if ("sxm" in text or "nvl" in text) else "nvlink-bridge"
    return interconnect


def _table_value(by_n: dict[int, float], n: int) -> float:
    """The measured scaling at ``n`` GPUs: interpolated in log2(n) between measured counts,
    held at the largest measured count beyond it (no extrapolation by a per-doubling rule)."""
    counts = sorted(by_n)
    if n in by_n:
        return by_n[n]
    lower = [c for c in counts if c < n]
    upper = [c for c in counts if c > n]
    if not upper:
        return by_n[counts[-1]]
    lo_n, lo_v = (lower[-1], by_n[lower[-1]]) if lower else (1, 1.0)
    hi_n = upper[0]
    t = (math.log2(n) - math.log2(lo_n)) / (math.log2(hi_n) - math.log2(lo_n))
    return lo_v + t * (by_n[hi_n] - lo_v)


def scaling_efficiency(chip: GpuChip | None, n_gpus: int, interconnect: str = "pcie") -> float:
    """Per-GPU efficiency of ``n_gpus`` (rate ÷ n × single-GPU rate) from measured data.

    Within a node: the median of Lambda's measured multi-GPU rows for the interconnect class.
    Beyond 8 GPUs (or ``network``): the node's 8-GPU figure × the multi-node factor fitted on
    LLaMA 65B's published 2,048-GPU rate (see data/model.yaml, network).
    """
    link = resolve_link(chip, interconnect)
    n = max(int(n_gpus), 1)
    if n == 1:
        return 1.0
    fit = M.fitted()
    table = {k: {int(c): float(v) for c, v in by_n.items()} for k, by_n in fit["scaling"].items()}
    node_link = "nvswitch" if link == "network" else link
    by_n = table.get(node_link) or table["pcie"]
    if n <= NODE_GPUS and link != "network":
        return _table_value(by_n, n)
    node = _table_value(by_n, min(n, NODE_GPUS))
    return node * float(fit["network"]["factor"]) if n > NODE_GPUS or link == "network" else node


def _unit(work: M.Work) -> str:
    return "samples/s" if work.item == "samples" else "tokens/s"


def _validation() -> dict[str, Any]:
    summary: dict[str, Any] = M.model_data()["validation"].get("summary", {})
    return summary


# The class whose leave-one-source-out error a class without a validation row of its own
# borrows (× 1.5): its model stands in for it.
ERROR_PROXY = {"lora": "llm-train", "qlora": "lora", "decode": "decode-b1"}


def expected_error(cls: str, provenance: str, chip: GpuChip | None = None) -> float | None:
    """The expected error of a figure (a fraction: 0.15 = ±15 %)."""
    data = M.model_data()
    if provenance == "measured":
        return float(data["measured_error"]["value"])
    if provenance == "given":
        return None
    if chip is not None and chip.vendor != "nvidia":
        return float(data["amd"]["expected_error"])
    summary = _validation()
    # classes without measured points of their own borrow the nearest calibrated class's
    # error, widened by half (docs/performance.md)
    proxy = None if cls in summary else ERROR_PROXY.get(cls)
    row = summary.get(proxy or cls)
    if not row:
        return None
    key = "median_abs_error" if provenance == "interpolated" else "max_median_abs_error"
    value = float(row[key])
    if proxy:
        return round(value * 1.5, 3)
    backup = summary.get(ERROR_PROXY.get(cls, ""))
    if int(row.get("sources", 2)) < 2 and backup:
        # one held-out source says little about chips it never measured: no smaller than the
        # error of the class whose model it shares (QLoRA: LoRA's)
        value = max(value, float(backup[key]))
    return round(value, 3)


@cache
def _points_by_chip() -> dict[str, list[dict[str, Any]]]:
    """The measured points of each chip (every ranked chip asks; most have none)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for row in _measurements()["points"]:
        out.setdefault(row["chip"], []).append(row)
    return out


def _measured(chip: GpuChip, work: M.Work, n: int, link: str | None) -> tuple[float, str] | None:
    """The mean measured rate (work units, whole machine) at exactly this configuration."""
    data = _measurements()
    found: list[tuple[float, str]] = []
    for row in _points_by_chip().get(chip.id, ()):
        bench = data["benches"][row["bench"]]
        model = bench["model"] if isinstance(bench["model"], str) else None
        if (
            row["chip"] != chip.id
            or bench["class"] != work.cls
            or row["precision"] != work.precision
            or model is None
            or model != work.model
            or int(row["gpus"]) != n
            or (n > 1 and row.get("interconnect") != link)
        ):
            continue
        if bench.get("sequence") and work.sequence and int(bench["sequence"]) != work.sequence:
            continue
        if row.get("power_limit_w") or not _same_step(bench, work, row):
            continue  # a board run below its stock limit, or another batch: not this config
        scale = float(bench["sequence"]) if bench["class"] == "encoder-finetune" else 1.0
        found.append((float(row["value"]) * scale, row["source"]))
    if not found:
        return None
    value = math.exp(sum(math.log(v) for v, _ in found) / len(found))
    return value, ", ".join(sorted({s for _, s in found}))


def _same_step(bench: dict[str, Any], work: M.Work, row: dict[str, Any]) -> bool:
    """LoRA/QLoRA points are measured at one batch: their rate is this configuration's only
    when the step holds as many tokens (the fixed per-step latency is spread over them);
    batched decode points only at their batch."""
    if bench["class"] == "decode":
        return int(row.get("batch") or 0) == work.batch
    if bench["class"] not in ("lora", "qlora") or not bench.get("micro_batch"):
        return True
    tokens = int(bench["micro_batch"]) * int(bench.get("sequence") or 0)
    return tokens == int(work.items_per_step)


# Classes without measurements of their own take the chip's residual in the class that
# stands in for them (qlora: lora, whose matmuls it runs). LoRA has its own fit
# (calibrate._fit_peft), so llm-train's residuals do not carry over; batched decode reads
# without batch-1 decode's SM limit, so decode-b1's residuals do not either.
RESIDUAL_PROXY = {"qlora": "lora"}


def _residual(chip: GpuChip, cls: str) -> tuple[float, str] | None:
    table: dict[str, dict[str, float]] = M.fitted().get("chip_residuals", {})
    for c in (cls, RESIDUAL_PROXY.get(cls)):
        if c is not None and chip.id in table.get(c, {}):
            return table[c][chip.id], c
    return None


def estimate(
    chip: GpuChip,
    work: M.Work,
    n_gpus: int = 1,
    interconnect: str = "pcie",
    utilization: float | None = None,
) -> Estimate:
    """Throughput of ``work`` on ``n_gpus`` of ``chip`` with provenance and expected error.

    ``utilization`` is MFU as papers report it (PaLM accounting, whole job): it replaces the
    model and the scaling. For decode it is the fraction of peak memory bandwidth reached.
    """
    n = max(int(n_gpus), 1)
    unit = _unit(work)
    link = resolve_link(chip, interconnect) if n > 1 else None
    if utilization is not None:
        return _given(chip, work, n, link, utilization)
    single = M.rate_per_gpu(chip, work)
    if single is None:
        return Estimate(
            None, unit, n, reason=C.why_no_rate(chip, work.precision), provenance="modelled"
        )
    scale = scaling_efficiency(chip, n, interconnect) if n > 1 else 1.0
    measured = _measured(chip, work, n, link)
    if measured is not None:
        rate, source = measured
        prov, basis = "measured", f"measured: {source}"
        single = rate / n
    else:
        found = _residual(chip, work.cls)
        if found is not None and chip.vendor == "nvidia":
            residual, in_cls = found
            single *= residual
            if work.cls not in ("decode", "decode-b1"):
                single = min(single, M.mfu_cap(chip, work))
            prov = "interpolated"
            basis = f"model × {chip.name}'s measured residual in {in_cls} ({residual:g})"
        else:
            prov, basis = "modelled", "roofline model (no measurement of this chip in the class)"
        # decode with n GPUs is tensor parallel: the work already holds 1/n of the weights and
        # the KV cache, and every step produces the batch's tokens once
        rate = single * scale * (1 if work.cls in ("decode", "decode-b1") else n)
    peak = C.tensor_tflops(chip, work.precision, "fp32" if work.trains else "fp16")
    mfu = (
        None
        if peak is None or work.cls in ("decode", "decode-b1")
        else rate * work.flops_per_item / (n * peak * 1e12)
    )
    if chip.vendor == "amd" and prov != "measured":
        basis = str(M.model_data()["amd"]["statement"]).strip()
    return Estimate(
        rate=rate,
        unit=unit,
        n_gpus=n,
        per_gpu=rate / n,
        mfu=mfu,
        scaling=scale,
        link=link,
        provenance=prov,
        expected_error=expected_error(work.cls, prov, chip),
        basis=basis,
    )


def _given(chip: GpuChip, work: M.Work, n: int, link: str | None, u: float) -> Estimate:
    if not 0 < u <= 1:
        raise WorkloadError(f"utilization {u} is outside (0, 1]", "give a fraction, e.g. 0.4")
    unit = _unit(work)
    if work.cls in ("decode", "decode-b1"):
        if chip.memory_bandwidth_gb_s is None:
            return Estimate(None, unit, n, reason=f"{chip.name} has no memory bandwidth figure")
        step = (work.weight_bytes + work.kv_bytes) / (chip.memory_bandwidth_gb_s * 1e9 * u)
        rate = work.batch / step
        basis = f"{u:g} of peak memory bandwidth per decode step"
        return Estimate(rate, unit, n, rate / n, None, 1.0, link, "given", None, basis)
    peak = C.tensor_tflops(chip, work.precision, "fp32" if work.trains else "fp16")
    if peak is None:
        return Estimate(None, unit, n, reason=C.why_no_rate(chip, work.precision))
    rate = n * peak * 1e12 * u / work.flops_per_item
    basis = f"MFU {u:g} of {n} × {peak:g} TFLOPS (PaLM/Megatron FLOPs accounting)"
    return Estimate(rate, unit, n, rate / n, u, 1.0, link, "given", None, basis)
