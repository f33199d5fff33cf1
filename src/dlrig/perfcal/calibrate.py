"""Fit the performance model to the measured points and validate it leaving one source out.

``python -m dlrig.perfcal.calibrate --write`` refits and rewrites the ``fit:`` and
``validation:`` sections of ``perf/data/model.yaml``; benchmarks/perf_validate.py prints the
leave-one-source-out figures. Pure Python (coordinate descent over log-spaced grids): the base
install has no numpy.

What is fitted (docs/performance.md):

- relative (the shape of the model across chips; points normalised per source and bench):
  on the training points, the bandwidth factor for HBM (GDDR = 1) and per class the
  memory-bound bytes per model FLOP,
  by Levenberg-Marquardt in log space; on the prefill points, prefill's bytes per FLOP and, per
  power class (chips.power_class), the tensor TFLOPS per watt of power limit (a grid: the
  cap binds or not);
- absolute: per class the matmul efficiency (geometric mean of measured ÷ predicted over the
  points whose FLOPs are known); decode's bandwidth efficiency, its per-layer latency and
  what its SMs cost per byte and per weight read (:func:`_fit_decode`);
- per chip and class, the residual of the chip's own points (used to *interpolate* a chip
  that has measurements in the class at other configurations; never by the validation);
- multi-GPU scaling per interconnect and GPU count: the median of rate(n) ÷ (n × rate(1)) over
  the measured multi-GPU rows; the multi-node factor from LLaMA 65B's published rate.

Each Lambda point runs at the per-GPU batch Lambda used (its batch-size tables, by the card's
memory), so the optimizer step is spread over the right number of items: cards with little
memory run small batches and pay the step more often.

This module sits above :mod:`dlrig.sizing` (it builds each bench's workload with it).
"""

from __future__ import annotations

import argparse
import copy
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from dlrig.parts import GpuChip
from dlrig.perf import chips as C
from dlrig.perf import roofline as M

TRAINING_SHAPE_CLASSES = ("encoder-finetune", "cnn-train", "llm-train")
RELATIVE_CLASSES = (*TRAINING_SHAPE_CLASSES, "prefill")
# Bounds of the relative parameters (log space), physical ranges that keep the fit from
# trading one term for another outside what the kernels can do:
# - hbm: HBM against GDDR bandwidth reached by memory-bound kernels;
# - bytes_per_flop: elementwise traffic per model FLOP at efficiency 1 and h = 1024; a
#   transformer layer moves a few hundred bytes per hidden unit and token (norms,
#   activations, dropout masks, softmax; forward and backward) against 72·h² FLOPs, about
#   0.003-0.01 at h = 1024, so at most 0.02; a CNN's activations per FLOP are larger
#   (batch norm and ReLU over every feature map): at most 0.1;
# - efficiency: the matmuls' share of the sustained tensor rate, at most 1.
_BOUNDS = {
    "hbm": (0.5, 1.5),
    "bytes_per_flop": (1e-4, 0.02),
    "bytes_per_flop_cnn": (1e-4, 0.1),
    "efficiency": (0.05, 1.0),
}
_WATT_GRID = (0.2, 5.0)


@dataclass(frozen=True)
class Point:
    """One measured throughput: source, benchmark, class, chip, precision, GPUs and the figure."""

    source: str
    bench: str
    cls: str
    chip: GpuChip
    precision: str
    gpus: int
    value: float  # in the work's unit (tokens/s or samples/s) for the whole machine
    interconnect: str | None
    relative_only: bool
    micro_batch: int | None = None


