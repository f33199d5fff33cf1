"""Exhaustive enumeration through the checker: the reference the planner is measured against.

Only for catalogs small enough to enumerate (a few parts per category). ``tests/test_optimize``
uses it as the oracle the planner must match; ``benchmarks/plan_speed.py`` times it for the
planner's speed-up. It shares no code with the CP-SAT model: builds are made with
:meth:`dlrig.build.Build.from_parts` and judged by :func:`dlrig.rules.check` alone.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING

from dlrig.optimize.prep import MAX_KITS
from dlrig.optimize.query import AVOIDABLE_WARNINGS, FIT_RULES
from dlrig.parts import Category

if TYPE_CHECKING:
    from dlrig.build import Build, Site
    from dlrig.catalog import Catalog
    from dlrig.parts import Riser


def accepted(build: Build) -> bool:
    """What every plan must satisfy: no error, no warning the planner holds by default, and for
    2+ GPUs no fit rule left unchecked."""
    from dlrig.rules import check
    from dlrig.rules.base import Severity

    r = check(build)
    if r.errors:
        return False
    if any(f.severity is Severity.WARNING and f.slug in AVOIDABLE_WARNINGS for f in r.findings):
        return False
    return not (build.gpu_count >= 2 and any(u.slug in FIT_RULES for u in r.unchecked))


def builds_within(
    cat: Catalog,
    budget_usd: float,
    max_gpus: int,
    site: Site | None = None,
    riser: Riser | None = None,
) -> Iterator[tuple[Build, int, float]]:
    """Every build of ``cat`` priced within ``budget_usd`` (1 to ``max_gpus`` of one GPU model,
    memory kits up to the most slots of any board; each GPU also at every power limit the planner
    may set), unchecked: (build, bf16 sustained TFLOPS
    ×1000 as the planner rounds it, price in USD). In an open-frame case every card sits on
    ``riser`` (one bought per card); without a riser no open-frame build is made, as the planner
    plans none."""
    from dlrig import gpu_power
    from dlrig.build import Build, BuildItem
    from dlrig.sizing import effective_tflops

    by = {c: cat.parts(c) for c in Category}
    max_slots = max(b.memory_slots for b in by[Category.MOTHERBOARD])  # type: ignore[attr-defined]
    mems = [
        (k, m)
        for k in by[Category.MEMORY]
        for m in range(1, MAX_KITS + 1)
        if k.modules * m <= max_slots  # type: ignore[attr-defined]
    ]
    # each card at stock (limit None) and at every power limit the planner may set (the same
    # sourced list, gpu_power.cap_options), its TFLOPS scaled by the throughput kept
    gpus = [
        (g, n, cap, kept)
        for g in by[Category.GPU]
        for cap, kept in ((None, 1.0), *gpu_power.cap_options(g))  # type: ignore[arg-type]
        for n in range(1, max_gpus + 1)
    ]
    for cpu, board, mem, gpu, drive, psu, cooler, case in itertools.product(
        by[Category.CPU],
        by[Category.MOTHERBOARD],
        mems,
        gpus,
        by[Category.STORAGE],
        by[Category.PSU],
        by[Category.COOLER],
        by[Category.CASE],
    ):
        frame = getattr(case, "kind", None) == "open-frame"
        if frame and riser is None:
            continue
        on = riser if frame else None
        price = sum(p.price_usd or 0 for p in (cpu, board, drive, psu, cooler, case))
        card, n, cap, kept = gpu
        price += (mem[0].price_usd or 0) * mem[1] + (card.price_usd or 0) * n
        price += ((on.price_usd or 0) if on is not None else 0) * n
        if price > budget_usd + 1e-6:
            continue
        chip = cat.chip_of(card)
        assert chip is not None
        t = round((effective_tflops(chip, n) or 0) * kept * 1000)
        b = Build.from_parts(
            {
                Category.CPU: cpu,
                Category.MOTHERBOARD: board,
                Category.MEMORY: mem,
                Category.GPU: BuildItem(card, n, power_limit_w=cap, riser=on),
                Category.STORAGE: drive,
                Category.PSU: psu,
                Category.COOLER: cooler,
                Category.CASE: case,
            },
            catalog=cat,
            site=site,
        )
        yield b, t, round(price, 2)
