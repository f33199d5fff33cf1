"""``dlrig power``: a build's power budget — what its PSU and its wall circuit must carry.

The load the checker's power rules judge (``psu-headroom``, ``wall-circuit``), itemised: CPU,
GPUs and the rest of the system; the PSU it needs (110% of the load, more for GPUs with large
transients unless the PSU is ATX 3.x); the draw at the wall at the PSU's efficiency against the
circuit's continuous limit; and the per-GPU power limit (``nvidia-smi -pl``) that would fit the
PSU and the circuit. Front doors: ``dlrig power FILE``, ``POST /api/power`` (the body is the
build file), the ``/power`` page, and :func:`dlrig.power`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from dlrig.app.base import Cli, Command, Request
from dlrig.app.check import load_build_input

if TYPE_CHECKING:
    from dlrig.build import Build
    from dlrig.catalog import Catalog

__all__ = ["PowerBudget", "PowerRequest", "run"]

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
    wall_w: float
    circuit: str
    circuit_limit_w: float
    circuit_margin_w: float
    gpu_limit_for_psu_w: float | None
    gpu_limit_for_circuit_w: float | None

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
    eff, assumed = limits.psu_efficiency(psu.efficiency if psu else None)
    peak = build.peak_power_w
    wall = units.wall_power_w(peak, eff)
    site = build.site
    limit = site.continuous_limit_w
    for_psu = None
    if psu is not None and n:  # the inverse of psu_required_w for the GPUs' share
        for_psu = max(0.0, (psu.wattage_w / limits.PSU_HEADROOM - (cpu_w or 0.0) - rest) / n)
    for_circuit = (
        limits.gpu_power_cap_for_circuit_w(limit, eff, peak - build.gpu_power_w, n) if n else None
    )
    worst = max(need, spikes or 0.0) if not (psu and psu.atx3) else need
    return PowerBudget(
        build=build.name,
        cpu_w=cpu_w,
        gpu_count=n,
        gpu_w=float(sum(tdps)),
        rest_w=round(rest, 1),
        peak_dc_w=round(peak, 1),
        psu_w=float(psu.wattage_w) if psu else None,
        psu_needed_w=round(need, 1),
        psu_needed_spikes_w=None if spikes is None else round(spikes, 1),
        psu_recommended_w=int(-(-worst // PSU_STEP_W) * PSU_STEP_W),
        psu_atx3=psu.atx3 if psu else None,
        psu_efficiency=eff,
        psu_efficiency_assumed=assumed,
        wall_w=round(wall, 1),
        circuit=f"{site.mains_voltage_v:g} V / {site.circuit_amps:g} A",
        circuit_limit_w=round(limit, 1),
        circuit_margin_w=round(limit - wall, 1),
        gpu_limit_for_psu_w=None if for_psu is None else round(for_psu, 1),
        gpu_limit_for_circuit_w=None if for_circuit is None else round(for_circuit, 1),
    )


COMMAND = Command(
    "power", PowerRequest, run, "A build's power budget: PSU, wall draw, circuit, GPU limits.",
    text_field="build",
)  # fmt: skip
