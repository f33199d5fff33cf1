"""The CP-SAT model's constraints, one module per topic; each ``add_*(pm)`` adds its topic's
constraints to a :class:`~dlrig.optimize.planmodel.PlanModel`.

Every constraint sits under ``if pm.on(group)`` (or ``pm.avoid(slug)`` for a warning the request
holds), named after the checker rule it encodes, so a group can be relaxed to find the binding
constraints; the rule's ``planner=`` declaration names these groups (tests/test_optimize_rules.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

# Sums of literals go through CP-SAT's LinearExpr.sum / weighted_sum: one call per sum, where
# Python's sum() builds a new expression object per term (that was most of a model's build time
# on an imported catalog, seven models per plan). The results have the types sum() gave (int 0,
# the one term, or a SumArray), so each comparison keeps its direction (Python tries a right
# operand of a subclass first) and the model is the same, constraint for constraint.


def total(lits: Iterable[Any]) -> Any:
    """Σ ``lits`` as one linear expression (what ``sum(lits)`` gives, built faster)."""
    from ortools.sat.python.cp_model import LinearExpr

    lits = list(lits)
    if len(lits) < 2:
        return sum(lits)
    return LinearExpr.sum(lits)


def lin(terms: Iterable[tuple[int, Any]]) -> Any:
    """Σ coefficient × literal over ``terms``, (coefficient, literal) pairs, as one linear
    expression (what ``sum(c * v for c, v in terms)`` gives, built faster)."""
    from ortools.sat.python.cp_model import LinearExpr

    coefs: list[int] = []
    lits: list[Any] = []
    for coef, lit in terms:
        coefs.append(coef)
        lits.append(lit)
    if len(lits) < 2:
        return sum(c * v for c, v in zip(coefs, lits, strict=True))
    half = len(lits) // 2  # two flat sums under one SumArray: the type sum() gives
    return LinearExpr.sum(
        [
            LinearExpr.weighted_sum(lits[:half], coefs[:half]),
            LinearExpr.weighted_sum(lits[half:], coefs[half:]),
        ]
    )


def chosen_sum(
    parts: Sequence[T],
    lits: Iterable[Any],
    value: Callable[[T], int],
    where: Callable[[T], bool] | None = None,
) -> Any:
    """The chosen part's ``value`` as a linear expression: Σ value(part) × its choice literal
    over ``parts`` (those ``where`` holds for; one-hot literals, so it is the chosen one's)."""
    return lin((value(p), v) for p, v in zip(parts, lits, strict=True) if where is None or where(p))
