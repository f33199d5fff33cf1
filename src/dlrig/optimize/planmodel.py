"""The CP-SAT model: one-hot part choices and linear constraints derived from the checker's rules.

Variables (all boolean, one-hot per category):

* ``use_cpu[i]``, ``use_board[i]``, ``use_psu[i]``, ``use_cooler[i]``, ``use_case[i]``: part i
  of the category's candidates is chosen;
* ``use_memory[i]`` (m copies of a kit), ``use_gpu[i]`` (n copies of one GPU model),
  ``use_drive[i]`` (q copies of one drive model): products "part × count" are linearised by
  giving each (part, count) pair its own boolean;
* ``u[(layout, card class, n)]`` the slot layout of the chosen board together with the chosen
  GPU thickness/cooling and count; its placement facts come from the checker's own
  ``place_gpus``/``assign_m2`` (see :mod:`dlrig.optimize.prep`). An open-frame case has its own
  ``u`` per (layout, class, n) with every card on a riser (no slot spacing; the frame's GPU
  positions instead of case slots; the risers' price added), chosen exactly when the case is
  an open frame.

Each constraint belongs to a *group* named after the rule it encodes (``psu-headroom``,
``case-expansion-slots``, ...) or the request (``budget``, ``workload-vram``, ...), so a group can
be relaxed to find the binding constraints and to explain an infeasible request. Coefficients are
integers: prices in cents, watts ×10, TFLOPS ×1000.

This module holds the variables, the objectives and solving; the constraints are in
:mod:`dlrig.optimize.constraints`, one module per topic (platform, memory, fit, gpus, slots,
request).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from dlrig.optimize.constraints import lin, total
from dlrig.optimize.constraints.fit import add_fit
from dlrig.optimize.constraints.gpus import add_gpus
from dlrig.optimize.constraints.memory import add_memory
from dlrig.optimize.constraints.platform import add_platform
from dlrig.optimize.constraints.request import add_request
from dlrig.optimize.prep import MAX_DRIVES, Prep
from dlrig.optimize.query import (
    AVOIDABLE_WARNINGS,
    FIT_RULES,
    TFLOPS_SCALE,
    Candidates,
    Query,
    Selection,
    cents,
    riser_cents,
)
from dlrig.optimize.reduce import budget_reduce, reduce_candidates
from dlrig.optimize.terms import LoadTerms, card_class, connectors_fail, m2_config
from dlrig.parts import Part


class PlanModel:
    """The CP-SAT model of one query; ``relax`` names constraint groups left out."""

    def __init__(
        self,
        prep: Prep,
        cand: Candidates,
        query: Query,
        relax: Iterable[str] = (),
        workers: int = 1,
    ) -> None:
        from ortools.sat.python import cp_model

        self.cp = cp_model
        self.prep = prep
        self.cand = cand
        self.q = query
        self.relax = frozenset(relax)
        self.workers = workers
        self.m = cp_model.CpModel()
        self.groups: set[str] = set()
        m = self.m
        self.use_cpu = [m.new_bool_var(f"cpu{i}") for i in range(len(cand.cpu))]
        self.use_board = [m.new_bool_var(f"board{i}") for i in range(len(cand.board))]
        self.use_memory = [m.new_bool_var(f"mem{i}") for i in range(len(cand.memory))]
        self.use_gpu = [m.new_bool_var(f"gpu{i}") for i in range(len(cand.gpu))]
        self.use_drive = [m.new_bool_var(f"drive{i}") for i in range(len(cand.storage))]
        self.use_psu = [m.new_bool_var(f"psu{i}") for i in range(len(cand.psu))]
        self.use_cooler = [m.new_bool_var(f"cooler{i}") for i in range(len(cand.cooler))]
        self.use_case = [m.new_bool_var(f"case{i}") for i in range(len(cand.case))]
        # one list of booleans per category, in the order of Candidates.options()
        self.choices = [
            self.use_cpu,
            self.use_board,
            self.use_memory,
            self.use_gpu,
            self.use_drive,
            self.use_psu,
            self.use_cooler,
            self.use_case,
        ]
        for vs in self.choices:
            m.add_exactly_one(vs)
        lsum = cp_model.LinearExpr.weighted_sum
        self.price: Any = lsum(
            [v for vs in self.choices for v in vs],
            [cents(p) * n for opts in cand.options().values() for p, n in opts],
        )
        self.tflops = lsum(self.use_gpu, [cand.tflops[(g.id, n)] for g, n in cand.gpu])
        self.vram = lsum(self.use_gpu, [round(g.vram_gib * 100) * n for g, n in cand.gpu])
        # the chosen memory in GB (memory-capacity, ram-vs-vram, workload RAM)
        self.memory_gb: Any = lin(
            (k.capacity_gb * n, v) for (k, n), v in zip(cand.memory, self.use_memory, strict=True)
        )
        self.terms = LoadTerms.of(cand)
        self.max_price = self._max_price()
        add_platform(self)
        add_memory(self)
        add_fit(self)
        gsel: dict[str, list[Any]] = defaultdict(list)
        for (g, _), v in zip(cand.gpu, self.use_gpu, strict=True):
            gsel[g.id].append(v)
        now = [(v, g, n) for (g, n), v in zip(cand.gpu, self.use_gpu, strict=True)]
        add_gpus(self, now, "now")
        if query.upgrade_to:
            by_id = {g.id: g for g, _ in cand.gpu}
            future = []
            for gid, lits in gsel.items():
                sel = m.new_bool_var(f"sel-{gid}")
                m.add(sel == total(lits))
                future.append((sel, by_id[gid], query.upgrade_to))
            add_gpus(self, future, "future")
        add_request(self)

    # --- helpers ---------------------------------------------------------------------------
    def on(self, group: str) -> bool:
        """Whether constraint group ``group`` is held (not relaxed); records it in ``groups``."""
        self.groups.add(group)
        return group not in self.relax

    def avoid(self, slug: str) -> bool:
        """Whether the warning rule ``slug`` is held as a constraint (requested, not relaxed)."""
        return slug in self.q.avoid and self.on(slug)

    def _max_price(self) -> int:
        parts = sum(
            max((cents(p) * n for p, n in opts), default=0) for opts in self.cand.options().values()
        )
        most = max((n for _, n in self.cand.gpu), default=0)
        return parts + riser_cents(self.cand.riser) * most  # an open frame's risers

    def all_choices(self) -> list[tuple[list[Part], list[Any]]]:
        """(parts, literals) of every category, in the order of Candidates.options()."""
        return [
            ([p for p, _ in opts], lits)
            for opts, lits in zip(self.cand.options().values(), self.choices, strict=True)
        ]

    # --- cuts and solving ------------------------------------------------------------------
    def selection_lits(self, sel: Selection) -> list[Any]:
        """The literals that choose ``sel``."""
        c = self.cand
        out = []
        for parts, lits, chosen in (
            (c.cpu, self.use_cpu, sel.cpu),
            (c.board, self.use_board, sel.board),
            (c.memory, self.use_memory, sel.memory),
            (c.gpu, self.use_gpu, sel.gpu),
            (c.storage, self.use_drive, sel.storage),
            (c.psu, self.use_psu, sel.psu),
            (c.cooler, self.use_cooler, sel.cooler),
            (c.case, self.use_case, sel.case),
        ):
            out.append(lits[_index(parts, chosen)])
        return out

    def exclude(self, sel: Selection, by: str = "build") -> None:
        """No-good cut: never this exact build again (``by='gpu'``: never this GPU choice)."""
        if by == "gpu":  # the card and count at every power limit (optimize.caps)
            caps = self.cand.caps
            card = caps.get(sel.gpu[0].id, (sel.gpu[0],))[0].id
            for lit, (g, n) in zip(self.use_gpu, self.cand.gpu, strict=True):
                if n == sel.gpu[1] and caps.get(g.id, (g,))[0].id == card:
                    self.m.add(lit == 0)
            return
        lits = self.selection_lits(sel)
        self.m.add(total(lits) <= len(lits) - 1)

    def objective(self, name: str, ref: Selection | None = None) -> tuple[Any, bool]:
        """(linear objective, maximise?) for objective ``name``: throughput or vram, then cheaper;
        cost, then faster; throughput-per-dollar linearised at the build ``ref`` (one step of
        Dinkelbach's method: T·C_ref − T_ref·C)."""
        big = self.max_price + 1
        # last in each order: an uncapped card over the same card capped (a cap that buys
        # nothing the objective counts — same VRAM, same price — only costs throughput)
        capped = self.capped()
        if name == "throughput":
            return (self.tflops * big - self.price) * 2 - capped, True
        if name == "vram":
            return (self.vram * big - self.price) * 2 - capped, True
        if name == "cost":
            tmax = max(self.cand.tflops.values(), default=0) + 1
            return (self.price * tmax - self.tflops) * 2 + capped, False
        assert ref is not None, "throughput-per-dollar needs a reference build"
        t_ref = self.cand.tflops[(ref.gpu[0].id, ref.gpu[1])]
        return self.tflops * max(ref.price_cents(), 1) - self.price * t_ref, True

    def capped(self) -> Any:
        """1 when the chosen GPU option is a capped one (optimize.caps), else 0."""
        caps = self.cand.caps
        return sum(
            lit for lit, (g, _) in zip(self.use_gpu, self.cand.gpu, strict=True) if g.id in caps
        )

    def solve(
        self,
        objective: Any,
        maximize: bool,
        time_limit_s: float,
        deterministic_s: float | None = None,
        probing: int | None = None,
        first: bool = False,
    ) -> tuple[str, Any]:
        """(status name, solver) after optimising ``objective``; ``deterministic_s`` also caps
        the search in CP-SAT's deterministic time (work, not wall-clock: the same on an idle and
        a loaded machine); ``probing`` sets CP-SAT's presolve probing level (default 2);
        ``first`` stops at the first solution (FEASIBLE unless it is proved optimal): for a
        question of whether any solution exists, searched in the objective's direction."""
        if maximize:
            self.m.maximize(objective)
        else:
            self.m.minimize(objective)
        from dlrig.budget import seconds_left, stoppable

        solver = self.cp.CpSolver()
        # A web request's budget (dlrig.budget) caps the solve and can stop it early.
        solver.parameters.max_time_in_seconds = seconds_left(time_limit_s)
        if deterministic_s is not None:
            solver.parameters.max_deterministic_time = deterministic_s
        solver.parameters.num_workers = self.workers
        if first:
            solver.parameters.stop_after_first_solution = True
        solver.parameters.random_seed = 7
        if probing is not None:
            solver.parameters.cp_model_probing_level = probing
        with stoppable(solver.stop_search):
            status = solver.solve(self.m)
        return solver.status_name(status), solver

    def selection(self, solver: Any) -> Selection:
        """The build the solver chose."""
        c = self.cand

        def pick(items: Sequence[Any], lits: Sequence[Any]) -> Any:
            for item, lit in zip(items, lits, strict=True):
                if solver.boolean_value(lit):
                    return item
            raise AssertionError("one-hot category without a choice")

        case = pick(c.case, self.use_case)
        return Selection(
            cpu=pick(c.cpu, self.use_cpu),
            board=pick(c.board, self.use_board),
            memory=pick(c.memory, self.use_memory),
            gpu=pick(c.gpu, self.use_gpu),
            storage=pick(c.storage, self.use_drive),
            psu=pick(c.psu, self.use_psu),
            cooler=pick(c.cooler, self.use_cooler),
            case=case,
            riser=c.riser if case.kind == "open-frame" else None,
        )

    def hint(self, sel: Selection) -> None:
        """Hint the solver towards ``sel`` (a known good build)."""
        self.m.clear_hints()
        chosen = {id(v) for v in self.selection_lits(sel)}
        for vs in self.choices:
            for v in vs:
                self.m.add_hint(v, id(v) in chosen)


def _index(items: Sequence[Any], chosen: Any) -> int:
    for i, item in enumerate(items):
        if item is chosen or item == chosen:
            return i
    raise ValueError("choice not among the candidates")


__all__ = [
    "AVOIDABLE_WARNINGS",
    "FIT_RULES",
    "MAX_DRIVES",
    "TFLOPS_SCALE",
    "Candidates",
    "PlanModel",
    "Query",
    "Selection",
    "budget_reduce",
    "card_class",
    "cents",
    "connectors_fail",
    "m2_config",
    "reduce_candidates",
]
