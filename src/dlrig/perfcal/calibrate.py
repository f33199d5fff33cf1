"""Fit the performance model to the measured points and validate it leaving one source out.

``python -m dlrig.perfcal.calibrate --write`` refits and rewrites the ``fit:`` and
``validation:`` sections of ``perf/data/model.yaml``; benchmarks/perf_validate.py prints the
leave-one-source-out figures. Pure Python (coordinate descent over log-spaced grids): the base
install has no numpy.

What is fitted (docs/performance.md):

- relative (the shape of the model across chips; points normalised per source and bench):
  one clock factor per product segment (consumer, workstation; data-centre = 1), one
  bandwidth factor for HBM (GDDR = 1), and per training/prefill class the memory-bound bytes
  per model FLOP;
- absolute: per class the matmul efficiency (geometric mean of measured ÷ predicted over the
  points whose FLOPs are known), decode's bandwidth efficiency per memory kind and its
  per-layer latency;
- per chip and class, the residual of the chip's own points (used to *interpolate* a chip
  that has measurements in the class at other configurations);
- multi-GPU scaling per interconnect and GPU count: the median of rate(n) ÷ (n × rate(1)) over
  the measured multi-GPU rows; the multi-node factor from LLaMA 65B's published rate.

This module sits above :mod:`dlrig.sizing` (it builds each bench's workload with it).
"""

from __future__ import annotations

import argparse
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
from dlrig.perf import roofline as M

RELATIVE_CLASSES = ("encoder-finetune", "cnn-train", "llm-train", "prefill")
# Parameters the relative fit moves, with their grids (log-spaced between the bounds): the
# tensor rate boards sustain against the datasheet peak per product segment (data-centre parts
# are the reference), and the bandwidth HBM parts sustain against GDDR ones.
_GRID = {
    "consumer": (0.6, 1.6),
    "workstation": (0.5, 1.5),
    "hbm": (0.5, 1.5),
}
_K_GRID = (1e-4, 1.0)


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


