"""Candidate reduction: drop the options no solution of the model can use (same optimum, smaller
model)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from dlrig.optimize.prep import ceil_int
from dlrig.optimize.query import TFLOPS_SCALE, Candidates, Query, cents
from dlrig.optimize.terms import (
    HEADROOM_MILLI,
    LoadTerms,
    connectors_fail,
    gpu_load10,
    psu_capacity,
    psu_plugs,
    wall_cap10,
)
from dlrig.parts import Gpu
from dlrig.rules import limits as L


def reduce_candidates(
    cand: Candidates, q: Query, relax: Iterable[str] = (), keep_empty: bool = False
) -> Candidates:
    """Drop the options no solution of the model (with ``relax`` left out) can choose.

    Every test is a necessary condition of a constraint the model holds, evaluated with the
    most favourable choice in every other category (cheapest parts for the budget, the biggest
    PSU for the headroom, ...), so the optimum never changes; parts the request pins
    (``--include``) always stay. The model is then smaller to build and to presolve. When a
    category would be emptied the candidates are returned unchanged (CP-SAT proves it), or
    emptied with ``keep_empty`` (for a caller that takes an empty category as the proof).
    """
    relax = frozenset(relax)

    def on(group: str) -> bool:
        return group not in relax

    def avoid(slug: str) -> bool:
        return slug in q.avoid and slug not in relax

    if not all(cand.sizes().values()):
        return cand
    pins = set(q.include_ids)
    terms = LoadTerms.of(cand)
    rest10 = terms.rest_min()
    max_watts = max(psu_capacity(p) for p in cand.psu)
    cap = None
    if avoid("wall-circuit") and q.site is not None:
        site = q.site
        cap = max(wall_cap10(p, site) for p in cand.psu)
    max_len = max(k.max_gpu_length_mm or 10_000 for k in cand.case)
    max_threads = max(p.threads for p in cand.cpu)
    max_mem_gb = max(k.capacity_gb * n for k, n in cand.memory)
    psu_conn = {psu_plugs(p) for p in cand.psu}
    conn = [(h8, hp) for h8, hp in psu_conn if h8 is not None]
    any_conn = len(conn) < len(psu_conn)  # a PSU without known connectors: unchecked
    min_vram = ceil_int(q.min_vram_gib * 100) if q.min_vram_gib and on("min-vram") else None
    min_tf = ceil_int(q.min_tflops * TFLOPS_SCALE) if q.min_tflops and on("min-tflops") else None

    def gpu_ok(g: Gpu, n: int) -> bool:
        if g.id in pins:
            return True
        load = rest10 + gpu_load10(g, n)
        if on("psu-headroom") and max_watts < HEADROOM_MILLI * load:
            return False
        if cap is not None and load > cap:
            return False
        if on("gpu-length") and (g.length_mm or 0) > max_len:
            return False
        if avoid("cpu-threads-per-gpu") and L.MIN_THREADS_PER_GPU * n > max_threads:
            return False
        if on("gpu-power-connectors") and not any_conn:
            d = L.gpu_connector_demand([g] * n)
            if d is not None and all(connectors_fail(d, h8, hp) for h8, hp in conn):
                return False
        if avoid("ram-vs-vram") and 100 * max_mem_gb < round(
            100 * L.RAM_TO_VRAM_RATIO * g.vram_gib * n
        ):
            return False
        need = cand.ram_need_gib.get((g.id, n))
        if need is not None and on("workload-ram") and max_mem_gb < need:
            return False
        threads = cand.threads_need.get(n)
        if threads is not None and on("workload-threads") and max_threads < threads:
            return False
        if min_vram is not None and round(g.vram_gib * 100) * n < min_vram:
            return False
        return not (min_tf is not None and cand.tflops[(g.id, n)] < min_tf)

    gpu = [(g, n) for g, n in cand.gpu if gpu_ok(g, n)]
    if not gpu:
        return replace(cand, gpu=[]) if keep_empty else cand
    out = budget_reduce(replace(cand, gpu=gpu), q, relax)
    return out if keep_empty or all(out.sizes().values()) else cand


def budget_reduce(c: Candidates, q: Query, relax: Iterable[str] = ()) -> Candidates:
    """Options whose price plus the cheapest choice of every other category fits the budget
    (all of them when the budget is relaxed or absent; pinned parts always stay)."""
    if q.budget_cents is None or "budget" in relax or not all(c.sizes().values()):
        return c
    budget = q.budget_cents
    pins = set(q.include_ids)
    single = c.options()
    lows = {k: min(cents(p) * n for p, n in opts) for k, opts in single.items()}
    total = sum(lows.values())
    keep: dict[str, list[Any]] = {}
    for k, opts in single.items():
        room = budget - (total - lows[k])
        keep[k] = [(p, n) for p, n in opts if p.id in pins or cents(p) * n <= room]
    return replace(
        c,
        cpu=[p for p, _ in keep["cpu"]],
        board=[p for p, _ in keep["motherboard"]],
        memory=keep["memory"],
        gpu=keep["gpu"],
        storage=keep["storage"],
        psu=[p for p, _ in keep["psu"]],
        cooler=[p for p, _ in keep["cooler"]],
        case=[p for p, _ in keep["case"]],
    )
