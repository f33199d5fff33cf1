"""The parts model: one validated pydantic model per part category, plus the GPU chip spec.

Conventions: units are in field names (``tdp_w``, ``length_mm``, ``vram_gib``); an unknown fact
is ``None`` — never 0 — so that a rule lacking the data reports *unchecked* instead of passing.
Every part carries a stable ``id`` (a slug), a ``source`` (the spec page the facts came from)
and, where it has a price, the date of that price.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Category(StrEnum):
    """Part categories, in the order a build file and a report list them."""

    CPU = "cpu"
    MOTHERBOARD = "motherboard"
    MEMORY = "memory"
    GPU = "gpu"
    STORAGE = "storage"
    PSU = "psu"
    COOLER = "cooler"
    CASE = "case"


# Known value sets. Validation rejects anything else so typos in catalog data fail loudly.
SOCKETS = frozenset(
    {
        "AM4",
        "AM5",
        "LGA1150",  # Z97 / H97 (Haswell, Broadwell desktop)
        "LGA1151",
        "LGA1200",
        "LGA1700",
        "LGA1851",
        "LGA2011",  # X79 / C602 (Sandy/Ivy Bridge-E and -EP)
        "LGA2011-3",  # X99 / C612 (Haswell/Broadwell-E and -EP)
        "LGA2066",
        "LGA3647",  # C621 / W-3200 (Xeon Scalable 1st/2nd gen, Xeon W-3200)
        "LGA4677",  # W790 / Sapphire Rapids
        "LGA4710",  # Xeon 6 (Granite Rapids-W)
        "sTR4",  # X399 (Threadripper 1000/2000; AMD calls the socket sTR4 or TR4)
        "sTRX4",
        "sWRX8",
        "sTR5",
        "SP3",
        "SP5",
        "SP6",
    }
)
MEMORY_TYPES = frozenset({"DDR4", "DDR5"})

# Motherboard form factors. Mounting-hole compatibility between them lives in the fit rules.
BOARD_FORM_FACTORS = frozenset(
    {
        "Mini-ITX",
        "Micro-ATX",
        "ATX",
        "E-ATX",
        "SSI CEB",
        "SSI EEB",
        "EEB",
        "XL-ATX",
        "CEB",
    }
)
# CRPS: Common Redundant Power Supply modules of server chassis (they plug into the chassis's
# power backplane, so only a chassis that lists CRPS takes them).
PSU_FORM_FACTORS = frozenset({"ATX", "SFX", "SFX-L", "EPS", "CRPS"})
CASE_KINDS = ("tower", "open-frame", "rackmount")
PSU_EFFICIENCY = (
    "80+",
    "80+ Bronze",
    "80+ Silver",
    "80+ Gold",
    "80+ Platinum",
    "80+ Titanium",
)

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.+-]*$", max_length=120)]


class Model(BaseModel):
    """Base for every model: strict about unknown keys, so a misspelt field fails loudly."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, defer_build=True)


class Part(Model):
    """Fields every part has."""

    category: ClassVar[Category]
    # True only for rows known from a price list alone (catalog.store.PriceOnlyPart): no specs,
    # so rules report them unchecked and the planner never picks them.
    price_only: ClassVar[bool] = False

    id: Slug
    name: str = Field(min_length=1)
    brand: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    price_usd: float | None = Field(default=None, gt=0)
    price_date: dt.date | None = None
    price_source: str | None = Field(
        default=None, description="where the price came from (e.g. launch MSRP, a retailer)"
    )
    source: str = Field(min_length=1, description="URL or document the facts came from")
    source_date: dt.date | None = Field(default=None, description="when the source was read")
    notes: str | None = None
    custom: bool = False  # an inline part from a build file, not from the catalog
    origin: str = "builtin"  # which catalog source the row came from (builtin, opendb, ...)

    @model_validator(mode="after")
    def _price_has_date(self) -> Part:
        if self.price_usd is not None and self.price_date is None and not self.custom:
            raise ValueError("price_usd needs a price_date (prices go stale)")
        return self


