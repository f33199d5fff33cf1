"""Power rules: PSU headroom, GPU power connectors, the wall circuit."""

from __future__ import annotations

from collections.abc import Iterator

from dlrig import units
from dlrig.build import Build
from dlrig.parts import Gpu
from dlrig.rules import limits as L
from dlrig.rules.base import Context, Hit, Severity, Unchecked, error, rule, warning


def _load_text(build: Build) -> str:
    """'4×250 W GPU + 165 W CPU + 93 W rest' for messages."""
    parts: list[str] = []
    counts: dict[int, int] = {}
    for g in build.gpus:
        counts[g.tdp_w] = counts.get(g.tdp_w, 0) + 1
    for tdp, n in counts.items():
        parts.append(f"{n}×{tdp} W GPU" if n > 1 else f"{tdp} W GPU")
    if build.cpu:
        parts.append(f"{build.cpu.tdp_w} W CPU")
    parts.append(f"{build.system_allowance_w:,.0f} W rest of system")
    return " + ".join(parts)


def _round_up(watts: float, step: int = 50) -> int:
    return int(-(-watts // step) * step)


@rule("P001", "psu-headroom", Severity.ERROR, "power", planner="psu-headroom")
def psu_headroom(build: Build, ctx: Context) -> Iterator[Hit]:
    """PSU watts must be at least 110% of CPU TDP + GPU board power + the rest of the system.

    Why: GPUs under a training load sit at their power limit for hours and spike above it for
    milliseconds; a PSU run at its limit shuts down (a crashed run) or wears out. Tim Dettmers'
    guide sizes the PSU at CPU + GPUs + 10%. Cards known for large transients (RTX 3090/3090 Ti)
    get a warning when the margin only covers their nominal power, unless the PSU is ATX 3.x.
    Bad: four 350 W RTX 3090 and a 280 W CPU on a 1,200 W PSU (needs about 1,950 W).
    Good: four 250 W RTX 2080 Ti and a 165 W CPU on a 1,600 W PSU (needs about 1,380 W).
    """
    psu, cpu = build.psu, build.cpu
    if psu is None:
        raise Unchecked("no PSU in the build")
    if cpu is None:
        raise Unchecked("no CPU in the build (its TDP is part of the load)")
    rest = build.system_allowance_w
    need = L.psu_required_w(cpu.tdp_w, (g.tdp_w for g in build.gpus), rest)
    load = _load_text(build)
    parts = (psu, cpu, *build.gpus)
    if psu.wattage_w < need:
        cap = ""
        if build.gpu_count:
            per_gpu = (psu.wattage_w / L.PSU_HEADROOM - cpu.tdp_w - rest) / build.gpu_count
            if per_gpu > 0:
                cap = f" or cap each GPU at {int(per_gpu)} W (nvidia-smi -pl {int(per_gpu)})"
        yield error(
            f"PSU {psu.name} gives {psu.wattage_w:,} W, below the {need:,.0f} W needed "
            f"({load}, ×{L.PSU_HEADROOM}).",
            f"Choose a PSU of at least {_round_up(need):,} W{cap}.",
            *parts,
        )
        return
    if psu.atx3:
        return
    prone = [(g, L.is_transient_prone(_chip_name(build, g))) for g in build.gpus]
    spiky = [g for g, p in prone if p]
    if spiky:
        spike_need = L.psu_transient_required_w(cpu.tdp_w, ((g.tdp_w, p) for g, p in prone), rest)
        if psu.wattage_w < spike_need:
            yield warning(
                f"PSU {psu.name} ({psu.wattage_w:,} W) covers the nominal {need:,.0f} W but not "
                f"the {spike_need:,.0f} W that {len(spiky)}× {spiky[0].name} can draw in "
                f"millisecond spikes (×{L.TRANSIENT_FACTOR} board power).",
                f"Choose a PSU of at least {_round_up(spike_need):,} W or an ATX 3.x PSU, or "
                "cap the GPUs' power limit.",
                psu,
                *spiky,
            )


def _chip_name(build: Build, gpu: Gpu) -> str:
    chip = build.chip(gpu)
    return chip.name if chip else gpu.chip


@rule("P002", "gpu-power-connectors", Severity.ERROR, "power", planner="gpu-power-connectors")
def gpu_power_connectors(build: Build, ctx: Context) -> Iterator[Hit]:
    """The PSU's PCIe 6+2-pin and 12VHPWR/12V-2x6 plugs must cover every GPU's power inputs.

    Why: each GPU power input needs its own plug from the PSU (daisy-chained pigtails on
    high-power cards are a known melting risk); a PSU without enough plugs cannot power the
    cards at all. A 12VHPWR input can be fed from 2-4 PCIe 8-pin plugs through the adapter
    shipped with the card, which works but adds bulk (warning).
    Bad: four RTX 3090 (2×8-pin each, 8 plugs) on a PSU with 6 PCIe 8-pin plugs.
    Good: four RTX 2080 Ti (2×8-pin each, 8 plugs) on a 1,600 W PSU with 9 PCIe 8-pin plugs.
    """
    if not build.gpus:
        return
    psu = build.psu
    if psu is None:
        raise Unchecked("no PSU in the build")
    demand = L.gpu_connector_demand(build.gpus)
    if demand is None:
        unknown = [
            g.name
            for g in build.gpus
            if g.pcie_6pin is None and g.pcie_8pin is None and g.pcie_12vhpwr is None
        ]
        raise Unchecked(f"power connectors of {unknown[0]} are unknown")
    if psu.pcie_8pin is None:
        raise Unchecked(f"PCIe power plugs of {psu.name} are unknown")
    have8, havehp = psu.pcie_8pin, psu.pcie_12vhpwr or 0
    plugs = L.check_plugs(demand, have8, havehp)
    parts = (psu, *build.gpus)
    if plugs.verdict == "short-8pin":
        yield error(
            f"The GPUs need {demand.pcie_8pin} PCIe 6+2-pin plugs but {psu.name} has {have8}.",
            f"Choose a PSU with at least {demand.pcie_8pin} PCIe 6+2-pin plugs, or fewer GPUs.",
            *parts,
        )
    elif plugs.verdict == "adapter":
        yield warning(
            f"{psu.name} has {havehp} 12VHPWR/12V-2x6 plug(s) for {demand.pcie_12vhpwr} GPU "
            f"input(s); {plugs.short_native} card(s) must use the 8-pin adapter "
            f"({plugs.adapter_plugs} of the {plugs.spare_8pin} spare PCIe 8-pin plugs).",
            "That works; a PSU with native 12V-2x6 plugs is tidier and avoids adapter bends.",
            *parts,
        )
    elif plugs.verdict == "short-12vhpwr":
        yield error(
            f"The GPUs need {demand.pcie_12vhpwr} 12VHPWR/12V-2x6 plugs; {psu.name} has "
            f"{havehp} and only {plugs.spare_8pin} spare PCIe 8-pin plugs for adapters "
            f"({plugs.adapter_plugs} needed).",
            f"Choose a PSU with {demand.pcie_12vhpwr} native 12V-2x6 plugs.",
            *parts,
        )


@rule("P003", "wall-circuit", Severity.WARNING, "power", planner="wall-circuit")
def wall_circuit(build: Build, ctx: Context) -> Iterator[Hit]:
    """Estimated wall draw (DC load ÷ PSU efficiency) within the circuit's continuous limit.

    Why: a breaker trips when a continuous load passes 80% of its rating (US NEC 210.19/210.20),
    which on a common 120 V / 15 A circuit is 1,440 W — four 350 W GPUs exceed it once PSU losses
    are counted. The fix is a 20 A or 240 V circuit, or capping the GPUs' power limit.
    Bad: four RTX 3090 on a 120 V / 15 A circuit (about 1,900 W at the wall vs 1,440 W).
    Good: the same build on a 230 V / 16 A circuit (2,944 W continuous).
    """
    psu = build.psu
    if psu is None:
        raise Unchecked("no PSU in the build (its efficiency sets the wall draw)")
    eff, assumed = L.psu_efficiency(psu.efficiency)
    dc = build.peak_power_w
    wall = round(units.wall_power_w(dc, eff), 1)  # as the totals report it, so the two agree
    site = build.site
    limit = site.continuous_limit_w
    if wall <= limit:
        return
    rating = f"{psu.efficiency or 'unrated (assumed)'} {eff:.0%}"
    non_gpu = dc - build.gpu_tdp_w
    fix = "Use a 20 A or 240 V circuit"
    if build.gpu_count:
        cap = L.gpu_power_cap_for_circuit_w(limit, eff, non_gpu, build.gpu_count)
        fix += f", or cap each GPU at {int(cap)} W (nvidia-smi -pl {int(cap)})"
    yield warning(
        f"Estimated wall draw {wall:,.0f} W ({dc:,.0f} W DC ÷ {rating} efficiency) exceeds the "
        f"{limit:,.0f} W continuous limit of a {site.mains_voltage_v:g} V / "
        f"{site.circuit_amps:g} A circuit (80%)." + (" Efficiency assumed." if assumed else ""),
        fix + "; set site: in the build file if your circuit differs.",
        psu,
        *build.gpus,
        *([build.cpu] if build.cpu else []),
    )
