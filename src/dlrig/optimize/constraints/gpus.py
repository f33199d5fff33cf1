"""Constraints that depend on the chosen GPUs: psu-headroom (with transients), gpu-power-connectors,
wall-circuit, gpu-length, cpu-threads-per-gpu, then the slot table (see slots).

``opts`` is a list of (literal, GPU, count): the GPU choice now, or the GPUs of a planned upgrade
(``tag == "future"``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dlrig.optimize.constraints import chosen_sum, lin, total
from dlrig.optimize.constraints.fit import NO_LIMIT_MM
from dlrig.optimize.constraints.slots import add_slots
from dlrig.optimize.terms import (
    HEADROOM_MILLI,
    connectors_fail,
    gpu_load10,
    psu_capacity,
    psu_plugs,
    wall_cap10,
)
from dlrig.optimize.whole import add_psu_tier
from dlrig.parts import Gpu
from dlrig.rules import limits as L

if TYPE_CHECKING:
    from dlrig.optimize.planmodel import PlanModel


def load10(pm: PlanModel, opts: Sequence[tuple[Any, Gpu, int]], transient: bool = False) -> Any:
    """Estimated peak DC load ×10: CPU + GPUs + the build's rest-of-system allowance
    (``transient``: each GPU at its generation's millisecond peak, as psu-headroom counts it)."""
    t = pm.terms
    lits: list[Any] = [*pm.use_cpu, *pm.use_memory, *pm.use_drive, *pm.use_cooler]
    coefs: list[int] = [*t.cpu, *t.memory, *t.storage, *t.cooler]
    for lit, g, n in opts:
        lits.append(lit)
        coefs.append(gpu_load10(g, n, spike_factor(pm, g) if transient else None))
    return pm.cp.LinearExpr.weighted_sum(lits, coefs) + t.base


def spike_factor(pm: PlanModel, g: Gpu) -> float | None:
    """``g``'s millisecond transient factor (catalog/data/gpu_power.yaml, by chip id or
    architecture; None where unmeasured) — the one psu-headroom applies in the checker."""
    chip = pm.prep.chips.get(pm.cand.caps.get(g.id, (g,))[0].id)  # a capped option: its card's
    return L.gpu_transient_factor(g.chip, chip)


def spiky(pm: PlanModel, opts: Sequence[tuple[Any, Gpu, int]]) -> bool:
    """Whether any GPU option has measured excursions above its power (factor > 1)."""
    return any((spike_factor(pm, g) or 1.0) > 1.0 for _, g, _ in opts)


def add_gpus(pm: PlanModel, opts: list[tuple[Any, Gpu, int]], tag: str) -> None:
    """Add the GPU constraint groups (power, connectors, length, threads, slots) for ``opts``."""
    m, c, q = pm.m, pm.cand, pm.q
    future = tag == "future"
    head = HEADROOM_MILLI
    watts = lin((psu_capacity(p), v) for p, v in zip(c.psu, pm.use_psu, strict=True))
    if pm.on("psu-headroom"):
        m.add(watts >= head * load10(pm, opts))
    if pm.avoid("psu-headroom") and spiky(pm, opts):
        # the checker's excursion verdicts (rules/power.py), one PSU chosen: none for ATX 3.x;
        # within the label for a PSU with a measured trip point (beyond it: a warning, past the
        # trip point an error); within the label with the ×1.1 margin for any other PSU
        atx3 = total(v for p, v in zip(c.psu, pm.use_psu, strict=True) if p.atx3)
        opp = total(v for p, v in zip(c.psu, pm.use_psu, strict=True) if p.opp_w is not None)
        big = head * 10**6
        spike = load10(pm, opts, transient=True)
        m.add(watts + big * atx3 >= 1000 * spike)
        m.add(watts + big * atx3 + big * opp >= head * spike)
    if pm.on("gpu-power-connectors"):
        by_demand: dict[L.ConnectorDemand, list[Any]] = defaultdict(list)
        for lit, g, n in opts:
            d = L.gpu_connector_demand([g] * n)
            if d is not None:
                by_demand[d].append(lit)
        psu_cls: dict[tuple[int | None, int], list[int]] = defaultdict(list)
        for i, p in enumerate(c.psu):
            psu_cls[psu_plugs(p)].append(i)
        for (have8, havehp), pi in psu_cls.items():
            if have8 is None:
                continue  # the rule reports unchecked
            for d, lits in by_demand.items():
                if connectors_fail(d, have8, havehp):
                    m.add(total(lits) + total(pm.use_psu[i] for i in pi) <= 1)
    if pm.avoid("wall-circuit") and q.site is not None:
        site = q.site
        cap = pm.cp.LinearExpr.weighted_sum(pm.use_psu, [wall_cap10(p, site) for p in c.psu])
        m.add(load10(pm, opts) <= cap)
    if not future and pm.on("gpu-length"):
        m.add(
            lin((g.length_mm or 0, lit) for lit, g, _ in opts)
            <= chosen_sum(c.case, pm.use_case, lambda k: k.max_gpu_length_mm or NO_LIMIT_MM)
        )
    if pm.avoid("cpu-threads-per-gpu"):
        m.add(
            lin((p.threads, v) for p, v in zip(c.cpu, pm.use_cpu, strict=True))
            >= lin((L.MIN_THREADS_PER_GPU * n, lit) for lit, _, n in opts)
        )
    add_psu_tier(pm, opts)
    add_slots(pm, opts, tag)