@cache
def measurements() -> dict[str, Any]:
    """The measurements file (``perf/data/measurements.yaml``)."""
    text = (resources.files("dlrig.perf") / "data" / "measurements.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _catalog_chips() -> dict[str, GpuChip]:
    from dlrig.catalog import open_catalog

    return {c.id: c for c in open_catalog().chips}


def bench_workload(bench: dict[str, Any], precision: str, micro_batch: int | None = None) -> Any:
    """The dlrig workload a bench ran, built from its entry in measurements.yaml."""
    from dlrig.workload import load_workload

    cls = bench["class"]
    task = {
        "encoder-finetune": "finetune",
        "llm-train": "train",
        "cnn-train": "train",
        "prefill": "inference",
        "decode-b1": "inference",
        "decode": "inference",
        "lora": "lora",
        "qlora": "qlora",
    }[cls]
    model = bench["model"]
    if isinstance(model, dict):
        model = {**model, "arch": model.get("arch", "generic")}
    spec: dict[str, Any] = {
        "task": task,
        "model": model,
        "precision": precision,
        "micro_batch": micro_batch or bench.get("micro_batch", 1 if task == "inference" else 32),
    }
    if bench.get("sequence"):
        spec["sequence"] = bench["sequence"]
    if bench.get("quant_bits"):
        spec["quant_bits"] = bench["quant_bits"]
    for key in ("lora", "gradient_checkpointing"):
        if key in bench:
            spec[key] = bench[key]
    if cls == "prefill":
        spec["inference"] = {"prompt_tokens": bench["sequence"], "new_tokens": 1}
    elif cls == "decode-b1":
        spec["inference"] = {"prompt_tokens": 1, "new_tokens": 512}
    elif cls == "decode":
        spec["inference"] = {
            "prompt_tokens": bench["prompt_tokens"],
            "new_tokens": bench["new_tokens"],
        }
    return load_workload(spec)


@cache
def bench_work(bench_id: str, precision: str, micro_batch: int | None = None) -> M.Work:
    """The :class:`Work` of benchmark ``bench_id`` at ``precision`` (and per-GPU batch)."""
    from dlrig.sizing import work_of

    bench = measurements()["benches"][bench_id]
    w = bench_workload(bench, precision, micro_batch)
    work = work_of(w, phase="prefill" if bench["class"] == "prefill" else "decode")
    if bench.get("weight_gb"):
        work = replace(work, weight_bytes=float(bench["weight_gb"]) * 1e9)
    if precision == "tf32":
        # a workload spells TF32 as fp32 (same memory); the matmuls ran on TF32 tensor cores
        work = replace(work, precision="tf32")
    return work


def bench_item_scale(bench_id: str) -> float:
    """Multiply a bench's published rate by this to get the work's items/s: BERT publishes
    sequences/s, the model counts tokens."""
    bench = measurements()["benches"][bench_id]
    if bench["class"] == "encoder-finetune":
        return float(bench["sequence"])
    return 1.0


def source_batch(source: str, bench_id: str, precision: str, chip: GpuChip) -> int | None:
    """The per-GPU batch a source ran ``bench_id`` at on ``chip`` (its batch-size table by the
    card's memory), None when the source publishes none. A 0 in the table (the bench did
    not fit) or a memory size it lacks is an error in the data file."""
    table = measurements()["sources"][source].get("batch")
    if not table:
        return None
    kind = "fp16" if precision in ("fp16", "bf16") else "fp32"
    by_vram = table["by_vram_gib"][kind]
    if chip.vram_gib is None:
        raise ValueError(f"{source}: {chip.id} has no memory size to look its batch up by")
    vram = round(chip.vram_gib)
    if vram not in by_vram:
        raise ValueError(f"{source}: no batch for {vram} GiB ({chip.id})")
    batch = int(by_vram[vram][table["benches"].index(bench_id)])
    if batch <= 0:
        raise ValueError(f"{source}: {bench_id} did not run on {vram} GiB ({chip.id})")
    return batch


@cache
def points() -> tuple[Point, ...]:
    """Every measured point whose chip the catalog knows."""
    data = measurements()
    chips = _catalog_chips()
    out = []
    for row in data["points"]:
        bench = data["benches"][row["bench"]]
        chip = chips[row["chip"]]
        if row.get("power_limit_w"):
            # a board run below its stock limit (nvidia-smi -pl): the power cap sees that limit
            chip = chip.model_copy(update={"tdp_w": int(row["power_limit_w"])})
        out.append(
            Point(
                source=row["source"],
                bench=row["bench"],
                cls=bench["class"],
                chip=chip,
                precision=row["precision"],
                gpus=int(row["gpus"]),
                value=float(row["value"]) * bench_item_scale(row["bench"]),
                interconnect=row.get("interconnect"),
                relative_only=bool(bench.get("relative_only", False)),
                micro_batch=int(row["batch"])
                if row.get("batch")
                else source_batch(row["source"], row["bench"], row["precision"], chip),
            )
        )
    return tuple(out)


# --- parameters ----------------------------------------------------------------------------


def default_params() -> dict[str, Any]:
    """The fit's starting parameters."""
    return {
        "tflops_per_watt": {},
        "memory": {"gddr": 1.0, "hbm": 1.0},
        "classes": {
            c: {"efficiency": 1.0, "bytes_per_flop": 0.005}
            for c in ("llm-train", "encoder-finetune", "cnn-train", "prefill")
        },
        "decode": {
            "bandwidth_efficiency": 0.8,
            "sm_bytes_per_cycle": 6.0,
            "sm_cycles_per_weight": 0.0,
            "layer_latency_us": 50.0,
        },
    }


def _grid(lo: float, hi: float, n: int = 41) -> list[float]:
    return [lo * (hi / lo) ** (i / (n - 1)) for i in range(n)]


def _predict(p: dict[str, Any], pt: Point) -> float | None:
    work = bench_work(pt.bench, pt.precision, pt.micro_batch)
    return M.rate_per_gpu(pt.chip, work, p, ceiling=False)


def _relative_residuals(p: dict[str, Any], pts: list[Point]) -> list[float]:
    """log(pred/measured) minus its mean per (source, bench, precision)."""
    groups: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for pt in pts:
        pred = _predict(p, pt)
        if pred:
            groups[(pt.source, pt.bench, pt.precision)].append(math.log(pred / pt.value))
    out: list[float] = []
    for vals in groups.values():
        if len(vals) < 2:
            continue
        mean = sum(vals) / len(vals)
        out.extend(v - mean for v in vals)
    return out


def _sse(vals: list[float]) -> float:
    return sum(v * v for v in vals)


def _copy(p: Any) -> Any:
    """Deep copy of the parameters' plain data, mappings with their keys sorted: the same
    result as the YAML round trip (``safe_load(safe_dump(p))``, which sorts keys and gives
    floats back exactly) that this replaces, without its parsing cost (most of a fit's time)."""
    if isinstance(p, dict):
        return {k: _copy(p[k]) for k in sorted(p)}
    if isinstance(p, list):
        return [_copy(v) for v in p]
    return p


def _set(p: dict[str, Any], key: tuple[str, ...], value: float) -> dict[str, Any]:
    q = _copy(p)
    node = q
    for k in key[:-1]:
        node = node[k]
    node[key[-1]] = value
    return q


def _absolute_points(cls: str, pts: list[Point]) -> list[Point]:
    return [pt for pt in pts if pt.cls == cls and not pt.relative_only]


def _implied_efficiency(p: dict[str, Any], cls: str, pts: list[Point]) -> float | None:
    """Geometric mean of measured ÷ predicted (per GPU) over the class's absolute points."""
    table = scaling_table(pts)
    logs = []
    for pt in _absolute_points(cls, pts):
        eff = 1.0 if pt.gpus == 1 else lookup_scaling(table, pt.interconnect or "", pt.gpus)
        pred = _predict(p, pt)
        if pred and eff:
            logs.append(math.log(pt.value / (pt.gpus * eff) / pred))
    return p["classes"][cls]["efficiency"] * math.exp(sum(logs) / len(logs)) if logs else None


def fit(pts: list[Point], rounds: int = 3) -> dict[str, Any]:
    """Fitted parameters from the points ``pts`` (see the module docstring)."""
    p = default_params()
    single = [pt for pt in pts if pt.gpus == 1]
    train = [pt for pt in single if pt.cls in TRAINING_SHAPE_CLASSES]
    prefill = [pt for pt in single if pt.cls == "prefill"]
    t_keys: list[tuple[tuple[str, ...], tuple[float, float]]] = [
        (("memory", "hbm"), _BOUNDS["hbm"]),
    ]

    for c in sorted({pt.cls for pt in train}):
        # the optimizer step is physical bytes, so the per-item terms' level against it (the
        # matmul efficiency) is part of the shape: batch size moves a chip's rate through it
        t_keys.append((("classes", c, "efficiency"), _BOUNDS["efficiency"]))
        bound = _BOUNDS["bytes_per_flop_cnn" if c == "cnn-train" else "bytes_per_flop"]
        t_keys.append((("classes", c, "bytes_per_flop"), bound))
    # a power class's cap is fitted only where two or more of its boards were measured: with
    # one it would be that board's own correction, not a property of the class
    boards: dict[str, set[str]] = defaultdict(set)
    for pt in prefill:
        if node := C.power_class(pt.chip):
            boards[node].add(pt.chip.id)
    nodes = sorted(n for n, ids in boards.items() if len(ids) >= 2)
    for _ in range(rounds):
        if train:
            p = _levenberg_marquardt(p, t_keys, train)
        if prefill:
            p = _levenberg_marquardt(
                p, [(("classes", "prefill", "bytes_per_flop"), _BOUNDS["bytes_per_flop"])], prefill
            )
            for node in nodes:
                p = _fit_power_cap(p, node, prefill)
    # Absolute levels. Prefill's relative fit ran at efficiency 1, where bytes_per_flop is the
    # product k·e that sets the shape: scaling the efficiency by s and bytes_per_flop by 1/s
    # scales its predictions by s. A training class's shape includes its efficiency (the
    # optimizer step is physical bytes), so its absolute points set a separate level factor
    # (``scale``) that multiplies the whole rate and leaves the shape as fitted: llm.c's fused
    # kernels run faster than Transformer-XL's shape alone would say.
    for c in sorted({pt.cls for pt in single if pt.cls in RELATIVE_CLASSES}):
        e = _implied_efficiency(p, c, pts)
        if e is None:
            continue
        factor = e / p["classes"][c]["efficiency"]
        if c in TRAINING_SHAPE_CLASSES:
            p["classes"][c]["scale"] = factor
        else:
            _rescale(p, c, factor)
    _fit_decode(p, [pt for pt in single if pt.cls == "decode-b1"])
    _fit_peft(p, [pt for pt in single if pt.cls in PEFT_CLASSES])
    return _rounded(p)


def _get(p: dict[str, Any], key: tuple[str, ...]) -> float:
    node: Any = p
    for k in key:
        node = node[k]
    return float(node)


def _levenberg_marquardt(
    p: dict[str, Any],
    keys: list[tuple[tuple[str, ...], tuple[float, float]]],
    pts: list[Point],
    iterations: int = 30,
) -> dict[str, Any]:
    """Least squares of the relative log residuals over ``keys`` (log space, clipped to the
    bounds): Levenberg-Marquardt with a forward-difference Jacobian, in pure Python."""

    def params(x: list[float]) -> dict[str, Any]:
        q = p
        for (key, _), v in zip(keys, x, strict=True):
            q = _set(q, key, math.exp(v))
        return q

    def clip(x: list[float]) -> list[float]:
        return [
            min(max(v, math.log(lo)), math.log(hi))
            for v, (_, (lo, hi)) in zip(x, keys, strict=True)
        ]

    x = clip([math.log(_get(p, key)) for key, _ in keys])
    r = _relative_residuals(params(x), pts)
    cost, lam, h = _sse(r), 1e-2, 1e-4
    for _ in range(iterations):
        cols = []
        for i in range(len(x)):
            xi = list(x)
            xi[i] += h
            ri = _relative_residuals(params(xi), pts)
            cols.append([(b - a) / h for a, b in zip(r, ri, strict=True)])
        jtj = [[sum(a * b for a, b in zip(ci, cj, strict=True)) for cj in cols] for ci in cols]
        jtr = [sum(a * b for a, b in zip(ci, r, strict=True)) for ci in cols]
        improved = False
        while lam < 1e6:
            a = [
                [v + (lam * (v + 1e-9) if i == j else 0.0) for j, v in enumerate(row)]
                for i, row in enumerate(jtj)
            ]
            step = _solve(a, [-g for g in jtr])
            xn = clip([v + d for v, d in zip(x, step, strict=True)])
            rn = _relative_residuals(params(xn), pts)
            if _sse(rn) < cost:
                x, r, cost, lam, improved = xn, rn, _sse(rn), max(lam / 3, 1e-6), True
                break
            lam *= 4
        if not improved or max(abs(d) for d in step) < 1e-5:
            break
    return params(x)


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (a few unknowns)."""
    n = len(b)
    m = [[*row, b[i]] for i, row in enumerate(a)]
    for col in range(n):
        piv = max(range(col, n), key=lambda i: abs(m[i][col]))
        m[col], m[piv] = m[piv], m[col]
        if m[col][col] == 0:
            return [0.0] * n
        for i in range(col + 1, n):
            f = m[i][col] / m[col][col]
            m[i] = [u - f * v for u, v in zip(m[i], m[col], strict=True)]
    out = [0.0] * n
    for i in reversed(range(n)):
        out[i] = (m[i][n] - sum(m[i][j] * out[j] for j in range(i + 1, n))) / m[i][i]
    return out


def _fit_power_cap(p: dict[str, Any], node: str, pts: list[Point]) -> dict[str, Any]:
    """TFLOPS per watt of power class ``node``: the grid value with the smallest relative
    error; when the cap binds for no board measured (every large value fits equally), none."""
    grid = _grid(*_WATT_GRID, n=97)
    scores = [
        (_sse(_relative_residuals(_set(p, ("tflops_per_watt", node), v), pts)), v) for v in grid
    ]
    best, value = min(scores)
    uncapped = {k: v for k, v in p["tflops_per_watt"].items() if k != node}
    if _sse(_relative_residuals({**p, "tflops_per_watt": uncapped}, pts)) <= best * (1 + 1e-9):
        return {**p, "tflops_per_watt": uncapped}
    return _set(p, ("tflops_per_watt", node), value)


def _rescale(p: dict[str, Any], cls: str, e: float) -> None:
    node = p["classes"][cls]
    node["efficiency"] = node["efficiency"] * e
    node["bytes_per_flop"] = node["bytes_per_flop"] / e


@dataclass(frozen=True)
class _DecodeTerms:
    """One decode point's inputs to :func:`dlrig.perf.roofline._decode_rate`, so the decode
    fit evaluates its grids as arithmetic instead of rebuilding the work per candidate."""

    value: float
    bandwidth: float  # bytes/s at efficiency 1
    sm_cycles: float | None
    read_bytes: float
    weights: float
    layers: int
    batch: int
    compute_s: float


def _decode_terms(p: dict[str, Any], pt: Point) -> _DecodeTerms | None:
    work = bench_work(pt.bench, pt.precision, pt.micro_batch)
    if pt.chip.memory_bandwidth_gb_s is None:
        return None
    flops = M.compute_rate_flops(pt.chip, work, p)
    return _DecodeTerms(
        value=pt.value,
        bandwidth=pt.chip.memory_bandwidth_gb_s * 1e9,
        sm_cycles=M.sm_cycles_per_s(pt.chip),
        read_bytes=work.weight_bytes + work.kv_bytes,
        weights=work.weight_count,
        layers=work.layers,
        batch=work.batch,
        compute_s=0.0 if flops is None else work.batch * work.flops_per_item / flops,
    )


def _decode_rate(d: dict[str, float], t: _DecodeTerms) -> float:
    """The same arithmetic as roofline's decode path (tests/test_perf_calibration.py checks
    it against :func:`dlrig.perf.roofline.rate_per_gpu`)."""
    read_s = t.read_bytes / (t.bandwidth * d["bandwidth_efficiency"])
    if t.sm_cycles:
        sm_s = t.read_bytes / d["sm_bytes_per_cycle"] + t.weights * d["sm_cycles_per_weight"]
        read_s = max(read_s, sm_s / t.sm_cycles)
    latency_s = t.layers * d["layer_latency_us"] * 1e-6
    return t.batch / (max(read_s, t.compute_s) + latency_s)


def _fit_decode(p: dict[str, Any], pts: list[Point]) -> None:
    """Decode's bandwidth efficiency, per-layer latency and SM costs (bytes and weights per
    SM-cycle) by least squares of log(predicted ÷ measured) over the decode points: 1-D grids
    for the first two, a 2-D grid for the SM costs (they trade against each other)."""
    terms = [t for t in (_decode_terms(p, pt) for pt in pts) if t is not None]
    if not terms:
        return

    def err(d: dict[str, float]) -> float:
        return sum(math.log(_decode_rate(d, t) / t.value) ** 2 for t in terms)

    d = {k: float(v) for k, v in p["decode"].items()}
    one_d = {
        "bandwidth_efficiency": _grid(0.3, 1.0),
        "layer_latency_us": _grid(1.0, 400.0, 61),
    }
    sm_grid = [
        (b, w)
        for b in _grid(2.0, 20.0, 41)
        # 0: the SMs spend nothing per weight beyond its bytes (the model before the term)
        for w in (0.0, *_grid(0.002, 0.2, 40))
    ]
    for _ in range(4):
        for key, grid in one_d.items():
            d[key] = min(grid, key=lambda v: err({**d, key: v}))
        b, w = min(
            sm_grid,
            key=lambda bw: err({**d, "sm_bytes_per_cycle": bw[0], "sm_cycles_per_weight": bw[1]}),
        )
        d["sm_bytes_per_cycle"], d["sm_cycles_per_weight"] = b, w
    p["decode"] = d


PEFT_CLASSES = ("lora", "qlora")


def _fit_peft(p: dict[str, Any], pts: list[Point]) -> None:
    """LoRA / QLoRA: the matmul efficiency and the fixed latency per layer and pass
    (roofline.step_latency_s), by coordinate descent on the absolute log error of the LoRA and
    QLoRA points together (QLoRA's extra cost, the NF4 dequantisation, is physical bytes and not
    fitted). The memory-bound share per FLOP is llm-train's. Without points the classes keep
    llm-train's parameters (roofline.CLASS_PROXY)."""
    if len({pt.chip.id for pt in pts}) < 2:
        return
    base = p["classes"].get("llm-train", {})
    p["classes"]["lora"] = {
        "efficiency": 0.5,
        "bytes_per_flop": float(base.get("bytes_per_flop", 0.005)),
        "layer_latency_us": 100.0,
    }

    def err(q: dict[str, Any]) -> float:
        out = 0.0
        for pt in pts:
            pred = _predict(q, pt)
            out += math.log(pred / pt.value) ** 2 if pred else 10.0
        return out

    keys = [
        (("classes", "lora", "efficiency"), _grid(*_BOUNDS["efficiency"], 61)),
        (("classes", "lora", "layer_latency_us"), _grid(1.0, 20000.0, 61)),
    ]
    for _ in range(4):
        for key, grid in keys:
            best = min(grid, key=lambda v: err(_set(p, key, v)))
            p = _set_inplace(p, key, best)


