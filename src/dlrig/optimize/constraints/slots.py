"""The slot table: board layout × card class × GPU count, from the checker's placement functions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

from dlrig.optimize.prep import Layout, place_facts
from dlrig.optimize.terms import card_class, m2_config
from dlrig.parts import Gpu
from dlrig.rules import limits as L

if TYPE_CHECKING:
    from dlrig.optimize.planmodel import PlanModel


def add_slots(pm: PlanModel, opts: list[tuple[Any, Gpu, int]], tag: str) -> None:
    """Layout × card class × count: gpu-slots, slot-spacing, pcie-lanes, m2-slots,
    case-expansion-slots and multi-gpu-airflow from the checker's placement functions."""
    m, c, q = pm.m, pm.cand, pm.q
    layouts: dict[Hashable, tuple[Layout, list[int]]] = {}
    for i, b in enumerate(c.board):
        lay = pm.prep.layout(b)
        layouts.setdefault(lay.key, (lay, []))[1].append(i)
    by_class: dict[tuple[tuple[int | None, bool], int], list[Any]] = defaultdict(list)
    for lit, g, n in opts:
        by_class[(card_class(g), n)].append(lit)
    cfgs: dict[tuple[bool, int], list[Any]] = defaultdict(list)
    for (s, n), v in zip(c.storage, pm.use_drive, strict=True):
        cfgs[m2_config(s, n)].append(v)
    case_slots: dict[int | None, list[int]] = defaultdict(list)
    for i, k in enumerate(c.case):
        case_slots[k.expansion_slots].append(i)
    cpu_lanes: dict[int | None, list[int]] = defaultdict(list)
    for i, p in enumerate(c.cpu):
        cpu_lanes[p.pcie_lanes].append(i)
    groups = {
        g: pm.on(g)
        for g in ("gpu-slots", "slot-spacing", "pcie-lanes", "m2-slots", "case-expansion-slots")
    }
    # each sum of literals built once and shared by every constraint that uses it (building
    # them per table entry was most of a model's build time on an imported catalog)
    total = pm.cp.LinearExpr.sum
    drives_of = {cfg: total(vlits) for cfg, vlits in cfgs.items()}
    small_cases = _ChosenBelow(case_slots, pm.use_case, total)  # fewer slots than reached
    few_lanes = _ChosenBelow(cpu_lanes, pm.use_cpu, total)  # fewer lanes than asked for
    unknown_lanes = total([pm.use_cpu[i] for i in cpu_lanes.get(None, [])])
    no_slots = total([pm.use_case[i] for i in case_slots.get(None, [])])
    airflow = pm.avoid("multi-gpu-airflow")
    lanes_warn = pm.avoid("pcie-lanes")
    fit_known = q.known_fit and pm.on("known-fit")
    u_by_layout: dict[Hashable, list[Any]] = defaultdict(list)
    u_by_class: dict[tuple[tuple[int | None, bool], int], list[Any]] = defaultdict(list)
    for lkey, (lay, _) in layouts.items():
        for (cls, n), _lits in by_class.items():
            width, open_air = cls
            multi = n >= 2
            if fit_known and multi and (not lay.known or width is None):
                continue
            f = place_facts(lay, width, n)
            if groups["gpu-slots"] and lay.has_slots and n > f.x16:
                continue
            if lay.known:
                if groups["slot-spacing"] and f.placed < n and n <= f.x16:
                    continue
                if fit_known and multi and not f.lanes_known:
                    continue
                if airflow and multi and open_air and f.choked:
                    continue
            u = m.new_bool_var(f"u-{tag}")
            u_by_layout[lkey].append(u)
            u_by_class[(cls, n)].append(u)
            if lay.known and groups["case-expansion-slots"] and f.placed:
                small = small_cases(f.bottom)
                if small is not None:
                    m.add(u + small <= 1)
            if fit_known and multi and None in case_slots:
                m.add(u + no_slots <= 1)
            for cfg in cfgs:
                drives = drives_of[cfg]
                mf = f.m2[cfg]
                bad = False
                if groups["m2-slots"] and cfg[1] > 0 and lay.board.m2_slots and mf.unassigned:
                    bad = True
                lanes = mf.min_lanes
                if (
                    lay.known
                    and lanes is not None
                    and groups["pcie-lanes"]
                    and (lanes == 0 or (lanes_warn and lanes < L.MIN_GPU_LANES))
                ):
                    bad = True
                if bad:
                    m.add(u + drives <= 1)
                    continue
                if fit_known and multi and mf.cpu_lanes and None in cpu_lanes:
                    # pcie-lanes reports unchecked when a CPU of unknown lanes meets a lane
                    # demand; a multi-GPU plan does not rely on an unchecked fit rule
                    m.add(u + drives + unknown_lanes <= 2)
                if lay.known and lanes_warn:
                    few = few_lanes(mf.cpu_lanes)
                    if few is not None:
                        m.add(u + drives + few <= 2)
    for lkey, (_, idx) in layouts.items():
        m.add(total([pm.use_board[i] for i in idx]) == total(u_by_layout[lkey]))
    for key, lits in by_class.items():
        m.add(total(lits) == total(u_by_class[key]))


class _ChosenBelow:
    """The sum of the choice literals of the parts whose known value is below a threshold,
    built once per threshold and shared (None: no such part)."""

    def __init__(
        self, by_value: dict[int | None, list[int]], lits: Sequence[Any], total: Any
    ) -> None:
        self.by_value, self.lits, self.total = by_value, lits, total
        self.sums: dict[int, Any] = {}

    def __call__(self, below: int) -> Any:
        if below not in self.sums:
            idx = [
                i for v, ids in self.by_value.items() if v is not None and v < below for i in ids
            ]
            self.sums[below] = self.total([self.lits[i] for i in idx]) if idx else None
        return self.sums[below]
