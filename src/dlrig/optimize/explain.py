"""Explanations: binding constraints (which relaxed group improves the objective), why a request
is infeasible, alternatives, the price/throughput frontier, and the notes of a plan."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from dlrig.optimize.planmodel import PlanModel
from dlrig.optimize.prep import Prep
from dlrig.optimize.query import (
    AVOIDABLE_WARNINGS,
    TFLOPS_SCALE,
    Candidates,
    Query,
    Selection,
    cents,
)
from dlrig.optimize.reduce import reduce_candidates
from dlrig.optimize.results import Binding, Infeasible, PlannedBuild
from dlrig.optimize.search import Planner
from dlrig.parts import Category

FRONTIER_POINTS = 25
# CP-SAT's presolve probing level for the re-solves this module makes (the frontier's points and
# the binding analysis's probes); 2 is CP-SAT's default. Probing was most of a probe's work: on
# the imported catalog, 0.41 of the 0.42 deterministic seconds of the question without every
# group, which then solves in 0.01. A re-solve asks for the best build under a tighter budget or
# only for a better build than the plan, and needs no stronger presolve (the same points).
RESOLVE_PROBING = 0
BINDING_GROUPS = (
    "budget",
    "psu-headroom",
    "gpu-power-connectors",
    "gpu-slots",
    "slot-spacing",
    "case-expansion-slots",
    "gpu-length",
    "pcie-lanes",
    "multi-gpu-airflow",
    "wall-circuit",
    "ram-vs-vram",
    "cpu-threads-per-gpu",
    "memory-capacity",
    "workload-ram",
    "known-fit",
    "psu-tier",
)
GROUP_TEXT = {
    "budget": "budget",
    "psu-headroom": "PSU headroom (110% of the load)",
    "gpu-power-connectors": "PSU connectors",
    "gpu-slots": "x16 slots on the board",
    "slot-spacing": "slot spacing vs card thickness",
    "case-expansion-slots": "case slots",
    "gpu-length": "GPU length vs case",
    "pcie-lanes": "PCIe lanes (x8 per GPU)",
    "multi-gpu-airflow": "airflow between open-air cards",
    "wall-circuit": "wall circuit",
    "ram-vs-vram": "RAM ≥ VRAM",
    "cpu-threads-per-gpu": "CPU threads per GPU",
    "memory-capacity": "memory slots/maximum",
    "workload-ram": "workload RAM",
    "workload-threads": "workload CPU threads",
    "workload-storage": "workload storage",
    "known-fit": "multi-GPU fit needs a known slot layout",
    "psu-tier": "PSU tier (80 PLUS Gold+ for 2+ GPUs, the card's wattage class)",
    "min-vram": "minimum VRAM",
    "min-tflops": "throughput target",
    "include": "included parts",
}


def notes_of(prep: Prep, info: dict[str, Any], q: Query) -> list[str]:
    """The plan's notes: parts left out for lack of a price, candidates dropped for the
    precision."""
    notes = []
    unpriced = sum(prep.unpriced.values())
    if unpriced:
        parts = ", ".join(f"{n} {c.value}" for c, n in prep.unpriced.items() if n)
        notes.append(
            f"{unpriced} parts without a price were left out ({parts}){why_unpriced(prep)}."
        )
    for why, n in info["dropped"].items():
        notes.append(f"{n} {why} left out for {q.precision}.")
    return notes


def alternatives_of(
    planner: Planner, pm: PlanModel, sel: Selection, objective: str, k: int, distinct: str
) -> list[PlannedBuild]:
    """Up to ``k`` next-best builds, each differing from the last in ``distinct``."""
    out: list[PlannedBuild] = []
    last = sel
    for _ in range(k):
        pm.exclude(last, by=distinct)
        _, nxt, pb = planner.best(pm, objective)
        if nxt is None or pb is None:
            break
        out.append(pb)
        last = nxt
    return out


def frontier_of(planner: Planner) -> list[PlannedBuild]:
    """Pareto frontier of price vs throughput: max throughput, then cheapest, under a falling
    price cap (each point is optimal for its cap, so no point dominates another).

    Each point is a fresh banded search (:meth:`Planner.best_banded`) over the options left
    under the caps: the price cap is the budget of that search and options at or above the
    last point's TFLOPS are gone, so each point solves a small model of the most promising
    GPU options instead of the whole catalog again.
    """
    points: list[PlannedBuild] = []
    q, cand = planner.q, planner.cand
    budget, top = q.budget_cents, None
    for _ in range(FRONTIER_POINTS):
        gpu = (
            cand.gpu if top is None else [o for o in cand.gpu if cand.tflops[(o[0].id, o[1])] < top]
        )
        if not gpu:
            break
        sub = Planner(
            planner.catalog,
            planner.prep,
            replace(cand, gpu=gpu),
            replace(q, budget_cents=budget),
            planner.workload_ref,
            planner.time_limit_s,
            planner.workers,
            planner.workload_spec,
        )
        sub.probing = RESOLVE_PROBING
        _, sel, pb = sub.best_banded("throughput")
        planner.solves += sub.solves
        planner.solve_s += sub.solve_s
        planner.cuts += sub.cuts
        if sel is None or pb is None:
            break
        points.append(pb)
        budget = sel.price_cents() - 1
        top = cand.tflops[(sel.gpu[0].id, sel.gpu[1])]
    return points


# The binding analysis asks, for each constraint group, whether the plan improves without it. Each
# question is a re-solve that asks only for a build beating the plan (_improving), so a group that
# is not binding is an infeasible model, mostly refuted at once; and groups are asked together
# first (without all of them; only when that improves, each half again), since relaxing more
# only allows more: when no build beats the plan without all of them, none is binding alone. The
# budget is CP-SAT's deterministic time (a count of work, not wall-clock seconds), so the
# analysis examines the same groups and reports the same builds on an idle and on a loaded
# machine (with one worker: a single-threaded search is reproducible).
BINDING_BUDGET_DET = 2.0  # deterministic seconds for every group together
PROBE_DET = 0.5  # deterministic seconds for one re-solve
PROBE_LIMIT_S = 2.0  # time limit of one relaxed re-solve (infeasibility explanations)


class _Probe:
    """Re-solves of one binding analysis within the deterministic budget.

    Each question is asked over only the GPU options that can beat the plan (:func:`_beating`),
    after the necessary conditions of :func:`reduce_candidates`: a question no such option can
    answer is refuted without a solve, and the others solve a smaller model.
    """

    def __init__(self, planner: Planner, sel: Selection, objective: str) -> None:
        self.planner, self.sel, self.objective = planner, sel, objective
        self.spent = 0.0

    def left(self) -> float:
        return BINDING_BUDGET_DET - self.spent

    def groups(self) -> set[str]:
        """The constraint groups the plan's model holds (relaxing another changes nothing)."""
        if not self.planner.groups:
            self.planner.model()
        return self.planner.groups

    def ask(
        self, relax: Sequence[str] = (), best: bool = True
    ) -> tuple[str, PlanModel | None, Any]:
        """(status, model, solver) of the best build beating the plan without the groups
        ``relax``: INFEASIBLE when none can (often known without a solve), UNKNOWN when the
        budget ran out first. ``best=False`` asks only whether one exists: the search stops
        at the first build it finds (FEASIBLE), without proving which is best."""
        planner = self.planner
        opts = _beating(planner, self.sel, self.objective)
        cand = reduce_candidates(replace(planner.cand, gpu=opts), planner.q, relax, True)
        if not all(cand.sizes().values()):
            return "INFEASIBLE", None, None  # nothing that beats it fits (budget, power, ...)
        if self.left() <= 0.01:
            return "UNKNOWN", None, None
        pm = planner.model(relax=relax, cand=cand)
        pm.workers = 1
        _improving(pm, self.sel, self.objective)
        obj, maximize = pm.objective(self.objective, self.sel)
        det = min(PROBE_DET, self.left())
        status, solver = pm.solve(
            obj, maximize, planner.time_limit_s, det, RESOLVE_PROBING, first=not best
        )
        self.spent += solver.deterministic_time
        return status, pm, solver


