"""Power rules: PSU headroom, GPU power connectors, the wall circuit.

Builds may have several PSUs (PSU 1 feeds the board, CPU, drives and the GPUs not assigned
elsewhere; each other PSU the GPUs whose build-file line says ``psu: N``) on several circuits
(``circuit: N`` on a PSU line). Every GPU counts at its power limit when one is set
(``power_limit_w``), else at its board power.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from dlrig import gpu_power, units
from dlrig.build import Build, GpuUnit, PsuLoad
from dlrig.parts import Gpu, Psu
from dlrig.rules import limits as L
from dlrig.rules.base import (
    Hit,
    NotPlanned,
    RuleContext,
    Severity,
    Unchecked,
    each_checked,
    error,
    info,
    rule,
    warning,
)


def _gpu_text(gpus: Sequence[GpuUnit]) -> list[str]:
    counts: dict[tuple[float, bool], int] = {}
    for u in gpus:
        key = (u.power_w, u.power_limit_w is not None)
        counts[key] = counts.get(key, 0) + 1
    out = []
    for (watts, capped), n in counts.items():
        what = "GPU capped" if capped else "GPU"
        out.append(f"{n}×{watts:,.0f} W {what}" if n > 1 else f"{watts:,.0f} W {what}")
    return out


def _load_text(load: PsuLoad) -> str:
    """'4×250 W GPU + 165 W CPU + 93 W rest of system' for messages."""
    parts = _gpu_text(load.gpus)
    if load.feeds_system:
        if load.cpu_w:
            parts.append(f"{load.cpu_w:,.0f} W CPU")
        parts.append(f"{load.rest_w:,.0f} W rest of system")
    return " + ".join(parts) or "nothing"


def _round_up(watts: float, step: int = 50) -> int:
    return int(-(-watts // step) * step)


def _psu_label(build: Build, load: PsuLoad) -> str:
    return f"PSU {load.index + 1} ({load.psu.name})" if len(build.psus) > 1 else load.psu.name


def _usable_w(build: Build, load: PsuLoad) -> float:
    volts = build.site.mains_voltage_of(load.circuit_index)
    return L.psu_usable_w(load.psu.wattage_w, load.psu.wattage_low_line_w, volts)


def _rating_text(build: Build, load: PsuLoad, usable: float) -> str:
    if usable < load.psu.wattage_w:
        volts = build.site.mains_voltage_of(load.circuit_index)
        return f"gives {usable:,.0f} W on {volts:g} V mains"
    return f"gives {usable:,.0f} W"


def _cap_tool(build: Build, gpus: Sequence[GpuUnit], cap: int) -> str:
    """The command that sets the limit: nvidia-smi for NVIDIA cards, rocm-smi for AMD ones
    (``--setpoweroverdrive WATTS``, "set the maximum GPU power", ROC-smi's README)."""
    chips = [build.chip(u.gpu) for u in gpus]
    if chips and all(c is not None and c.vendor == "amd" for c in chips):
        return f"rocm-smi --setpoweroverdrive {cap}"
    return f"nvidia-smi -pl {cap}"


def _cap_hint(build: Build, gpus: Sequence[GpuUnit], per_gpu_w: float) -> str:
    """' or cap each GPU at N W (nvidia-smi -pl N)' — never below a card's minimum limit."""
    if not gpus or per_gpu_w <= 0:
        return ""
    stock = max(u.gpu.tdp_w for u in gpus)
    if per_gpu_w >= stock:
        return ""
    floors = [gpu_power.lowest_safe_cap_w(u.gpu) for u in gpus]
    known = [f for f in floors if f is not None]
    floor = max(known) if known else None
    cap = int(per_gpu_w)
    if floor is not None and cap < floor:
        return (
            f"; capping cannot get there: {cap} W per GPU is below the {floor:g} W minimum "
            "power limit"
        )
    keep = _throughput_text(gpus, cap)
    tool = _cap_tool(build, gpus, cap)
    if len(known) < len(floors):
        return (
            f" or cap each GPU at {cap} W ({tool}){keep} if its driver accepts "
            "it (its minimum power limit is not in the catalog)"
        )
    return f" or cap each GPU at {cap} W ({tool}){keep}"


def _throughput_text(gpus: Sequence[GpuUnit], cap_w: float) -> str:
    """', keeping about 95% of their throughput' where a measured curve covers every card."""
    fractions = [gpu_power.relative_throughput(u.gpu.chip, u.gpu.tdp_w, cap_w) for u in gpus]
    if not fractions or any(f is None for f in fractions):
        return ""
    worst = min(f for f in fractions if f is not None)
    return f", keeping about {worst:.0%} of their throughput (measured power-limit curve)"


def _chip_factor(build: Build, gpu: Gpu) -> float | None:
    return L.gpu_transient_factor(gpu.chip, build.chip(gpu))


@rule("P001", "psu-headroom", Severity.ERROR, "power", planner="psu-headroom")
def psu_headroom(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """Each PSU must give 110% of what it feeds: CPU, GPUs at their power limits, the rest.

    Why: GPUs under a training load sit at their power limit for hours and spike above it for
    milliseconds; a PSU run at its limit shuts down (a crashed run) or wears out. Tim Dettmers'
    guide sizes the PSU at CPU + GPUs + 10%. A load above the PSU's rating is an error; a load
    within the rating but inside the 10% margin is a warning: Puget Systems ran four RTX 3090s
    capped at 300 W on one 1,600 W PSU through all their benchmarks at a measured ~1,580 W peak,
    and called it working but too close to recommend. A GPU with ``power_limit_w`` counts at its
    limit (``nvidia-smi -pl``). With several PSUs each is checked against what it feeds (PSU 1: the
    board, CPU, drives and its GPUs). Generations with measured millisecond transients
    (catalog/data/gpu_power.yaml: Pascal, the GA102 die of the RTX 3080/3090 and RTX A6000, RTX
    5090) are judged by what is known of the PSU: ATX 3.x units are specified for them; a
    measured over-power trip point (``opp_w``)
    below the spiking load is an error; a PSU known only by its wattage (no 80 PLUS level, no
    ATX 3.x, no trip point: two TITAN Xp rebooted such an 850 W unit) is an error when the spikes
    and the margin pass its label; a known model without a measured trip point gets a warning.
    Bad: four 350 W RTX 3090 and a 280 W CPU on a 1,200 W PSU (needs about 1,950 W).
    Good: four 250 W RTX 2080 Ti and a 165 W CPU on a 1,600 W PSU (needs about 1,380 W).
    """
    if not build.psus:
        raise Unchecked("no PSU in the build")
    if build.cpu is None:
        raise Unchecked("no CPU in the build (its TDP is part of the load)")
    loads = build.psu_loads
    for load in loads:
        yield from _check_psu(build, load)
    idle = [ld for ld in loads if not ld.feeds_system and not ld.gpus]
    for ld in idle:
        yield warning(
            f"{_psu_label(build, ld)} feeds nothing: no GPU line says psu: {ld.index + 1}.",
            f"Add psu: {ld.index + 1} to the GPU line(s) it powers (PSU 1 feeds the board and "
            "every GPU not assigned elsewhere).",
            ld.psu,
        )


def _check_psu(build: Build, load: PsuLoad) -> Iterator[Hit]:
    psu = load.psu
    usable = _usable_w(build, load)
    need = L.psu_required_w(load.cpu_w, (u.power_w for u in load.gpus), load.rest_w)
    label = _psu_label(build, load)
    parts = (psu, *([build.cpu] if load.feeds_system and build.cpu else []))
    gparts = tuple(u.gpu for u in load.gpus)
    sustained = load.load_w
    if usable < need:
        per_gpu = L.gpu_power_cap_for_psu_w(usable, load.cpu_w + load.rest_w, len(load.gpus))
        fix = (
            f"Choose a PSU of at least {_round_up(need):,} W{_cap_hint(build, load.gpus, per_gpu)}."
        )
        if usable < sustained:
            yield error(
                f"{label} {_rating_text(build, load, usable)}, below the {need:,.0f} W needed "
                f"({_load_text(load)}, ×{L.PSU_HEADROOM}): even the sustained "
                f"{sustained:,.0f} W exceeds it.",
                fix,
                *parts,
                *gparts,
            )
            return
        yield warning(
            f"{label} {_rating_text(build, load, usable)} for a sustained {sustained:,.0f} W "
            f"({_load_text(load)}): {sustained / usable:.0%} of its rating, short of the "
            f"{need:,.0f} W that leaves the 10% margin for spikes and ageing.",
            fix + " It runs, but at the edge: spikes or one more drive can shut it down.",
            *parts,
            *gparts,
        )
        # no return: the spikes on top of a sustained load this close to the rating are judged
        # below as for any other load (a bigger PSU must never get the harsher verdict)
    if psu.atx3:
        return  # ATX 3.x: excursions to 200 % of the rating are in the spec (limits.py)
    factors = [(u, _chip_factor(build, u.gpu)) for u in load.gpus]
    spiky = [u for u, f in factors if f is not None and f > 1]
    if not spiky:
        return
    spike_load = load.cpu_w + load.rest_w + sum(L.gpu_spike_w(u.power_w, f) for u, f in factors)
    yield from _check_excursions(build, load, usable, spike_load, spiky, factors)


def _check_excursions(
    build: Build,
    load: PsuLoad,
    usable: float,
    spike_load: float,
    spiky: Sequence[GpuUnit],
    factors: Sequence[tuple[GpuUnit, float | None]],
) -> Iterator[Hit]:
    """GPU millisecond excursions against what is known of a pre-ATX 3.0 PSU's tolerance.

    Wattage alone cannot say which PSUs trip: Puget's four capped RTX 3090s spiked further above
    their 1,600 W unit than two TITAN Xp above Behuret's 850 W one, and only the latter rebooted.
    What differs is the PSU, so the verdict follows what is known of it (limits.py, per source):
    a measured over-power trip point (``opp_w``) is the line for an error; a unit of which
    nothing but the label is known is held to its label with the margin; a known model without
    a measured trip point gets a warning (pre-ATX 3.0 units trip at 116-133 % of the label in
    Tom's Hardware's OPP tests, so it may or may not ride through).
    """
    psu = load.psu
    label = _psu_label(build, load)
    spike_need = L.PSU_HEADROOM * spike_load
    factor = max(f or 1 for _, f in factors)
    capped = " (at their power limit)" if any(u.power_limit_w for u in spiky) else ""
    what = (
        f"the millisecond spikes of {len(spiky)}× {spiky[0].gpu.name}{capped} (×{factor:g} "
        "their power, measured for this GPU generation)"
    )
    parts = (psu, *(u.gpu for u in spiky))
    fix = (
        f"Choose a PSU of at least {_round_up(spike_need):,} W or an ATX 3.x PSU, or cap the "
        "GPUs' power limit lower."
    )
    if psu.opp_w is not None:
        if spike_load > psu.opp_w:
            yield error(
                f"{label}: {what} take the load to {spike_load:,.0f} W, above the "
                f"{psu.opp_w:,} W at which its over-power protection trips (measured: "
                f"{psu.opp_source or 'review'}); it will shut down under load.",
                fix,
                *parts,
            )
        elif spike_load > usable:
            yield warning(
                f"{label}: {what} take the load to {spike_load:,.0f} W, above its "
                f"{usable:,.0f} W rating but below the {psu.opp_w:,} W where its over-power "
                "protection was measured to trip.",
                fix + " It rides through, with little margin for ageing.",
                *parts,
            )
        return
    if usable >= spike_need:
        return
    if L.psu_label_only(psu):
        yield error(
            f"{label} ({usable:,.0f} W): {what} take the load to {spike_load:,.0f} W, needing "
            f"{spike_need:,.0f} W with the ×{L.PSU_HEADROOM} margin. Nothing but the label is "
            "known of this PSU (no 80 PLUS level, no ATX 3.x, no measured over-power trip "
            "point), so nothing above its label can be counted on.",
            fix + " Or name the PSU model, or give its opp_w (a review's OPP test).",
            *parts,
        )
        return
    if usable < L.PSU_HEADROOM * load.load_w:
        return  # the margin warning already says this PSU is at the edge
    yield warning(
        f"{label} ({usable:,.0f} W) covers the {L.PSU_HEADROOM * load.load_w:,.0f} W the "
        f"sustained {load.load_w:,.0f} W needs (×{L.PSU_HEADROOM}) but not the "
        f"{spike_need:,.0f} W with {what}; its over-power trip point is not in the catalog.",
        fix,
        *parts,
    )


@rule("P002", "gpu-power-connectors", Severity.ERROR, "power", planner="gpu-power-connectors")
def gpu_power_connectors(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """The PSU's PCIe 6+2-pin and 12VHPWR/12V-2x6 plugs must cover every GPU's power inputs.

    Why: each GPU power input needs its own plug from the PSU (daisy-chained pigtails on
    high-power cards are a known melting risk); a PSU without enough plugs cannot power the
    cards at all. A 12VHPWR input can be fed from 2-4 PCIe 8-pin plugs through the adapter
    shipped with the card, which works but adds bulk (warning). With several PSUs, each must
    cover the cards it feeds.
    Bad: four RTX 3090 (2×8-pin each, 8 plugs) on a PSU with 6 PCIe 8-pin plugs.
    Good: four RTX 2080 Ti (2×8-pin each, 8 plugs) on a 1,600 W PSU with 9 PCIe 8-pin plugs.
    """
    if not build.gpus:
        return
    if not build.psus:
        raise Unchecked("no PSU in the build")
    loads = [load for load in build.psu_loads if load.gpus]
    yield from each_checked(loads, lambda load: _check_plugs(build, load))


def _check_plugs(build: Build, load: PsuLoad) -> Iterator[Hit]:
    psu: Psu = load.psu
    gpus = [u.gpu for u in load.gpus]
    demand = L.gpu_connector_demand(gpus)
    if demand is None:
        unknown = [
            g.name
            for g in gpus
            if g.pcie_6pin is None and g.pcie_8pin is None and g.pcie_12vhpwr is None
        ]
        raise Unchecked(f"power connectors of {unknown[0]} are unknown")
    if psu.pcie_8pin is None:
        if demand.pcie_8pin == 0 and (psu.pcie_12vhpwr or 0) >= demand.pcie_12vhpwr:
            return  # every input is 12V-2x6 and the PSU has a native plug for each
        raise Unchecked(f"PCIe power plugs of {psu.name} are unknown")
    have8, havehp = psu.pcie_8pin, psu.pcie_12vhpwr or 0
    plugs = L.check_plugs(demand, have8, havehp)
    label = _psu_label(build, load)
    parts = (psu, *gpus)
    if plugs.verdict == "short-8pin":
        yield error(
            f"The GPUs on {label} need {demand.pcie_8pin} PCIe 6+2-pin plugs but it has {have8}.",
            f"Choose a PSU with at least {demand.pcie_8pin} PCIe 6+2-pin plugs, move GPUs to "
            "another PSU (psu: 2), or use fewer GPUs.",
            *parts,
        )
    elif plugs.verdict == "adapter":
        yield warning(
            f"{label} has {havehp} 12VHPWR/12V-2x6 plug(s) for {demand.pcie_12vhpwr} GPU "
            f"input(s); {plugs.short_native} card(s) must use the 8-pin adapter "
            f"({plugs.adapter_plugs} of the {plugs.spare_8pin} spare PCIe 8-pin plugs).",
            "That works; a PSU with native 12V-2x6 plugs is tidier and avoids adapter bends.",
            *parts,
        )
    elif plugs.verdict == "short-12vhpwr":
        yield error(
            f"The GPUs on {label} need {demand.pcie_12vhpwr} 12VHPWR/12V-2x6 plugs; it has "
            f"{havehp} and only {plugs.spare_8pin} spare PCIe 8-pin plugs for adapters "
            f"({plugs.adapter_plugs} needed).",
            f"Choose a PSU with {demand.pcie_12vhpwr} native 12V-2x6 plugs.",
            *parts,
        )


@rule("P003", "wall-circuit", Severity.WARNING, "power", planner="wall-circuit")
def wall_circuit(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """Estimated wall draw (DC load ÷ PSU efficiency) within each circuit's continuous limit.

    Why: a breaker trips when a continuous load passes 80% of its rating (US NEC 210.19/210.20),
    which on a common 120 V / 15 A circuit is 1,440 W — four 350 W GPUs exceed it once PSU losses
    are counted. The fix is a 20 A or 240 V circuit, a second circuit for a second PSU, or
    capping the GPUs' power limit (``power_limit_w``; each GPU counts at its limit).
    Bad: four RTX 3090 on a 120 V / 15 A circuit (about 1,900 W at the wall vs 1,440 W).
    Good: the same build on a 230 V / 16 A circuit (2,944 W continuous).
    """
    if not build.psus:
        yield from _check_without_psu(build)
        return
    site = build.site
    for ci in range(len(site.circuits)):
        loads = [ld for ld in build.psu_loads if ld.circuit_index == ci]
        if loads:
            yield from _check_circuit(build, ci, loads)
    bad = [ld for ld in build.psu_loads if ld.circuit_index >= len(site.circuits)]
    for ld in bad:
        yield warning(
            f"{_psu_label(build, ld)} is on circuit {ld.circuit_index + 1} but site lists "
            f"{len(site.circuits)}.",
            "Add the circuit under site: circuits: [...], or fix the PSU's circuit:.",
            ld.psu,
        )


def _check_circuit(build: Build, ci: int, loads: Sequence[PsuLoad]) -> Iterator[Hit]:
    site = build.site
    volts, amps = site.circuits[ci]
    # the draw dlrig power reports too (one computation: limits.circuit_draw)
    draw = L.circuit_draw(ci, site.circuit_limit_w(ci), loads)
    wall, dc, limit = draw.wall_w, draw.dc_w, draw.limit_w
    if wall <= limit:
        return
    effs = [
        f"{ld.psu.efficiency or 'unrated (assumed)'} {L.psu_efficiency(ld.psu.efficiency)[0]:.0%}"
        for ld in loads
    ]
    gpus = [u for ld in loads for u in ld.gpus]
    where = f" circuit {ci + 1}" if len(site.circuits) > 1 else ""
    fix = "Use a 20 A or 240 V circuit"
    if len(build.psus) > 1:
        fix += ", put a PSU on another circuit (circuit: 2)"
    if draw.gpu_cap_w is not None:  # each PSU at its own efficiency for the load it feeds
        fix += _cap_hint(build, gpus, draw.gpu_cap_w)
    yield warning(
        f"Estimated wall draw on{where or ' the circuit'} {wall:,.0f} W ({dc:,.0f} W DC ÷ "
        f"{' / '.join(dict.fromkeys(effs))} efficiency) exceeds the {limit:,.0f} W continuous "
        f"limit of a {volts:g} V / {amps:g} A circuit (80%)."
        + (" Efficiency assumed." if draw.efficiency_assumed else ""),
        fix + "; set site: in the build file if your circuit differs.",
        *(ld.psu for ld in loads),
        *(u.gpu for u in gpus),
        *([build.cpu] if build.cpu and any(ld.feeds_system for ld in loads) else []),
    )


def _check_without_psu(build: Build) -> Iterator[Hit]:
    """No PSU yet: the wall draw at an assumed (low) efficiency, as the totals compute it, on
    the first circuit — a build that already breaks the circuit should say so."""
    eff, _ = L.psu_efficiency(None)
    dc = build.peak_power_w
    wall = round(units.wall_power_w(dc, eff), 1)
    limit = build.site.circuit_limit_w(0)
    if wall <= limit:
        return
    volts, amps = build.site.circuits[0]
    yield warning(
        f"Estimated wall draw {wall:,.0f} W ({dc:,.0f} W DC ÷ unrated (assumed) {eff:.0%} "
        f"efficiency) exceeds the {limit:,.0f} W continuous limit of a {volts:g} V / {amps:g} A "
        "circuit (80%). Efficiency assumed: the build has no PSU yet.",
        "Use a 20 A or 240 V circuit, or fewer or power-capped GPUs; set site: in the build "
        "file if your circuit differs.",
        *build.gpus,
        *([build.cpu] if build.cpu else []),
    )


@rule(
    "P004",
    "power-limit-range",
    Severity.INFO,
    "power",
    planner=NotPlanned("plans cap only cards whose chip has a sourced limit range"),
)
def power_limit_range(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """A GPU power limit (``power_limit_w``) on a card whose accepted range is not known.

    Why: the driver accepts limits only within a range per card (``nvidia-smi -q -d POWER``:
    Min/Max Power Limit; on AMD the ``power1_cap_min``/``power1_cap_max`` files of the amdgpu
    hwmon), and refuses the rest, so a rig sized on a limit the card will not take draws more
    than planned. Limits outside a sourced range are refused when the build file is read; for a
    chip without one (catalog/data/gpu_power.yaml) the limit is taken as written and this rule
    says it is unverified, with how to read the range on the machine.
    Bad: (info) two Radeon RX 7900 XTX with power_limit_w: 250 (no sourced range for the chip).
    Good: four RTX 3090 with power_limit_w: 300 (the driver accepts 100 W or more).
    """
    seen: set[tuple[str, float]] = set()
    for u in build.gpu_units:
        if u.power_limit_w is None or (u.gpu.id, u.power_limit_w) in seen:
            continue
        seen.add((u.gpu.id, u.power_limit_w))
        lo, hi = gpu_power.card_limits_w(u.gpu)
        chip = build.chip(u.gpu)
        # the cards of this model at this limit (another line may cap the same model otherwise)
        n = sum(
            1 for v in build.gpu_units if (v.gpu.id, v.power_limit_w) == (u.gpu.id, u.power_limit_w)
        )
        if lo is not None:
            # the build file refused a limit outside the sourced range; a raised limit on a
            # card whose own ceiling is unsourced is taken as written
            if hi is None and u.power_limit_w > u.gpu.tdp_w:
                yield info(
                    f"{n}× {u.gpu.name} at power_limit_w {u.power_limit_w:g} W, above its "
                    f"{u.gpu.tdp_w} W board power: this card's maximum power limit is not in "
                    "the catalog, so the limit is taken as written, unverified.",
                    _range_hint(chip.vendor if chip else None),
                    u.gpu,
                )
            continue
        note = gpu_power.limit_note(u.gpu.chip)
        yield info(
            f"{n}× {u.gpu.name} at power_limit_w {u.power_limit_w:g} W: the power-limit range "
            f"its driver accepts is not in the catalog (no sourced range for "
            f"{chip.name if chip else u.gpu.chip}), so the limit is taken as written, "
            "unverified." + (f" {note}" if note else ""),
            _range_hint(chip.vendor if chip else None),
            u.gpu,
        )


def _range_hint(vendor: str | None) -> str:
    """How to read a card's accepted power-limit range on the machine, per vendor."""
    if vendor == "amd":
        return (
            "Read the range on the machine: cat /sys/class/drm/card*/device/hwmon/hwmon*/"
            "power1_cap_min and power1_cap_max (microwatts), then set it with rocm-smi "
            "--setpoweroverdrive WATTS."
        )
    if vendor == "nvidia":
        return (
            "Read the range on the machine: nvidia-smi -q -d POWER (Min/Max Power Limit), then "
            "set it with nvidia-smi -pl WATTS."
        )
    return "Read the accepted range with the card's driver tool before relying on the limit."
