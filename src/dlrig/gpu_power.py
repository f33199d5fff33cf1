"""GPU power limits: each chip's allowed range, its millisecond transients and the throughput it
keeps when capped — the facts behind ``power_limit_w`` (``nvidia-smi -pl``).

The facts live in ``catalog/data/gpu_power.yaml`` (one source per row or point); this module
reads them once and answers three questions, for the rules, the planner and the cost and
performance models alike:

- :func:`limit_range` — the power limits the driver accepts for a chip (None where unknown);
- :func:`transient_factor` — millisecond excursions as a factor × the limit in force;
- :func:`relative_throughput` — sustained throughput at a limit, as a fraction of stock
  (interpolated between measured points, None outside them: never extrapolated).

:func:`card_power_w` is the one place a card's sustained power is decided: its limit when one is
set, else its rated board power.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import pairwise
from typing import Any

from dlrig.parts import Gpu, GpuChip
from dlrig.textfile import load_data_yaml

__all__ = [
    "PLAN_CAP_MIN_THROUGHPUT",
    "LimitRange",
    "PerfCurve",
    "Transient",
    "cap_options",
    "card_limits_w",
    "card_power_w",
    "curve_for",
    "data_text",
    "limit_note",
    "limit_range",
    "lowest_safe_cap_w",
    "relative_throughput",
    "transient_factor",
]

DATA_FILE = "gpu_power.yaml"


@dataclass(frozen=True, slots=True)
class LimitRange:
    """Power limits the driver accepts for a chip, read from ``nvidia-smi -q`` on one card."""

    chip: str
    reference_w: float
    min_w: float | None
    max_w: float | None
    source: str
    source_date: dt.date | None = None
    # the catalog cards the source's ceiling was read on; None: every card at reference_w
    max_cards: tuple[str, ...] | None = None

    def min_fraction(self) -> float | None:
        """The floor as a fraction of the reference board power (for cards of other power)."""
        return None if self.min_w is None else self.min_w / self.reference_w


@dataclass(frozen=True, slots=True)
class Transient:
    """A measured power spike: the factor over board power, its time window, the source, and the
    chips or architectures it covers."""

    factor: float
    window: str
    source: str
    chips: tuple[str, ...] = ()
    architectures: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PerfCurve:
    """(limit as a fraction of stock board power, throughput as a fraction of stock), ascending."""

    chip: str
    workload: str
    points: tuple[tuple[float, float], ...]
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Data:
    limits: dict[str, LimitRange]
    transients: tuple[Transient, ...]
    curves: dict[str, PerfCurve]
    notes: dict[str, str]


@cache
def data_text() -> str:
    """The shipped gpu_power.yaml as text (also a cache key for facts derived from it)."""
    return (resources.files("dlrig.catalog") / "data" / DATA_FILE).read_text(encoding="utf-8")


@cache
def _data() -> _Data:
    raw: dict[str, Any] = load_data_yaml(data_text()) or {}
    limits = {
        r["chip"]: LimitRange(
            r["chip"],
            float(r["reference_w"]),
            _opt_float(r.get("min_w")),
            _opt_float(r.get("max_w")),
            r["source"],
            r.get("source_date"),
            None if r.get("max_w_cards") is None else tuple(r["max_w_cards"]),
        )
        for r in raw.get("limits", [])
    }
    transients = tuple(
        Transient(
            float(r["factor"]),
            str(r.get("window", "")),
            r["source"],
            tuple(r.get("chips", ())),
            tuple(a.lower() for a in r.get("architectures", ())),
        )
        for r in raw.get("transients", [])
    )
    curves: dict[str, PerfCurve] = {}
    for r in raw.get("curves", []):
        pts = sorted((float(p["limit_fraction"]), float(p["throughput"])) for p in r["points"])
        sources = tuple(dict.fromkeys(str(p["source"]) for p in r["points"]))
        curves[r["chip"]] = PerfCurve(r["chip"], r.get("workload", ""), tuple(pts), sources)
    notes = {str(r["chip"]): f"{r['text']} ({r['source']})" for r in raw.get("notes", [])}
    return _Data(limits, transients, curves, notes)


def _opt_float(v: Any) -> float | None:
    return None if v is None else float(v)


# --- limits --------------------------------------------------------------------------------------
def limit_range(chip_id: str) -> LimitRange | None:
    """The chip's power-limit range, or None when no source gives it."""
    return _data().limits.get(chip_id)


