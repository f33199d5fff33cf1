"""plan(): the provably optimal compatible build for a budget and a workload.

Pipeline: preprocess the catalog (cached per version) → filter and prune the candidates for the
request → build the CP-SAT model → solve → check the build with the real checker (an error, or a
warning the planner holds as a constraint, adds a no-good cut and re-solves, so every returned
build passes ``dlrig check``) → alternatives, frontier, binding constraints, or an explanation
of an infeasible request.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlrig.errors import InputError, MissingExtraError
from dlrig.optimize.candidates import candidates
from dlrig.optimize.explain import (
    BINDING_GROUPS,
    alternatives_of,
    binding,
    explain_infeasible,
    frontier_of,
    notes_of,
    unspent_reason,
)
from dlrig.optimize.inputs import load_workload, resolve_terms
from dlrig.optimize.prep import MAX_GPUS, prepare, remember
from dlrig.optimize.query import AVOIDABLE_WARNINGS, FIT_RULES, Candidates, Query, Selection
from dlrig.optimize.results import Binding, Infeasible, PlannedBuild, PlanResult
from dlrig.optimize.search import Planner

if TYPE_CHECKING:
    from dlrig.build import Site
    from dlrig.catalog import Catalog
    from dlrig.parts import Riser

OBJECTIVES = ("throughput", "vram", "throughput-per-dollar", "cost")
COOLING = ("blower", "open-air", "liquid", "passive")
FILL_OBJECTIVES = ("throughput", "vram")  # cost stays the cheapest; a ratio is not filled


# --- the public function ---------------------------------------------------------------------
# Largest budget, VRAM, TFLOPS, hours or time limit the planner takes: far above any one machine,
# low enough that its arithmetic (prices in cents as integers) cannot overflow.
MAX_PLAN_NUMBER = 1e9


def plan(
    budget_usd: float | None = None,
    workload: Any = None,
    *,
    objective: str = "throughput",
    task: str | None = None,
    precision: str | None = None,
    gpus: int | None = None,
    max_gpus: int = MAX_GPUS,
    upgrade_to: int | None = None,
    min_vram_gib: float | None = None,
    min_tflops: float | None = None,
    max_hours: float | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    cooling: Sequence[str] | None = None,
    site: Site | None = None,
    allow: Sequence[str] = (),
    known_fit: bool = True,
    fill: bool = True,
    power_limits: bool = True,
    alternatives: int = 0,
    distinct: str = "gpu",
    frontier: bool = False,
    explain: bool = True,
    catalog: Catalog | str | Path | None = None,
    part_prices: Mapping[str, float] | None = None,
    time_limit_s: float = 10.0,
    workers: int = 1,
) -> PlanResult:
    """The best compatible build for the budget (and workload), proved optimal by CP-SAT.

    ``objective``: throughput (max sustained TFLOPS, then cheapest), vram (max total VRAM, then
    cheapest), throughput-per-dollar, or cost (cheapest build meeting ``min_tflops`` /
    ``max_hours`` and the workload). ``allow`` lists warning rules the plan may trigger (by
    default every warning in :data:`AVOIDABLE_WARNINGS` is held as a constraint). ``site`` is
    the wall circuit the build runs on (default 120 V / 15 A). ``part_prices`` (part id or
    name → USD) prices parts for this plan, e.g. local quotes. ``upgrade_to`` plans the board,
    case, PSU and cooling for that many GPUs with fewer bought now. Every returned build passes
    :func:`dlrig.rules.check` with no error. ``fill`` (default on; not for ``cost``): the PSU
    tier floor, then the rest of the budget spent on the whole machine (:mod:`.whole`).
    ``power_limits`` (default on): GPUs may be capped at measured power limits to fit the PSU or
    the circuit (:mod:`.caps`); the plan's ``power_limit`` says what the caps cost.
    """
    t_start = time.perf_counter()
    try:
        from dlrig.optimize.cpsat import load_cp_model

        load_cp_model()  # without pandas: see optimize/cpsat.py
    except ImportError:  # pragma: no cover - depends on the install
        raise MissingExtraError("ortools", "plan") from None
    from dlrig.build import Site
    from dlrig.catalog import open_catalog

    if objective not in OBJECTIVES:
        raise InputError(
            f"unknown objective '{objective}'", "choose one of: " + ", ".join(OBJECTIVES)
        )
    if budget_usd is not None and not 0 < budget_usd <= MAX_PLAN_NUMBER:  # also NaN
        raise InputError(
            f"budget_usd: ${budget_usd:,.6g} is not a positive amount up to "
            f"${MAX_PLAN_NUMBER:,.0f}",
            "give a budget in USD, e.g. 7000",
            field="budget_usd",
        )
    for field, value, least in (  # named as the request fields (dlrig.app.plan.PlanRequest)
        ("min_vram_gib", min_vram_gib, 0.0),  # 0: no minimum
        ("min_tflops", min_tflops, 0.0),
        ("max_hours", max_hours, None),
        ("time_limit", time_limit_s, None),
    ):
        if value is None:
            continue
        ok = value >= least if least is not None else value > 0
        if not ok or not value <= MAX_PLAN_NUMBER:  # NaN fails both comparisons
            what = "0 or more" if least is not None else "above 0"
            raise InputError(f"{field}: {value:g} is out of range", f"give {what}", field=field)
    if budget_usd is None and objective != "cost":
        raise InputError(
            "budget_usd: needed unless the objective is cost",
            "give a budget in USD, e.g. 7000",
            field="budget_usd",
        )
    if gpus is not None and not 1 <= gpus <= MAX_GPUS:
        raise InputError(f"gpus: {gpus} is outside 1-{MAX_GPUS}", "plan 1 to 8 GPUs", field="gpus")
    if upgrade_to is not None:
        if not 2 <= upgrade_to <= MAX_GPUS:
            raise InputError(
                f"upgrade_to: {upgrade_to} is outside 2-{MAX_GPUS}",
                "use 2 to 8",
                field="upgrade_to",
            )
        if gpus is not None and gpus > upgrade_to:
            raise InputError(
                f"gpus: {gpus} is more than the {upgrade_to} to upgrade to",
                "buy fewer GPUs now",
                field="gpus",
            )
    if distinct not in ("gpu", "build"):
        raise InputError(f"unknown distinct mode '{distinct}'", "use gpu or build")
    if cooling:
        bad = [c for c in cooling if c not in COOLING]
        if bad:
            raise InputError(f"unknown GPU cooling '{bad[0]}'", "choose from " + ", ".join(COOLING))
    unknown_allow = [a for a in allow if a not in AVOIDABLE_WARNINGS]
    if unknown_allow:
        raise InputError(
            f"allow: {unknown_allow[0]} is not a warning rule the planner holds",
            "choose from " + ", ".join(AVOIDABLE_WARNINGS),
            field="allow",
        )
    from dlrig.catalog import Catalog as _Catalog

    cat: _Catalog = catalog if isinstance(catalog, _Catalog) else open_catalog(catalog)
    from dlrig.asof import today
    from dlrig.catalog.risers import plan_riser, with_riser_quotes

    # the user's quotes for parts the catalog has no dated price for (a riser's name prices the
    # riser an open-frame plan mounts its cards on)
    risers, part_prices = with_riser_quotes(part_prices or {}, today())
    if part_prices:
        cat = cat.with_prices(part_prices)
    w, workload_ref = load_workload(workload, task, precision)
    prec = precision or (w.precision if w is not None else "bf16")
    if max_hours is not None:
        if w is None:
            raise InputError("max_hours: needs a workload", "give a workload", field="max_hours")
        from dlrig.sizing import training_flops

        flops = training_flops(w)
        if flops is None:
            raise InputError("the workload has no data size", "set data.tokens or --tokens")
        # the objective is model TFLOPS (recomputation already slows the estimated rate)
        need = flops / (max_hours * 3600) / 1e12
        min_tflops = max(min_tflops or 0.0, need)
    t_prep = time.perf_counter()
    prep = prepare(cat)
    prep_s = time.perf_counter() - t_prep
    inc_ids, inc_brands = resolve_terms(cat, include, "include")
    ex_ids, ex_brands = resolve_terms(cat, exclude, "exclude")
    q = Query(
        budget_cents=None if budget_usd is None else round(budget_usd * 100),
        objective=objective,
        precision=prec,
        workload=w,
        gpus=gpus,
        max_gpus=max_gpus,
        upgrade_to=upgrade_to,
        min_vram_gib=min_vram_gib,
        min_tflops=min_tflops,
        site=site or Site(),
        avoid=frozenset(AVOIDABLE_WARNINGS) - set(allow),
        known_fit=known_fit,
        whole_machine=fill and objective != "cost",
        power_limits=power_limits,
        include_ids=tuple(sorted(inc_ids)),
        include_brands=tuple(sorted(inc_brands)),
    )
    for pid in inc_ids:
        part = cat.get(pid)
        if part.price_usd is None:
            raise InputError(
                f"include: {part.name} has no price, so the planner cannot use it",
                "choose a priced part (dlrig catalog list shows prices)",
                field="include",
            )
    t_cand = time.perf_counter()
    cand, info = candidates(prep, q, ex_ids, ex_brands, cooling)
    cand, frame_note = _with_riser(cand, plan_riser(risers), risers)
    cand_s = time.perf_counter() - t_cand
    planner = Planner(cat, prep, cand, q, workload_ref, time_limit_s, workers, w)
    notes = notes_of(prep, info, q) + ([frame_note] if frame_note else [])
    result = PlanResult(
        status="INFEASIBLE",
        objective=objective,
        best=None,
        held_warnings=sorted(q.avoid),
        notes=notes,
    )
    empty = [k for k, n in cand.sizes().items() if n == 0]
    t_solve = time.perf_counter()
    sel = None
    if not empty:
        status, sel, best = planner.best_banded(objective)
        if best is not None:
            result.best = best
            result.status = planner.status
            if sel is not None:
                result.best = _whole_machine(planner, sel, best, objective, result)
        elif status not in ("INFEASIBLE", "MODEL_INVALID"):
            result.status = "UNKNOWN"
    solve_s = time.perf_counter() - t_solve
    if result.best is None or sel is None:
        result.infeasible = explain_infeasible(planner, q, cand, info, empty)
    else:
        result.caveats = caveats(result.best)
        if alternatives:
            pm = planner.model()
            result.alternatives = alternatives_of(
                planner, pm, sel, objective, alternatives, distinct
            )
        if frontier:
            result.frontier = frontier_of(planner)
        if explain:
            result.binding, examined = binding(planner, sel, objective)
            if q.whole_machine and objective in FILL_OBJECTIVES:
                result.unspent = unspent_reason(planner, sel, result.best, result.binding)
            if examined < len(BINDING_GROUPS):
                result.notes.append(
                    "binding-constraint analysis stopped at its work budget "
                    f"({examined} of {len(BINDING_GROUPS)} constraint groups examined)"
                )
    remember(prep)  # placement facts and pruned sets this plan added, for the next process
    result.stats = {
        **result.stats,
        "catalog": cat.name,
        "catalog_version": cat.version,
        "prep_s": round(prep_s, 4),
        "prep_build_s": round(prep.seconds, 4),
        "candidates_s": round(cand_s, 4),
        "solve_s": round(solve_s, 4),
        "cp_sat_s": round(planner.solve_s, 4),
        "total_s": round(time.perf_counter() - t_start, 4),
        "solves": planner.solves,
        "checker_cuts": planner.cuts,
        "unpriced_excluded": {c.value: n for c, n in prep.unpriced.items()},
        **info,
    }
    return result


def _with_riser(
    cand: Candidates, riser: Riser | None, risers: Sequence[Riser]
) -> tuple[Candidates, str | None]:
    """The candidates with the riser an open frame mounts its cards on; without a priced riser
    the open frames go (a frame's cards sit on risers), and a note says how to quote one."""
    from dataclasses import replace

    if riser is not None:
        return replace(cand, riser=riser), None
    frames = [k for k in cand.case if k.kind == "open-frame"]
    if not frames:
        return cand, None
    names = ", ".join(f"'{r.name}'" for r in risers) or "a riser"
    note = (
        f"open frame(s) left out ({frames[0].name}"
        + (f" and {len(frames) - 1} more" if len(frames) > 1 else "")
        + f"): the cards would sit on riser cables and no riser has a price; quote one with "
        f"--part-price NAME=USD ({names})"
    )
    return replace(cand, case=[k for k in cand.case if k.kind != "open-frame"]), note


def _whole_machine(
    planner: Planner, sel: Selection, best: PlannedBuild, objective: str, result: PlanResult
) -> PlannedBuild:
    """The best build with the rest of the budget spent on the whole machine (throughput and
    vram objectives with ``fill``), each non-GPU part's reason attached."""
    from dlrig.optimize.whole import reasons, targets

    q = planner.q
    g, n = sel.gpu
    if not q.whole_machine or objective not in FILL_OBJECTIVES:
        best.reasons = reasons(sel, None, False)
        return best
    t0 = time.perf_counter()
    filled = planner.fill(sel)
    result.stats["fill_s"] = round(time.perf_counter() - t0, 4)
    chosen, out = sel, best
    if filled is not None:
        result.stats["fill_status"] = filled[0]
        chosen, out = filled[1], filled[2]
    out.reasons = reasons(chosen, targets(q, planner.cand, g, n), True)
    return out


# Rules whose "unchecked" a multi-GPU plan may still carry (known_fit holds FIT_RULES): said
# in the plan's first lines, since the catalog often lacks PSU lengths and plug counts.
MULTI_GPU_FIT = ("gpu-length", "gpu-power-connectors", "psu-fit", *FIT_RULES)


def caveats(best: PlannedBuild) -> list[str]:
    """The plan's first lines: fit, length and power-connector rules left unchecked on 2+ GPUs."""
    if best.gpu_count < 2:
        return []
    un = [u for u in best.check.unchecked if u.slug in MULTI_GPU_FIT]
    return [
        f"NOT CHECKED for this {best.gpu_count}-GPU build: {u.slug} ({u.reason}); verify it "
        "before buying"
        for u in un
    ]


__all__ = [
    "COOLING",
    "OBJECTIVES",
    "Binding",
    "Infeasible",
    "PlanResult",
    "PlannedBuild",
    "plan",
]
