"""The solver loop: solve the CP-SAT model, check the build with the real checker, cut and
re-solve until it passes; GPU bands (most promising options first), throughput per dollar by
Dinkelbach's method, and the objective's score of a selection."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from dlrig.optimize.planmodel import PlanModel
from dlrig.optimize.prep import Prep
from dlrig.optimize.query import (
    FIT_RULES,
    TFLOPS_SCALE,
    Candidates,
    Query,
    Selection,
    cents,
    riser_cents,
)
from dlrig.optimize.reduce import budget_reduce, reduce_candidates
from dlrig.optimize.results import PlannedBuild
from dlrig.parts import Category

if TYPE_CHECKING:
    from dlrig.build import Build
    from dlrig.catalog import Catalog
    from dlrig.parts import Gpu
    from dlrig.rules.base import CheckResult
    from dlrig.workload import Workload

MAX_CUTS = 200  # re-solves after the checker rejects a build, per solve
BAND = 4  # GPU options in the first band of best_banded (then ×BAND_GROWTH per band)
BAND_GROWTH = 3
FILL_LIMIT_S = 2.0  # time limit of the whole-machine fill solve (it starts from the optimum)


class Planner:
    """One request's solving state: candidates, query, solver statistics and verification."""

    def __init__(
        self,
        catalog: Catalog,
        prep: Prep,
        cand: Candidates,
        q: Query,
        workload_ref: Any,
        time_limit_s: float,
        workers: int,
        workload_spec: Workload | None = None,
    ) -> None:
        self.catalog = catalog
        self.prep = prep
        self.cand = cand
        self.q = q
        self.workload_ref = workload_ref
        self.workload_spec = workload_spec
        self.time_limit_s = time_limit_s
        self.workers = workers
        self.cuts = 0
        self.solves = 0
        self.solve_s = 0.0
        self.status = "OPTIMAL"
        self.groups: set[str] = set()  # constraint groups the query's models hold
        self.probing: int | None = None  # CP-SAT's presolve probing level (None: its default)

    def reduced(self, relax: Iterable[str] = ()) -> Candidates:
        """The candidates less the options no solution can use (see reduce_candidates)."""
        return reduce_candidates(self.cand, self.q, relax)

    def model(self, relax: Iterable[str] = (), cand: Candidates | None = None) -> PlanModel:
        """A CP-SAT model of the query over ``cand`` (default: the reduced candidates),
        ``relax``'d groups left out."""
        cand = cand if cand is not None else self.reduced(relax)
        pm = PlanModel(self.prep, cand, self.q, relax=relax, workers=self.workers)
        self.groups |= pm.groups  # the same for every model of this query (see PlanModel.on)
        return pm

    def make_build(self, sel: Selection, n: int | None = None, name: str = "plan") -> Build:
        """The Build of ``sel`` (with ``n`` GPUs instead of its count when given)."""
        from dlrig.build import Build
        from dlrig.optimize.caps import build_item

        g, count = sel.gpu
        return Build.from_parts(
            {
                Category.CPU: sel.cpu,
                Category.MOTHERBOARD: sel.board,
                Category.MEMORY: sel.memory,
                Category.GPU: build_item(g, n or count, self.cand.caps, sel.riser),  # type: ignore[dict-item]
                Category.STORAGE: sel.storage,
                Category.PSU: sel.psu,
                Category.COOLER: sel.cooler,
                Category.CASE: sel.case,
            },
            name=name,
            catalog=self.catalog,
            site=self.q.site,
            workload=self.workload_ref,
            workload_spec=self.workload_spec,  # parsed once per plan, not once per check
        )

    def rejects(self, result: CheckResult, future: bool = False) -> list[str]:
        """Why the checker's verdict is not acceptable for a plan (empty: accepted)."""
        from dlrig.rules.base import Severity

        out = [f"{f.slug}: {f.message}" for f in result.errors]
        avoid = set(self.q.avoid) - ({"ram-vs-vram"} if future else set())
        out += [
            f"{f.slug}: {f.message}"
            for f in result.findings
            if f.severity is Severity.WARNING and f.slug in avoid
        ]
        if self.q.known_fit and result.build.gpu_count >= 2:
            out += [
                f"{u.slug} unchecked: {u.reason}" for u in result.unchecked if u.slug in FIT_RULES
            ]
        return out

    def verify(self, sel: Selection) -> PlannedBuild | None:
        """``sel`` as a PlannedBuild when the checker accepts it (and its upgrade), else None."""
        from dlrig.rules import check

        build = self.make_build(sel)
        result = check(build)
        if self.rejects(result):
            return None
        planned = self.planned(sel, build, result)
        if self.q.upgrade_to:
            fb = self.make_build(sel, self.q.upgrade_to, name=f"{build.name} (upgraded)")
            fr = check(fb)
            if self.rejects(fr, future=True):
                return None
            planned.future, planned.future_check = fb, fr
            base, _, kept = self.cap_of(sel.gpu[0])
            chip = self.prep.chips[base.id]
            from dlrig.sizing import objective_coefficient as coefficient

            future = coefficient(chip, self.q.upgrade_to, self.q.workload, self.q.precision)
            planned.future_tflops = None if future is None else future * kept
            planned.future_price_usd = round(
                (
                    sel.price_cents()
                    + (cents(sel.gpu[0]) + riser_cents(sel.riser))
                    * (self.q.upgrade_to - sel.gpu[1])
                )
                / 100,
                2,
            )
        return planned

    def cap_of(self, g: Gpu) -> tuple[Gpu, int | None, float]:
        """(catalog card, power limit or None, throughput kept) of a GPU option."""
        if g.id in self.cand.caps:
            return self.cand.caps[g.id]
        return g, None, 1.0

    def planned(self, sel: Selection, build: Build, result: CheckResult) -> PlannedBuild:
        """A PlannedBuild from a checked build: price, TFLOPS, workload fit, reasons."""
        g, n = sel.gpu
        base, cap, kept = self.cap_of(g)
        tflops = self.cand.tflops[(g.id, n)] / TFLOPS_SCALE
        wl = None
        if self.q.workload is not None:
            from dlrig.sizing import size

            r = size(self.q.workload, self.prep.chips[base.id], n_gpus=n)
            rate, unit = r.throughput
            rate = None if rate is None else rate * kept
            wl = {
                "describe": self.q.workload.describe(),
                "vram_per_gpu_gib": round(r.vram_per_gpu_gib, 2),
                "throughput": rate,
                "throughput_unit": unit,
                "time_hours": None if r.time_hours is None else r.time_hours / kept,
                "system": r.system,
            }
        gpu_name = g.name
        build.name = f"plan: {n}× {gpu_name}" + (f" capped at {cap} W" if cap else "")
        limit = None
        if cap is not None:
            limit = {
                "power_limit_w": cap,
                "stock_w": base.tdp_w,
                "throughput_kept": round(kept, 4),
                "text": f"{n}× {gpu_name} capped at {cap} W: {kept:.0%} of uncapped throughput "
                "(measured power-limit curve)",
            }
        return PlannedBuild(
            build=build,
            price_usd=round(sel.price_cents() / 100, 2),
            tflops=tflops,
            vram_gib=g.vram_gib * n,
            gpu_count=n,
            check=result,
            workload=wl,
            power_limit=limit,
        )

    def solve(
        self, pm: PlanModel, objective: Any, maximize: bool, time_limit_s: float | None = None
    ) -> tuple[str, Selection | None, PlannedBuild | None, float]:
        """Solve; cut and re-solve until the checker accepts the build (or none is left)."""
        limit = self.time_limit_s if time_limit_s is None else time_limit_s
        for _ in range(MAX_CUTS):
            t = time.perf_counter()
            status, solver = pm.solve(objective, maximize, limit, probing=self.probing)
            self.solve_s += time.perf_counter() - t
            self.solves += 1
            if status not in ("OPTIMAL", "FEASIBLE"):
                return status, None, None, 0.0
            sel = pm.selection(solver)
            planned = self.verify(sel)
            if planned is not None:
                if status != "OPTIMAL":
                    self.status = "FEASIBLE"
                return status, sel, planned, solver.objective_value
            self.cuts += 1
            pm.exclude(sel)
        return "UNKNOWN", None, None, 0.0

    def best(
        self, pm: PlanModel, objective: str
    ) -> tuple[str, Selection | None, PlannedBuild | None]:
        """The best build for ``objective``: solver status, selection and planned build."""
        if objective == "throughput-per-dollar":
            return self.ratio(pm)
        st, sel, pb, _ = self.solve(pm, *pm.objective(objective))
        return st, sel, pb

    def best_banded(self, objective: str) -> tuple[str, Selection | None, PlannedBuild | None]:
        """best() over bands of GPU options, most promising first; the same optimum.

        throughput/vram: the options are ranked by their TFLOPS (VRAM); a band holds every
        option ranked at least as high as its last one (ties included), so a build found in the
        first feasible band beats every option left out: it is the optimum. cost: the options
        are ranked by the least price of a build with them; when the band's cheapest build costs
        more than the band's last rank, one more solve over every option up to that price makes
        it exact. A band that proves nothing (time limit) falls back to all remaining options.
        throughput-per-dollar solves the whole reduced model.
        """
        cand = self.reduced()
        if objective == "throughput-per-dollar" or len(cand.gpu) <= BAND:
            return self.best(self.model(cand=cand), objective)
        if objective == "cost":
            rest = rest_cents(cand)
            rank = {o: cents(o[0]) * o[1] + rest for o in cand.gpu}
        elif objective == "vram":
            rank = {o: -round(o[0].vram_gib * 100) * o[1] for o in cand.gpu}
        else:
            rank = {o: -cand.tflops[(o[0].id, o[1])] for o in cand.gpu}
        order = sorted(range(len(cand.gpu)), key=lambda i: rank[cand.gpu[i]])
        start, size = 0, BAND
        while start < len(order):
            end = min(len(order), start + size)
            last = rank[cand.gpu[order[end - 1]]]
            while end < len(order) and rank[cand.gpu[order[end]]] == last:
                end += 1
            sub = budget_reduce(
                replace(cand, gpu=[cand.gpu[i] for i in sorted(order[start:end])]), self.q
            )
            if not all(sub.sizes().values()):  # nothing in this band fits the budget
                start, size = end, size * BAND_GROWTH
                continue
            st, sel, pb = self.best(self.model(cand=sub), objective)
            if sel is None and st != "INFEASIBLE":  # undecided: everything that is left
                rest_opts = sorted(order[start:])
                return self.best(
                    self.model(cand=replace(cand, gpu=[cand.gpu[i] for i in rest_opts])),
                    objective,
                )
            if sel is not None:
                if objective == "cost" and end < len(order):
                    price = sel.price_cents()
                    more = [i for i in order[end:] if rank[cand.gpu[i]] <= price]
                    if more:
                        upto = sorted(order[:end] + more)
                        wider = replace(cand, gpu=[cand.gpu[i] for i in upto])
                        pm = self.model(cand=budget_reduce(wider, self.q))
                        pm.hint(sel)
                        return self.best(pm, objective)
                return st, sel, pb
            start, size = end, size * BAND_GROWTH
        return "INFEASIBLE", None, None

    def ratio(self, pm: PlanModel) -> tuple[str, Selection | None, PlannedBuild | None]:
        """Throughput per dollar by Dinkelbach's method: max T·C* − T*·C until it reaches 0."""
        st, sel, pb, _ = self.solve(pm, *pm.objective("throughput"))
        if sel is None:
            return st, None, None
        for _ in range(50):
            t0, c0 = self.cand.tflops[(sel.gpu[0].id, sel.gpu[1])], max(sel.price_cents(), 1)
            st2, sel2, pb2, value = self.solve(pm, *pm.objective("throughput-per-dollar", sel))
            if sel2 is None or value <= 0:
                break
            t2, c2 = self.cand.tflops[(sel2.gpu[0].id, sel2.gpu[1])], sel2.price_cents()
            if t2 * c0 <= t0 * c2:
                break
            st, sel, pb = st2, sel2, pb2
        return st, sel, pb

    def fill(self, sel: Selection) -> tuple[str, Selection, PlannedBuild] | None:
        """The whole-machine stage: the same GPUs, the rest of the budget spent on the targets
        of :mod:`dlrig.optimize.whole` (then the cheapest such build); None when it finds
        nothing better than ``sel`` in its time limit."""
        from dlrig.optimize.whole import fill_objective, targets

        g, n = sel.gpu
        t = targets(self.q, self.cand, g, n)
        cand = budget_reduce(replace(self.reduced(), gpu=[sel.gpu]), self.q)
        pm = self.model(cand=cand)
        with contextlib.suppress(ValueError):  # a part of sel not among the options: no hint
            pm.hint(sel)
        status = self.status  # the fill's own status does not change the primary optimum's
        st, found, pb, _ = self.solve(
            pm, *fill_objective(pm, t), time_limit_s=min(self.time_limit_s, FILL_LIMIT_S)
        )
        self.status = status
        if found is None or pb is None:
            return None
        return st, found, pb

    def score(self, sel: Selection, objective: str) -> float:
        """``sel``'s value under ``objective`` (higher is better; cost counts negative)."""
        t = self.cand.tflops[(sel.gpu[0].id, sel.gpu[1])]
        if objective == "throughput":
            return float(t)
        if objective == "vram":
            return sel.gpu[0].vram_gib * sel.gpu[1]
        if objective == "cost":
            return -float(sel.price_cents())
        return t / max(sel.price_cents(), 1)


def rest_cents(c: Candidates) -> int:
    """The least price of everything but the GPUs."""
    return sum(
        min((cents(p) * n for p, n in opts), default=0)
        for k, opts in c.options().items()
        if k != "gpu"
    )
