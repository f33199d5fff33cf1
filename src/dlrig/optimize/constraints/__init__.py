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


def chosen_sum(
    parts: Sequence[T],
    lits: Iterable[Any],
    value: Callable[[T], int],
    where: Callable[[T], bool] | None = None,
) -> Any:
    """The chosen part's ``value`` as a linear expression: Σ value(part) × its choice literal
    over ``parts`` (those ``where`` holds for; one-hot literals, so it is the chosen one's)."""
    return sum(value(p) * v for p, v in zip(parts, lits, strict=True) if where is None or where(p))
