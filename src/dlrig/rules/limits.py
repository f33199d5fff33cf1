"""Numeric limits and compatibility tables behind the rules — one place, each with its source.

The checker's rules call these functions, and so does the planner (issue 6), which turns them
into CP-SAT constraints: change a threshold here and both follow. Everything is pure (no Build
needed) where it can be, so the planner can evaluate it on candidate parts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import combinations, pairwise
from typing import TYPE_CHECKING, Literal

from dlrig import gpu_power, units
from dlrig.catalog.resolve import normalize
from dlrig.parts import Gpu, GpuChip, M2Slot, Motherboard, PcieSlot, Psu, Riser, Storage

if TYPE_CHECKING:
    from dlrig.build import PsuLoad

# --- power ---------------------------------------------------------------------------------------
# PSU headroom: PSU watts ≥ 1.1 × (CPU + GPUs + rest). Tim Dettmers, "Which GPU(s) to Get for
# Deep Learning" (timdettmers.com, 2023): "add up the watt of your CPU and GPUs with an additional
# 10% of watts ... as a buffer for power spikes"; issue 3 adds the rest of the system to the sum.
PSU_HEADROOM = 1.1

# GPU millisecond transients: a factor × the limit in force per chip or architecture, each from
# a sourced measurement in catalog/data/gpu_power.yaml (gpu_transient_factor below: RTX 3090 ×1.5,
# Pascal GP102 ×1.225, ...). The checker's psu-headroom and the planner's constraint both read it,
# so a generation measured there is judged the same way by check and plan.
# ATX 3.x PSUs are specified to ride through 200% power excursions (Intel ATX 3.0 Multi Rail
# Desktop Platform Power Supply Design Guide, 2022, section 3.2.11), so the transient warning
# does not apply to them. AnandTech's MSI MEG Ai1300P review spells the 100 us case out: 200 % of
# the rating (2,600 W for 0.1 ms on a 1,300 W unit),
# http://labs.anandtech.com/Show/Index/18679 ("Our First Foray Into ATX 3.0 PSU Testing").
#
# Pre-ATX 3.0 units: the ATX12V 2.x guides specify no excursion above the label; what protects a
# unit is its over-power protection (OPP), which Tom's Hardware measures by ramping the load until
# the unit shuts down - 115.9-133.3 % of the label across the reviews read: Thermaltake Smart BM2
# 750 W 117.6 % cold / 115.9 % hot (https://www.tomshardware.com/reviews/thermaltake-smart-bm2-750w-
# power-supply-review/3), EVGA 450 BT 118.3 % (https://www.tomshardware.com/uk/reviews/evga-450-bt-
# value-psu,5605-6.html), Corsair AX1600i 119.2 %, RM850x (2021) 123.4 %, RM650x 124.2 %
# (https://www.tomshardware.com/reviews/corsair-rm650x-psu,4611-6.html), be quiet! Straight Power 11
# 650 W 133.3 % (https://www.tomshardware.com/reviews/be-quiet-straight-power-11-650w-platinum-
# power-supply-review/3). The spread is why a known model without its own measurement gets a
# warning, not an error, when GPU spikes pass its label; a measured trip point (Psu.opp_w) is
# judged exactly; a PSU of which only the label is known (psu_label_only) is held to the label.


def psu_label_only(psu: Psu) -> bool:
    """Nothing known of a PSU but its rating: no 80 PLUS level, no ATX 3.x flag, no measured OPP.

    Such a unit (the 850 W PSU Behuret's dual TITAN Xp rig rebooted on is named by wattage only)
    is held to its label with the 10 % margin when GPU excursions are counted."""
    return psu.efficiency is None and psu.atx3 is None and psu.opp_w is None


# PSU efficiency at 50% load by 80 PLUS rating, 115 V internal non-redundant
# (CLEAResult 80 PLUS program, https://www.clearesult.com/80plus/manufacturers/115v-internal).
PSU_EFFICIENCY_AT_50: dict[str, float] = {
    "80+": 0.80,
    "80+ Bronze": 0.85,
    "80+ Silver": 0.88,
    "80+ Gold": 0.90,
    "80+ Platinum": 0.92,
    "80+ Titanium": 0.94,
}
UNRATED_PSU_EFFICIENCY = 0.80  # assumption for a PSU without a known rating (the 80+ floor)


def psu_required_w(cpu_tdp_w: float, gpu_tdps_w: Iterable[float], rest_w: float) -> float:
    """Minimum PSU watts: 1.1 × (CPU TDP + Σ GPU power (limits honoured) + rest of system)."""
    return PSU_HEADROOM * (cpu_tdp_w + sum(gpu_tdps_w) + rest_w)


# Server PSUs derate on 100-127 V mains (e.g. a 2,000 W CRPS module gives 1,000 W there): the
# rating that applies is the low-line one when the circuit is below this voltage. 200 V separates
# the 100-127 V and 200-240 V input ranges of those units' data sheets.
LOW_LINE_MAX_V = 200.0


def psu_usable_w(
    wattage_w: float, wattage_low_line_w: float | None, mains_voltage_v: float
) -> float:
    """The PSU rating that applies on this mains voltage (the low-line rating where it derates)."""
    if mains_voltage_v < LOW_LINE_MAX_V and wattage_low_line_w is not None:
        return float(min(wattage_w, wattage_low_line_w))
    return float(wattage_w)


def gpu_transient_factor(chip_id: str, chip: GpuChip | None = None) -> float | None:
    """Millisecond excursions of a chip as a factor × its power limit (None: unmeasured), from
    the sourced table in catalog/data/gpu_power.yaml; psu-headroom uses it, the planner can."""
    return gpu_power.transient_factor(chip_id, chip)


def gpu_spike_w(power_w: float, transient_factor: float | None) -> float:
    """A card's millisecond peak: its sustained power × its generation's transient factor
    (dlrig.gpu_power; 1 where unmeasured)."""
    return power_w * (transient_factor or 1.0)


def gpu_power_cap_for_psu_w(
    psu_w: float, non_gpu_w: float, gpu_count: int, headroom: float = PSU_HEADROOM
) -> float:
    """Per-GPU power limit (W) that keeps ``headroom`` × the load within ``psu_w``."""
    if gpu_count <= 0:
        return 0.0
    return max(0.0, (psu_w / headroom - non_gpu_w) / gpu_count)


def psu_efficiency(rating: str | None) -> tuple[float, bool]:
    """(efficiency at 50% load, assumed?) for an 80 PLUS rating (None → assumed 80%)."""
    if rating in PSU_EFFICIENCY_AT_50:
        return PSU_EFFICIENCY_AT_50[rating], False
    return UNRATED_PSU_EFFICIENCY, True


def combined_psu_efficiency(loads: Iterable[tuple[float, str | None]]) -> tuple[float, bool]:
    """(efficiency, assumed?) of several PSUs as one: each feeds its own DC load (W) at its own
    80 PLUS efficiency, so the wall draws Σ load_i / eff_i and the combined efficiency is
    Σ load_i / Σ (load_i / eff_i) (the load-weighted harmonic mean). PSUs without load do not
    count; with no load at all, the first PSU's efficiency."""
    rated = [(w, *psu_efficiency(r)) for w, r in loads]
    if not rated:
        return psu_efficiency(None)
    busy = [(w, e, a) for w, e, a in rated if w > 0]
    if not busy:
        return rated[0][1], rated[0][2]
    total = sum(w for w, _, _ in busy)
    wall = sum(w / e for w, e, _ in busy)
    return total / wall, any(a for _, _, a in busy)


def psu_loads_efficiency(loads: Iterable[PsuLoad]) -> tuple[float, bool]:
    """:func:`combined_psu_efficiency` of a build's PSU loads (each PSU's DC load and rating)."""
    return combined_psu_efficiency((ld.load_w, ld.psu.efficiency) for ld in loads)


def gpu_power_cap_for_circuit_w(
    limit_w: float, efficiency: float, non_gpu_w: float, gpu_count: int
) -> float:
    """Per-GPU power limit (W) that keeps the wall draw within ``limit_w``."""
    if gpu_count <= 0:
        return 0.0
    return max(0.0, (limit_w * efficiency - non_gpu_w) / gpu_count)


@dataclass(frozen=True, slots=True)
class CircuitDraw:
    """What one wall circuit carries: the PSUs plugged into it and their draw at the wall, each
    PSU at its own efficiency for the load it feeds. ``wall-circuit`` judges it and ``dlrig
    power`` reports it from this one computation, so the two cannot disagree."""

    index: int  # 0-based, into the site's circuits
    limit_w: float  # continuous limit (80 % of the breaker)
    loads: tuple[PsuLoad, ...]
    dc_w: float
    wall_w: float  # rounded to 0.1 W: the figure reported is the figure judged
    efficiency_assumed: bool  # some PSU on it has no efficiency rating

    @property
    def margin_w(self) -> float:
        """Continuous limit minus wall draw (negative: over the limit)."""
        return self.limit_w - self.wall_w

    @property
    def gpu_count(self) -> int:
        """The GPUs fed by the PSUs on this circuit."""
        return sum(len(ld.gpus) for ld in self.loads)

    @property
    def non_gpu_w(self) -> float:
        """The DC load of everything but the GPUs on this circuit (W)."""
        return self.dc_w - sum(ld.gpu_w for ld in self.loads)

    @property
    def gpu_cap_w(self) -> float | None:
        """Per-GPU power limit that keeps this circuit within its limit (None: no GPU on it)."""
        if not self.gpu_count:
            return None
        eff, _ = psu_loads_efficiency(self.loads)
        return gpu_power_cap_for_circuit_w(self.limit_w, eff, self.non_gpu_w, self.gpu_count)


def circuit_draw(index: int, limit_w: float, loads: Iterable[PsuLoad]) -> CircuitDraw:
    """The draw on circuit ``index`` (continuous limit ``limit_w``) of the PSU ``loads`` plugged
    into it (``loads`` may hold every PSU of the build)."""
    mine = tuple(ld for ld in loads if ld.circuit_index == index)
    wall, assumed = 0.0, False
    for ld in mine:
        eff, was_assumed = psu_efficiency(ld.psu.efficiency)
        assumed = assumed or was_assumed
        wall += units.wall_power_w(ld.load_w, eff)
    dc = sum(ld.load_w for ld in mine)
    return CircuitDraw(index, limit_w, mine, dc, round(wall, 1), assumed)


@dataclass(frozen=True, slots=True)
class CapFit:
    """The highest uniform power limit that makes ``n`` cards fit a PSU and a circuit.

    ``cap_w`` is None when even the card's minimum limit does not fit (or the floor is unknown
    and the cap would go below half the board power, where no curve or range vouches for it);
    ``throughput`` is the fraction of stock throughput kept (None: no measured curve).
    """

    cap_w: float | None
    throughput: float | None
    needed: bool  # False when the stock cards already fit


def cap_to_fit(
    gpu: Gpu,
    n: int,
    non_gpu_w: float,
    psu_w: float | None = None,
    wall_limit_w: float | None = None,
    efficiency: float = UNRATED_PSU_EFFICIENCY,
) -> CapFit:
    """The power limit the planner (or a hint) may set: the highest one that keeps ``n`` cards
    within ``psu_w`` with PSU_HEADROOM and within ``wall_limit_w`` at ``efficiency``, never
    below the card's driver minimum (dlrig.gpu_power)."""
    bounds = [float(gpu.tdp_w)]
    if psu_w is not None:
        bounds.append(gpu_power_cap_for_psu_w(psu_w, non_gpu_w, n))
    if wall_limit_w is not None:
        bounds.append(gpu_power_cap_for_circuit_w(wall_limit_w, efficiency, non_gpu_w, n))
    cap = min(bounds)
    if cap >= gpu.tdp_w:
        return CapFit(float(gpu.tdp_w), 1.0, False)
    floor = gpu_power.lowest_safe_cap_w(gpu)
    if (floor is not None and cap < floor) or (floor is None and cap < gpu.tdp_w / 2):
        return CapFit(None, None, True)
    cap = float(int(cap))
    return CapFit(cap, gpu_power.relative_throughput(gpu.chip, gpu.tdp_w, cap), True)


# --- GPU power connectors ------------------------------------------------------------------------
# A 6-pin input takes a 6+2-pin plug; a 12VHPWR/12V-2x6 input can be fed by the adapter shipped
# with the card from PCIe 8-pin plugs. An 8-pin plug is rated 150 W (PCI Express CEM
# specification; see "16-pin 12VHPWR connector", Wikipedia: 75 W 6-pin, 150 W 8-pin, 600 W
# 12VHPWR). Plugs per adapter = board power ÷ 150 W, clamped to 2-4: our estimate from the
# adapters NVIDIA and its partners ship with RTX 40-series cards (2× to 4× 8-pin).
WATTS_PER_8PIN = 150


@dataclass(frozen=True, slots=True)
class ConnectorDemand:
    """The PSU plugs a set of GPUs needs."""

    pcie_8pin: int  # 6+2-pin plugs for 6-pin and 8-pin inputs
    pcie_12vhpwr: int
    adapter_8pin: int  # extra 8-pin plugs needed if every 12VHPWR input uses an adapter


def gpu_connector_demand(gpus: Sequence[Gpu]) -> ConnectorDemand | None:
    """Plugs the GPUs need, or None when a card's connectors are unknown."""
    eight = hp = adapter = 0
    for g in gpus:
        if g.pcie_6pin is None and g.pcie_8pin is None and g.pcie_12vhpwr is None:
            return None
        eight += (g.pcie_6pin or 0) + (g.pcie_8pin or 0)
        n_hp = g.pcie_12vhpwr or 0
        hp += n_hp
        if n_hp:
            adapter += n_hp * min(4, max(2, math.ceil(g.tdp_w / WATTS_PER_8PIN)))
    return ConnectorDemand(eight, hp, adapter)


@dataclass(frozen=True, slots=True)
class PlugCheck:
    """How a PSU's plugs cover a connector demand (the gpu-power-connectors verdict).

    ``verdict``: "ok"; "adapter" (12VHPWR inputs fed from spare 8-pin plugs: works, warning);
    "short-8pin" or "short-12vhpwr" (cannot be powered: error).
    """

    verdict: str
    short_native: int  # 12VHPWR inputs without a native plug
    adapter_plugs: int  # 8-pin plugs those inputs need through adapters
    spare_8pin: int  # 8-pin plugs left after the 6/8-pin inputs


def check_plugs(demand: ConnectorDemand, have_8pin: int, have_12vhpwr: int) -> PlugCheck:
    """Whether ``have_8pin`` PCIe 6+2-pin and ``have_12vhpwr`` plugs power ``demand``."""
    spare = have_8pin - demand.pcie_8pin
    short = max(0, demand.pcie_12vhpwr - have_12vhpwr)
    per = demand.adapter_8pin // max(1, demand.pcie_12vhpwr)
    if spare < 0:
        verdict = "short-8pin"
    elif short == 0:
        verdict = "ok"
    else:
        verdict = "adapter" if spare >= short * per else "short-12vhpwr"
    return PlugCheck(verdict, short, short * per, spare)


def psu_form_fit(psu_form_factor: str, case_takes: Sequence[str]) -> str:
    """'ok', 'bracket' (an SFX/SFX-L unit in an ATX bay with an adapter bracket) or 'no'."""
    if psu_form_factor in case_takes:
        return "ok"
    if psu_form_factor in ("SFX", "SFX-L") and "ATX" in case_takes:
        return "bracket"
    return "no"


# --- PCIe lanes and slots ------------------------------------------------------------------------
# Each GPU should get ≥ x8 electrical lanes; x4 still works but slows host↔GPU transfers and
# multi-GPU all-reduce (Tim Dettmers, "A Full Hardware Guide to Deep Learning", timdettmers.com:
# x8 per GPU is fine for up to 4 GPUs, x4 hurts parallel training). The x8 threshold is our
# reading of that advice.
MIN_GPU_LANES = 8
# Slots a card of unknown thickness is assumed to block: our estimate (most blower and
# workstation cards are dual-slot); rules that rely on it also report themselves unchecked.
DEFAULT_SLOT_WIDTH = 2


_CACHE_MAX = 4096
_PAREN = re.compile(r"\([^()]*\)")
_slot_names_cache: dict[int, tuple[Motherboard, dict[str, int]]] = {}
_placement_cache: dict[tuple[object, ...], tuple[Motherboard, Placement]] = {}


def slot_names(board: Motherboard) -> dict[str, int]:
    """Normalised slot name → position ('PCIEX16_2' → 2), plus 'slotN' for every position."""
    hit = _slot_names_cache.get(id(board))
    if hit is not None and hit[0] is board:
        return hit[1]
    names: dict[str, int] = {}
    short: dict[str, set[int]] = {}
    for s in board.pcie_slots:
        label = s.name
        if label:
            names[normalize(label)] = s.position
            # manuals write 'PCIEX16(G5)_3'; users often drop the generation: 'PCIEX16_3'
            bare = normalize(_PAREN.sub("", label))
            short.setdefault(bare, set()).add(s.position)
        names[f"slot{s.position}"] = s.position
    for bare, positions in short.items():
        if len(positions) == 1 and bare not in names:
            names[bare] = next(iter(positions))
    if len(_slot_names_cache) > _CACHE_MAX:
        _slot_names_cache.clear()
    _slot_names_cache[id(board)] = (board, names)
    return names


@dataclass(frozen=True, slots=True)
class Placement:
    """GPUs assigned to board slots, top to bottom.

    ``placed`` pairs (gpu, slot); ``lanes`` the electrical lanes each placed GPU gets (None =
    unknown); ``unplaced`` the GPUs left without a slot; ``bottom`` the lowest case expansion slot
    any card in the board covers (cards on risers cover none; for the case's expansion-slot
    count); ``assumed_width`` lists GPUs whose thickness was unknown and taken as
    DEFAULT_SLOT_WIDTH. ``indices`` gives, for each placed card, its index in the GPUs passed in
    (build order) and ``on_riser`` whether it sits on a riser cable.
    """

    placed: tuple[tuple[Gpu, PcieSlot], ...]
    lanes: tuple[int | None, ...]
    unplaced: tuple[Gpu, ...]
    bottom: int
    assumed_width: tuple[Gpu, ...]
    indices: tuple[int, ...] = ()
    on_riser: tuple[bool, ...] = ()


def _width(g: Gpu) -> int:
    return g.slots_occupied or DEFAULT_SLOT_WIDTH


def _slot_lanes(slot: PcieSlot, used: set[int], names: dict[str, int]) -> int | None:
    """Electrical lanes of ``slot`` when the slots at positions ``used`` hold cards (M.2 drives
    that narrow a slot are applied later, by :func:`assign_m2`)."""
    if slot.lanes is None:
        return None
    if slot.lanes_when_shared is not None:
        for other in slot.shares_with:
            if names.get(normalize(other)) in used:
                return slot.lanes_when_shared
    return slot.lanes


def slot_position(board: Motherboard, label: str) -> int | None:
    """The position of the slot a build file names ('PCIEX16_3', 'slot3' or '3'), or None."""
    text = label.strip()
    if text.isdigit():
        pos = int(text)
        return pos if any(s.position == pos for s in board.pcie_slots) else None
    return slot_names(board).get(normalize(text))


def m2_slot_named(board: Motherboard, label: str) -> M2Slot | None:
    """The board's M.2 slot a build file names ('M2_1', 'M.2_1'), or None."""
    key = normalize(label)
    return next((m for m in board.m2_slots if normalize(m.name) == key), None)


def place_units(
    board: Motherboard,
    gpus: Sequence[Gpu],
    slots: Sequence[str | None],
    riser_kinds: Sequence[str | None],
) -> tuple[Placement, tuple[tuple[int, M2Slot], ...]]:
    """Place a build's GPUs: cards on an M.2-to-PCIe adapter whose slot: names an M.2 slot sit
    there (returned as (index, M.2 slot)); the others go through :func:`place_gpus` with their
    slot: pins and risers, and the placement's indices refer to the build order."""
    m2_hosted: list[tuple[int, M2Slot]] = []
    keep: list[int] = []
    for i, (label, kind) in enumerate(zip(slots, riser_kinds, strict=True)):
        m2 = m2_slot_named(board, label) if kind == "m2-adapter" and label else None
        if m2 is not None and all(m2.name != taken.name for _, taken in m2_hosted):
            m2_hosted.append((i, m2))
        else:
            keep.append(i)
    pins = [None if slots[i] is None else slot_position(board, slots[i] or "") for i in keep]
    place = place_gpus(
        board,
        [gpus[i] for i in keep],
        pins,
        [riser_kinds[i] is not None for i in keep],
        [riser_kinds[i] == "bifurcation" for i in keep],
    )
    return replace(place, indices=tuple(keep[j] for j in place.indices)), tuple(m2_hosted)


def place_gpus(
    board: Motherboard,
    gpus: Sequence[Gpu],
    pinned: Sequence[int | None] = (),
    risers: Sequence[bool] = (),
    shared: Sequence[bool] = (),
) -> Placement:
    """Assign GPUs (thinner first) to x16-size slots, respecting card thickness.

    ``pinned`` gives, per GPU (build order), the slot position the build file put it in (None:
    free); ``risers`` whether it sits on a riser cable, which occupies one slot of the board
    whatever the card's thickness (the card itself is mounted elsewhere). Among the assignments
    that place the most GPUs, pick the one with the widest narrowest link, then the most total
    lanes, then a free slot between cards (airflow), then the shortest reach down the case.
    Exhaustive over slot combinations (≤ 7 slots on any desktop board, so ≤ 35 combinations).
    Pins the board cannot honour (unknown slot, taken twice, overlapping) are dropped here; the
    gpu-placement rule reports them.
    """
    pins = tuple(pinned) + (None,) * (len(gpus) - len(pinned))
    ris = tuple(risers) + (False,) * (len(gpus) - len(risers))
    shr = tuple(shared) + (False,) * (len(gpus) - len(shared))
    key = (id(board), tuple(id(g) for g in gpus), pins, ris, shr)
    hit = _placement_cache.get(key)
    if hit is not None and hit[0] is board:
        return hit[1]
    place = _place_gpus(board, gpus, pins, ris, shr)
    if len(_placement_cache) > _CACHE_MAX:
        _placement_cache.clear()
    # the GPUs are kept alive by ``place`` (placed or unplaced), so their ids stay valid
    _placement_cache[key] = (board, place)
    return place


def _place_gpus(
    board: Motherboard,
    gpus: Sequence[Gpu],
    pins: Sequence[int | None],
    risers: Sequence[bool],
    shared: Sequence[bool] = (),
) -> Placement:
    n = len(gpus)
    shared = tuple(shared) + (False,) * (n - len(shared))
    width = [1 if risers[i] else _width(gpus[i]) for i in range(n)]
    by_pos = {s.position: s for s in board.pcie_slots}
    fixed: dict[int, PcieSlot] = {}
    for i, pos in enumerate(pins):
        slot = by_pos.get(pos) if pos is not None else None
        if slot is None or (slot.size != 16 and not risers[i]):
            continue
        if any(f.position == pos and not (shared[i] and shared[j]) for j, f in fixed.items()):
            continue
        fixed[i] = slot
    if not _feasible(fixed, width, shared):
        fixed = {}
    free_idx = sorted((i for i in range(n) if i not in fixed), key=lambda i: width[i])
    taken = {s.position for s in fixed.values()}
    free_slots = [s for s in board.x16_slots if s.position not in taken]
    names = slot_names(board)
    m2_shared = _m2_shared_positions(board, names)
    best: tuple[tuple[float, ...], dict[int, PcieSlot]] | None = None
    for k in range(min(len(free_idx), len(free_slots)), -1, -1):
        for combo in combinations(free_slots, k):
            assign = dict(fixed)
            assign.update(zip(free_idx[:k], combo, strict=True))
            if not assign or not _feasible(assign, width, shared):
                continue
            score = _score(assign, width, risers, names, m2_shared)
            if best is None or score > best[0]:
                best = (score, assign)
        if best is not None:
            break
    assumed = tuple(g for i, g in enumerate(gpus) if g.slot_width is None and not risers[i])
    if best is None:
        return Placement((), (), tuple(gpus[i] for i in free_idx), 0, assumed)
    assign = best[1]
    order = sorted(assign, key=lambda i: assign[i].position)
    return Placement(
        placed=tuple((gpus[i], assign[i]) for i in order),
        lanes=_lanes(assign, order, names),
        unplaced=tuple(gpus[i] for i in free_idx if i not in assign),
        bottom=_bottom(assign, width, risers),
        assumed_width=assumed,
        indices=tuple(order),
        on_riser=tuple(risers[i] for i in order),
    )


def _feasible(
    assign: dict[int, PcieSlot], width: Sequence[int], shared: Sequence[bool] = ()
) -> bool:
    """Each card must start below the slots the card above it covers (cards on one bifurcation
    riser share their slot)."""
    order = sorted(assign, key=lambda i: assign[i].position)
    return all(
        assign[a].position + width[a] <= assign[b].position
        or (assign[a].position == assign[b].position and shared and shared[a] and shared[b])
        for a, b in pairwise(order)
    )


def _lanes(
    assign: dict[int, PcieSlot], order: Sequence[int], names: dict[str, int]
) -> tuple[int | None, ...]:
    """Each placed card's lanes: the slot's, split evenly between the cards of a bifurcated
    slot (x16 → x8/x8 or x4/x4/x4/x4)."""
    used = {assign[i].position for i in order}
    per_slot: dict[int, int] = {}
    for i in order:
        per_slot[assign[i].position] = per_slot.get(assign[i].position, 0) + 1
    out: list[int | None] = []
    for i in order:
        lanes = _slot_lanes(assign[i], used, names)
        k = per_slot[assign[i].position]
        if lanes is not None and k > 1:
            lanes = max((x for x in (8, 4, 2, 1) if x <= lanes // k), default=1)
        out.append(lanes)
    return tuple(out)


def _bottom(assign: dict[int, PcieSlot], width: Sequence[int], risers: Sequence[bool]) -> int:
    reach = [assign[i].position + width[i] - 1 for i in assign if not risers[i]]
    return max(reach, default=0)


def _m2_shared_positions(board: Motherboard, names: dict[str, int]) -> frozenset[int]:
    """Positions of the slots an M.2 drive can narrow or disable (either side may say so)."""
    m2_names = {normalize(m.name) for m in board.m2_slots}
    out = {
        s.position for s in board.pcie_slots if any(normalize(x) in m2_names for x in s.shares_with)
    }
    for m in board.m2_slots:
        out.update(p for x in m.shares_with if (p := names.get(normalize(x))) is not None)
    return frozenset(out)


def _score(
    assign: dict[int, PcieSlot],
    width: Sequence[int],
    risers: Sequence[bool],
    names: dict[str, int],
    m2_shared: frozenset[int] = frozenset(),
) -> tuple[float, ...]:
    order = sorted(assign, key=lambda i: assign[i].position)
    lanes = list(_lanes(assign, order, names))
    known = [x for x in lanes if x is not None]
    gaps = [assign[b].position - assign[a].position - width[a] for a, b in pairwise(order)]
    return (
        float(len(assign)),
        float(min(known) if known else 0),
        float(sum(known)),
        float(min(min(gaps), 1) if gaps else 1),  # a free slot between cards if possible
        # leave the slots an M.2 drive would narrow or disable for last (the ROMED8-2T's PCIE2)
        -float(sum(assign[i].position in m2_shared for i in assign)),
        -float(_bottom(assign, width, risers)),
    )


@dataclass(frozen=True, slots=True)
class Link:
    """A placed GPU's PCIe link: lanes and generation after the slot, the card and the riser."""

    lanes: int | None
    gen: int | None
    limited_by_riser: bool

    @property
    def text(self) -> str:
        """The link as text: ``x16 PCIe 4.0`` (unknowns said)."""
        width = f"x{self.lanes}" if self.lanes is not None else "x? (lanes unknown)"
        gen = f"PCIe {self.gen}.0" if self.gen is not None else "PCIe generation unknown"
        return f"{width} {gen}"


def link_of(slot: PcieSlot, gpu: Gpu, riser: Riser | None, slot_lanes: int | None) -> Link:
    """The link a GPU gets in ``slot`` through ``riser``: the narrowest and oldest of the three
    (a PCIe 3.0 riser holds a 4.0 card in a 4.0 slot to 3.0 speed)."""
    lanes_known = [x for x in (slot_lanes, gpu.pcie_lanes, riser.lanes if riser else None) if x]
    lanes = min(lanes_known) if slot_lanes is not None and lanes_known else None
    gens = [g for g in (slot.gen, gpu.pcie_gen) if g is not None]
    gen = min(gens) if len(gens) == 2 else None
    limited = False
    if riser is not None and riser.pcie_gen is not None:
        if gen is not None and riser.pcie_gen < gen:
            limited = True
        gen = None if gen is None else min(gen, riser.pcie_gen)
    return Link(lanes, gen, limited)


@dataclass(frozen=True, slots=True)
class M2Assignment:
    """M.2 drives → M.2 slots; ``narrowed`` GPU slots that lose lanes to a used M.2 slot."""

    slots: tuple[tuple[Storage, str], ...]
    unassigned: tuple[Storage, ...]
    narrowed: tuple[tuple[int, int], ...]  # (slot position, lanes left)


def is_m2(d: Storage) -> bool:
    """Whether the drive is an M.2 module."""
    return d.form_factor.startswith("M.2")


def assign_m2(board: Motherboard, drives: Sequence[Storage], placement: Placement) -> M2Assignment:
    """Put M.2 drives in M.2 slots, preferring slots that take no lanes from a placed GPU."""
    names = slot_names(board)
    gpu_positions = {s.position for _, s in placement.placed}
    m2_drives = [d for d in drives if is_m2(d)]

    def steals(m2_name: str, sharing: Iterable[str]) -> bool:
        key = normalize(m2_name)
        if any(names.get(normalize(x)) in gpu_positions for x in sharing):
            return True
        return any(
            key in {normalize(x) for x in s.shares_with}
            for _, s in placement.placed
            if s.lanes_when_shared is not None
        )

    free = sorted(board.m2_slots, key=lambda m: (steals(m.name, m.shares_with), m.source != "cpu"))
    assigned: list[tuple[Storage, str]] = []
    left: list[Storage] = []
    for d in m2_drives:
        fit = next((m for m in free if d.kind == "nvme" or m.sata is not False), None)
        if fit is None:
            left.append(d)
            continue
        free.remove(fit)
        assigned.append((d, fit.name))
    used_m2 = {normalize(n) for _, n in assigned}
    narrowed: list[tuple[int, int]] = []
    for _, slot in placement.placed:
        if (
            slot.shares_with
            and slot.lanes_when_shared is not None
            and any(normalize(x) in used_m2 for x in slot.shares_with)
        ):
            narrowed.append((slot.position, slot.lanes_when_shared))
    by_pos = {s.position: s for s in board.pcie_slots}
    for m in board.m2_slots:
        if normalize(m.name) in used_m2:
            for x in m.shares_with:
                pos = names.get(normalize(x))
                if pos not in gpu_positions or pos is None:
                    continue
                # a slot that gives its own width for this M.2 (lanes_when_shared) is narrowed
                # to that width above, not disabled
                own = by_pos[pos]
                if own.lanes_when_shared is not None and normalize(m.name) in {
                    normalize(y) for y in own.shares_with
                }:
                    continue
                narrowed.append((pos, 0))
    return M2Assignment(tuple(assigned), tuple(left), tuple(narrowed))


# An M.2 NVMe drive on CPU lanes takes four of them (the M.2 M-key slot is PCIe x4).
M2_CPU_LANES = 4


def cpu_lane_demand(board: Motherboard, placement: Placement, m2: M2Assignment) -> int:
    """CPU lanes asked for by the GPUs in CPU-wired slots, the PCIe switches' uplinks and the
    M.2 drives in CPU-wired M.2 slots (compared with the CPU's lanes by pcie-lanes)."""
    m2_source = {m.name: m.source for m in board.m2_slots}
    return (
        sum(
            lanes or 0
            for (_, slot), lanes in zip(placement.placed, placement.lanes, strict=True)
            if slot.source == "cpu"
        )
        + sum(sw.upstream_lanes for sw in board.pcie_switches)
        + sum(M2_CPU_LANES for _, name in m2.slots if m2_source.get(name) == "cpu")
    )


# --- form factors --------------------------------------------------------------------------------
# Board outlines in mm (depth × width): ATX 2.2 spec (305 × 244), microATX 1.2 (244 × 244),
# Mini-ITX (170 × 170), SSI CEB 1.4.1 (305 × 267), SSI EEB 3.61 (305 × 330); E-ATX has no single
# standard (vendors ship 305 × 272 to 305 × 330); XL-ATX 345 × 262 (EVGA/MSI). CEB and E-ATX boards
# use the ATX mounting holes (plus extra ones), so a case that takes E-ATX takes an SSI CEB board;
# SSI EEB adds holes an ATX/E-ATX tray may lack.
FitVerdict = Literal["fits", "likely", "verify", "no"]
BOARD_IN_CASE: dict[str, dict[str, FitVerdict]] = {
    # board form factor → {form factor the case lists: verdict}
    "Mini-ITX": {
        f: "fits"
        for f in (
            "Mini-ITX", "Micro-ATX", "ATX", "E-ATX", "SSI CEB", "CEB", "SSI EEB", "EEB", "XL-ATX"
        )
    },
    "Micro-ATX": {
        f: "fits"
        for f in ("Micro-ATX", "ATX", "E-ATX", "SSI CEB", "CEB", "SSI EEB", "EEB", "XL-ATX")
    },
    "ATX": {f: "fits" for f in ("ATX", "E-ATX", "SSI CEB", "CEB", "SSI EEB", "EEB", "XL-ATX")},
    "SSI CEB": {
        "SSI CEB": "fits", "CEB": "fits", "SSI EEB": "fits", "EEB": "fits",
        "E-ATX": "likely", "XL-ATX": "likely", "ATX": "verify",
    },
    "CEB": {
        "SSI CEB": "fits", "CEB": "fits", "SSI EEB": "fits", "EEB": "fits",
        "E-ATX": "likely", "XL-ATX": "likely", "ATX": "verify",
    },
    "E-ATX": {
        "E-ATX": "fits", "SSI EEB": "fits", "EEB": "fits",
        "XL-ATX": "verify", "SSI CEB": "verify", "CEB": "verify",
    },
    "SSI EEB": {"SSI EEB": "fits", "EEB": "fits", "E-ATX": "verify"},
    "EEB": {"SSI EEB": "fits", "EEB": "fits", "E-ATX": "verify"},
    "XL-ATX": {"XL-ATX": "fits", "E-ATX": "verify", "SSI EEB": "verify", "EEB": "verify"},
}  # fmt: skip
_FIT_ORDER: dict[FitVerdict, int] = {"fits": 0, "likely": 1, "verify": 2, "no": 3}


def board_fits_case(board_ff: str, case_ffs: Iterable[str]) -> tuple[FitVerdict, str | None]:
    """(verdict, the case form factor that gives it) for a board in a case listing ``case_ffs``."""
    table = BOARD_IN_CASE.get(board_ff, {board_ff: "fits"})
    best: tuple[FitVerdict, str | None] = ("no", None)
    for ff in case_ffs:
        v: FitVerdict = "fits" if ff == board_ff else table.get(ff, "no")
        if _FIT_ORDER[v] < _FIT_ORDER[best[0]]:
            best = (v, ff)
    return best


# --- memory --------------------------------------------------------------------------------------
# Chipsets that take only some of the CPUs of their socket: (chipset, words the CPU name must
# contain). AMD: the WRX90 chipset supports only Ryzen Threadripper PRO 7000 WX-series CPUs,
# while TRX50 takes both the Threadripper 7000 and the PRO 7000 WX-series
# (amd.com, "AMD Ryzen Threadripper 7000 Series processors", chipset support table, 2023-10-19).
CHIPSET_CPU_FAMILY: dict[str, str] = {"WRX90": "threadripperpro"}


def cpu_supported_by_chipset(cpu_name: str, chipset: str | None) -> bool:
    """False when the board's chipset is known to reject this CPU of the same socket."""
    need = CHIPSET_CPU_FAMILY.get((chipset or "").upper())
    return need is None or need in normalize(cpu_name)


# Platforms that take registered DIMMs only: TRX50/WRX90 (sTR5), WRX80 (sWRX8), EPYC SP3/SP5/SP6,
# Xeon W-2400/3400 (LGA4677) and Xeon 6 (LGA4710). Source: the vendors' platform specifications
# (amd.com, intel.com); no page or date was recorded, so re-check there before adding a socket.
RDIMM_ONLY_SOCKETS = frozenset({"sTR5", "sWRX8", "SP3", "SP5", "SP6", "LGA4677", "LGA4710"})

# --- deep learning -------------------------------------------------------------------------------
# System RAM at least the total GPU memory. Tim Dettmers' hardware guide asks for at least as much
# RAM as the largest GPU's memory, so that data, checkpoints and models can be staged in host
# memory without swapping; counting every GPU's memory (the project brief's "RAM ≥ total VRAM")
# is our stricter choice for multi-GPU builds, where each GPU's loader and pinned buffers add up.
RAM_TO_VRAM_RATIO = 1.0
# CPU threads per GPU for data loading: Dettmers recommends 1-2 CPU cores per GPU for
# preprocessing; with SMT that is up to 4 threads (also PyTorch's usual num_workers=4 per GPU).
MIN_THREADS_PER_GPU = 4
# A drive of at least this size for datasets (decimal GB); below it the rule gives advice.
# Our estimate: room for a few public datasets plus checkpoints (ImageNet-1k alone is ~150 GB).
LARGE_DRIVE_GB = 2000
# NVLink bridges: GeForce RTX 20/30 bridges come in 3- and 4-slot spacing (NVIDIA GeForce RTX
# NVLink Bridge product pages); professional (Quadro RTX / RTX A) bridges in 2- and 3-slot.
NVLINK_SPACING_GEFORCE = (3, 4)
NVLINK_SPACING_PRO = (2, 3)
