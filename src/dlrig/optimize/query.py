"""What the model is asked and chooses from: the normalised request (:class:`Query`), the options
after filtering (:class:`Candidates`), one chosen build (:class:`Selection`), and the integer
scales every coefficient uses (prices in cents, watts ×10, TFLOPS ×1000)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dlrig.parts import Case, Cooler, Cpu, Gpu, Memory, Motherboard, Part, Psu, Riser, Storage

if TYPE_CHECKING:
    from dlrig.build import Site
    from dlrig.workload import Workload

WATT_SCALE = 10  # watts ×10: loads to 0.1 W (transient factors such as ×1.225 round there)
TFLOPS_SCALE = 1000
CENTS = 100

# Warning rules the planner can hold as constraints (all of them by default).
AVOIDABLE_WARNINGS = (
    "psu-headroom",  # GPU transients (gpu_power.yaml, per generation) on a non-ATX 3 PSU
    "wall-circuit",
    "pcie-lanes",
    "case-form-factor",
    "ram-vs-vram",
    "cpu-threads-per-gpu",
    "tensor-cores",
    "cuda-support",
    "fast-storage",
    "multi-gpu-airflow",
    "cooler-capacity",
)
# Rules whose "unchecked" (missing data) a multi-GPU plan does not accept with known_fit=True.
FIT_RULES = ("gpu-slots", "slot-spacing", "pcie-lanes", "case-expansion-slots", "multi-gpu-airflow")


@dataclass
class Query:
    """A normalised plan request (see :func:`dlrig.optimize.plan`)."""

    budget_cents: int | None
    objective: str = "throughput"
    precision: str = "bf16"
    workload: Workload | None = None
    gpus: int | None = None
    max_gpus: int = 8
    upgrade_to: int | None = None
    min_vram_gib: float | None = None
    min_tflops: float | None = None
    site: Site | None = None
    avoid: frozenset[str] = frozenset(AVOIDABLE_WARNINGS)
    known_fit: bool = True
    include_ids: tuple[str, ...] = ()
    include_brands: tuple[str, ...] = ()
    whole_machine: bool = False  # the psu-tier floor (and a fill stage; see optimize.whole)
    power_limits: bool = True  # offer GPUs capped at measured power limits (optimize.caps)


@dataclass
class Candidates:
    """The options the model chooses from, after filters and pruning."""

    cpu: list[Cpu]
    board: list[Motherboard]
    memory: list[tuple[Memory, int]]
    gpu: list[tuple[Gpu, int]]
    storage: list[tuple[Storage, int]]
    psu: list[Psu]
    cooler: list[Cooler]
    case: list[Case]
    tflops: dict[tuple[str, int], int]  # (gpu id, n) → TFLOPS ×1000 for the query's precision
    ram_need_gib: dict[tuple[str, int], int] = field(default_factory=dict)
    threads_need: dict[int, int] = field(default_factory=dict)
    storage_need_gb: int = 0
    # GPU options capped at a power limit: option id → (catalog card, cap W, throughput kept)
    caps: dict[str, tuple[Gpu, int, float]] = field(default_factory=dict)
    # the riser every card of an open-frame plan sits on (catalog.risers.plan_riser; None: no
    # priced riser, so no open frame among the cases)
    riser: Riser | None = None

    def options(self) -> dict[str, Sequence[tuple[Part, int]]]:
        """Every category's options as (part, count) pairs, in the model's variable order."""
        return {
            "cpu": [(p, 1) for p in self.cpu],
            "motherboard": [(p, 1) for p in self.board],
            "memory": self.memory,
            "gpu": self.gpu,
            "storage": self.storage,
            "psu": [(p, 1) for p in self.psu],
            "cooler": [(p, 1) for p in self.cooler],
            "case": [(p, 1) for p in self.case],
        }

    def sizes(self) -> dict[str, int]:
        """How many candidates each category has."""
        return {
            "cpu": len(self.cpu),
            "motherboard": len(self.board),
            "memory": len(self.memory),
            "gpu": len(self.gpu),
            "storage": len(self.storage),
            "psu": len(self.psu),
            "cooler": len(self.cooler),
            "case": len(self.case),
        }


@dataclass
class Selection:
    """One build as the model sees it: a part (and count) per category."""

    cpu: Cpu
    board: Motherboard
    memory: tuple[Memory, int]
    gpu: tuple[Gpu, int]
    storage: tuple[Storage, int]
    psu: Psu
    cooler: Cooler
    case: Case
    # the riser each card sits on: set for an open-frame case (the cards are off the board)
    riser: Riser | None = None

    def key(self) -> tuple[Any, ...]:
        """The selection's part ids and counts (identity of a build)."""
        return (
            self.cpu.id,
            self.board.id,
            (self.memory[0].id, self.memory[1]),
            (self.gpu[0].id, self.gpu[1]),
            (self.storage[0].id, self.storage[1]),
            self.psu.id,
            self.cooler.id,
            self.case.id,
        )

    def price_cents(self) -> int:
        """The selection's total price in cents."""
        return (
            cents(self.cpu)
            + cents(self.board)
            + cents(self.memory[0]) * self.memory[1]
            + cents(self.gpu[0]) * self.gpu[1]
            + cents(self.storage[0]) * self.storage[1]
            + cents(self.psu)
            + cents(self.cooler)
            + cents(self.case)
            + self.riser_cents()
        )

    def riser_cents(self) -> int:
        """What the risers of an open-frame build cost in cents (one per card; 0 in a tower)."""
        return riser_cents(self.riser) * self.gpu[1]


def cents(p: Part) -> int:
    """A part's price in whole cents (0 when unpriced)."""
    return round((p.price_usd or 0.0) * CENTS)


def riser_cents(r: Riser | None) -> int:
    """One riser's price in whole cents (0 when none or unpriced)."""
    return 0 if r is None else round((r.price_usd or 0.0) * CENTS)
