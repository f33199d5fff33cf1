"""What plan() returns: :class:`PlanResult` with its :class:`PlannedBuild` builds, binding
constraints (:class:`Binding`) and the explanation of an infeasible request
(:class:`Infeasible`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dlrig.parts import Category

if TYPE_CHECKING:
    from dlrig.build import Build
    from dlrig.rules.base import CheckResult


@dataclass
class PlannedBuild:
    """One returned build with its numbers and the checker's verdict (no errors, by design)."""

    build: Build
    price_usd: float
    tflops: float
    vram_gib: float
    gpu_count: int
    check: CheckResult
    workload: dict[str, Any] | None = None
    future: Build | None = None
    future_check: CheckResult | None = None
    future_tflops: float | None = None
    future_price_usd: float | None = None
    reasons: dict[str, str] = field(default_factory=dict)  # category → why this part
    # the GPUs' power limit when the planner capped them (optimize.caps): power_limit_w, stock_w,
    # throughput_kept (measured curve) and a sentence for text output
    power_limit: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """One build of ``dlrig plan --json``."""
        b = self.build
        out: dict[str, Any] = {
            "name": b.name,
            "price_usd": self.price_usd,
            "tflops": round(self.tflops, 3),
            "vram_gib": self.vram_gib,
            "gpu_count": self.gpu_count,
            "parts": {
                c.value: [
                    {
                        "id": it.part.id,
                        "name": it.part.name,
                        "count": it.count,
                        "price_usd": it.unit_price_usd,
                        **_priced(it.part),
                        **({"power_limit_w": it.power_limit_w} if it.power_limit_w else {}),
                        **(
                            {"riser": it.riser.model_dump(mode="json", exclude_none=True)}
                            if it.riser is not None
                            else {}
                        ),
                    }
                    for it in b.items[c]
                ]
                for c in Category
            },
            "check": self.check.to_dict(),
            "workload": self.workload,
            "reasons": self.reasons,
            "power_limit": self.power_limit,
        }
        if self.future is not None:
            out["upgrade"] = {
                "gpu_count": self.future.gpu_count,
                "tflops": self.future_tflops,
                "price_usd": self.future_price_usd,
                "check": self.future_check.to_dict() if self.future_check else None,
            }
        return out


@dataclass
class Binding:
    """A constraint group that holds the plan back, and what relaxing it gives."""

    group: str
    text: str
    detail: str
    gain: float  # relative objective gain when the constraint is relaxed (0.25 = +25%)


@dataclass
class Infeasible:
    """Why no build fits, and the cheapest build ignoring the budget."""

    reasons: list[str]
    cheapest: PlannedBuild | None = None


@dataclass
class PlanResult:
    """What ``dlrig plan`` found: status, best build, alternatives, frontier, explanations."""

    status: str  # OPTIMAL, FEASIBLE, INFEASIBLE or UNKNOWN
    objective: str
    best: PlannedBuild | None
    alternatives: list[PlannedBuild] = field(default_factory=list)
    frontier: list[PlannedBuild] = field(default_factory=list)
    binding: list[Binding] = field(default_factory=list)
    infeasible: Infeasible | None = None
    held_warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)  # the plan's first lines (unchecked fit)
    unspent: str | None = None  # > 10% of the budget left: what blocks spending it
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def optimal(self) -> bool:
        """Whether the solver proved the best build optimal."""
        return self.status == "OPTIMAL"

    def to_dict(self) -> dict[str, Any]:
        """``dlrig plan --json``."""
        return {
            "status": self.status,
            "objective": self.objective,
            "best": self.best.to_dict() if self.best else None,
            "alternatives": [a.to_dict() for a in self.alternatives],
            "frontier": [
                {
                    "price_usd": f.price_usd,
                    "tflops": round(f.tflops, 3),
                    "gpu_count": f.gpu_count,
                    "gpu": f.build.gpus[0].name if f.build.gpus else None,
                }
                for f in self.frontier
            ],
            "binding": [
                {"constraint": b.group, "text": b.text, "detail": b.detail, "gain": b.gain}
                for b in self.binding
            ],
            "infeasible": None
            if self.infeasible is None
            else {
                "reasons": self.infeasible.reasons,
                "cheapest": self.infeasible.cheapest.to_dict()
                if self.infeasible.cheapest
                else None,
            },
            "held_warnings": self.held_warnings,
            "notes": self.notes,
            "caveats": self.caveats,
            "unspent": self.unspent,
            "stats": self.stats,
        }


def _priced(part: Any) -> dict[str, Any]:
    """When and how a planned part was priced (what the CLI's ``priced`` column shows, so the
    JSON and the web page say it too): the price's date, ``new``/``used``/``launch``, and the
    source of a used price (a used price is only as good as its source)."""
    from dlrig.catalog.offers import is_launch_price, is_used_price

    if part.price_date is None:
        return {}
    used = is_used_price(part)
    kind = "used" if used else "launch" if is_launch_price(part) else "new"
    out = {"price_date": part.price_date.isoformat(), "price_kind": kind}
    if used:
        out["price_source"] = part.price_source
    return out