def limit_note(chip_id: str) -> str | None:
    """What is known of a chip's power limits short of a settled range (with its source), or
    None: e.g. a floor that changed between driver versions."""
    return _data().notes.get(chip_id)


def card_limits_w(gpu: Gpu) -> tuple[float | None, float | None]:
    """(min, max) limit for this card: the chip's driver floor (the same on every card of the
    chip in the sources read), and the source's ceiling only for the cards it was read on: the
    ones its row names (``max_w_cards``), else any card at the reference board power
    (factory-overclocked cards allow more, so it is unknown for them)."""
    rng = limit_range(gpu.chip)
    if rng is None:
        return None, None
    if rng.max_cards is not None:
        return rng.min_w, (rng.max_w if gpu.id in rng.max_cards else None)
    same = abs(gpu.tdp_w - rng.reference_w) < 1
    return rng.min_w, (rng.max_w if same else None)


def lowest_safe_cap_w(gpu: Gpu) -> float | None:
    """The lowest cap a hint may propose for ``gpu``: the driver's floor where known, else None
    (a hint then proposes no cap below the card's own board power)."""
    return card_limits_w(gpu)[0]


def card_power_w(gpu: Gpu, limit_w: float | None) -> float:
    """Sustained power of one card: its set power limit, else its rated board power."""
    return float(gpu.tdp_w if limit_w is None else limit_w)


# --- transients ----------------------------------------------------------------------------------
def transient_spec(chip_id: str, architecture: str | None) -> Transient | None:
    """The sourced transient row for a chip (by id first, then by architecture)."""
    data = _data()
    for t in data.transients:
        if chip_id in t.chips:
            return t
    arch = (architecture or "").lower()
    for t in data.transients:
        if arch and any(a in arch for a in t.architectures):
            return t
    return None


def transient_factor(chip_id: str, chip: GpuChip | None = None) -> float | None:
    """Millisecond excursions as a factor × the limit in force; None when unmeasured."""
    spec = transient_spec(chip_id, chip.architecture if chip else None)
    return None if spec is None else spec.factor


# --- performance vs limit ------------------------------------------------------------------------
def curve_for(chip_id: str) -> PerfCurve | None:
    """The measured performance-vs-power-limit curve of ``chip_id``, or None."""
    return _data().curves.get(chip_id)


def relative_throughput(chip_id: str, stock_w: float, limit_w: float | None) -> float | None:
    """Sustained throughput at ``limit_w`` as a fraction of stock (1.0 at or above stock power).

    Linear between measured points of the chip's curve; None without a curve or below its lowest
    point. Raising the limit above stock is not credited (no source measures a gain for it).
    """
    if limit_w is None or limit_w >= stock_w:
        return 1.0
    curve = curve_for(chip_id)
    if curve is None or stock_w <= 0:
        return None
    x = limit_w / stock_w
    pts = curve.points
    if x < pts[0][0]:
        return None
    for (x0, y0), (x1, y1) in pairwise(pts):
        if x0 <= x <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return pts[-1][1]


# --- caps the planner may choose ----------------------------------------------------------------
# The planner offers a card capped at each measured point of its chip's curve that keeps at least
# this share of stock throughput: below it the measured curve falls steeply (RTX 3090: 88 % at
# 225 W, 81 % at 200 W), and a cheaper or fewer uncapped card is then the better buy. A planning
# choice, not a fact; every cap offered is measured, never interpolated.
PLAN_CAP_MIN_THROUGHPUT = 0.85


def cap_options(gpu: Gpu) -> tuple[tuple[int, float], ...]:
    """(cap in W, throughput fraction) the planner may set on ``gpu``: the measured points of
    its chip's curve below stock, at or above the driver's floor, keeping at least
    PLAN_CAP_MIN_THROUGHPUT. Empty where the chip has no curve or no known floor."""
    curve = curve_for(gpu.chip)
    floor = lowest_safe_cap_w(gpu)
    if curve is None or floor is None:
        return ()
    out: list[tuple[int, float]] = []
    for fraction, _ in curve.points:
        cap = round(fraction * gpu.tdp_w)
        kept = relative_throughput(gpu.chip, gpu.tdp_w, cap)
        if cap >= gpu.tdp_w or cap < floor or kept is None or kept < PLAN_CAP_MIN_THROUGHPUT:
            continue
        out.append((cap, kept))
    return tuple(sorted(set(out), reverse=True))