def binding(planner: Planner, sel: Selection, objective: str) -> tuple[list[Binding], int]:
    """Constraint groups whose relaxation improves the objective (budget: +25%), and how many
    groups were examined within :data:`BINDING_BUDGET_DET` deterministic seconds."""
    probe = _Probe(planner, sel, objective)
    q = planner.q
    found: dict[str, Binding] = {}
    examined = 1
    if q.budget_cents is not None and objective != "cost":
        saved = q.budget_cents
        q.budget_cents = int(saved * 1.25)
        try:
            asked = probe.ask()
        finally:
            q.budget_cents = saved
        _report(planner, probe, asked, "budget", found)
    groups = [
        g
        for g in BINDING_GROUPS
        if g != "budget" and not (g in AVOIDABLE_WARNINGS and g not in q.avoid)
    ]
    skipped = len(BINDING_GROUPS) - 1 - len(groups)  # held only when avoided: nothing to relax
    stack = [groups]
    while stack and probe.left() > 0.01:
        todo = stack.pop()
        if len(todo) == 1:
            if todo[0] in probe.groups():
                _report(planner, probe, probe.ask(todo), todo[0], found)
            examined += 1
            continue
        # whether a better build exists without them decides; which is best does not matter
        status, _, _ = probe.ask(todo, best=False)
        if status == "INFEASIBLE":  # no better build even without all of them
            examined += len(todo)
            continue
        half = len(todo) // 2
        stack += [todo[half:], todo[:half]]  # the first half next: groups in their order
    out = [found[g] for g in BINDING_GROUPS if g in found]
    return out, examined + skipped