def _set_inplace(p: dict[str, Any], key: tuple[str, ...], value: float) -> dict[str, Any]:
    node = p
    for k in key[:-1]:
        node = node[k]
    node[key[-1]] = value
    return p


def _rounded(p: Any) -> Any:
    if isinstance(p, dict):
        return {k: _rounded(v) for k, v in p.items()}
    if isinstance(p, float):
        return float(f"{p:.4g}")
    return p


# --- per-chip residuals and scaling ---------------------------------------------------------


def chip_residuals(p: dict[str, Any], pts: list[Point]) -> dict[str, dict[str, float]]:
    """Per class and chip: geometric mean of measured ÷ predicted over the chip's single-GPU
    points, after removing each (source, bench)'s mean (so it is a relative correction)."""
    groups: dict[tuple[str, str, str], list[tuple[str, str, float]]] = defaultdict(list)
    for pt in pts:
        if pt.gpus != 1:
            continue
        pred = _predict(p, pt)
        if pred:
            groups[(pt.source, pt.bench, pt.precision)].append(
                (pt.cls, pt.chip.id, math.log(pt.value / pred))
            )
    per: dict[tuple[str, str], list[float]] = defaultdict(list)
    for vals in groups.values():
        if len(vals) < 2:
            continue
        mean = sum(v for *_, v in vals) / len(vals)
        for cls, chip, v in vals:
            per[(cls, chip)].append(v - mean)
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for (cls, chip), logs in sorted(per.items()):
        out[cls][chip] = round(math.exp(sum(logs) / len(logs)), 3)
    return dict(out)


