"""Which checker rules the planner enforces, and how: read from each rule's ``planner=``.

A rule declares the constraint groups that hold it (``@rule(..., planner="psu-headroom")``) or
why the planner needs none (``planner=NotPlanned("...")``). :func:`planner_gaps` lists what is
missing or wrong — an error rule (or a warning the planner holds) without a declaration, a
declared group the model never builds — and ``tests/test_optimize_rules.py`` fails on any gap, so
a new error rule points its author at the planner instead of silently adding checker cuts.
"""

from __future__ import annotations

from collections.abc import Iterable

from dlrig.optimize.candidates import CANDIDATE_FILTERS
from dlrig.optimize.query import AVOIDABLE_WARNINGS
from dlrig.rules.base import NotPlanned, Rule, Severity

__all__ = ["CANDIDATE_FILTERS", "model_groups", "planner_gaps"]


def model_groups() -> frozenset[str]:
    """Every constraint group the CP-SAT model builds for a workload query on the built-in
    catalog (rule groups are built whatever the query; the request's own groups depend on it)."""
    from dlrig.build import Site
    from dlrig.catalog import open_catalog
    from dlrig.optimize.candidates import candidates
    from dlrig.optimize.inputs import load_workload
    from dlrig.optimize.planmodel import PlanModel
    from dlrig.optimize.prep import prepare
    from dlrig.optimize.query import Query

    prep = prepare(open_catalog())
    w, _ = load_workload("llama-3.1-8b", "qlora")
    q = Query(budget_cents=1_000_000, workload=w, max_gpus=2, upgrade_to=2, site=Site())
    cand, _ = candidates(prep, q)
    return frozenset(PlanModel(prep, cand, q).groups)


def planner_gaps(rules: Iterable[Rule], groups: Iterable[str]) -> list[str]:
    """What keeps the planner from matching the checker: one line per problem (empty: none)."""
    known = set(groups) | set(CANDIDATE_FILTERS)
    out: list[str] = []
    declared: set[str] = set()
    for r in rules:
        how = r.planner
        if how is None:
            if r.severity is Severity.ERROR or r.slug in AVOIDABLE_WARNINGS:
                out.append(
                    f"{r.code} {r.slug}: no planner= in its @rule; name the planner's constraint "
                    "group (src/dlrig/optimize/constraints/) or NotPlanned('why')"
                )
            continue
        if isinstance(how, NotPlanned):
            if len(how.reason.strip()) < 10:
                out.append(f"{r.code} {r.slug}: NotPlanned needs a reason")
            if r.slug in AVOIDABLE_WARNINGS:
                out.append(f"{r.code} {r.slug}: the planner holds it, yet it says NotPlanned")
            continue
        declared.update(how)
        out += [
            f"{r.code} {r.slug}: planner group '{g}' is not built by the model nor a candidate "
            "filter"
            for g in how
            if g not in known
        ]
    out += [
        f"AVOIDABLE_WARNINGS '{s}' is no rule's planner group"
        for s in AVOIDABLE_WARNINGS
        if s not in declared
    ]
    return out
