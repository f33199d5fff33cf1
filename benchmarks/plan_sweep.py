"""Whole-machine sweep: does every plan look like one an expert would sign?

Run: python benchmarks/plan_sweep.py [--store PATH] [--no-full] [--per-plan]

Budgets $1,500-$60,000 × workloads (none, Llama 3.1 8B QLoRA, Llama 3.1 70B inference at int4,
ResNet-50 training) on the built-in catalog and — when ../shared/datasets exists and the
importers work — on the imported catalog (built once into --store, as plan_speed.py does).
Each plan runs as `dlrig plan` runs it: on the catalog priced at the shipped offers
(``catalog/data/offers.yaml``, new condition; no user price book), with the defaults
(whole-machine fill, binding analysis on; ``--no-fill``: the cheapest parts that pass the rules,
as before the whole-machine stage). Counts per catalog:

* ``psu_below_tier``: 2+ GPUs on a PSU below the tier of dlrig.optimize.whole (80 PLUS Gold+,
  the card's wattage class);
* ``drive_small``: drives smaller in total than the workload's storage (datasets, checkpoints);
* ``cooler_below``: a cooler rated below the CPU's TDP (``cooler_unrated``: rating unknown);
* ``unspent_unexplained``: more than 10% of the budget unspent and no named constraint (binding
  group or blocker of one more GPU) says why;
* ``no_price_dates``: a plan whose price summary (what plan, check and cost print) lacks a date
  for a priced part;
* ``infeasible``: no build (``$1,500`` with a 70B workload, ...), and the time per plan.
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
BUDGETS = (1500, 2500, 4000, 7000, 10000, 15000, 25000, 40000, 60000)
WORKLOADS: dict[str, dict[str, Any] | None] = {
    "none": None,
    "8b-qlora": {"model": "llama-3.1-8b", "task": "qlora"},
    "70b-infer": {"model": "llama-3.1-70b", "task": "inference", "precision": "int4"},
    "resnet50": {"model": "resnet-50", "task": "train"},
}
COUNTS = (
    "plans",
    "infeasible",
    "psu_below_tier",
    "drive_small",
    "cooler_below",
    "cooler_unrated",
    "unspent_over_10pct",
    "unspent_unexplained",
    "no_price_dates",
)


def storage_need_gb(r: Any) -> float:
    """The workload's storage (datasets + checkpoints) as the planner sized it."""
    system = (r.best.workload or {}).get("system") or {}
    return float(system.get("storage_gb", 0.0))


def audit(budget: float, r: Any) -> dict[str, int]:
    """The counts one plan adds (see the module docstring)."""
    from dlrig.optimize.whole import psu_tier_ok

    out = dict.fromkeys(COUNTS, 0)
    out["plans"] = 1
    b = r.best
    if b is None:
        out["infeasible"] = 1
        return out
    build = b.build
    n = build.gpu_count
    if n >= 2 and build.psu is not None and not psu_tier_ok(build.psu, build.gpus[0], n):
        out["psu_below_tier"] = 1
    if build.storage_gb < storage_need_gb(r):
        out["drive_small"] = 1
    cooler, cpu = build.cooler, build.cpu
    if cooler is not None and cpu is not None:
        if cooler.rated_tdp_w is None:
            out["cooler_unrated"] = 1
        elif cooler.rated_tdp_w < cpu.tdp_w:
            out["cooler_below"] = 1
    from dlrig.catalog.offers import price_summary

    parts = [p for p in build.parts if p.price_usd is not None]
    if any(p.price_date is None for p in parts) or price_summary(parts).oldest is None:
        out["no_price_dates"] = 1
    if b.price_usd < 0.9 * budget:
        out["unspent_over_10pct"] = 1
        named = [x for x in r.binding if x.group != "budget"]
        explained = named or (r.unspent and "no single constraint" not in r.unspent)
        if not explained:
            out["unspent_unexplained"] = 1
    return out


def sweep(catalog: Any, label: str, per_plan: bool, fill: bool = True) -> dict[str, int]:
    from dlrig.optimize import plan

    totals = dict.fromkeys(COUNTS, 0)
    times: list[float] = []
    for wname, w in WORKLOADS.items():
        for budget in BUDGETS:
            t = time.perf_counter()
            r = plan(budget, w, catalog=catalog, fill=fill)
            times.append(time.perf_counter() - t)
            got = audit(budget, r)
            for k, v in got.items():
                totals[k] += v
            if per_plan:
                b = r.best
                what = (
                    f"${b.price_usd:>9,.0f} {b.gpu_count}× {b.build.gpus[0].name[:34]:34} "
                    f"psu {b.build.psu.wattage_w if b.build.psu else 0} W "
                    f"{(b.build.psu.efficiency if b.build.psu else None) or 'unrated'}"
                    if b
                    else "no build"
                )
                flags = ",".join(k for k, v in got.items() if v and k != "plans")
                print(f"  {label} {wname:9} ${budget:>6,} {what} {times[-1]:.2f} s {flags}")
    print(
        f"[{label}] "
        + ", ".join(f"{k} {v}" for k, v in totals.items())
        + f"; per plan p50 {statistics.median(times):.2f} s, max {max(times):.2f} s"
    )
    return totals


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path, default=Path(tempfile.gettempdir()) / "dlrig-full.db")
    ap.add_argument("--no-full", action="store_true")
    ap.add_argument("--per-plan", action="store_true", help="print each plan and its flags")
    ap.add_argument(
        "--no-fill", action="store_true", help="the cheapest parts that pass the rules (before)"
    )
    args = ap.parse_args()
    os.environ.setdefault("DLRIG_CACHE_DIR", str(Path(tempfile.gettempdir()) / "dlrig-bench"))
    # the shipped offers only: a user's price book would change the plans
    os.environ["DLRIG_PRICES"] = str(Path(tempfile.mkdtemp()) / "none.sqlite")
    sys.path.insert(0, str(ROOT / "src"))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from plan_speed import full_store

    from dlrig.app.plan import priced_catalog
    from dlrig.catalog import open_catalog

    fill = not args.no_fill
    sweep(priced_catalog(open_catalog(), "new"), "built-in", args.per_plan, fill)
    if not args.no_full:
        store = full_store(args.store)
        if store is not None:
            sweep(priced_catalog(open_catalog(store), "new"), "imported", args.per_plan, fill)


if __name__ == "__main__":
    main()