def scaling_table(pts: list[Point] | tuple[Point, ...]) -> dict[str, dict[int, float]]:
    """Median rate(n) ÷ (n × rate(1)) per interconnect and GPU count over measured rows."""
    single = {
        (pt.source, pt.bench, pt.chip.id, pt.precision): pt.value for pt in pts if pt.gpus == 1
    }
    ratios: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for pt in pts:
        if pt.gpus > 1 and pt.interconnect:
            base = single.get((pt.source, pt.bench, pt.chip.id, pt.precision))
            if base:
                ratios[pt.interconnect][pt.gpus].append(pt.value / (pt.gpus * base))
    return {
        link: {n: round(statistics.median(v), 3) for n, v in sorted(by_n.items())}
        for link, by_n in sorted(ratios.items())
    }


def lookup_scaling(table: dict[str, dict[int, float]], link: str, n: int) -> float | None:
    """The measured multi-GPU scaling of ``n`` GPUs over ``link``, or None."""
    by_n = table.get(link)
    if not by_n:
        return None
    if n in by_n:
        return by_n[n]
    return None


def network_factor(p: dict[str, Any], table: dict[str, dict[int, float]]) -> dict[str, Any]:
    """Per-GPU rate of LLaMA 65B on 2,048 A100 ÷ (the model's single-GPU rate × measured
    8-GPU NVSwitch scaling)."""
    from dlrig.workload import load_workload

    run = next(r for r in measurements()["training_runs"] if r["id"] == "llama-65b")
    chip = _catalog_chips()[run["chip"]]
    w = load_workload(
        {"task": "train", "model": {**run["model"], "arch": "llama"}, "sequence": run["sequence"]}
    )
    from dlrig.sizing import work_of

    work = replace(work_of(w), optimizer_bytes_per_step=0.0)  # ZeRO-sharded across 2,048
    pred = M.rate_per_gpu(chip, work, p) or 1.0
    node = lookup_scaling(table, "nvswitch", 8) or 1.0
    factor = float(run["tokens_per_s_per_gpu"]) / (pred * node)
    return {"factor": round(min(factor, 1.0), 3), "calibrated_gpus": int(run["gpus"])}


