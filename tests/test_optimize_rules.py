"""Every error rule (and every warning the planner holds) declares how the planner enforces it.

A rule's ``planner=`` names constraint groups the CP-SAT model builds (or candidate filters), or
``NotPlanned("why")``. A new error rule without it fails here, pointing at the planner, instead of
silently turning into checker cuts (and a failing ``checker_cuts == 0`` in test_plan_cli).
"""

from __future__ import annotations

import pytest

pytest.importorskip("ortools")

from dlrig.optimize.coverage import model_groups, planner_gaps
from dlrig.rules import RULES
from dlrig.rules.base import NotPlanned, Rule, Severity


@pytest.fixture(scope="module")
def groups() -> frozenset[str]:
    return model_groups()


def test_every_rule_the_planner_needs_is_planned(groups: frozenset[str]) -> None:
    assert planner_gaps(RULES.values(), groups) == []


def test_model_builds_the_rule_groups(groups: frozenset[str]) -> None:
    # the groups are read from a real model, not a list: a sample of them, by topic
    for g in ("psu-headroom", "gpu-slots", "memory-ecc", "drive-bays", "cooler-capacity"):
        assert g in groups
    assert "budget" in groups and "workload-ram" in groups


def _fake(slug: str, severity: Severity, planner: object = None) -> Rule:
    return Rule("X999", slug, severity, "power", lambda b, c: [], "Doc.", planner)  # type: ignore[arg-type]


def test_an_error_rule_without_planner_is_a_gap(groups: frozenset[str]) -> None:
    gaps = planner_gaps([_fake("new-error", Severity.ERROR)], groups)
    assert any("new-error: no planner=" in g for g in gaps)
    # warnings the planner does not hold and info rules need no declaration
    assert not any(
        "new-warning" in g for g in planner_gaps([_fake("new-warning", Severity.WARNING)], groups)
    )


def test_an_unknown_group_and_an_empty_reason_are_gaps(groups: frozenset[str]) -> None:
    gaps = planner_gaps(
        [
            _fake("a-rule", Severity.ERROR, ("no-such-group",)),
            _fake("b-rule", Severity.ERROR, NotPlanned("")),
        ],
        groups,
    )
    assert any("a-rule: planner group 'no-such-group'" in g for g in gaps)
    assert any("b-rule: NotPlanned needs a reason" in g for g in gaps)


def test_a_held_warning_cannot_be_not_planned(groups: frozenset[str]) -> None:
    rules = [r for r in RULES.values() if r.slug != "psu-headroom"]
    rules.append(_fake("psu-headroom", Severity.ERROR, NotPlanned("pretend it is not needed")))
    gaps = planner_gaps(rules, groups)
    assert any("psu-headroom: the planner holds it" in g for g in gaps)
