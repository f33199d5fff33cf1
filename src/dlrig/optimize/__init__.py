"""The planner: the provably optimal compatible build for a budget and a workload (CP-SAT).

``plan(budget_usd, workload, ...)`` → :class:`PlanResult`. Submodules: ``prep`` (catalog
preprocessing, cached per catalog version), ``model`` (the CP-SAT model, constraints derived from
the checker's rules and limits), ``plan`` (solve, verify with the checker, alternatives, frontier,
binding constraints, explanations).
"""

from __future__ import annotations

from dlrig.optimize.model import AVOIDABLE_WARNINGS
from dlrig.optimize.plan import (
    OBJECTIVES,
    Binding,
    Infeasible,
    PlannedBuild,
    PlanResult,
    plan,
)
from dlrig.optimize.prep import clear_cache, prepare

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