MIX_PRECISIONS = ("fp32", "tf32", "fp16", "bf16", "fp8", "int8", "int4")


def default_mix_reference(p: dict[str, Any]) -> dict[str, list[float]]:
    """Per precision, the reference card's model TFLOPS on each default-mix workload (what
    :func:`dlrig.sizing.objective_coefficient` normalises by), with the fitted ``p``."""
    from dlrig.perf.estimate import estimate
    from dlrig.sizing import default_mix_works

    chip = _catalog_chips()[str(M.model_data()["default_mix"]["reference_chip"])]
    saved = M.fitted
    M.fitted = lambda: p  # estimate() with the fresh fit
    try:
        out: dict[str, list[float]] = {}
        for precision in MIX_PRECISIONS:
            values = []
            for _, work in default_mix_works(precision):
                est = estimate(chip, work)
                values.append(0.0 if est.rate is None else est.rate * work.flops_per_item / 1e12)
            out[precision] = [float(f"{v:.5g}") for v in values]
        return out
    finally:
        M.fitted = saved


# --- validation ----------------------------------------------------------------------------


def spearman(xs: list[float], ys: list[float]) -> float:
    """Spearman rank correlation of two equal-length lists."""

    def ranks(v: list[float]) -> list[float]:
        order = sorted(range(len(v)), key=lambda i: v[i])
        r = [0.0] * len(v)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and v[order[j + 1]] == v[order[i]]:
                j += 1
            for k in range(i, j + 1):
                r[order[k]] = (i + j) / 2
            i = j + 1
        return r

    if len(xs) < 2:
        return float("nan")
    rx, ry = ranks(xs), ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    vx = math.sqrt(sum((a - mx) ** 2 for a in rx))
    vy = math.sqrt(sum((b - my) ** 2 for b in ry))
    return cov / (vx * vy) if vx and vy else float("nan")