class Cpu(Part):
    """A CPU."""

    category: ClassVar[Category] = Category.CPU

    vendor: Literal["intel", "amd"]
    socket: str
    cores: int = Field(ge=1, le=256)
    threads: int = Field(ge=1, le=512)
    base_ghz: float | None = Field(default=None, gt=0, le=7)
    boost_ghz: float | None = Field(default=None, gt=0, le=7)
    tdp_w: int = Field(ge=5, le=500)
    pcie_lanes: int | None = Field(
        default=None, ge=0, le=256, description="CPU PCIe lanes usable by slots and M.2"
    )
    pcie_gen: int | None = Field(default=None, ge=1, le=6)
    memory_types: tuple[str, ...] = Field(
        default=(), description="DDR generations it takes (empty: unknown)"
    )
    memory_channels: int | None = Field(default=None, ge=1, le=12)
    max_memory_gb: int | None = Field(default=None, gt=0)
    ecc: bool | None = None
    rdimm: bool | None = None

    _socket_known = field_validator("socket")(lambda v: _in_set(v, SOCKETS, "socket"))

    @field_validator("memory_types")
    @classmethod
    def _memory_types_known(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for t in v:
            _in_set(t, MEMORY_TYPES, "memory type")
        return v

    @model_validator(mode="after")
    def _threads_ge_cores(self) -> Cpu:
        if self.threads < self.cores:
            raise ValueError(f"threads ({self.threads}) below cores ({self.cores})")
        return self


class PcieSlot(Model):
    """One expansion slot. ``position`` counts expansion-slot positions from the top (1)."""

    position: int = Field(ge=1, le=12)
    name: str | None = Field(default=None, description="label in the manual, e.g. PCIEX16_2")
    size: Literal[1, 4, 8, 16] = Field(description="physical size (x1, x4, x8, x16)")
    lanes: int | None = Field(default=None, description="electrical lanes at most")
    gen: int | None = Field(default=None, ge=1, le=6)
    source: Literal["cpu", "chipset", "switch"] | None = None
    lanes_when_shared: int | None = Field(
        default=None, description="electrical lanes when a sharing device is populated"
    )
    shares_with: tuple[str, ...] = Field(
        default=(), description="names of slots/M.2 that steal lanes from this slot"
    )
    notes: str | None = None

    @field_validator("lanes", "lanes_when_shared")
    @classmethod
    def _lanes_valid(cls, v: int | None) -> int | None:
        if v is not None and v not in (0, 1, 2, 4, 8, 16):
            raise ValueError("lanes must be one of 0, 1, 2, 4, 8, 16")
        return v

    @model_validator(mode="after")
    def _electrical_le_physical(self) -> PcieSlot:
        if self.lanes is not None and self.lanes > self.size:
            raise ValueError(f"slot {self.position}: {self.lanes} lanes exceed x{self.size} size")
        return self


class PcieSwitch(Model):
    """A PCIe switch chip (e.g. PLX/Broadcom PEX8747) that fans CPU lanes out to more slots."""

    model: str
    upstream_lanes: int = Field(ge=1, le=64)
    downstream_lanes: int = Field(ge=1, le=128)
    slots: tuple[int, ...] = Field(default=(), description="positions of slots it feeds")


class M2Slot(Model):
    """An M.2 slot of a motherboard, and the PCIe slots it shares lanes with."""

    name: str
    lanes: int | None = Field(default=None, ge=1, le=4)
    gen: int | None = Field(default=None, ge=1, le=6)
    source: Literal["cpu", "chipset", "switch"] | None = None
    sata: bool | None = None  # also takes M.2 SATA drives
    shares_with: tuple[str, ...] = Field(
        default=(), description="slots or SATA ports disabled or narrowed when this M.2 is used"
    )


class Motherboard(Part):
    """A motherboard: socket, chipset, memory, and the PCIe slot layout."""

    category: ClassVar[Category] = Category.MOTHERBOARD

    socket: str
    chipset: str
    form_factor: str
    memory_type: str
    memory_slots: int = Field(ge=1, le=16)
    max_memory_gb: int | None = Field(default=None, gt=0)
    ecc: bool | None = None
    rdimm: bool | None = None
    pcie_slots: tuple[PcieSlot, ...] = ()
    pcie_switches: tuple[PcieSwitch, ...] = ()
    m2_slots: tuple[M2Slot, ...] = ()
    sata_ports: int | None = Field(default=None, ge=0, le=16)
    slot_layout_known: bool = Field(
        default=True, description="False when pcie_slots are physical sizes only (imports)"
    )
    slot_positions_estimated: bool = Field(
        default=False,
        description="slot positions estimated (spec order, photos), not read from the manual's "
        "layout drawing: spacing conflicts are warnings, not errors",
    )

    _socket_known = field_validator("socket")(lambda v: _in_set(v, SOCKETS, "socket"))
    _ff_known = field_validator("form_factor")(
        lambda v: _in_set(v, BOARD_FORM_FACTORS, "board form factor")
    )
    _mem_known = field_validator("memory_type")(lambda v: _in_set(v, MEMORY_TYPES, "memory type"))

    @model_validator(mode="after")
    def _positions_unique(self) -> Motherboard:
        positions = [s.position for s in self.pcie_slots]
        if len(positions) != len(set(positions)):
            raise ValueError(f"duplicate PCIe slot positions {positions}")
        return self

    @property
    def x16_slots(self) -> tuple[PcieSlot, ...]:
        """Slots a full-size GPU physically fits (x16 size), top to bottom."""
        return tuple(sorted((s for s in self.pcie_slots if s.size == 16), key=lambda s: s.position))


class Memory(Part):
    """A memory kit: ``modules`` sticks of ``module_gb`` each."""

    category: ClassVar[Category] = Category.MEMORY

    type: str
    speed_mts: int | None = Field(default=None, ge=1600, le=10000)
    modules: int = Field(ge=1, le=16)
    module_gb: int = Field(ge=1, le=256)
    ecc: bool = False
    registered: bool = False

    _type_known = field_validator("type")(lambda v: _in_set(v, MEMORY_TYPES, "memory type"))

    @property
    def capacity_gb(self) -> int:
        """The kit's capacity: modules × module size (GB)."""
        return self.modules * self.module_gb


class GpuChip(Model):
    """Facts about one GPU chip/SKU (e.g. "GeForce RTX 4090"), shared by its board-partner cards.

    TFLOPS are dense (no sparsity). ``fp16_tflops``/``bf16_tflops`` are tensor-core rates with
    FP32 accumulate — GeForce cards run those at half their FP16-accumulate rate.
    """

    id: Slug
    name: str
    vendor: Literal["nvidia", "amd", "intel"]
    architecture: str
    compute_capability: str | None = None
    tensor_cores: bool | None = None
    tensor_core_gen: int | None = Field(default=None, ge=1, le=6)
    fp32_tflops: float | None = Field(default=None, gt=0)
    tf32_tflops: float | None = Field(default=None, gt=0)
    fp16_tflops: float | None = Field(default=None, gt=0)
    bf16_tflops: float | None = Field(default=None, gt=0)
    fp8_tflops: float | None = Field(default=None, gt=0)
    int8_tops: float | None = Field(default=None, gt=0)
    memory_bandwidth_gb_s: float | None = Field(default=None, gt=0)
    sm_count: int | None = Field(
        default=None, ge=1, le=1000, description="streaming multiprocessors"
    )
    boost_clock_mhz: float | None = Field(default=None, ge=100, le=5000)
    vram_gib: float | None = Field(default=None, gt=0)
    tdp_w: int | None = Field(default=None, ge=30, le=1500)
    p2p: bool | None = Field(default=None, description="peer-to-peer over PCIe supported")
    nvlink: bool | None = None
    launch_price_usd: float | None = Field(default=None, gt=0)
    launch_date: dt.date | None = None
    source: str
    source_date: dt.date | None = None
    notes: str | None = None
    aliases: tuple[str, ...] = ()
    origin: str = "builtin"

    def peak_tflops(self, dtype: str) -> float | None:
        """Dense peak for ``dtype`` (fp32, tf32, fp16, bf16, fp8, int8); None when unknown."""
        return {
            "fp32": self.fp32_tflops,
            "tf32": self.tf32_tflops,
            "fp16": self.fp16_tflops,
            "bf16": self.bf16_tflops,
            "fp8": self.fp8_tflops,
            "int8": self.int8_tops,
        }.get(dtype)


class Gpu(Part):
    """One board-partner card; chip-level facts live in its :class:`GpuChip`."""

    category: ClassVar[Category] = Category.GPU

    chip: Slug = Field(description="id of the GpuChip record")
    vram_gib: float = Field(gt=0, le=512)
    tdp_w: int = Field(ge=30, le=1000)
    length_mm: int | None = Field(default=None, ge=100, le=360)  # low-profile cards ~150 mm
    slot_width: float | None = Field(default=None, ge=1, le=4, description="slots occupied")
    cooling: Literal["blower", "open-air", "liquid", "passive"] | None = None
    pcie_6pin: int | None = Field(default=None, ge=0, le=4)
    pcie_8pin: int | None = Field(default=None, ge=0, le=4)
    pcie_12vhpwr: int | None = Field(default=None, ge=0, le=2, description="12VHPWR / 12V-2x6")
    nvlink: bool | None = None
    pcie_gen: int | None = Field(default=None, ge=1, le=6)
    pcie_lanes: int | None = Field(default=None, ge=1, le=16)

    @property
    def slots_occupied(self) -> int | None:
        """Whole expansion slots the card blocks (a 2.5-slot card blocks 3)."""
        import math

        return None if self.slot_width is None else math.ceil(self.slot_width - 0.05)


class Storage(Part):
    """A drive: NVMe, SATA SSD or hard disk."""

    category: ClassVar[Category] = Category.STORAGE

    kind: Literal["nvme", "sata-ssd", "hdd"]
    interface: str
    capacity_gb: int = Field(gt=0, le=100_000)
    seq_read_mb_s: int | None = Field(default=None, gt=0, le=20_000)
    form_factor: Literal["M.2 2280", "M.2 22110", "2.5in", "3.5in", "U.2", "AIC"]
    pcie_gen: int | None = Field(default=None, ge=3, le=6)


class Psu(Part):
    """A power supply. ``wattage_w`` is the usable rating (for a redundant set, what it delivers
    with the redundant module(s) in reserve); server units that derate on 100-127 V mains give
    that rating as ``wattage_low_line_w``."""

    category: ClassVar[Category] = Category.PSU

    wattage_w: int = Field(ge=300, le=12000)
    wattage_low_line_w: int | None = Field(
        default=None, ge=100, le=12000, description="usable rating on 100-127 V mains"
    )
    redundancy: str | None = Field(
        default=None, pattern=r"^\d\+\d$", description="e.g. '1+1', '2+2' (N+R modules)"
    )
    efficiency: str | None = None
    form_factor: str = "ATX"
    length_mm: int | None = Field(default=None, ge=100, le=300)
    pcie_8pin: int | None = Field(default=None, ge=0, le=24, description="PCIe 6+2-pin plugs")
    pcie_12vhpwr: int | None = Field(default=None, ge=0, le=8, description="12VHPWR / 12V-2x6")
    eps_8pin: int | None = Field(default=None, ge=0, le=6, description="EPS 4+4/8-pin CPU")
    atx3: bool | None = None
    opp_w: int | None = Field(
        default=None,
        ge=300,
        le=20000,
        description="measured over-power protection trip point (a review's OPP test)",
    )
    opp_source: str | None = Field(default=None, description="where opp_w was measured")

    _ff_known = field_validator("form_factor")(
        lambda v: _in_set(v, PSU_FORM_FACTORS, "PSU form factor")
    )

    @field_validator("efficiency")
    @classmethod
    def _eff_known(cls, v: str | None) -> str | None:
        return None if v is None else _in_set(v, frozenset(PSU_EFFICIENCY), "efficiency rating")


class Cooler(Part):
    """A CPU cooler: air (height) or AIO liquid (radiator size)."""

    category: ClassVar[Category] = Category.COOLER

    kind: Literal["air", "aio"]
    sockets: tuple[str, ...] = Field(
        default=(), description="sockets it mounts on (empty: unknown)"
    )
    height_mm: int | None = Field(default=None, ge=20, le=200, description="air coolers")
    radiator_mm: int | None = Field(default=None, ge=120, le=480, description="AIO radiators")
    rated_tdp_w: int | None = Field(default=None, ge=50, le=600)
    # What rated_tdp_w rests on: many makers (Noctua, ARCTIC, Corsair) publish no TDP rating, so
    # the figure may instead come from the maker's statement that the cooler handles a named CPU
    # at that power, or from a review's measured sustained package power. The rule says which.
    rated_tdp_basis: Literal["maker-tdp", "maker-cpu-support", "review-measured"] | None = Field(
        default=None,
        description=(
            "source of rated_tdp_w: maker-tdp (the maker's TDP rating), maker-cpu-support (the "
            "maker's statement for a named CPU at that power), review-measured (a review's "
            "measured sustained CPU power); empty: unstated"
        ),
    )

    @field_validator("sockets")
    @classmethod
    def _sockets_known(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for s in v:
            _in_set(s, SOCKETS, "socket")
        return v


class RadiatorMount(Model):
    """A case's radiator mount: where, and the largest radiator it takes."""

    position: Literal["front", "top", "rear", "bottom", "side"]
    max_mm: int = Field(ge=120, le=480)


class Case(Part):
    """A case or open frame: board form factors, clearances, slots, bays."""

    category: ClassVar[Category] = Category.CASE

    form_factor: str = Field(description="e.g. 'ATX Mid Tower', 'Full Tower'")
    motherboard_form_factors: tuple[str, ...] = Field(
        default=(), description="board form factors it takes (empty: unknown)"
    )
    max_gpu_length_mm: int | None = Field(default=None, ge=150, le=600)
    max_cooler_height_mm: int | None = Field(default=None, ge=30, le=250)
    expansion_slots: int | None = Field(default=None, ge=1, le=14)
    radiator_mounts: tuple[RadiatorMount, ...] = ()
    bays_3_5: int | None = Field(default=None, ge=0, le=20)
    bays_2_5: int | None = Field(default=None, ge=0, le=20)
    max_psu_length_mm: int | None = Field(default=None, ge=100, le=400)
    psu_form_factors: tuple[str, ...] = ("ATX",)
    kind: Literal["tower", "open-frame", "rackmount"] | None = Field(
        default=None,
        description="open-frame: cards mount on the frame (usually on risers), no enclosure",
    )
    gpu_positions: int | None = Field(
        default=None, ge=1, le=16, description="GPU mounting positions (open frames, GPU servers)"
    )
    psu_bays: int | None = Field(default=None, ge=1, le=8, description="PSUs it holds")
    vertical_gpu_mounts: int | None = Field(
        default=None,
        ge=0,
        le=8,
        description="GPUs a tower mounts off the board on riser cables (vertical GPU bracket; "
        "0: none)",
    )

    @field_validator("motherboard_form_factors")
    @classmethod
    def _ff_known(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for f in v:
            _in_set(f, BOARD_FORM_FACTORS, "board form factor")
        return v


class Riser(Model):
    """A PCIe riser cable (or M.2-to-PCIe adapter) between a board slot and a GPU.

    Not a build category: a GPU line of the build file names the riser its cards sit on. A riser
    frees the card from the board's slot spacing (the card sits elsewhere, e.g. on an open frame)
    but limits the link to the PCIe generation it is rated for.
    """

    name: str = Field(min_length=1)
    # bifurcation: a riser/splitter card that splits one slot's lanes between several GPUs
    kind: Literal["cable", "m2-adapter", "bifurcation"] = "cable"
    length_mm: int | None = Field(default=None, ge=50, le=2000)
    pcie_gen: int | None = Field(default=None, ge=1, le=6, description="rated PCIe generation")
    lanes: int | None = Field(default=None, ge=1, le=16)
    source: str = "user"
    # what one riser cost (counted per card in a build's price); None: not priced
    price_usd: float | None = Field(default=None, gt=0)
    price_date: dt.date | None = None
    price_source: str | None = None


PART_MODELS: dict[Category, type[Part]] = {
    Category.CPU: Cpu,
    Category.MOTHERBOARD: Motherboard,
    Category.MEMORY: Memory,
    Category.GPU: Gpu,
    Category.STORAGE: Storage,
    Category.PSU: Psu,
    Category.COOLER: Cooler,
    Category.CASE: Case,
}


# Words users write for a category (``--category``, a build file's ``parts:`` keys).
CATEGORY_SYNONYMS = {
    "ram": "memory",
    "mem": "memory",
    "gpus": "gpu",
    "video-card": "gpu",
    "processor": "cpu",
    "board": "motherboard",
    "mobo": "motherboard",
    "power-supply": "psu",
    "disk": "storage",
    "drives": "storage",
    "ssd": "storage",
    "cpu-cooler": "cooler",
    "chassis": "case",
}


def category_key(text: str) -> str:
    """User text as a category value: lower-case, dashes for spaces and underscores, synonyms
    replaced (it may still name no category)."""
    key = text.strip().lower().replace("_", "-").replace(" ", "-")
    return CATEGORY_SYNONYMS.get(key, key)


def parse_category(value: str) -> Category:
    """Category from user text, accepting a few common synonyms."""
    try:
        return Category(category_key(value))
    except ValueError:
        from dlrig.errors import InputError

        raise InputError(
            f"unknown category '{value}'",
            "choose one of: " + ", ".join(c.value for c in Category),
        ) from None


def _in_set(value: str, allowed: frozenset[str], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"unknown {what} '{value}'; known: {', '.join(sorted(allowed))}")
    return value
