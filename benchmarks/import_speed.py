"""Import speed: full OpenDB + the PCPartPicker prices from ../shared/datasets.

Targets (issue 5): import <= 30 s on one core; opening the imported catalog and running a search
<= 0.3 s; `dlrig catalog list --category gpu` on it <= 1 s.

    python benchmarks/import_speed.py [DATASETS_DIR]
    python benchmarks/import_speed.py --store PATH    # open + search an existing store only
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEARCH_CODE = (
    "import time; t=time.perf_counter(); from dlrig.catalog import open_catalog; "
    "c=open_catalog({store!r}); t1=time.perf_counter(); "
    "r=c.search('corsair carbide air 540'); t2=time.perf_counter(); "
    "print(f'{{t1-t:.3f}} {{t2-t1:.3f}} {{len(c)}}')"
)


def open_and_search(store: Path, runs: int = 5) -> None:
    """Open an existing store and search it in fresh processes: median and max (issue 17)."""
    totals = []
    for _ in range(runs + 1):  # the first run warms the OS file cache and dlrig's caches
        out = subprocess.run(
            [sys.executable, "-c", SEARCH_CODE.format(store=str(store))],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        totals.append(float(out[0]) + float(out[1]))
    totals = totals[1:]
    print(
        f"open+search:    median {statistics.median(totals):.3f} s, max {max(totals):.3f} s over "
        f"{runs} fresh processes (import of dlrig.catalog included; {out[2]} parts; "
        "target <= 0.3 s)"
    )


def main() -> None:
    if sys.argv[1:2] in (["-h"], ["--help"]):
        print(__doc__)
        return
    if len(sys.argv) > 2 and sys.argv[1] == "--store":
        open_and_search(Path(sys.argv[2]))
        return
    root = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else (Path(__file__).resolve().parents[1].parent / "shared" / "datasets")
    )
    from dlrig.catalog.builtin import builtin_catalog
    from dlrig.catalog.importers.run import import_dataset

    builtin_catalog()  # warm the package imports so they are not counted
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "catalog.sqlite"
        t0 = time.perf_counter()
        opendb = import_dataset(store, "opendb", root / "opendb")
        t1 = time.perf_counter()
        prices = import_dataset(store, "pcpartpicker-dataset", root / "pcpartpicker_docyx")
        t2 = time.perf_counter()
        print(f"opendb import:  {t1 - t0:6.2f} s")
        print(f"price import:   {t2 - t1:6.2f} s")
        print(f"total import:   {t2 - t0:6.2f} s  (target <= 30 s)")
        for cat, c in opendb.counts().items():
            top = opendb.top_reasons(cat, "quarantined", 1) or opendb.top_reasons(cat, "skipped", 1)
            print(
                f"  {cat:16} imported {c['imported']:5}  skipped {c['skipped']:4}  "
                f"quarantined {c['quarantined']:4}  top: {top[0][0] if top else '—'}"
            )
        for cat, m in prices.extra["match"].items():
            print(
                f"  prices {cat:11} priced {m['priced']:5}  matched {m['matched_priced']:5}  "
                f"ambiguous {m['ambiguous']:5}  price-only {m['price_only']:4}  "
                f"rate {m['match_rate_priced']:.0%}"
            )
        code = (
            "import time; t=time.perf_counter(); from dlrig.catalog import open_catalog; "
            f"c=open_catalog({str(store)!r}); t1=time.perf_counter(); "
            "r=c.search('corsair carbide air 540'); t2=time.perf_counter(); "
            "print(f'{t1-t:.3f} {t2-t1:.3f} {len(c)}')"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
        print(
            f"open+search:    {float(out[1]) + float(out[0]) - 0:6.3f} s in a fresh process "
            f"(import of dlrig excluded: open {out[0]} s, search {out[1]} s; {out[2]} parts; "
            "target <= 0.3 s)"
        )
        t3 = time.perf_counter()
        subprocess.run(
            ["dlrig", "catalog", "list", "--category", "gpu", "--catalog", str(store)],
            capture_output=True,
            check=True,
        )
        print(f"list gpu (CLI): {time.perf_counter() - t3:6.3f} s  (target <= 1 s)")


if __name__ == "__main__":
    main()