def relative_predictions(p: dict[str, Any], pts: list[Point]) -> list[tuple[Point, float, float]]:
    """(point, measured relative, predicted relative): each normalised by its (source, bench,
    precision) group's geometric mean, so the figures compare ratios between GPUs."""
    groups: dict[tuple[str, str, str], list[tuple[Point, float]]] = defaultdict(list)
    for pt in pts:
        pred = _predict(p, pt)
        if pred:
            groups[(pt.source, pt.bench, pt.precision)].append((pt, pred))
    out: list[tuple[Point, float, float]] = []
    for members in groups.values():
        if len(members) < 2:
            continue
        gm_m = math.exp(sum(math.log(pt.value) for pt, _ in members) / len(members))
        gm_p = math.exp(sum(math.log(pr) for _, pr in members) / len(members))
        out.extend((pt, pt.value / gm_m, pr / gm_p) for pt, pr in members)
    return out


def group_spearman(rows: list[tuple[Point, float, float]]) -> float:
    """Rank correlation of measured and predicted throughput between GPUs, within each
    (source, bench, precision) table of three or more GPUs, averaged weighted by GPUs; NaN when
    no table has three GPUs (two GPUs rank trivially)."""
    groups: dict[tuple[str, str, str], list[tuple[float, float]]] = defaultdict(list)
    for pt, m, pr in rows:
        groups[(pt.source, pt.bench, pt.precision)].append((m, pr))
    total = weight = 0.0
    for vals in groups.values():
        if len(vals) >= 3:
            total += spearman([m for m, _ in vals], [pr for _, pr in vals]) * len(vals)
            weight += len(vals)
    return total / weight if weight else float("nan")


