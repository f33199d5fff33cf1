"""Catalog preprocessing for the planner, computed once per catalog version and cached.

Three steps, each cheap enough to redo per query when a query filters parts away:

1. **Unary filters** — a part the planner can never use is dropped: no price (we cannot
   budget it), a GPU whose chip is not in the catalog, a price-only row.
2. **Pareto-dominance pruning within compatibility classes** — parts are grouped by the
   attributes constraints compare for *equality* (socket, memory type, slot layout, card
   thickness, ...); inside a group, a part that is no cheaper and no better on any attribute an
   inequality constraint uses (wattage, threads, clearance, TFLOPS, ...) can be replaced by the
   part that dominates it in every build, so it is never needed for an optimum.
   Facts that are *unknown* make a rule report "unchecked" instead of an error, so whether a fact
   is known is part of the class, never compared as a number.
3. **Slot tables** — for every distinct motherboard slot layout, card thickness and GPU count,
   where :func:`dlrig.rules.limits.place_gpus` puts the cards (lanes, lowest slot reached, air
   gaps) and, per M.2 drive count, what :func:`dlrig.rules.limits.assign_m2` does to them. These
   are the checker's own functions, so the planner and the checker cannot drift.

The in-process cache keys on ``catalog.version``; an on-disk copy (:mod:`dlrig.cache`,
keyed by the version and the code the facts come from) survives between runs, and
:func:`remember` writes back what a plan added (placement facts of a new card size or count,
pruned candidates for new filters), so dominance pruning and placement are not repeated.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from dlrig.parts import (
    BOARD_FORM_FACTORS,
    Case,
    Category,
    Cooler,
    Cpu,
    Gpu,
    GpuChip,
    Memory,
    Motherboard,
    Part,
    Psu,
    Storage,
)
from dlrig.rules import limits as L

if TYPE_CHECKING:
    from dlrig.catalog import Catalog

PREP_FORMAT = 6  # bump when the pickled layout of Prep changes
MAX_GPUS = 8  # most GPUs a desktop/workstation board takes
MAX_DRIVES = 4  # most drives of one model in a plan
MAX_KITS = 4  # most memory kits of one model in a plan
DTYPES = ("fp32", "tf32", "fp16", "bf16", "fp8")


# --- GPU placement facts ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class M2Facts:
    """What assign_m2 does with ``q`` M.2 drives next to a GPU placement."""

    unassigned: int  # M.2 drives without a slot (m2-slots error when the board lists slots)
    min_lanes: int | None  # narrowest placed-GPU link after M.2 sharing (None: unknown)
    cpu_lanes: int  # CPU lanes asked for by GPU slots, switches and CPU-attached M.2 drives

    # The placement facts are most of the on-disk preprocessing cache (an imported catalog's
    # holds ~13,000 of these): pickled as their fields, they load without the generic
    # dataclass __setstate__ (which looks up the fields of every object), and equal facts are
    # one shared object (see _m2_facts), which pickle stores once.
    def __reduce__(self) -> tuple[Any, ...]:
        return (M2Facts, (self.unassigned, self.min_lanes, self.cpu_lanes))


@dataclass(frozen=True, slots=True)
class PlaceFacts:
    """place_gpus for ``n`` cards of one thickness on one slot layout."""

    n: int
    x16: int  # x16-size slots
    placed: int
    bottom: int  # lowest expansion slot a card reaches
    lanes_known: bool
    choked: bool  # an open-air card would have no gap to the card below
    m2: dict[tuple[bool, int], M2Facts]  # (sata M.2?, drive count) → facts

    def __reduce__(self) -> tuple[Any, ...]:  # see M2Facts.__reduce__
        fields = (self.x16, self.placed, self.bottom, self.lanes_known, self.choked, self.m2)
        return (PlaceFacts, (self.n, *fields))


@dataclass
class Layout:
    """One distinct slot layout shared by one or more motherboards."""

    key: Hashable
    board: Motherboard  # a representative board
    known: bool  # slot positions and wiring known (slot_layout_known and slots listed)
    has_slots: bool
    facts: dict[tuple[int | None, int], PlaceFacts] = field(default_factory=dict)


def layout_key(b: Motherboard) -> Hashable:
    """Boards with equal keys place GPUs and M.2 drives identically.

    Without a known slot layout the checker only counts x16-size slots and M.2 slots, so such
    boards share a key per (x16 count, M.2 slot kinds) unless an M.2 slot shares lanes.
    """
    if not b.slot_layout_known and not any(m.shares_with for m in b.m2_slots):
        return (
            False,
            len(b.x16_slots),
            bool(b.pcie_slots),
            tuple(sorted((m.sata is not False, m.source == "cpu") for m in b.m2_slots)),
        )
    return (
        b.slot_layout_known,
        tuple(
            (
                s.position,
                s.size,
                s.lanes,
                s.source,
                s.lanes_when_shared,
                s.shares_with,
                s.notes.replace(";", ",").split(",")[0] if s.notes else None,
            )
            for s in b.pcie_slots
        ),
        tuple((w.upstream_lanes,) for w in b.pcie_switches),
        tuple((m.name, m.source, m.sata, m.shares_with) for m in b.m2_slots),
    )


@cache  # one object per (width, index): cards stay distinct objects, as in a real build
def _dummy_gpu(width: int | None, i: int) -> Gpu:
    fields: dict[str, Any] = {
        "id": f"w{width}",
        "name": f"{width}-slot card",
        "slot_width": None if width is None else float(width),
    }
    return Gpu.model_construct(**fields)


@cache
def _dummy_drive(sata: bool, i: int) -> Storage:
    fields: dict[str, Any] = {
        "id": f"d{i}",
        "name": "M.2 drive",
        "kind": "sata-ssd" if sata else "nvme",
        "form_factor": "M.2 2280",
        "interface": "SATA" if sata else "NVMe",
    }
    return Storage.model_construct(**fields)


@cache  # facts are frozen: one object per distinct value (a few dozen in a whole catalog)
def _m2_facts(unassigned: int, min_lanes: int | None, cpu_lanes: int) -> M2Facts:
    return M2Facts(unassigned, min_lanes, cpu_lanes)


# the facts key of cards on riser cables: each takes one slot whatever its thickness
ON_RISERS = -1


def place_facts(layout: Layout, width: int | None, n: int) -> PlaceFacts:
    """Placement of ``n`` cards of ``width`` slots on ``layout`` (memoised on the layout);
    ``width`` :data:`ON_RISERS`: every card on a riser cable, as the checker places a build
    whose GPU line names a riser (one slot each, no spacing, no case slot reached)."""
    key = (width, n)
    if key in layout.facts:
        return layout.facts[key]
    board = layout.board
    risers = width == ON_RISERS
    gpus = [_dummy_gpu(None if risers else width, i) for i in range(n)]
    place = L.place_gpus(board, gpus, (), [risers] * n)
    w = width or L.DEFAULT_SLOT_WIDTH
    choked = False
    for (_, s1), (_, s2) in zip(place.placed, place.placed[1:], strict=False):
        if not risers and s2.position - (s1.position + w) <= 0:
            choked = True
    lanes_known = all(x is not None for x in place.lanes)
    m2: dict[tuple[bool, int], M2Facts] = {}
    for sata in (False, True):
        for q in range(0, MAX_DRIVES + 1):
            drives = [_dummy_drive(sata, i) for i in range(q)]
            a = L.assign_m2(board, drives, place)
            narrowed = dict(a.narrowed) if board.m2_slots else {}
            known = [
                min(lanes, narrowed[slot.position]) if slot.position in narrowed else lanes
                for (_, slot), lanes in zip(place.placed, place.lanes, strict=True)
                if lanes is not None
            ]
            m2[(sata, q)] = _m2_facts(
                len(a.unassigned), min(known) if known else None, L.cpu_lane_demand(board, place, a)
            )
    facts = PlaceFacts(
        n=n,
        x16=len(board.x16_slots),
        placed=len(place.placed),
        bottom=place.bottom,
        lanes_known=lanes_known,
        choked=choked,
        m2=m2,
    )
    layout.facts[key] = facts
    return facts


# --- dominance -------------------------------------------------------------------------------
def _known(*values: Any) -> tuple[bool, ...]:
    return tuple(v is not None for v in values)


def _price(p: Part) -> float:
    return float(p.price_usd or 0.0)


def dominance_key(p: Part, chip: GpuChip | None = None) -> tuple[Hashable, tuple[Any, ...]]:
    """(compatibility class, goodness vector) of a part; higher is better in every entry.

    Entries are numbers or frozensets (a superset is better). Two parts of one class compare
    entry by entry; price enters as ``-price``.
    """
    neg = -_price(p)
    if isinstance(p, Cpu):
        return (
            (
                p.socket,
                frozenset(p.memory_types),
                p.rdimm,
                # which restricted chipsets take it (L.CHIPSET_CPU_FAMILY): a CPU one of them
                # rejects must never be pruned in favour of one it accepts, or vice versa
                frozenset(c for c in L.CHIPSET_CPU_FAMILY if L.cpu_supported_by_chipset(p.name, c)),
                *_known(p.pcie_lanes, p.max_memory_gb),
            ),
            (p.threads, -p.tdp_w, p.pcie_lanes or 0, p.max_memory_gb or 0, neg),
        )
    if isinstance(p, Motherboard):
        return (
            (
                p.socket,
                p.form_factor,
                p.memory_type,
                p.rdimm,
                layout_key(p),
                *_known(p.max_memory_gb, p.sata_ports),
            ),
            (p.memory_slots, p.max_memory_gb or 0, p.sata_ports or 0, neg),
        )
    if isinstance(p, Memory):
        return ((p.type, p.registered, p.ecc, p.modules, p.module_gb), (neg,))
    if isinstance(p, Gpu):
        demand = L.gpu_connector_demand([p])
        tflops = tuple(_peak(chip, d) for d in DTYPES)
        return (
            (
                p.slots_occupied,
                p.cooling,
                p.vram_gib,
                chip.vram_gib if chip else None,
                chip.vendor if chip else None,
                chip.tensor_cores if chip else None,
                L.gpu_transient_factor(p.chip, chip),
                demand is not None,
                *_known(p.length_mm, p.pcie_lanes),
            ),
            (
                *tflops,
                # decode and other memory-bound work rank by bandwidth (dlrig.perf)
                (chip.memory_bandwidth_gb_s or 0.0) if chip else -1.0,
                -p.tdp_w,
                -(p.length_mm or 0),
                p.pcie_lanes or 0,
                -(demand.pcie_8pin if demand else 0),
                -(demand.pcie_12vhpwr if demand else 0),
                -(demand.adapter_8pin if demand else 0),
                neg,
            ),
        )
    if isinstance(p, Storage):
        return (
            (p.kind, p.form_factor, p.interface.upper().startswith("SATA")),
            (p.capacity_gb, neg),
        )
    if isinstance(p, Psu):
        eff, _ = L.psu_efficiency(p.efficiency)
        return (
            # a measured over-power trip point changes how GPU transients are judged (psu-headroom)
            (p.form_factor, p.atx3, p.opp_w is not None, *_known(p.pcie_8pin, p.length_mm)),
            (p.wattage_w, p.pcie_8pin or 0, p.pcie_12vhpwr or 0, eff, -(p.length_mm or 0), neg),
        )
    if isinstance(p, Cooler):
        return (
            (p.kind, bool(p.sockets), *_known(p.height_mm, p.radiator_mm, p.rated_tdp_w)),
            (
                frozenset(p.sockets),
                -(p.height_mm or 0),
                -(p.radiator_mm or 0),
                p.rated_tdp_w or 0,
                neg,
            ),
        )
    if isinstance(p, Case):
        fits = tuple(
            -_FIT_RANK[L.board_fits_case(ff, p.motherboard_form_factors)[0]]
            for ff in sorted(BOARD_FORM_FACTORS)
        )
        mounts = max((m.max_mm for m in p.radiator_mounts), default=0)
        return (
            (
                *_known(
                    p.max_gpu_length_mm,
                    p.max_cooler_height_mm,
                    p.expansion_slots,
                    p.bays_3_5,
                    p.bays_2_5,
                    p.max_psu_length_mm,
                    p.gpu_positions,
                ),
                bool(p.radiator_mounts),
                p.kind == "open-frame",  # cards on risers there, in the board's slots elsewhere
            ),
            (
                *fits,
                frozenset(p.psu_form_factors),
                p.max_gpu_length_mm or 0,
                p.max_cooler_height_mm or 0,
                p.expansion_slots or 0,
                mounts,
                p.bays_3_5 or 0,
                p.bays_2_5 or 0,
                p.max_psu_length_mm or 0,
                p.gpu_positions or 0,
                neg,
            ),
        )
    raise TypeError(f"no dominance key for {type(p).__name__}")


_FIT_RANK = {"fits": 0, "likely": 1, "verify": 2, "no": 3}


def _peak(chip: GpuChip | None, dtype: str) -> float:
    if chip is None:
        return -1.0
    from dlrig.sizing import effective_tflops

    value = effective_tflops(chip, 1, dtype)
    return -1.0 if value is None else value


def _ge(a: Any, b: Any) -> bool:
    if isinstance(a, frozenset):
        return a >= b
    return bool(a >= b)


def dominates(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """True when goodness vector ``a`` is at least as good as ``b`` in every entry."""
    return all(_ge(x, y) for x, y in zip(a, b, strict=True))


def pareto_prune(
    parts: Sequence[Part],
    key: Callable[[Part], tuple[Hashable, tuple[Any, ...]]],
    keep: Iterable[str] = (),
) -> list[Part]:
    """Parts not dominated by a no-more-expensive part of their class; ``keep`` ids always stay.

    Among identical parts the cheapest (then the smallest id) stays.
    """
    pinned = set(keep)
    groups: dict[Hashable, list[tuple[tuple[Any, ...], Part]]] = {}
    for p in parts:
        k, vec = key(p)
        groups.setdefault(k, []).append((vec, p))
    out: list[Part] = []
    for members in groups.values():
        members.sort(key=lambda m: (_price(m[1]), m[1].id))
        kept: list[tuple[tuple[Any, ...], Part]] = []
        for vec, p in members:
            if p.id not in pinned and any(dominates(v, vec) for v, _ in kept):
                continue
            kept.append((vec, p))
        out.extend(p for _, p in kept)
    order = {p.id: i for i, p in enumerate(parts)}
    out.sort(key=lambda p: order[p.id])
    return out


# --- the preprocessed catalog ----------------------------------------------------------------
@dataclass
class Prep:
    """Candidates per category (priced, usable), chips, keys and slot layouts of one catalog."""

    version: str
    parts: dict[Category, list[Part]]
    chips: dict[str, GpuChip]  # gpu id → chip
    unpriced: dict[Category, int]
    no_chip: int
    keys: dict[str, tuple[Hashable, tuple[Any, ...]]]  # part id → dominance key
    layouts: dict[Hashable, Layout]
    seconds: float = 0.0
    pruned_cache: dict[Hashable, dict[Category, list[Part]]] = field(default_factory=dict)
    # Unpriced parts the explanations name: all ids, and (name, x16 slots) of boards and
    # (name, watts) of PSUs, so "no priced board/PSU" can say which unpriced ones would do.
    unpriced_ids: list[str] = field(default_factory=list)
    unpriced_boards: list[tuple[str, str, int]] = field(default_factory=list)
    unpriced_psus: list[tuple[str, str, int]] = field(default_factory=list)
    unpriced_board_ram: list[tuple[str, str, int]] = field(default_factory=list)

    def key(self, p: Part) -> tuple[Hashable, tuple[Any, ...]]:
        """The dominance key of ``p`` (cached)."""
        k = self.keys.get(p.id)
        if k is None:
            k = dominance_key(p, self.chips.get(p.id))
            self.keys[p.id] = k
        return k

    def layout(self, board: Motherboard) -> Layout:
        """The slot layout of ``board`` (cached by layout key)."""
        k = layout_key(board)
        lay = self.layouts.get(k)
        if lay is None:
            lay = Layout(
                k,
                board,
                known=board.slot_layout_known and bool(board.pcie_slots),
                has_slots=bool(board.pcie_slots),
            )
            self.layouts[k] = lay
        return lay

    def pruned(
        self, parts: dict[Category, list[Part]], signature: Hashable, keep: Iterable[str] = ()
    ) -> dict[Category, list[Part]]:
        """Pareto-pruned ``parts`` (memoised by ``signature``, the filters that made them)."""
        cached = self.pruned_cache.get(signature)
        if cached is not None:
            return cached
        keep = tuple(keep)
        out = {c: pareto_prune(ps, self.key, keep) for c, ps in parts.items()}
        if len(self.pruned_cache) > 64:
            self.pruned_cache.clear()
        self.pruned_cache[signature] = out
        return out


def build_prep(catalog: Catalog) -> Prep:
    """Preprocess ``catalog`` (see the module docstring)."""
    t0 = time.perf_counter()
    parts: dict[Category, list[Part]] = {}
    unpriced: dict[Category, int] = {}
    chips: dict[str, GpuChip] = {}
    no_chip = 0
    unpriced_ids: list[str] = []
    boards: list[tuple[str, str, int]] = []
    psus: list[tuple[str, str, int]] = []
    board_ram: list[tuple[str, str, int]] = []
    for cat in Category:
        usable: list[Part] = []
        missing = 0
        for p in catalog.parts(cat):
            if p.price_only or p.custom:
                continue
            if p.price_usd is None:
                missing += 1
                unpriced_ids.append(p.id)
                if isinstance(p, Motherboard):
                    boards.append((p.id, p.name, len(p.x16_slots)))
                    board_ram.append((p.id, p.name, p.max_memory_gb or 0))
                elif isinstance(p, Psu):
                    psus.append((p.id, p.name, p.wattage_w))
                continue
            if isinstance(p, Gpu):
                chip = catalog.chip_of(p)
                if chip is None:
                    no_chip += 1
                    continue
                chips[p.id] = chip
            usable.append(p)
        parts[cat] = usable
        unpriced[cat] = missing
    prep = Prep(catalog.version, parts, chips, unpriced, no_chip, {}, {})
    prep.unpriced_ids, prep.unpriced_boards, prep.unpriced_psus = unpriced_ids, boards, psus
    prep.unpriced_board_ram = board_ram
    for ps in parts.values():
        for p in ps:
            prep.key(p)
    widths = sorted(
        {getattr(g, "slots_occupied", None) for g in parts[Category.GPU]}, key=lambda w: w or 0
    )
    for b in parts[Category.MOTHERBOARD]:
        lay = prep.layout(b)  # type: ignore[arg-type]
        if lay.facts:
            continue
        for w in widths:
            for n in range(1, MAX_GPUS + 1):
                f = place_facts(lay, w, n)
                if f.placed < n:
                    break
    prep.seconds = time.perf_counter() - t0
    return prep


_MEMO: dict[str, Prep] = {}
_SIZE_AT_LOAD: dict[str, tuple[int, int]] = {}  # version → (placement facts, pruned sets) on disk
PREP_KIND = "plan-prep"


def _disk_key(version: str) -> str:
    """The disk cache key: the catalog version and the code the cached facts come from (the
    parts models, this module, the checker's placement functions and the GPU power facts the
    dominance keys read), so a changed rule, model or transient factor never reads facts
    computed by the old one."""
    from dlrig import gpu_power, parts
    from dlrig.cache import key_of, module_sources

    code = module_sources(parts, L, gpu_power, sys.modules[__name__])
    code.append(gpu_power.data_text().encode())
    return key_of([str(PREP_FORMAT), f"{sys.version_info[:2]}", _schema(), version, *code])


def _size(prep: Prep) -> tuple[int, int]:
    return sum(len(lay.facts) for lay in prep.layouts.values()), len(prep.pruned_cache)


def _schema() -> str:
    """The part models' field names: a cache pickled under another parts model (a field added
    since) must not be loaded, even for the same catalog version."""
    models = (Case, Cooler, Cpu, Gpu, GpuChip, Memory, Motherboard, Psu, Storage)
    return ";".join(f"{m.__name__}:{','.join(sorted(m.model_fields))}" for m in models)


def prepare(catalog: Catalog, disk: bool = True) -> Prep:
    """The preprocessed catalog, from the in-process cache, the disk cache, or computed."""
    from dlrig import cache

    version = catalog.version or f"unversioned-{id(catalog)}"
    hit = _MEMO.get(version)
    if hit is not None:
        return hit
    key = _disk_key(version) if disk and catalog.version else None
    if key is not None:
        prep = cache.load(PREP_KIND, key)
        if isinstance(prep, Prep) and prep.version == version:
            _MEMO[version] = prep
            _SIZE_AT_LOAD[version] = _size(prep)
            return prep
    prep = build_prep(catalog)
    _MEMO[version] = prep
    if key is not None:
        cache.store(PREP_KIND, key, prep)
        _SIZE_AT_LOAD[version] = _size(prep)
    return prep


def remember(prep: Prep) -> None:
    """Write ``prep`` back to the disk cache when a plan added to it (placement facts for a new
    card size or count, Pareto-pruned candidates for new filters), so the next process with the
    same catalog starts from them instead of recomputing."""
    from dlrig import cache

    before = _SIZE_AT_LOAD.get(prep.version)
    if before is None or _size(prep) == before:
        return  # not from the disk cache, or nothing new
    cache.store(PREP_KIND, _disk_key(prep.version), prep)
    _SIZE_AT_LOAD[prep.version] = _size(prep)


def clear_cache() -> None:
    """Forget the in-process preprocessing cache (tests, benchmarks)."""
    _MEMO.clear()
    _SIZE_AT_LOAD.clear()


def ceil_int(x: float) -> int:
    """The ceiling of ``x``, forgiving float noise just above an integer."""
    return math.ceil(x - 1e-9)
