"""The rules engine: every compatibility rule, registered by topic module.

``check(build)`` runs them all; ``RULES`` maps slug → :class:`Rule`; ``get_rule`` finds one by
slug or code. Rule thresholds live in :mod:`dlrig.rules.limits` (shared with the planner).
Codes: P = power, M = platform, F = fit, C = cooling, D = deep learning (D020 workload-fits
lives in rules/workload.py, owned by the sizing module).
"""

from __future__ import annotations

from dlrig.rules import cooling, deep_learning, fit, platform, power, workload  # noqa: F401
from dlrig.rules.base import (
    RULES,
    TOPICS,
    CheckResult,
    Finding,
    Rule,
    RuleContext,
    Severity,
    Unchecked,
    UncheckedRule,
    check,
    get_rule,
    iter_rules,
)

__all__ = [
    "RULES",
    "TOPICS",
    "CheckResult",
    "Finding",
    "Rule",
    "RuleContext",
    "Severity",
    "Unchecked",
    "UncheckedRule",
    "check",
    "get_rule",
    "iter_rules",
]