# Fits already computed in this process, by the fit function and the points it was given (a
# held-out source's fit is asked for by the validation, --residuals and --write alike).
_FITS: dict[tuple[Any, tuple[Point, ...]], dict[str, Any]] = {}
_POOL_POINTS: list[Point] = []  # the points a forked worker fits from (set before forking)


def fit_without(pts: list[Point], held: set[str] | frozenset[str]) -> dict[str, Any]:
    """:func:`fit` of ``pts`` without the sources ``held``, computed once per process (a copy:
    the caller may change it)."""
    kept = tuple(pt for pt in pts if pt.source not in held)
    key = (fit, kept)
    if key not in _FITS:
        _FITS[key] = fit(list(kept))
    return copy.deepcopy(_FITS[key])


def _fit_held_out(source: str) -> dict[str, Any]:
    """A worker's job: the fit without ``source`` (the points come with the fork)."""
    return fit([pt for pt in _POOL_POINTS if pt.source != source])


def held_out_fits(pts: list[Point], sources: list[str], jobs: int = 1) -> dict[str, dict[str, Any]]:
    """Per source, the fit of ``pts`` without it. With ``jobs`` > 1 the fits not yet computed
    run in that many forked processes (each fit is deterministic pure Python, so the numbers
    are the same as one process gives); where fork is not available, in this process."""
    import multiprocessing

    todo = [s for s in sources if (fit, tuple(pt for pt in pts if pt.source != s)) not in _FITS]
    if jobs > 1 and len(todo) > 1 and "fork" in multiprocessing.get_all_start_methods():
        global _POOL_POINTS
        _POOL_POINTS = list(pts)
        try:
            with multiprocessing.get_context("fork").Pool(min(jobs, len(todo))) as pool:
                done = pool.map(_fit_held_out, todo, chunksize=1)
        finally:
            _POOL_POINTS = []
        for source, p in zip(todo, done, strict=True):
            _FITS[(fit, tuple(pt for pt in pts if pt.source != source))] = p
    return {s: fit_without(pts, {s}) for s in sources}