def _report(
    planner: Planner,
    probe: _Probe,
    asked: tuple[str, PlanModel | None, Any],
    group: str,
    found: dict[str, Binding],
) -> None:
    """Record ``group`` as binding when the model without it (``asked``) has a better build."""
    status, pm, solver = asked
    if pm is None or status not in ("OPTIMAL", "FEASIBLE"):
        return
    base = planner.score(probe.sel, probe.objective)
    alt = pm.selection(solver)
    score = planner.score(alt, probe.objective)
    if score <= base * (1 + 1e-9) if base >= 0 else score <= base:
        return
    gain = (score - base) / abs(base) if base else 1.0
    g, n = alt.gpu
    what = "+25% budget" if group == "budget" else f"without '{group}'"
    detail = f"{what}: {n}× {g.name}, ${alt.price_cents() / 100:,.0f}"
    if probe.objective in ("throughput", "throughput-per-dollar"):
        detail += f", {planner.cand.tflops[(g.id, n)] / TFLOPS_SCALE:,.1f} TFLOPS"
    found[group] = Binding(group, GROUP_TEXT.get(group, group), detail, round(gain, 4))


def _beating(planner: Planner, sel: Selection, objective: str) -> list[tuple[Any, int]]:
    """The GPU options a build beating ``sel`` (as :func:`_improving` asks) can have: a
    necessary condition on the option alone, with the cheapest choice of every other part."""
    c = planner.cand
    g, n = sel.gpu
    t_sel = c.tflops.get((g.id, n))
    price = sel.price_cents()
    if objective == "throughput" and t_sel is not None:
        return [o for o in c.gpu if c.tflops[(o[0].id, o[1])] >= t_sel + 1]
    if objective == "vram":
        need = round(g.vram_gib * 100) * n + 1
        return [o for o in c.gpu if round(o[0].vram_gib * 100) * o[1] >= need]
    rest = search_rest_cents(c)
    if objective == "cost":
        return [o for o in c.gpu if cents(o[0]) * o[1] + rest <= price - 1]
    if objective == "throughput-per-dollar" and t_sel is not None:
        # T·C_sel − C·T_sel ≥ 1 with C at least the option's price plus the cheapest rest
        return [
            o
            for o in c.gpu
            if c.tflops[(o[0].id, o[1])] * max(price, 1) - (cents(o[0]) * o[1] + rest) * t_sel >= 1
        ]
    return list(c.gpu)


def _improving(pm: PlanModel, sel: Selection, objective: str) -> None:
    """Only builds that score better than ``sel`` (as :meth:`Planner.score` ranks them).

    The optimum of the model is unchanged when it beats ``sel`` (it is still feasible and
    nothing better was added), and when it does not, nothing does: the objectives rank the score
    first, so a build with a better score would have had a better objective.
    """
    g, n = sel.gpu
    t_sel = pm.cand.tflops.get((g.id, n))
    price = sel.price_cents()
    if objective == "throughput" and t_sel is not None:
        pm.m.add(pm.tflops >= t_sel + 1)
    elif objective == "vram":
        pm.m.add(pm.vram >= round(g.vram_gib * 100) * n + 1)
    elif objective == "cost":
        pm.m.add(pm.price <= price - 1)
    elif objective == "throughput-per-dollar" and t_sel is not None:
        pm.m.add(pm.tflops * max(price, 1) - pm.price * t_sel >= 1)


