"""Leave-one-source-out validation of dlrig's performance model (issue 12).

For every source of measurements (perf/data/measurements.yaml) the model is refitted without
it and predicts that source's single-GPU points. Per workload class and held-out source it
prints the rank correlation between GPUs (Spearman, within each benchmark table of three or
more GPUs) and the median absolute error of relative throughput (each table normalised by its
geometric mean, so the figures compare ratios between GPUs, not absolute levels). Then the
published training runs reproduced from their own MFU.

    python benchmarks/perf_validate.py            # prints the tables
    python benchmarks/perf_validate.py --jobs 4   # the held-out fits in 4 processes
    python benchmarks/perf_validate.py --write    # also refreshes perf/data/model.yaml
    python benchmarks/perf_validate.py --residuals  # also each held-out point's error
    python benchmarks/perf_validate.py --out-of-sample a,b  # fit without sources a and b
                                                            # together and predict them

Targets: Spearman >= 0.95 and median error <= 15 % per class. The "how far the sources agree"
table says where the sources themselves order the same GPUs differently (no model that gives
each chip one speed can then reach the target on both).
"""

from __future__ import annotations

import argparse
import math
import os
import time
from typing import Any


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="refresh perf/data/model.yaml")
    ap.add_argument(
        "--residuals", action="store_true", help="print each held-out point's relative error"
    )
    ap.add_argument(
        "--out-of-sample",
        metavar="SOURCES",
        help="comma-separated sources to hold out together (the figure of new sources before "
        "they become calibration data); prints only that",
    )
    ap.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="processes for the held-out fits (default: one per CPU; the figures are the same "
        "for any number)",
    )
    args = ap.parse_args()
    if args.jobs < 1:
        ap.error(f"--jobs must be 1 or more, got {args.jobs}")
    from dlrig.perfcal import calibrate as K
    from dlrig.perfcal import training as T

    t0 = time.perf_counter()
    if args.out_of_sample:
        print_out_of_sample(K, set(args.out_of_sample.split(",")))
        print(f"\n{time.perf_counter() - t0:.0f} s")
        return 0
    if args.write:
        print("wrote", K.write(jobs=args.jobs))
    loso = K.leave_one_source_out(jobs=args.jobs)  # fits already done by --write are reused
    print("leave-one-source-out, relative throughput between GPUs")
    print(f"{'class':18} {'held-out source':18} {'points':>6} {'Spearman':>9} {'median |err|':>13}")
    for cls in sorted(loso):
        for src, v in sorted(loso[cls].items()):
            sp = v["spearman"]
            sp_txt = "   (n/a)" if isinstance(sp, float) and math.isnan(sp) else f"{sp:9.3f}"
            print(
                f"{cls:18} {src:18} {v['points']:6d} {sp_txt:>9} "
                f"{v['median_abs_error'] * 100:12.1f}%"
            )
    print()
    print(f"{'class':18} {'sources':>7} {'min Spearman':>13} {'max median |err|':>17} {'met':>4}")
    for cls, s in K.summarize(loso).items():
        sp = s["min_spearman"]
        met = (sp is None or sp >= 0.95) and s["max_median_abs_error"] <= 0.15
        sp_txt = "n/a" if sp is None else f"{sp:.3f}"
        # one source cannot show that a fit carries over to another source's GPUs
        met_txt = ("yes" if met else "no") if s["sources"] >= 2 else "one source"
        print(
            f"{cls:18} {s['sources']:7d} {sp_txt:>13} {s['max_median_abs_error'] * 100:16.1f}% "
            f"{met_txt:>4}"
        )
    print()
    print("how far the sources agree: Spearman of a source's measured values against another")
    print("source's measured values for the same class and precision, over the GPUs both measured")
    print(f"{'class':18} {'source':18} {'common GPUs':>11} {'Spearman':>9}")
    for cls, by_src in K.source_agreement().items():
        for src, v in by_src.items():
            print(f"{cls:18} {src:18} {v['gpus_in_common']:11d} {v['spearman']:9.3f}")
    if args.residuals:
        print_residuals(K)
    print()
    print("published training runs from the source's own MFU")
    units = {"minutes": 1 / 60, "days": 24.0}
    for run in T.training_runs():
        if "accounting" not in run:
            continue
        t = T.run_time(run)
        pub = run["published"]
        got = t["gpu_hours"] if pub["unit"] == "gpu-hours" else t["hours"] / units[pub["unit"]]
        print(
            f"  {run['id']:22} MFU {T.run_mfu(run):.3f} ({run['accounting']:18}) "
            f"{got:14,.1f} vs {pub['value']:,} {pub['unit']} ({got / pub['value'] - 1:+.1%})"
        )
    print(f"\n{time.perf_counter() - t0:.0f} s")
    return 0


