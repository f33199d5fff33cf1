"""The slot table: board layout × card class × GPU count, from the checker's placement functions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

from dlrig.optimize.prep import ON_RISERS, Layout, PlaceFacts, place_facts
from dlrig.optimize.query import riser_cents
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
    # None when every candidate CPU's lane count is known (no unchecked pcie-lanes to avoid)
    unknown_lanes = total([pm.use_cpu[i] for i in cpu_lanes[None]]) if None in cpu_lanes else None
    no_slots = total([pm.use_case[i] for i in case_slots.get(None, [])])
    airflow = pm.avoid("multi-gpu-airflow")
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
            _lane_rows(pm, lay, f, u, cfgs, drives_of, few_lanes, unknown_lanes, multi, groups)
    _add_frames(
        pm,
        layouts,
        by_class,
        cfgs,
        drives_of,
        few_lanes,
        unknown_lanes,
        u_by_layout,
        u_by_class,
        tag,
    )
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


def _add_frames(
    pm: PlanModel,
    layouts: dict[Hashable, tuple[Layout, list[int]]],
    by_class: dict[tuple[tuple[int | None, bool], int], list[Any]],
    cfgs: dict[tuple[bool, int], list[Any]],
    drives_of: dict[tuple[bool, int], Any],
    few_lanes: _ChosenBelow,
    unknown_lanes: Any,
    u_by_layout: dict[Hashable, list[Any]],
    u_by_class: dict[tuple[tuple[int | None, bool], int], list[Any]],
    tag: str,
) -> None:
    """Open frames: every card on a riser cable (the checker places a riser card in an x16-size
    slot, one slot wide, so neither the cards' thickness nor a case slot limits them, and
    open-air cards are not stacked); the frame's GPU positions bound the count (the
    case-expansion-slots rule on a frame); one riser per card is bought. The frame ``u`` of a
    (layout, class, count) is chosen exactly when the case is an open frame."""
    m, c, q = pm.m, pm.cand, pm.q
    total = pm.cp.LinearExpr.sum
    frames = [i for i, k in enumerate(c.case) if k.kind == "open-frame"]
    if not frames:
        return
    frame_sum = total([pm.use_case[i] for i in frames])
    if c.riser is None:  # a frame without a riser to put the cards on: not planned
        m.add(frame_sum == 0)
        return
    groups = {g: pm.on(g) for g in ("gpu-slots", "pcie-lanes", "m2-slots", "case-expansion-slots")}
    fit_known = q.known_fit and pm.on("known-fit")
    price = riser_cents(c.riser)
    frame_us: list[Any] = []
    cost: list[tuple[int, Any]] = []
    for lkey, (lay, _) in layouts.items():
        for (cls, n), _lits in by_class.items():
            multi = n >= 2
            if fit_known and multi and not lay.known:
                continue
            f = place_facts(lay, ON_RISERS, n)
            if groups["gpu-slots"] and lay.has_slots and n > f.x16:
                continue
            if lay.known and f.placed < n:
                continue
            if fit_known and multi and not f.lanes_known:
                continue
            u = m.new_bool_var(f"uf-{tag}")
            u_by_layout[lkey].append(u)
            u_by_class[(cls, n)].append(u)
            frame_us.append(u)
            cost.append((n * price, u))
            if groups["case-expansion-slots"]:
                # the rule on a frame: gpu_positions ≥ cards (unknown: unchecked, which a
                # multi-GPU plan does not rely on)
                short = [pm.use_case[i] for i in frames if _frame_short(c.case[i], n, fit_known)]
                if short:
                    m.add(u + total(short) <= 1)
            _lane_rows(pm, lay, f, u, cfgs, drives_of, few_lanes, unknown_lanes, multi, groups)
    m.add(total(frame_us) == frame_sum)
    if tag == "now" and cost:  # bought with the cards (a planned upgrade's risers: later)
        pm.price = pm.price + pm.cp.LinearExpr.weighted_sum(
            [u for _, u in cost], [k for k, _ in cost]
        )


def _frame_short(frame: Any, n: int, fit_known: bool) -> bool:
    """Whether ``frame`` cannot be planned with ``n`` cards: fewer GPU positions, or unknown
    positions (case-expansion-slots unchecked) on a multi-GPU plan that needs known fit."""
    positions = frame.gpu_positions
    if positions is None:
        return fit_known and n >= 2
    return bool(positions < n)


def _lane_rows(
    pm: PlanModel,
    lay: Layout,
    f: PlaceFacts,
    u: Any,
    cfgs: dict[tuple[bool, int], list[Any]],
    drives_of: dict[tuple[bool, int], Any],
    few_lanes: _ChosenBelow,
    unknown_lanes: Any,
    multi: bool,
    groups: dict[str, bool],
) -> None:
    """m2-slots and pcie-lanes of one placement (a tower layout's or a frame's risers) with each
    M.2 configuration: refused placements, and the warnings a plan avoids."""
    m, q = pm.m, pm.q
    lanes_warn = pm.avoid("pcie-lanes")
    fit_known = q.known_fit and pm.on("known-fit")
    for cfg in cfgs:
        drives = drives_of[cfg]
        mf = f.m2[cfg]
        if _placement_refused(groups, cfg, lay, mf, lanes_warn):
            m.add(u + drives <= 1)
            continue
        if fit_known and multi and mf.cpu_lanes and unknown_lanes is not None:
            # pcie-lanes reports unchecked when a CPU of unknown lanes meets a lane demand; a
            # multi-GPU plan does not rely on an unchecked fit rule
            m.add(u + drives + unknown_lanes <= 2)
        if lay.known and lanes_warn:
            few = few_lanes(mf.cpu_lanes)
            if few is not None:
                m.add(u + drives + few <= 2)


def _placement_refused(
    groups: dict[str, bool], cfg: tuple[int, ...], lay: Layout, mf: Any, lanes_warn: bool
) -> bool:
    """Whether a placement with ``cfg``'s M.2 drives breaks m2-slots (a drive without a slot) or
    pcie-lanes (a card left without lanes, or under the minimum when that warning is avoided):
    the tower table and the riser table refuse the same placements."""
    if groups["m2-slots"] and cfg[1] > 0 and bool(lay.board.m2_slots) and mf.unassigned > 0:
        return True
    lanes = mf.min_lanes
    return bool(
        lay.known
        and lanes is not None
        and groups["pcie-lanes"]
        and (lanes == 0 or (lanes_warn and lanes < L.MIN_GPU_LANES))
    )
