"""The request's constraints: budget, ram-vs-vram, the workload's RAM/threads/storage, minimum
VRAM and TFLOPS, and included parts or brands."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dlrig.optimize.constraints import lin
from dlrig.optimize.prep import ceil_int
from dlrig.optimize.query import TFLOPS_SCALE
from dlrig.parts import Part
from dlrig.rules import limits as L

if TYPE_CHECKING:
    from dlrig.optimize.planmodel import PlanModel


def add_request(pm: PlanModel) -> None:
    """Add the request's constraint groups (budget, RAM vs VRAM, the workload's RAM, ...)."""
    m, c, q = pm.m, pm.cand, pm.q
    if q.budget_cents is not None and pm.on("budget"):
        m.add(pm.price <= q.budget_cents)
    if pm.avoid("ram-vs-vram"):
        m.add(
            100 * pm.memory_gb
            >= lin(
                (round(100 * L.RAM_TO_VRAM_RATIO * g.vram_gib * n), v)
                for (g, n), v in zip(c.gpu, pm.use_gpu, strict=True)
            )
        )
    if c.ram_need_gib and pm.on("workload-ram"):
        m.add(
            pm.memory_gb
            >= lin(
                (c.ram_need_gib[(g.id, n)], v) for (g, n), v in zip(c.gpu, pm.use_gpu, strict=True)
            )
        )
    if c.threads_need and pm.on("workload-threads"):
        m.add(
            lin((p.threads, v) for p, v in zip(c.cpu, pm.use_cpu, strict=True))
            >= lin((c.threads_need[n], v) for (_, n), v in zip(c.gpu, pm.use_gpu, strict=True))
        )
    if c.storage_need_gb and pm.on("workload-storage"):
        m.add(
            lin((s.capacity_gb * n, v) for (s, n), v in zip(c.storage, pm.use_drive, strict=True))
            >= c.storage_need_gb
        )
    if q.min_vram_gib and pm.on("min-vram"):
        m.add(pm.vram >= ceil_int(q.min_vram_gib * 100))
    if q.min_tflops and pm.on("min-tflops"):
        m.add(pm.tflops >= ceil_int(q.min_tflops * TFLOPS_SCALE))
    if pm.on("include"):
        for pid in sorted(set(q.include_ids)):
            pinned = [
                v
                for parts, vs in pm.all_choices()
                for part, v in zip(parts, vs, strict=True)
                if c.caps.get(part.id, (part,))[0].id == pid  # a capped card is the card
            ]
            # An included part that no candidate option carries any more (pruned as unable
            # to fit this query) makes the query infeasible; never drop the demand silently.
            m.add(pm.cp.LinearExpr.sum(pinned) >= 1)
        for brand in q.include_brands:
            lits = [
                v
                for parts, vs in pm.all_choices()
                for part, v in zip(parts, vs, strict=True)
                if _brand(part) == brand
            ]
            m.add(pm.cp.LinearExpr.sum(lits) >= 1)


def _brand(p: Part) -> str:
    from dlrig.catalog import normalize

    return normalize(p.brand)
