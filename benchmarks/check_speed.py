"""Builds checked per second on one core (target: ≥ 2,000 eight-part builds/s).

Run: python benchmarks/check_speed.py [N]

Builds are drawn at random (fixed seed) from the built-in catalog, one part per category
(GPUs 1-4 of one model), built once up front; the timed loop constructs a fresh Build from
those parts (so no totals are cached) and runs every rule on it — what the planner and the web
app do per candidate.
"""

from __future__ import annotations

import random
import sys
import time

from dlrig.build import Build, BuildItem
from dlrig.catalog import open_catalog
from dlrig.parts import Category
from dlrig.rules import RULES, check


def main(n: int = 5000) -> None:
    cat = open_catalog()
    rng = random.Random(42)
    specs = []
    for _ in range(n):
        items = {}
        for c in Category:
            part = rng.choice(cat.parts(c))
            count = rng.randint(1, 4) if c is Category.GPU else 1
            items[c] = [BuildItem(part, count)]
        specs.append(items)
    chips = {ch.id: ch for ch in cat.chips}
    check(Build("warm-up", specs[0], chips=chips))
    findings = 0
    t0 = time.perf_counter()
    for items in specs:
        findings += len(check(Build("bench", items, chips=chips)).findings)
    dt = time.perf_counter() - t0
    print(f"rules: {len(RULES)}; builds: {n} (8 parts each, 1-4 GPUs)")
    print(f"checked {n / dt:,.0f} builds/s on one core ({dt / n * 1e6:,.0f} µs per build)")
    print(f"findings per build: {findings / n:.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
