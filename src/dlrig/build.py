"""A build: the chosen parts with their counts, where it will run, and its derived totals.

A :class:`Build` is what ``dlrig check`` checks, what the planner produces and what the cost
model prices. It is immutable; derived totals (price, power, VRAM) are computed once, lazily.
Build files are read and written by :mod:`dlrig.buildfile`.

Power estimate (``peak_power_w``) = CPU TDP + Σ GPU board power + an allowance for the rest of
the system, itemised in :data:`SYSTEM_POWER_ALLOWANCE_W`. The allowances are the "load" column of
Tom's Hardware's PSU buying guide table "How To Determine Your Power Requirements"
(https://www.tomshardware.com/reviews/psu-buying-guide,2916-8.html, dated 2016-06-09: high-end
board 45 W, 4-6 W per memory module, SSD 4 W, HDD 8-10 W, CPU fan 1-3 W, performance case fan
3 W). We take the upper value of each range so the estimate errs on the safe side. Two figures
are our own estimates, not from that table: the number of case fans
(:data:`ASSUMED_CASE_FANS`) and an AIO pump.

Site defaults: 120 V mains and a 15 A branch circuit — the most common US residential outlet
circuit (NEMA 5-15 receptacle on a 15 A breaker). Set ``site:`` in the build file for 230 V
countries or a 20 A circuit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from dlrig import units
from dlrig.errors import InputError
from dlrig.parts import (
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
    Riser,
    Storage,
)

if TYPE_CHECKING:
    from dlrig.catalog import Catalog
    from dlrig.workload import Workload

__all__ = [
    "ASSUMED_CASE_FANS",
    "DEFAULT_CIRCUIT_AMPS",
    "DEFAULT_MAINS_VOLTAGE_V",
    "MULTI_CATEGORIES",
    "SYSTEM_POWER_ALLOWANCE_W",
    "Build",
    "BuildItem",
    "GpuUnit",
    "PsuLoad",
    "Site",
    "system_allowance_w",
]

# US residential default (NEMA 5-15 outlet, 15 A breaker); see the module docstring.
DEFAULT_MAINS_VOLTAGE_V = 120.0
DEFAULT_CIRCUIT_AMPS = 15.0

# Categories a build may list several of (mixed models allowed); the rest take one part.
# Several PSUs: one feeds the board and some GPUs, the others the remaining GPUs (an add2psu
# relay or the board's second-PSU header starts them together).
MULTI_CATEGORIES = frozenset({Category.MEMORY, Category.GPU, Category.STORAGE, Category.PSU})

# Most units of one category a build may hold: far beyond any one machine (a 10-GPU server, a
# 24-bay storage chassis), low enough that a typo such as count: 4000000 is caught as bad input
# instead of making every rule loop over millions of parts.
MAX_COUNT = 64

# Rest-of-system power allowance in watts (load column, upper end), source in the docstring:
# Tom's Hardware PSU buying guide, "How To Determine Your Power Requirements".
SYSTEM_POWER_ALLOWANCE_W: dict[str, float] = {
    "motherboard": 45.0,  # "High-end board" load
    "memory_module": 6.0,  # per module ("overclocked RAM per module (estimated)", the top row)
    "ssd": 4.0,  # per NVMe/SATA SSD
    "hdd": 10.0,  # per hard disk (8-10 W under load)
    "fan": 3.0,  # per "performance case fan"
    "air_cooler": 3.0,  # one CPU fan ("normal CPU fan", 1-3 W)
    # Our estimate, not in the table: a pump of about 6 W plus two radiator fans at 3 W each.
    "aio_cooler": 12.0,
}
# Case fans assumed in every build (a count, not watts): our estimate for a multi-GPU tower;
# the catalog does not record how many fans a case holds.
ASSUMED_CASE_FANS = 4


def system_allowance_w(
    memory_modules: int, ssds: int, hdds: int, cooler_kind: str | None, has_board: bool = True
) -> float:
    """Watts for everything except the CPU and GPUs (see :data:`SYSTEM_POWER_ALLOWANCE_W`).

    Exposed as a function so the planner can use the same number for a candidate build.
    """
    a = SYSTEM_POWER_ALLOWANCE_W
    watts = a["motherboard"] if has_board else 0.0
    watts += memory_modules * a["memory_module"]
    watts += ssds * a["ssd"] + hdds * a["hdd"]
    watts += ASSUMED_CASE_FANS * a["fan"]
    if cooler_kind == "aio":
        watts += a["aio_cooler"]
    elif cooler_kind == "air":
        watts += a["air_cooler"]
    return watts


@dataclass(frozen=True, slots=True)
class BuildItem:
    """One line of a build: a part, how many of it, and an optional per-unit price override.

    GPU lines may also carry a power limit per card (``nvidia-smi -pl``), the PSU that feeds them
    (1-based index into the build's PSUs; PSU 1 when left out), the board slot of each card and
    the riser cable they sit on. PSU lines may name their wall circuit (1-based index into
    ``site.circuits``; circuit 1 when left out). Any line may say the part was bought used or
    refurbished (``condition``): its price is then that condition's offer.
    """

    part: Part
    count: int = 1
    price_usd: float | None = None  # per unit; overrides the catalog price
    power_limit_w: float | None = None  # GPU: power limit per card
    psu: int | None = None  # GPU: which PSU feeds these cards (1-based)
    slots: tuple[str, ...] = ()  # GPU: board slot per card, in order (may be fewer than count)
    riser: Riser | None = None  # GPU: the riser cable each card sits on
    circuit: int | None = None  # PSU: which wall circuit it is plugged into (1-based)
    # "used" or "refurbished": bought in that condition, so priced at that condition's offer
    # (None: new, priced at the catalog's new offers)
    condition: str | None = None
    # {part: ID, with: {...}}: the catalog part and the replaced facts, so the build file is
    # written back the way it was read
    base: Part | None = None
    overrides: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if self.count < 1:
            raise InputError(
                f"count for '{self.part.name}' must be at least 1, not {self.count}",
                "remove the part or give a positive count",
            )

    @property
    def unit_price_usd(self) -> float | None:
        """The line's own price, else the part's (None: unpriced)."""
        return self.price_usd if self.price_usd is not None else self.part.price_usd

    @property
    def total_price_usd(self) -> float | None:
        """Unit price × count (None: unpriced)."""
        unit = self.unit_price_usd
        return None if unit is None else unit * self.count

    @property
    def riser_price_usd(self) -> float:
        """What the line's riser cables cost (one per card; 0 without a priced riser)."""
        if self.riser is None or self.riser.price_usd is None:
            return 0.0
        return self.riser.price_usd * self.count


@dataclass(frozen=True, slots=True)
class Site:
    """Where the machine is plugged in: mains voltage and the branch circuit's breaker rating.

    ``extra_circuits`` are further (volts, amps) circuits for builds with several PSUs on
    separate outlets; circuit 1 is ``mains_voltage_v`` × ``circuit_amps``.
    """

    mains_voltage_v: float = DEFAULT_MAINS_VOLTAGE_V
    circuit_amps: float = DEFAULT_CIRCUIT_AMPS
    extra_circuits: tuple[tuple[float, float], ...] = ()

    @property
    def circuits(self) -> tuple[tuple[float, float], ...]:
        """Every circuit as (volts, amps), circuit 1 first."""
        return ((self.mains_voltage_v, self.circuit_amps), *self.extra_circuits)

    def circuit_limit_w(self, index: int) -> float:
        """Continuous limit of circuit ``index`` (0-based)."""
        volts, amps = self.circuits[index]
        return units.circuit_continuous_limit_w(volts, amps)

    def mains_voltage_of(self, index: int) -> float:
        """Mains volts of circuit ``index`` (0-based). A PSU on a circuit the site does not list
        is rated at the last one's volts (``wall-circuit`` warns about the missing circuit)."""
        return self.circuits[min(index, len(self.circuits) - 1)][0]

    @property
    def continuous_limit_w(self) -> float:
        """80% of volts × amps (NEC continuous-load rule, see units.circuit_continuous_limit_w)."""
        return units.circuit_continuous_limit_w(self.mains_voltage_v, self.circuit_amps)

    @property
    def is_default(self) -> bool:
        """Whether the site is the default one (mains voltage and circuit, no extra circuits)."""
        return (
            self.mains_voltage_v == DEFAULT_MAINS_VOLTAGE_V
            and self.circuit_amps == DEFAULT_CIRCUIT_AMPS
            and not self.extra_circuits
        )

    @classmethod
    def parse(cls, circuit: str | None) -> Site:
        """The site from 'VOLTSxAMPS' text such as '120x20', '230V x 16' or '230 V x 16 A'
        (None → defaults)."""
        if circuit is None or not circuit.strip():
            return cls()
        # units may be written out ("16A" is how breakers are labelled), spaces anywhere
        found = re.fullmatch(
            r"(\d+(?:\.\d*)?)v?x(\d+(?:\.\d*)?)a?", circuit.lower().replace(" ", "")
        )
        if found is None:
            raise InputError(
                f"circuit '{circuit}' is not VOLTSxAMPS", "write e.g. 120x20 or 230x16"
            )
        return cls.checked(float(found.group(1)), float(found.group(2)), f"circuit '{circuit}'")

    @classmethod
    def checked(cls, volts: float, amps: float, what: str = "circuit") -> Site:
        """The one-circuit site of ``volts`` × ``amps`` if that is a plausible branch circuit,
        else InputError naming ``what`` (the text or field the numbers came from)."""
        if not (90 <= volts <= 480 and 1 <= amps <= 100):
            raise InputError(
                f"{what}: {volts:g} V × {amps:g} A is not a plausible branch circuit",
                "write mains volts (90-480) x breaker amps (1-100), e.g. 120x15 or 230x16",
            )
        return cls(volts, amps)


@dataclass(frozen=True, slots=True)
class GpuUnit:
    """One GPU card of the build with what the build file says about it: its power limit, the
    PSU feeding it (0-based), the board slot it was put in (None: the checker chooses) and the
    riser it sits on."""

    gpu: Gpu
    power_limit_w: float | None
    psu_index: int
    slot: str | None
    riser: Riser | None

    @property
    def power_w(self) -> float:
        """Sustained power: the set limit, else the rated board power."""
        return float(self.gpu.tdp_w if self.power_limit_w is None else self.power_limit_w)


@dataclass(frozen=True, slots=True)
class PsuLoad:
    """What one PSU feeds: the system (CPU, board, memory, drives, fans) when it is PSU 1, and the
    GPUs assigned to it."""

    index: int  # 0-based
    psu: Psu
    circuit_index: int  # 0-based
    feeds_system: bool
    gpus: tuple[GpuUnit, ...]
    cpu_w: float
    rest_w: float

    @property
    def gpu_w(self) -> float:
        """The GPUs' power on this PSU (W)."""
        return sum(u.power_w for u in self.gpus)

    @property
    def load_w(self) -> float:
        """Sustained DC load on this PSU (caps honoured)."""
        return self.cpu_w + self.rest_w + self.gpu_w


PartSpec = Part | BuildItem | tuple[Part, int]


class Build:
    """Chosen parts (per category) + counts, the site, raw workload/cost inputs, and totals.

    ``items[cat]`` is a tuple of :class:`BuildItem` — empty when the category was left out on
    purpose (``cooler: null``). ``chips`` maps GPU chip ids to their specs (filled from the
    catalog), so rules never need the catalog. ``workload`` and ``cost`` are kept exactly as
    written in the build file (so the build writes back the same way); :attr:`workload_spec` is
    the workload parsed, once, and the cost module parses ``cost``.
    """

    def __init__(
        self,
        name: str,
        items: Mapping[Category, Sequence[BuildItem]],
        *,
        site: Site | None = None,
        workload: Any = None,
        cost: Mapping[str, Any] | None = None,
        chips: Mapping[str, GpuChip] | None = None,
        description: str | None = None,
        source: str = "<inline>",
        catalog: Catalog | None = None,
        resolved_fuzzy: Sequence[str] = (),
        workload_spec: Workload | None = None,
    ) -> None:
        self.name = name
        self.items: dict[Category, tuple[BuildItem, ...]] = {
            c: tuple(items.get(c, ())) for c in Category
        }
        for cat, its in self.items.items():
            if cat not in MULTI_CATEGORIES and (len(its) > 1 or (its and its[0].count != 1)):
                raise InputError(
                    f"a build takes exactly one {cat.value}",
                    f"list one {cat.value}; only memory, gpu, storage and psu may repeat",
                )
            for it in its:
                if it.part.category is not cat:
                    raise InputError(
                        f"'{it.part.name}' is a {it.part.category.value}, not a {cat.value}",
                        f"move it under {it.part.category.value}:",
                    )
        self.site = site or Site()
        self.workload = workload
        # ``workload`` parsed; the caller may pass the one it already validated
        self._workload_spec = workload_spec if workload is not None else None
        self.cost = dict(cost) if cost is not None else None
        self.description = description
        # "line 4: 'RTX 4090 FE' → NVIDIA GeForce RTX 4090 Founders Edition": names that were
        # matched by spelling similarity, so the user can confirm them before buying
        self.resolved_fuzzy = tuple(resolved_fuzzy)
        self.source = source
        self.catalog = catalog
        if chips is None and catalog is not None:
            chips = _chips_from(catalog, self.items[Category.GPU])
        self.chips: dict[str, GpuChip] = dict(chips or {})

    # --- construction helpers ----------------------------------------------------------------
    @classmethod
    def from_parts(
        cls,
        parts: Mapping[Category | str, PartSpec | Iterable[PartSpec] | None],
        *,
        name: str = "build",
        catalog: Catalog | None = None,
        site: Site | None = None,
        **kwargs: Any,
    ) -> Build:
        """A build from parts in code: ``{Category.GPU: (rtx4090, 2), "cpu": cpu, ...}``.

        Values may be a Part, a BuildItem, a (Part, count) pair, a list of those, or None.
        """
        items: dict[Category, list[BuildItem]] = {}
        for key, value in parts.items():
            cat = Category(key)
            if value is None:
                items[cat] = []
                continue
            specs: Iterable[Any] = (
                value
                if isinstance(value, list | tuple)
                and not (len(value) == 2 and isinstance(value[1], int))
                else [value]
            )
            items[cat] = [_item(s) for s in specs]
        return cls(name, items, catalog=catalog, site=site, **kwargs)

    def replace(self, **changes: Any) -> Build:
        """A copy with some attributes replaced (name, items, site, workload, cost...)."""
        fields: dict[str, Any] = {
            "items": self.items,
            "site": self.site,
            "workload": self.workload,
            "cost": self.cost,
            "chips": self.chips,
            "description": self.description,
            "source": self.source,
            "catalog": self.catalog,
            "resolved_fuzzy": self.resolved_fuzzy,
            "workload_spec": self._workload_spec,
        }
        if "workload" in changes and "workload_spec" not in changes:
            fields["workload_spec"] = None  # parse the new workload when it is asked for
        name = changes.pop("name", self.name)
        fields.update(changes)
        return Build(name, **fields)

    def with_gpu_count(self, n: int) -> Build:
        """The same build with ``n`` GPUs ("one GPU now, four later").

        With one GPU model the count becomes ``n``. With mixed models, fewer GPUs keeps the
        first ``n`` in build order; more GPUs is ambiguous and raises InputError.
        """
        if n < 0:  # as the request field `gpus` of check and power (each door names it)
            raise InputError(f"gpus: {n} is below 0", "give 0 or more", field="gpus")
        if n > MAX_COUNT:
            raise InputError(
                f"gpus: {n:,} is more than one machine holds (at most {MAX_COUNT})",
                f"give {MAX_COUNT} or fewer",
                field="gpus",
            )
        current = self.items[Category.GPU]
        if not current:
            raise InputError("the build has no GPU to multiply", "add a gpu: to the build file")
        # a line keeps its power limit, PSU, riser and override (`check --gpus 4` on four capped
        # cards dropped the cap and failed psu-headroom); only its count and slots change
        if len(current) == 1:
            new: tuple[BuildItem, ...] = (_recounted(current[0], n),) if n else ()
        elif n <= self.gpu_count:
            kept: list[BuildItem] = []
            left = n
            for it in current:
                if left <= 0:
                    break
                take = min(it.count, left)
                kept.append(_recounted(it, take))
                left -= take
            new = tuple(kept)
        else:
            models = len({it.part.id for it in current})
            what = f"mixes {models} GPU models" if models > 1 else "lists its GPUs on several lines"
            raise InputError(
                f"the build {what}; cannot tell which line to add to reach {n} GPUs",
                "edit the counts in the build file instead",
            )
        return self.replace(items={**self.items, Category.GPU: new})

    @property
    def workload_spec(self) -> Workload | None:
        """The build's workload parsed (None without one); WorkloadError when it is invalid.

        A relative workload file path is relative to the build file. Parsed on first use and
        kept, so the workload-fits rule does not re-read it for every check of this build.
        """
        if self._workload_spec is None and self.workload is not None:
            from dlrig.workload import load_workload

            src = Path(self.source)
            base_dir = src.parent if not self.source.startswith("<") and src.is_file() else None
            self._workload_spec = load_workload(self.workload, base_dir=base_dir)
        return self._workload_spec

    # --- single parts -------------------------------------------------------------------------
    def _one(self, cat: Category) -> Part | None:
        its = [it for it in self.items[cat] if not it.part.price_only]
        return its[0].part if its else None

    def _expanded(self, cat: Category) -> tuple[Part, ...]:
        """Parts of ``cat`` with specs, repeated by count (price-only rows have no specs)."""
        return tuple(
            it.part for it in self.items[cat] if not it.part.price_only for _ in range(it.count)
        )

    @cached_property
    def price_only_parts(self) -> tuple[Part, ...]:
        """Parts known only from a price list: the rules cannot check them."""
        return tuple(p for p in self.parts if p.price_only)

    @cached_property
    def cpu(self) -> Cpu | None:
        """The CPU (None: none in the build)."""
        return cast(Cpu | None, self._one(Category.CPU))

    @cached_property
    def motherboard(self) -> Motherboard | None:
        """The motherboard (None: none in the build)."""
        return cast(Motherboard | None, self._one(Category.MOTHERBOARD))

    @cached_property
    def psu(self) -> Psu | None:
        """The first PSU, which feeds the board (None: none in the build)."""
        return cast(Psu | None, self._one(Category.PSU))

    @cached_property
    def psus(self) -> tuple[Psu, ...]:
        """Every PSU, expanded by count, in build order (PSU 1 feeds the board)."""
        return cast(tuple[Psu, ...], self._expanded(Category.PSU))

    @cached_property
    def psu_circuits(self) -> tuple[int, ...]:
        """The 0-based wall circuit of each PSU in :attr:`psus`."""
        out: list[int] = []
        for it in self.items[Category.PSU]:
            if it.part.price_only:
                continue
            out.extend([(it.circuit or 1) - 1] * it.count)
        return tuple(out)

    @cached_property
    def cooler(self) -> Cooler | None:
        """The CPU cooler (None: none in the build)."""
        return cast(Cooler | None, self._one(Category.COOLER))

    @cached_property
    def case(self) -> Case | None:
        """The case or frame (None: none in the build)."""
        return cast(Case | None, self._one(Category.CASE))

    # --- expanded multi parts -----------------------------------------------------------------
    @cached_property
    def gpus(self) -> tuple[Gpu, ...]:
        """Every GPU card, expanded by count, in build order."""
        return cast(tuple[Gpu, ...], self._expanded(Category.GPU))

    @cached_property
    def gpu_units(self) -> tuple[GpuUnit, ...]:
        """Every GPU card with its power limit, PSU, slot and riser (the order of :attr:`gpus`)."""
        units_: list[GpuUnit] = []
        for it in self.items[Category.GPU]:
            if it.part.price_only:
                continue
            for k in range(it.count):
                slot = it.slots[k] if k < len(it.slots) else None
                units_.append(
                    GpuUnit(cast(Gpu, it.part), it.power_limit_w, (it.psu or 1) - 1, slot, it.riser)
                )
        return tuple(units_)

    @cached_property
    def power_limited(self) -> bool:
        """True when any GPU runs at a set power limit."""
        return any(u.power_limit_w is not None for u in self.gpu_units)

    @cached_property
    def memory_kits(self) -> tuple[Memory, ...]:
        """Every memory kit, expanded by count."""
        return cast(tuple[Memory, ...], self._expanded(Category.MEMORY))

    @cached_property
    def drives(self) -> tuple[Storage, ...]:
        """Every drive, expanded by count."""
        return cast(tuple[Storage, ...], self._expanded(Category.STORAGE))

    @cached_property
    def parts(self) -> tuple[Part, ...]:
        """Each distinct part once, in category then build order."""
        seen: dict[str, Part] = {}
        for cat in Category:
            for it in self.items[cat]:
                seen.setdefault(it.part.id, it.part)
        return tuple(seen.values())

    @cached_property
    def part_ids(self) -> frozenset[str]:
        """The ids of every part."""
        return frozenset(p.id for p in self.parts)

    def chip(self, gpu: Gpu) -> GpuChip | None:
        """The chip spec of ``gpu``, or None when unknown."""
        return self.chips.get(gpu.chip)

    # --- totals -------------------------------------------------------------------------------
    @cached_property
    def gpu_count(self) -> int:
        """How many GPU cards."""
        return len(self.gpus)

    @cached_property
    def total_vram_gib(self) -> float:
        """VRAM of every GPU together (GiB)."""
        return float(sum(g.vram_gib for g in self.gpus))

    @cached_property
    def gpu_tdp_w(self) -> int:
        """Σ rated board power of the GPUs (stock, ignoring power limits)."""
        return sum(g.tdp_w for g in self.gpus)

    @cached_property
    def gpu_power_w(self) -> float:
        """Σ sustained GPU power with power limits honoured."""
        return float(sum(u.power_w for u in self.gpu_units))

    @cached_property
    def memory_gb(self) -> int:
        """System memory in (decimal, as marketed) GB."""
        return sum(m.capacity_gb for m in self.memory_kits)

    @cached_property
    def memory_gib(self) -> float:
        """System memory in GiB. Memory kits are marketed in GB but are binary sizes."""
        return float(self.memory_gb)  # a "16GB" DIMM holds 16 GiB

    @cached_property
    def memory_modules(self) -> int:
        """How many memory modules (DIMMs)."""
        return sum(m.modules for m in self.memory_kits)

    @cached_property
    def storage_gb(self) -> int:
        """Capacity of every drive together (GB)."""
        return sum(d.capacity_gb for d in self.drives)

    @cached_property
    def price_usd(self) -> float:
        """Sum of known prices (per-item overrides first, and the riser cables a GPU line
        prices); see :attr:`unpriced`."""
        total = 0.0
        for its in self.items.values():
            for it in its:
                p = it.total_price_usd
                if p is not None:
                    total += p
                total += it.riser_price_usd
        return round(total, 2)

    @cached_property
    def unpriced(self) -> tuple[Part, ...]:
        """Parts without a price, so a total can say it is incomplete."""
        return tuple(
            it.part for its in self.items.values() for it in its if it.unit_price_usd is None
        )

    @cached_property
    def system_allowance_w(self) -> float:
        """Power of everything but the CPU and GPUs: board, memory, drives, case fans, cooler
        (W)."""
        ssds = sum(1 for d in self.drives if d.kind != "hdd")
        hdds = len(self.drives) - ssds
        cooler = self.cooler
        return system_allowance_w(
            self.memory_modules,
            ssds,
            hdds,
            cooler.kind if cooler else None,
            has_board=self.motherboard is not None,
        )

    @cached_property
    def peak_power_w(self) -> float:
        """Estimated peak DC load: CPU TDP + Σ GPU power (limits honoured) + the rest."""
        cpu = self.cpu.tdp_w if self.cpu else 0
        return float(cpu) + self.gpu_power_w + self.system_allowance_w

    @cached_property
    def psu_loads(self) -> tuple[PsuLoad, ...]:
        """What each PSU feeds: PSU 1 the system and its GPUs, the others their GPUs only."""
        psus = self.psus
        cpu_w = float(self.cpu.tdp_w) if self.cpu else 0.0
        out: list[PsuLoad] = []
        for i, psu in enumerate(psus):
            gpus = tuple(u for u in self.gpu_units if u.psu_index == i)
            first = i == 0
            out.append(
                PsuLoad(
                    i,
                    psu,
                    self.psu_circuits[i],
                    first,
                    gpus,
                    cpu_w if first else 0.0,
                    self.system_allowance_w if first else 0.0,
                )
            )
        return tuple(out)

    # --- misc ---------------------------------------------------------------------------------
    def __repr__(self) -> str:
        counts = ", ".join(
            f"{c.value}={'+'.join(f'{it.count}x{it.part.id}' for it in its)}"
            for c, its in self.items.items()
            if its
        )
        return f"Build({self.name!r}, {counts})"


def _recounted(item: BuildItem, count: int) -> BuildItem:
    """``item`` with ``count`` cards: the same part, price, limit, PSU and riser; the first
    ``count`` of its slots."""
    return replace(item, count=count, slots=item.slots[:count])


def _item(spec: Any) -> BuildItem:
    if isinstance(spec, BuildItem):
        return spec
    if isinstance(spec, Part):
        return BuildItem(spec)
    if isinstance(spec, tuple) and len(spec) == 2:
        return BuildItem(spec[0], int(spec[1]))
    raise InputError(f"cannot use {spec!r} as a build part", "pass a Part or (Part, count)")


def _chips_from(catalog: Catalog, gpus: Iterable[BuildItem]) -> dict[str, GpuChip]:
    chips: dict[str, GpuChip] = {}
    for it in gpus:
        chip = catalog.chip_of(it.part)
        if chip is not None:
            chips[chip.id] = chip
    return chips
