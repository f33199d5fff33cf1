"""The binding analysis is deterministic: its budget is CP-SAT work, not wall-clock time, so the
text is the same on an idle and on a loaded machine (issue 17)."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

pytest.importorskip("ortools")

from dlrig.optimize import plan

# The module holding the binding analysis and its budget.
binding_mod = importlib.import_module("dlrig.optimize.explain")


@contextmanager
def _busy_cores(n: int = 2) -> Iterator[None]:
    """``n`` processes spinning on the CPU for the duration (a loaded machine)."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        yield
    finally:
        for p in procs:
            p.kill()
            p.wait()


def _text(**kwargs: object) -> list[str]:
    result = plan(**kwargs)  # type: ignore[arg-type]
    return [f"{b.group}: {b.detail} ({b.gain})" for b in result.binding] + [
        n for n in result.notes if "binding" in n
    ]


def test_same_binding_text_idle_and_loaded() -> None:
    query = {"budget_usd": 4500, "objective": "vram"}
    idle = _text(**query)
    # Several binding groups: the budget, and the rules whose relaxation lets more VRAM in.
    assert [line.split(":")[0] for line in idle][:1] == ["budget"]
    assert len(idle) >= 3
    with _busy_cores():
        loaded = _text(**query)
    assert loaded == idle


def test_a_spent_budget_stops_at_the_same_group_idle_and_loaded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A budget so small that the analysis stops early: where it stops is counted in work, so
    # the note (how many groups were examined) is the same however busy the machine is.
    monkeypatch.setattr(binding_mod, "BINDING_BUDGET_DET", 0.004)
    query = {"budget_usd": 4500, "objective": "vram"}
    idle = _text(**query)
    assert any("stopped at its work budget" in line for line in idle)
    with _busy_cores():
        loaded = _text(**query)
    assert loaded == idle


def test_every_re_solve_uses_the_one_probing_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """The frontier's points and the binding probes are both re-solves of the plan: one setting
    (RESOLVE_PROBING) sets their presolve probing, the plan's own solve keeps CP-SAT's default.
    There were two constants (FRONTIER_PROBING, PROBE_PROBING) that could drift apart."""
    from dlrig.optimize.planmodel import PlanModel

    seen: list[int | None] = []
    solve = PlanModel.solve

    def spy(self: PlanModel, *args: object, **kwargs: object) -> tuple[str, object]:
        probing = kwargs.get("probing", args[4] if len(args) > 4 else None)
        seen.append(probing)  # type: ignore[arg-type]
        return solve(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(binding_mod, "RESOLVE_PROBING", 1)
    monkeypatch.setattr(PlanModel, "solve", spy)
    result = plan(5000, frontier=True)
    assert len(result.frontier) >= 2 and result.binding
    first = seen.index(1)
    assert first >= 1 and set(seen[:first]) == {None}, seen  # the plan itself
    # then frontier points (one solve or more each) and binding probes alike
    assert set(seen[first:]) == {1} and len(seen) - first >= len(result.frontier), seen
