"""A build's totals as the checker reports them: price, peak DC and wall power, VRAM, counts.

The ``totals`` object of ``dlrig check --json`` (and of each build a plan returns).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dlrig import units
from dlrig.catalog.offers import price_summary
from dlrig.rules import limits

if TYPE_CHECKING:
    from dlrig.build import Build

__all__ = ["build_totals"]


def build_totals(build: Build) -> dict[str, Any]:
    """Price, estimated peak DC and wall power, VRAM, GPU count and memory of a build."""
    psu = build.psu
    eff, assumed = limits.psu_efficiency(psu.efficiency if psu else None)
    peak = build.peak_power_w
    wall = units.wall_power_w(peak, eff)
    if len(build.psus) > 1:  # each PSU's share at its own efficiency (issue 14)
        wall = sum(
            units.wall_power_w(ld.load_w, limits.psu_efficiency(ld.psu.efficiency)[0])
            for ld in build.psu_loads
        )
    site = build.site
    return {
        "price_usd": build.price_usd,
        "price_complete": not build.unpriced,
        "unpriced_parts": [p.id for p in build.unpriced],
        "peak_power_w": round(peak, 1),
        "wall_power_w": round(wall, 1),
        "psu_efficiency": eff,
        "psu_efficiency_assumed": assumed,
        "vram_gib": build.total_vram_gib,
        "gpu_count": build.gpu_count,
        "memory_gb": build.memory_gb,
        "storage_gb": build.storage_gb,
        # several circuits: their limits together (wall-circuit checks each one)
        "circuit_limit_w": round(
            sum(site.circuit_limit_w(i) for i in range(len(site.circuits))), 1
        ),
        # how old the prices are, which are launch MSRPs and which are used offers
        "prices": price_summary(build.parts).to_dict(),
    }