def leave_one_source_out(
    pts: list[Point] | None = None, jobs: int = 1
) -> dict[str, dict[str, Any]]:
    """Per class and held-out source: Spearman and median |error| of relative throughput,
    predicted by a model fitted without that source (``jobs``: processes for the fits)."""
    pts = list(pts if pts is not None else points())
    single = [pt for pt in pts if pt.gpus == 1]
    sources = sorted({pt.source for pt in single})
    fits = held_out_fits(pts, sources, jobs)
    out: dict[str, dict[str, Any]] = defaultdict(dict)
    for source in sources:
        held = [pt for pt in single if pt.source == source]
        p = fits[source]
        by_cls: dict[str, list[tuple[Point, float, float]]] = defaultdict(list)
        for row in relative_predictions(p, held):
            by_cls[row[0].cls].append(row)
        for cls, rows in by_cls.items():
            errs = [abs(pr / m - 1) for _, m, pr in rows]
            out[cls][source] = {
                "points": len(rows),
                "spearman": round(group_spearman(rows), 3),
                "median_abs_error": round(statistics.median(errs), 3),
            }
    return dict(out)


def source_agreement(pts: list[Point] | None = None) -> dict[str, dict[str, Any]]:
    """Per class and source: how well another source's *own measurements* rank its GPUs.

    For each table of the source (bench, precision) and each other source's table of the same
    class and precision, the Spearman of the two sources' measured values over the GPUs both
    measured (three or more), weighted by those GPUs: what leave-one-source-out would reach
    on those GPUs with a model that reproduced the other source exactly. Where it is below the
    target, the sources themselves order the same GPUs differently (software versions, model
    files and machines reorder GPUs whose rates lie close)."""
    pts = list(pts if pts is not None else points())
    tables: dict[tuple[str, str, str, str], dict[str, float]] = defaultdict(dict)
    for pt in pts:
        if pt.gpus == 1:
            tables[(pt.cls, pt.source, pt.bench, pt.precision)][pt.chip.id] = pt.value
    acc: dict[tuple[str, str], list[tuple[float, int]]] = defaultdict(list)
    for (cls, src, _, prec), vals in tables.items():
        for (cls2, src2, _, prec2), other in tables.items():
            common = sorted(set(vals) & set(other))
            if cls2 != cls or src2 == src or prec2 != prec or len(common) < 3:
                continue
            rho = spearman([vals[c] for c in common], [other[c] for c in common])
            acc[(cls, src)].append((rho, len(common)))
    out: dict[str, dict[str, Any]] = defaultdict(dict)
    for (cls, src), rows in sorted(acc.items()):
        weight = sum(n for _, n in rows)
        out[cls][src] = {
            "spearman": round(sum(r * n for r, n in rows) / weight, 3),
            "gpus_in_common": max(n for _, n in rows),
        }
    return dict(out)


def summarize(loso: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per class: the worst held-out source's Spearman and median error (what the issue's
    'Done when' bounds), and the pooled median error used as the expected error."""
    out: dict[str, Any] = {}
    for cls, by_src in sorted(loso.items()):
        sp = [v["spearman"] for v in by_src.values() if not math.isnan(v["spearman"])]
        out[cls] = {
            "sources": len(by_src),
            "min_spearman": min(sp) if sp else None,
            "max_median_abs_error": max(v["median_abs_error"] for v in by_src.values()),
            "median_abs_error": round(
                statistics.median(v["median_abs_error"] for v in by_src.values()), 3
            ),
        }
    return out


def calibrate(jobs: int = 1) -> dict[str, Any]:
    """The full ``fit:`` and ``validation:`` sections (``jobs``: processes for the held-out
    fits)."""
    pts = list(points())
    p = fit_without(pts, set())
    table = scaling_table(pts)
    p["chip_residuals"] = chip_residuals(p, pts)
    p["scaling"] = {k: {int(n): v for n, v in by_n.items()} for k, by_n in table.items()}
    p["network"] = network_factor(p, table)
    p["default_mix_reference"] = default_mix_reference(p)
    loso = leave_one_source_out(pts, jobs)
    return {"fit": p, "validation": {"leave_one_source_out": loso, "summary": summarize(loso)}}


def write(path: str | None = None, jobs: int = 1) -> str:
    """Rewrite the fit and validation sections of model.yaml; returns the file's path."""
    target = path or str(resources.files("dlrig.perf") / "data" / "model.yaml")
    text = Path(target).read_text(encoding="utf-8")
    head = text.split("\nfit:", 1)[0].rstrip() + "\n"
    body = yaml.safe_dump(calibrate(jobs), sort_keys=False, default_flow_style=None, width=100)
    with open(target, "w", encoding="utf-8") as f:
        f.write(head + body)
    M.model_data.cache_clear()
    return target


def main(argv: list[str] | None = None) -> int:
    """``python -m dlrig.perfcal.calibrate [--write]``: fit, print the residuals, optionally
    write."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="rewrite perf/data/model.yaml")
    ap.add_argument(
        "--jobs", type=int, default=1, help="processes for the leave-one-source-out fits"
    )
    args = ap.parse_args(argv)
    if args.write:
        print(write(jobs=args.jobs))
    else:
        print(yaml.safe_dump(calibrate(args.jobs), sort_keys=False, width=100))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