@cache
def measurements() -> dict[str, Any]:
    """The measurements file (``perf/data/measurements.yaml``)."""
    text = (resources.files("dlrig.perf") / "data" / "measurements.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _catalog_chips() -> dict[str, GpuChip]:
    from dlrig.catalog import open_catalog

    return {c.id: c for c in open_catalog().chips}


def bench_workload(bench: dict[str, Any], precision: str) -> Any:
    """The dlrig workload a bench ran, built from its entry in measurements.yaml."""
    from dlrig.workload import load_workload

    cls = bench["class"]
    task = {
        "encoder-finetune": "finetune",
        "llm-train": "train",
        "cnn-train": "train",
        "prefill": "inference",
        "decode-b1": "inference",
    }[cls]
    model = bench["model"]
    if isinstance(model, dict):
        model = {**model, "arch": model.get("arch", "generic")}
    spec: dict[str, Any] = {
        "task": task,
        "model": model,
        "precision": precision,
        "micro_batch": bench.get("micro_batch", 1 if task == "inference" else 32),
    }
    if bench.get("sequence"):
        spec["sequence"] = bench["sequence"]
    if bench.get("quant_bits"):
        spec["quant_bits"] = bench["quant_bits"]
    if cls == "prefill":
        spec["inference"] = {"prompt_tokens": bench["sequence"], "new_tokens": 1}
    elif cls == "decode-b1":
        spec["inference"] = {"prompt_tokens": 1, "new_tokens": 512}
    return load_workload(spec)


@cache
def bench_work(bench_id: str, precision: str) -> M.Work:
    """The :class:`Work` of benchmark ``bench_id`` at ``precision``."""
    from dlrig.sizing import work_of

    bench = measurements()["benches"][bench_id]
    w = bench_workload(bench, precision)
    work = work_of(w, phase="prefill" if bench["class"] == "prefill" else "decode")
    if bench.get("weight_gb"):
        work = replace(work, weight_bytes=float(bench["weight_gb"]) * 1e9)
    return work


def bench_item_scale(bench_id: str) -> float:
    """Multiply a bench's published rate by this to get the work's items/s: BERT publishes
    sequences/s, the model counts tokens."""
    bench = measurements()["benches"][bench_id]
    if bench["class"] == "encoder-finetune":
        return float(bench["sequence"])
    return 1.0


@cache
def points() -> tuple[Point, ...]:
    """Every measured point whose chip the catalog knows."""
    data = measurements()
    chips = _catalog_chips()
    out = []
    for row in data["points"]:
        bench = data["benches"][row["bench"]]
        out.append(
            Point(
                source=row["source"],
                bench=row["bench"],
                cls=bench["class"],
                chip=chips[row["chip"]],
                precision=row["precision"],
                gpus=int(row["gpus"]),
                value=float(row["value"]) * bench_item_scale(row["bench"]),
                interconnect=row.get("interconnect"),
                relative_only=bool(bench.get("relative_only", False)),
            )
        )
    return tuple(out)


# --- parameters ----------------------------------------------------------------------------


def default_params() -> dict[str, Any]:
    """The fit's starting parameters."""
    return {
        "tflops_per_watt": 1.0,
        "generation": {str(g): 1.0 for g in range(6)},
        "segment": {"consumer": 1.0, "workstation": 1.0, "datacenter": 1.0},
        "memory": {"gddr": 1.0, "hbm": 1.0},
        "classes": {
            c: {"efficiency": 1.0, "bytes_per_flop": 0.005}
            for c in ("llm-train", "encoder-finetune", "cnn-train", "prefill")
        },
        "decode": {"bandwidth_efficiency": {"gddr": 0.8, "hbm": 0.6}, "layer_latency_us": 50.0},
    }


def _grid(lo: float, hi: float, n: int = 41) -> list[float]:
    return [lo * (hi / lo) ** (i / (n - 1)) for i in range(n)]


def _predict(p: dict[str, Any], pt: Point) -> float | None:
    work = bench_work(pt.bench, pt.precision)
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


def _set(p: dict[str, Any], key: tuple[str, ...], value: float) -> dict[str, Any]:
    q = yaml.safe_load(yaml.safe_dump(p))  # deep copy of plain data
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
    rel = [pt for pt in single if pt.cls in RELATIVE_CLASSES]
    classes = sorted({pt.cls for pt in rel})
    keys: list[tuple[tuple[str, ...], list[float]]] = [
        (("segment", "consumer"), _grid(*_GRID["consumer"])),
        (("segment", "workstation"), _grid(*_GRID["workstation"])),
        (("memory", "hbm"), _grid(*_GRID["hbm"])),
        (("tflops_per_watt",), _grid(0.3, 3.0, 31)),
    ]
    gens = sorted({str(pt.chip.tensor_core_gen) for pt in rel if pt.chip.tensor_core_gen})
    keys += [(("generation", g), _grid(0.4, 1.6, 31)) for g in gens if g != "3"]
    keys += [(("classes", c, "bytes_per_flop"), _grid(*_K_GRID, n=41)) for c in classes]
    for _ in range(rounds):
        for key, grid in keys:
            best = min(grid, key=lambda v: _sse(_relative_residuals(_set(p, key, v), rel)))
            p = _set(p, key, best)
    # Absolute efficiencies. The relative fit ran at efficiency 1, where bytes_per_flop is the
    # product k·e that sets the shape; scaling the efficiency by e and bytes_per_flop by 1/e
    # scales every prediction by e and leaves the shape unchanged.
    for c in classes:
        e = _implied_efficiency(p, c, pts)
        if e is not None:
            _rescale(p, c, e / p["classes"][c]["efficiency"])
    _fit_decode(p, [pt for pt in single if pt.cls == "decode-b1"])
    return _rounded(p)


def _rescale(p: dict[str, Any], cls: str, e: float) -> None:
    node = p["classes"][cls]
    node["efficiency"] = node["efficiency"] * e
    node["bytes_per_flop"] = node["bytes_per_flop"] / e


def _fit_decode(p: dict[str, Any], pts: list[Point]) -> None:
    if not pts:
        return

    def err(q: dict[str, Any]) -> float:
        out = 0.0
        for pt in pts:
            pred = _predict(q, pt)
            out += math.log(pred / pt.value) ** 2 if pred else 10.0
        return out

    keys = [
        (("decode", "bandwidth_efficiency", "gddr"), _grid(0.3, 1.0)),
        (("decode", "bandwidth_efficiency", "hbm"), _grid(0.2, 1.0)),
        (("decode", "layer_latency_us"), _grid(1.0, 400.0, 61)),
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


def leave_one_source_out(pts: list[Point] | None = None) -> dict[str, dict[str, Any]]:
    """Per class and held-out source: Spearman and median |error| of relative throughput,
    predicted by a model fitted without that source."""
    pts = list(pts if pts is not None else points())
    single = [pt for pt in pts if pt.gpus == 1]
    out: dict[str, dict[str, Any]] = defaultdict(dict)
    for source in sorted({pt.source for pt in single}):
        held = [pt for pt in single if pt.source == source]
        p = fit([pt for pt in pts if pt.source != source])
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


def calibrate() -> dict[str, Any]:
    """The full ``fit:`` and ``validation:`` sections."""
    pts = list(points())
    p = fit(pts)
    table = scaling_table(pts)
    p["chip_residuals"] = chip_residuals(p, pts)
    p["scaling"] = {k: {int(n): v for n, v in by_n.items()} for k, by_n in table.items()}
    p["network"] = network_factor(p, table)
    p["default_mix_reference"] = default_mix_reference(p)
    loso = leave_one_source_out(pts)
    return {"fit": p, "validation": {"leave_one_source_out": loso, "summary": summarize(loso)}}


def write(path: str | None = None) -> str:
    """Rewrite the fit and validation sections of model.yaml; returns the file's path."""
    target = path or str(resources.files("dlrig.perf") / "data" / "model.yaml")
    text = Path(target).read_text(encoding="utf-8")
    head = text.split("\nfit:", 1)[0].rstrip() + "\n"
    body = yaml.safe_dump(calibrate(), sort_keys=False, default_flow_style=None, width=100)
    with open(target, "w", encoding="utf-8") as f:
        f.write(head + body)
    M.model_data.cache_clear()
    return target


def main(argv: list[str] | None = None) -> int:
    """``python -m dlrig.perfcal.calibrate [--write]``: fit, print the residuals, optionally
    write."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="rewrite perf/data/model.yaml")
    args = ap.parse_args(argv)
    if args.write:
        print(write())
    else:
        print(yaml.safe_dump(calibrate(), sort_keys=False, width=100))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