def explain_infeasible(
    planner: Planner, q: Query, cand: Candidates, info: dict[str, Any], empty: list[str]
) -> Infeasible:
    """Why no build fits: the empty categories or the smallest set of constraint groups to relax."""
    reasons: list[str] = []
    if empty:
        for k in empty:
            if k == "gpu" and q.workload is not None and info["pruned"].get("gpu"):
                need = info["vram_need_gib"]
                top = max(
                    (getattr(g, "vram_gib", 0.0) for g in planner.prep.parts[Category.GPU]),
                    default=0.0,
                )
                n_max = max(need) if need else 1
                reasons.append(
                    f"no priced GPU holds the workload: it needs {need[min(need)]:.1f} GiB per GPU "
                    f"on 1 GPU and {need[n_max]:.1f} GiB on {n_max}; the largest card has "
                    f"{top:g} GiB. Use ZeRO-3/FSDP, LoRA/QLoRA or a smaller batch."
                )
            else:
                reasons.append(f"no usable priced {k} passes the filters")
        return Infeasible(reasons)
    # the same request without the budget: the cheapest build that fits
    cheapest = None
    if q.budget_cents is not None:
        pm = planner.model(relax=["budget"])
        _, sel, pb, _ = planner.solve(pm, *pm.objective("cost"))
        if pb is not None and sel is not None:
            cheapest = pb
            reasons.append(
                f"the budget ${q.budget_cents / 100:,.0f} is too small: the cheapest build that "
                f"fits costs ${pb.price_usd:,.0f} "
                f"(${pb.price_usd - q.budget_cents / 100:,.0f} more)"
            )
            return Infeasible(reasons, cheapest)
    # still impossible: which single constraint group makes it possible?
    freed = []
    for group in sorted((set(BINDING_GROUPS) | set(GROUP_TEXT)) - {"budget"}):
        pm = planner.model(relax=["budget", group])
        if group not in pm.groups:
            continue
        status, _ = pm.solve(
            pm.price, False, min(planner.time_limit_s, PROBE_LIMIT_S), probing=RESOLVE_PROBING
        )
        if status in ("OPTIMAL", "FEASIBLE"):
            freed.append(GROUP_TEXT.get(group, group))
    if freed:
        reasons.append(
            "no build meets every constraint; dropping one of these would allow one: "
            + ", ".join(freed)
        )
    else:
        reasons.append("no build in the catalog meets these constraints together")
    return Infeasible(reasons, cheapest)


UNSPENT_SHARE = 0.10  # more of the budget than this left over needs a named reason
NAMED_UNPRICED = 3  # unpriced boards/PSUs named in a blocker, at most


def why_unpriced(prep: Prep) -> str:
    """`` (…: 28 no-retail-offer, 12 quote-only, …; `dlrig prices stale` …)`` for the note on
    parts left out for want of a price, from the shipped reasons (``offers.yaml``)."""
    from collections import Counter

    from dlrig.catalog.offers import shipped_unavailable

    marks = shipped_unavailable()
    counts = Counter(marks[i].status.value for i in prep.unpriced_ids if i in marks)
    if not counts:
        return ""
    told = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    known = sum(counts.values())
    lead = "why" if known == len(prep.unpriced_ids) else f"{known:,} of them known to the snapshot"
    return (
        f"; {lead}: {told} (`dlrig prices stale` gives each reason; "
        "quote one with --part-price NAME=USD)"
    )


def _unpriced_that_would_do(rows: list[tuple[str, str, int]], need: int) -> str:
    """`` (unpriced: NAME — reason; …)`` for unpriced parts whose figure reaches ``need``."""
    from dlrig.catalog.offers import shipped_unavailable

    marks = shipped_unavailable()
    fit = sorted((r for r in rows if r[2] >= need), key=lambda r: (-r[2], r[1]))
    if not fit:
        return ""
    named = []
    for pid, name, _ in fit[:NAMED_UNPRICED]:
        mark = marks.get(pid)
        named.append(f"{name} ({mark.status.value})" if mark else name)
    more = f" and {len(fit) - NAMED_UNPRICED} more" if len(fit) > NAMED_UNPRICED else ""
    return (
        f"; {len(fit)} unpriced would do: {', '.join(named)}{more} "
        "(quote one with --part-price NAME=USD)"
    )


