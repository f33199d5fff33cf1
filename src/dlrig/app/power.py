"""``dlrig power``: a build's power budget — what its PSU and its wall circuit must carry.

The load the checker's power rules judge (``psu-headroom``, ``wall-circuit``), itemised: CPU,
GPUs and the rest of the system; the PSU it needs (110% of the load, more for GPUs with large
transients unless the PSU is ATX 3.x); the draw at the wall at the PSU's efficiency against the
circuit's continuous limit; and the per-GPU power limit (``nvidia-smi -pl``) that would fit the
PSU and the circuit. Front doors: ``dlrig power FILE``, ``POST /api/power`` (the body is the
build file), the ``/power`` page, and :func:`dlrig.power`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from dlrig.app.base import Cli, Command, Request
from dlrig.app.check import load_build_input

if TYPE_CHECKING:
    from dlrig.build import Build
    from dlrig.catalog import Catalog

__all__ = ["CircuitShare", "PowerBudget", "PowerRequest", "PsuShare", "run"]

PSU_STEP_W = 50  # PSUs are sold in 50 W steps: the recommendation is rounded up to one


class PowerRequest(Request):
    """What ``dlrig power`` takes."""

    # a Build, a build file's path, or (on the web) its text
    build: Annotated[Any, Cli(argument=True, metavar="FILE")] = Field(
        description="Build file (YAML or JSON); on the web, its text."
    )
    gpus: Annotated[int | None, Cli("--gpus")] = Field(
        None, ge=1, description="The budget with N of the build's GPU instead."
    )


@dataclass(frozen=True)
class PsuShare:
    """One PSU of a build and what it feeds (PSU 1: the system and its GPUs), as
    ``psu-headroom`` judges it."""

    psu: str  # "PSU 2 (EVGA SuperNOVA 1600 P2)"
    circuit: int  # 1-based, into the build's circuits
    feeds: str  # "system + 2 GPU(s)"
    load_w: float  # sustained DC load (GPUs at their power limits)
    needed_w: float  # 110 % of the load
    usable_w: float  # its rating on this circuit's mains voltage
    margin_w: float  # usable - needed (negative: too small)
    gpu_limit_w: float | None  # per-GPU limit that fits this PSU (None: it feeds no GPU)


@dataclass(frozen=True)
class CircuitShare:
    """One wall circuit and the PSUs plugged into it, as ``wall-circuit`` judges it."""

    circuit: str  # "1: 120 V / 15 A"
    psus: str  # "PSU 1, PSU 2"
    wall_w: float
    limit_w: float  # continuous limit (80 % of the breaker)
    margin_w: float
    gpu_limit_w: float | None  # per-GPU limit that fits this circuit (None: no GPU on it)


@dataclass(frozen=True)
class PowerBudget:
    """The power budget of one build; watts are DC unless named wall. None: the build lacks the
    part that decides it (no PSU, no CPU, or no GPU for a per-GPU limit)."""

    build: str
    cpu_w: float | None
    gpu_count: int
    gpu_w: float
    rest_w: float
    peak_dc_w: float
    psu_w: float | None
    psu_needed_w: float
    psu_needed_spikes_w: float | None  # GPUs at their measured spike factor (None: none known)
    psu_recommended_w: int
    psu_atx3: bool | None
    psu_efficiency: float
    psu_efficiency_assumed: bool
    # the circuits: their draw and limits added up (named _total_), and the margin of the
    # tightest one, which is what decides (a total margin could hide one circuit over its limit)
    wall_total_w: float
    circuit: str
    circuit_limit_total_w: float
    tightest_circuit_margin_w: float
    # the per-GPU limit that fits every PSU / every circuit (the tightest one's)
    gpu_limit_for_psu_w: float | None
    gpu_limit_for_circuit_w: float | None
    # every PSU and every circuit on its own (a build with two PSUs on two circuits is judged
    # per PSU and per circuit, as the checker does)
    psus: list[PsuShare]
    circuits: list[CircuitShare]

    def to_dict(self) -> dict[str, Any]:
        """``dlrig power --json``."""
        return asdict(self)


def run(req: PowerRequest, catalog: Catalog, read_files: bool = True) -> PowerBudget:
    """The power budget of the requested build (with ``gpus`` of its GPU when given)."""
    build = load_build_input(req.build, catalog, read_files)
    if req.gpus is not None:
        build = build.with_gpu_count(req.gpus)
    return budget(build)


def budget(build: Build) -> PowerBudget:
    """The numbers, from the same limits the checker's power rules use."""
    from dlrig import units
    from dlrig.rules import limits

    cpu_w = float(build.cpu.tdp_w) if build.cpu else None
    rest, n = build.system_allowance_w, build.gpu_count
    # each GPU at its power limit when the build file sets one (power_limit_w), and its
    # measured transient factor per chip or generation (limits.gpu_transient_factor)
    tdps = [u.power_w for u in build.gpu_units]
    need = limits.psu_required_w(cpu_w or 0.0, tdps, rest)
    factors = [limits.gpu_transient_factor(g.chip, build.chip(g)) for g in build.gpus]
    spikes = (
        limits.psu_required_w(
            cpu_w or 0.0,
            (limits.gpu_spike_w(t, f) for t, f in zip(tdps, factors, strict=True)),
            rest,
        )
        if any(f is not None and f > 1 for f in factors)
        else None
    )
    psu = build.psu
    # several PSUs: each at its own efficiency for the load it feeds, as one figure
    eff, assumed = limits.psu_loads_efficiency(build.psu_loads)
    peak = build.peak_power_w
    shares = _psu_shares(build)
    circuits = _circuit_shares(build) if shares else []
    if circuits:
        wall = sum(c.wall_w for c in circuits)
        limit = sum(c.limit_w for c in circuits)
        margin = min(c.margin_w for c in circuits)
        circuit = " + ".join(c.circuit.split(": ", 1)[1] for c in circuits)
        for_circuit = _tightest(c.gpu_limit_w for c in circuits)
    else:  # no PSU yet: the build's draw at an assumed efficiency on circuit 1
        site = build.site
        wall, limit = units.wall_power_w(peak, eff), site.continuous_limit_w
        margin = limit - wall
        circuit = f"{site.mains_voltage_v:g} V / {site.circuit_amps:g} A"
        for_circuit = (
            limits.gpu_power_cap_for_circuit_w(limit, eff, peak - build.gpu_power_w, n)
            if n
            else None
        )
    for_psu = _tightest(p.gpu_limit_w for p in shares) if n else None
    worst = max(need, spikes or 0.0) if not (psu and psu.atx3) else need
    return PowerBudget(
        build=build.name,
        cpu_w=cpu_w,
        gpu_count=n,
        gpu_w=float(sum(tdps)),
        rest_w=round(rest, 1),
        peak_dc_w=round(peak, 1),
        psu_w=float(sum(p.wattage_w for p in build.psus)) if psu else None,
        psu_needed_w=round(need, 1),
        psu_needed_spikes_w=None if spikes is None else round(spikes, 1),
        psu_recommended_w=int(-(-worst // PSU_STEP_W) * PSU_STEP_W),
        psu_atx3=psu.atx3 if psu else None,
        psu_efficiency=eff,
        psu_efficiency_assumed=assumed,
        wall_total_w=round(wall, 1),
        circuit=circuit,
        circuit_limit_total_w=round(limit, 1),
        tightest_circuit_margin_w=round(margin, 1),
        gpu_limit_for_psu_w=None if for_psu is None else round(for_psu, 1),
        gpu_limit_for_circuit_w=None if for_circuit is None else round(for_circuit, 1),
        psus=shares,
        circuits=circuits,
    )


def _tightest(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return min(known) if known else None


def _psu_shares(build: Build) -> list[PsuShare]:
    """Each PSU's load, need and per-GPU limit (``rules.power``'s psu-headroom arithmetic)."""
    from dlrig.rules import limits

    out = []
    for ld in build.psu_loads:
        volts = build.site.mains_voltage_of(ld.circuit_index)
        usable = limits.psu_usable_w(ld.psu.wattage_w, ld.psu.wattage_low_line_w, volts)
        need = limits.psu_required_w(ld.cpu_w, (u.power_w for u in ld.gpus), ld.rest_w)
        cap = (
            limits.gpu_power_cap_for_psu_w(usable, ld.cpu_w + ld.rest_w, len(ld.gpus))
            if ld.gpus
            else None
        )
        feeds = [*(["system"] if ld.feeds_system else []), f"{len(ld.gpus)} GPU(s)"]
        out.append(
            PsuShare(
                psu=f"PSU {ld.index + 1} ({ld.psu.name})",
                circuit=ld.circuit_index + 1,
                feeds=" + ".join(feeds),
                load_w=round(ld.load_w, 1),
                needed_w=round(need, 1),
                usable_w=round(usable, 1),
                margin_w=round(usable - need, 1),
                gpu_limit_w=None if cap is None else round(cap, 1),
            )
        )
    return out


def _circuit_shares(build: Build) -> list[CircuitShare]:
    """Each circuit's wall draw from the PSUs plugged into it: ``wall-circuit``'s own figure
    (:func:`dlrig.rules.limits.circuit_draw`)."""
    from dlrig.rules import limits

    site = build.site
    out = []
    for ci, (volts, amps) in enumerate(site.circuits):
        draw = limits.circuit_draw(ci, site.circuit_limit_w(ci), build.psu_loads)
        if not draw.loads and ci > 0:
            continue
        cap = draw.gpu_cap_w
        out.append(
            CircuitShare(
                circuit=f"{ci + 1}: {volts:g} V / {amps:g} A",
                psus=", ".join(f"PSU {ld.index + 1}" for ld in draw.loads) or "none",
                wall_w=draw.wall_w,
                limit_w=round(draw.limit_w, 1),
                margin_w=round(draw.margin_w, 1),
                gpu_limit_w=None if cap is None else round(cap, 1),
            )
        )
    return out


COMMAND = Command(
    "power", PowerRequest, run, "A build's power budget: PSU, wall draw, circuit, GPU limits.",
    text_field="build",
)  # fmt: skip