def print_out_of_sample(K: Any, held: set[str]) -> None:
    """Fit on every source but ``held`` and predict the held sources' single-GPU points:
    per class and source the Spearman and median |error| of relative throughput, then each
    point's relative error and its absolute predicted ÷ measured (the level)."""
    import statistics
    from collections import defaultdict

    from dlrig.perf import roofline as M

    pts = list(K.points())
    unknown = held - {p.source for p in pts}
    if unknown:
        raise SystemExit(f"--out-of-sample: no such source {', '.join(sorted(unknown))}")
    fit = K.fit_without(pts, held)
    rows = K.relative_predictions(fit, [p for p in pts if p.source in held and p.gpus == 1])
    by: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for row in rows:
        by[(row[0].cls, row[0].source)].append(row)
        by[(row[0].cls, "(together)")].append(row)
    print(f"out of sample: fitted without {', '.join(sorted(held))}")
    print(f"{'class':18} {'source':22} {'points':>6} {'Spearman':>9} {'median |err|':>13}")
    for (cls, src), group in sorted(by.items()):
        sp = K.group_spearman(group)
        sp_txt = "   (n/a)" if math.isnan(sp) else f"{sp:9.3f}"
        med = statistics.median(abs(pr / m - 1) for _, m, pr in group)
        print(f"{cls:18} {src:22} {len(group):6d} {sp_txt:>9} {med * 100:12.1f}%")
    print("\nper point: relative predicted ÷ measured − 1, absolute predicted ÷ measured")
    for pt, m, pr in sorted(rows, key=lambda r: (r[0].source, r[0].bench, r[1])):
        work = K.bench_work(pt.bench, pt.precision, pt.micro_batch)
        level = M.rate_per_gpu(pt.chip, work, fit, ceiling=False) / pt.value
        print(f"  {pt.source:22} {pt.bench:28} {pt.chip.id:15} {pr / m - 1:+5.0%}  {level:5.2f}")


def print_residuals(K: Any) -> None:
    """Per held-out source and benchmark table: predicted ÷ measured − 1 of each GPU's
    relative throughput, GPUs in measured order (what the rank correlation compares)."""
    from collections import defaultdict

    pts = list(K.points())
    single = [p for p in pts if p.gpus == 1]
    for source in sorted({p.source for p in single}):
        fit = K.fit_without(pts, {source})  # computed already by the validation above
        tables: dict[tuple[str, str], list[tuple[str, float, float]]] = defaultdict(list)
        for pt, m, pr in K.relative_predictions(fit, [p for p in single if p.source == source]):
            tables[(pt.bench, pt.precision)].append((pt.chip.id, m, pr))
        print(f"\nheld out {source}")
        for (bench, precision), rows in sorted(tables.items()):
            cells = "  ".join(
                f"{c} {pr / m - 1:+.0%}" for c, m, pr in sorted(rows, key=lambda r: r[1])
            )
            print(f"  {bench} {precision}: {cells}")


if __name__ == "__main__":
    raise SystemExit(main())