def more_gpu_blockers(planner: Planner, sel: Selection) -> list[str]:
    """Why one more of the chosen GPU does not fit, from necessary conditions (each tested with
    the most favourable part of every other category, as :func:`reduce_candidates` does)."""
    from dlrig.optimize.terms import HEADROOM_MILLI, LoadTerms, gpu_load10, psu_capacity
    from dlrig.optimize.whole import psu_tier_ok

    q, c = planner.q, planner.cand
    g, n = sel.gpu
    m = n + 1
    out: list[str] = []
    top = q.gpus or (q.upgrade_to or q.max_gpus)
    if m > top:
        return [f"the request allows at most {top} GPUs"]
    if q.budget_cents is not None:
        rest = search_rest_cents(c)
        need = cents(g) * m + rest
        if need > q.budget_cents:
            out.append(
                f"budget: {m}× {g.name} with the cheapest other parts costs "
                f"${need / 100:,.0f} (budget ${q.budget_cents / 100:,.0f})"
            )
    terms = LoadTerms.of(c)
    load = terms.rest_min() + gpu_load10(g, m)
    biggest = max(c.psu, key=lambda p: p.wattage_w)
    if psu_capacity(biggest) < HEADROOM_MILLI * load:
        out.append(
            f"PSU: {m} cards need ≥ {HEADROOM_MILLI * load / 10_000:,.0f} W (110% of the load); "
            f"the largest priced PSU has {biggest.wattage_w:,} W"
            + _unpriced_that_would_do(
                planner.prep.unpriced_psus, math.ceil(HEADROOM_MILLI * load / 10_000)
            )
        )
    elif q.whole_machine and not any(psu_tier_ok(p, g, m) for p in c.psu):
        out.append(f"PSU tier: no priced PSU is of the tier for {m}× {g.name}")
    if q.site is not None and "wall-circuit" in q.avoid:
        from dlrig.optimize.terms import wall_cap10

        cap = max(wall_cap10(p, q.site) for p in c.psu)
        if load > cap:
            out.append(
                f"wall circuit: {m} cards draw ~{load / 10:,.0f} W DC, more than the "
                f"{q.site.continuous_limit_w:,.0f} W circuit allows (--circuit)"
            )
    if "ram-vs-vram" in q.avoid:
        from dlrig.rules import limits as L

        need_gb = math.ceil(L.RAM_TO_VRAM_RATIO * g.vram_gib * m)
        top = max((b.max_memory_gb or 0 for b in c.board), default=0)
        if top < need_gb:
            out.append(
                f"RAM: {m} cards need ≥ {need_gb:,} GB of RAM (RAM ≥ VRAM); the priced boards "
                f"hold at most {top:,} GB"
                + _unpriced_that_would_do(planner.prep.unpriced_board_ram, need_gb)
            )
    slots = max((len(b.x16_slots) for b in c.board), default=0)
    if slots < m:
        more = _unpriced_that_would_do(planner.prep.unpriced_boards, m)
        out.append(f"slots: no priced board lists {m} x16 slots{more}")
    return out


def _cheapest_with(planner: Planner, g: Any, m: int) -> str:
    """What blocks m cards of ``g`` when no single necessary condition does: the cheapest build
    with them that meets every constraint (budget left out), or that none exists."""
    opt = next((o for o in planner.cand.gpu if o[0].id == g.id and o[1] == m), None)
    if opt is None:
        return f"the request leaves out {m}× {g.name}"
    cand = reduce_candidates(replace(planner.cand, gpu=[opt]), planner.q, ["budget"])
    pm = planner.model(relax=["budget"], cand=cand)
    # a re-solve of the plan like the binding probes: the one probing setting (RESOLVE_PROBING)
    status, solver = pm.solve(
        *pm.objective("cost"), min(planner.time_limit_s, PROBE_LIMIT_S), probing=RESOLVE_PROBING
    )
    if status in ("OPTIMAL", "FEASIBLE"):
        price = pm.selection(solver).price_cents() / 100
        return (
            f"budget: the cheapest build with {m}× {g.name} that meets every rule costs "
            f"${price:,.0f}"
        )
    if status == "INFEASIBLE":
        return (
            f"the rules together: no priced build holds {m}× {g.name} (slots, lanes, case "
            "and power in combination)"
        )
    return f"undecided within {PROBE_LIMIT_S:g} s for {m}× {g.name}"


def search_rest_cents(c: Candidates) -> int:
    """The cheapest price of everything but the GPUs (see
    :func:`dlrig.optimize.search.rest_cents`)."""
    from dlrig.optimize.search import rest_cents

    return rest_cents(c)


def unspent_reason(
    planner: Planner, sel: Selection, best: PlannedBuild, bindings: list[Binding]
) -> str | None:
    """When more than 10% of the budget is left: what blocks spending it (None otherwise)."""
    q = planner.q
    if q.budget_cents is None:
        return None
    left = q.budget_cents / 100 - best.price_usd
    if left <= UNSPENT_SHARE * q.budget_cents / 100:
        return None
    named = [b.text for b in bindings if b.group != "budget"]
    blockers = more_gpu_blockers(planner, sel)
    if not blockers:
        blockers = [_cheapest_with(planner, sel.gpu[0], sel.gpu[1] + 1)]
    what = "; ".join(blockers)
    lead = f"${left:,.0f} of the budget is unspent: every other part meets its target"
    if named:
        lead += "; binding: " + ", ".join(named)
    g, n = sel.gpu
    return f"{lead}. One more {g.name} ({n + 1} in all) is blocked by: {what}."
