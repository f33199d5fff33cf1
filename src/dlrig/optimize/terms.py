"""Integer coefficients the model and the candidate reduction share: card classes, M.2 configs,
PSU capacity and plugs, load terms ×10 and the wall-circuit cap, each from the checker's limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dlrig.optimize.query import WATT_SCALE, Candidates
from dlrig.parts import Gpu, Psu, Storage
from dlrig.rules import limits as L

if TYPE_CHECKING:
    from dlrig.build import Site


def card_class(g: Gpu) -> tuple[int | None, bool]:
    """What placement facts depend on: thickness in whole slots, and open-air cooling."""
    return (g.slots_occupied, g.cooling == "open-air")


def m2_config(s: Storage, q: int) -> tuple[bool, int]:
    """(SATA M.2?, M.2 drive count) of q drives of ``s``; (False, 0) for non-M.2 drives."""
    if not L.is_m2(s):
        return (False, 0)
    return (s.kind != "nvme", q)


def connectors_fail(demand: L.ConnectorDemand, have8: int, havehp: int) -> bool:
    """The gpu-power-connectors rule's error condition (rules/power.py, P002)."""
    return L.check_plugs(demand, have8, havehp).verdict.startswith("short")


HEADROOM_MILLI = round(L.PSU_HEADROOM * 1000)  # psu-headroom: capacity ≥ HEADROOM_MILLI × load10


def psu_capacity(p: Psu) -> int:
    """The PSU's wattage on the scale of ``HEADROOM_MILLI × load ×10`` (psu-headroom)."""
    return 1000 * WATT_SCALE * p.wattage_w


def psu_plugs(p: Psu) -> tuple[int | None, int]:
    """(PCIe 8-pin, 12VHPWR) plugs as the gpu-power-connectors rule reads them."""
    return (p.pcie_8pin, p.pcie_12vhpwr or 0)


def gpu_load10(g: Gpu, n: int, transient_factor: float | None = None) -> int:
    """The load term ×10 of n cards of ``g`` (at ``transient_factor`` × their power for the
    millisecond peaks; the power of a capped option is its cap)."""
    return round(WATT_SCALE * L.gpu_spike_w(g.tdp_w, transient_factor) * n)


@dataclass
class LoadTerms:
    """Load terms ×10 of every non-GPU option (aligned with the Candidates lists) and the base."""

    cpu: list[int]
    memory: list[int]
    storage: list[int]
    cooler: list[int]
    base: int

    @classmethod
    def of(cls, c: Candidates) -> LoadTerms:
        """The power-load terms of the candidates."""
        from dlrig.build import system_allowance_w

        base = system_allowance_w(0, 0, 0, None)
        per_module = system_allowance_w(1, 0, 0, None) - base
        per_ssd = system_allowance_w(0, 1, 0, None) - base
        per_hdd = system_allowance_w(0, 0, 1, None) - base
        cooler = {
            kind: round(WATT_SCALE * (system_allowance_w(0, 0, 0, kind) - base))
            for kind in {k.kind for k in c.cooler}
        }
        return cls(
            cpu=[WATT_SCALE * p.tdp_w for p in c.cpu],
            memory=[round(WATT_SCALE * per_module * k.modules * n) for k, n in c.memory],
            storage=[
                round(WATT_SCALE * (per_hdd if s.kind == "hdd" else per_ssd) * n)
                for s, n in c.storage
            ],
            cooler=[cooler[k.kind] for k in c.cooler],
            base=round(WATT_SCALE * base),
        )

    def rest_min(self) -> int:
        """The least load ×10 of everything but the GPUs."""
        return self.base + sum(
            min(xs, default=0) for xs in (self.cpu, self.memory, self.storage, self.cooler)
        )


def wall_cap10(p: Psu, site: Site) -> int:
    """Most DC load ×10 the wall circuit allows through ``p`` (the wall-circuit rule)."""
    return int(WATT_SCALE * site.continuous_limit_w * L.psu_efficiency(p.efficiency)[0])
