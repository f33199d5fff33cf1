"""The planner: the provably optimal compatible build for a budget and a workload (CP-SAT).

``plan(budget_usd, workload, ...)`` → :class:`PlanResult`. Submodules, in pipeline order:

* ``prep`` — catalog preprocessing, cached per catalog version;
* ``inputs`` — the workload and the --include/--exclude terms;
* ``query`` — the normalised request, the candidates and one selection;
* ``candidates`` — filter, prune and expand the options of one request;
* ``terms``, ``reduce`` — shared coefficients, and dropping options no solution can use;
* ``model`` — the CP-SAT variables, objectives and solving; ``constraints/`` — its constraints,
  one module per topic, each group named after the rule it encodes;
* ``search`` — the solver loop: solve, verify with the checker, cut, bands, ratio objective;
* ``explain`` — binding constraints, infeasibility, alternatives, frontier, notes;
* ``results`` — what plan() returns; ``plan`` — the public function.
"""

from __future__ import annotations

from dlrig.optimize.plan import (
    OBJECTIVES,
    Binding,
    Infeasible,
    PlannedBuild,
    PlanResult,
    plan,
)
from dlrig.optimize.prep import clear_cache, prepare
from dlrig.optimize.query import AVOIDABLE_WARNINGS

__all__ = [
    "AVOIDABLE_WARNINGS",
    "OBJECTIVES",
    "Binding",
    "Infeasible",
    "PlanResult",
    "PlannedBuild",
    "clear_cache",
    "plan",
    "prepare",
]
