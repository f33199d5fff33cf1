"""Platform rules: CPU socket, memory, PCIe slots and lanes, M.2 slots."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise

from dlrig.build import Build, GpuUnit
from dlrig.rules import limits as L
from dlrig.rules.base import (
    Hit,
    NotPlanned,
    RuleContext,
    Severity,
    Unchecked,
    by_positions,
    distinct,
    error,
    estimated_note,
    info,
    need,
    rule,
    warning,
)


@rule("M001", "cpu-socket", Severity.ERROR, "platform", planner="cpu-socket")
def cpu_socket(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """The CPU's socket must match the motherboard's, and its chipset must support the CPU.

    Why: a CPU only seats in its own socket; there is no adapter. Some chipsets take only part of
    a socket's CPUs (WRX90 boards run only Threadripper PRO, not the non-PRO Threadripper 7000).
    Bad: an AMD Ryzen 9 7950X (AM5) on an ASUS WS X299 SAGE (LGA2066).
    Good: an Intel Core i9-10920X (LGA2066) on an ASUS WS X299 SAGE (LGA2066).
    """
    cpu, board = need(build.cpu, "cpu"), need(build.motherboard, "motherboard")
    if cpu.socket != board.socket:
        yield error(
            f"CPU {cpu.name} uses socket {cpu.socket} but {board.name} has {board.socket}.",
            f"Choose a {board.socket} CPU or a {cpu.socket} motherboard.",
            cpu,
            board,
        )
    elif not L.cpu_supported_by_chipset(cpu.name, board.chipset):
        yield error(
            f"CPU {cpu.name} fits socket {cpu.socket}, but {board.name}'s {board.chipset} chipset "
            f"does not support it.",
            f"Choose a CPU the {board.chipset} chipset supports (see the board's CPU support "
            "list), or a board with a chipset for this CPU.",
            cpu,
            board,
        )


@rule("M002", "memory-type", Severity.ERROR, "platform", planner="memory-type")
def memory_type(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """Memory kits must be the DDR generation the motherboard (and CPU) take.

    Why: DDR4 and DDR5 modules are keyed differently and do not fit each other's slots.
    Bad: a DDR5-6000 kit on a DDR4 X299 board.
    Good: a DDR4-2666 kit on a DDR4 X299 board.
    """
    board = need(build.motherboard, "motherboard")
    cpu = build.cpu
    for kit in distinct(build.memory_kits):
        if kit.type != board.memory_type:
            yield error(
                f"Memory {kit.name} is {kit.type} but {board.name} takes {board.memory_type}.",
                f"Choose a {board.memory_type} kit.",
                kit,
                board,
            )
        elif cpu is not None and cpu.memory_types and kit.type not in cpu.memory_types:
            yield error(
                f"Memory {kit.name} is {kit.type} but CPU {cpu.name} supports "
                f"{'/'.join(cpu.memory_types)}.",
                "Choose a CPU and board of the same memory generation.",
                kit,
                cpu,
            )
    if cpu is not None and not cpu.memory_types and build.memory_kits:
        raise Unchecked(f"memory types of {cpu.name} are unknown")


@rule("M003", "memory-capacity", Severity.ERROR, "platform", planner="memory-capacity")
def memory_capacity(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """Memory modules must fit the board's slots and the total stay within board and CPU maxima.

    Why: extra modules have nowhere to go, and memory beyond the documented maximum is not
    addressed (or needs an unsupported BIOS).
    Bad: two 4×32 GB kits (8 modules) on a 4-slot board.
    Good: one 2×16 GB kit on an 8-slot board that takes 128 GB.
    """
    board = need(build.motherboard, "motherboard")
    kits = build.memory_kits
    if not kits:
        return
    mods, total = build.memory_modules, build.memory_gb
    parts = (*kits, board)
    if mods > board.memory_slots:
        yield error(
            f"{mods} memory modules do not fit the {board.memory_slots} slots of {board.name}.",
            f"Use at most {board.memory_slots} modules (larger modules for the same capacity).",
            *parts,
        )
    if board.max_memory_gb is not None and total > board.max_memory_gb:
        yield error(
            f"{total} GB of memory exceeds the {board.max_memory_gb} GB maximum of {board.name}.",
            f"Stay at or below {board.max_memory_gb} GB, or choose a board that takes more.",
            *parts,
        )
    cpu = build.cpu
    if cpu is not None and cpu.max_memory_gb is not None and total > cpu.max_memory_gb:
        yield error(
            f"{total} GB of memory exceeds the {cpu.max_memory_gb} GB maximum of {cpu.name}.",
            f"Stay at or below {cpu.max_memory_gb} GB, or choose a CPU that addresses more.",
            *kits,
            cpu,
        )
    if board.max_memory_gb is None and (cpu is None or cpu.max_memory_gb is None):
        raise Unchecked(f"maximum memory of {board.name} is unknown")


@rule("M004", "memory-ecc", Severity.ERROR, "platform", planner="memory-ecc")
def memory_ecc(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """Registered (RDIMM) and ECC memory need board and CPU support; some platforms need RDIMM.

    Why: registered DIMMs do not run on boards for unbuffered memory and vice versa
    (Threadripper 7000 / Xeon W-2400 take RDIMM only). ECC unbuffered modules usually run on a
    non-ECC board, but without error correction.
    Bad: an ECC RDIMM kit on a consumer Z790 board; an unbuffered kit on a TRX50 board.
    Good: a DDR5 ECC RDIMM kit on an ASUS Pro WS TRX50-SAGE WIFI.
    """
    board = need(build.motherboard, "motherboard")
    cpu = build.cpu
    rdimm_only = board.socket in L.RDIMM_ONLY_SOCKETS
    for kit in distinct(build.memory_kits):
        if kit.registered:
            if board.rdimm is None:
                raise Unchecked(f"RDIMM support of {board.name} is unknown")
            if not board.rdimm:
                yield error(
                    f"{kit.name} is registered (RDIMM) but {board.name} takes unbuffered DIMMs.",
                    "Choose an unbuffered (UDIMM) kit, or an RDIMM workstation board.",
                    kit,
                    board,
                )
            elif cpu is not None and cpu.rdimm is False:
                yield error(
                    f"{kit.name} is registered (RDIMM) but {cpu.name} does not support RDIMM.",
                    "Choose an unbuffered kit or a workstation CPU.",
                    kit,
                    cpu,
                )
        elif rdimm_only:
            yield error(
                f"{board.name} ({board.socket}) takes registered DIMMs only; {kit.name} is "
                "unbuffered.",
                "Choose an ECC RDIMM kit.",
                kit,
                board,
            )
        elif kit.ecc:
            support = board.ecc and (cpu is None or cpu.ecc is not False)
            if board.ecc is None:
                raise Unchecked(f"ECC support of {board.name} is unknown")
            if not support:
                who = board.name if not board.ecc else (cpu.name if cpu else board.name)
                yield info(
                    f"{kit.name} is ECC but {who} does not support ECC; it will run without "
                    "error correction.",
                    "Fine to use; choose an ECC-capable board and CPU if you want ECC.",
                    kit,
                    board,
                )


@rule("M005", "gpu-slots", Severity.ERROR, "platform", planner="gpu-slots")
def gpu_slots(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """The motherboard needs an x16-size slot for every GPU.

    Why: a GPU's edge connector is x16 long; an x1 or x4 slot (closed-ended) cannot take it.
    Bad: three GPUs on a board with two x16-size slots.
    Good: four GPUs on the ASUS WS X299 SAGE (seven x16-size slots).
    """
    if not build.gpus:
        return
    board = need(build.motherboard, "motherboard")
    if not board.pcie_slots:
        raise Unchecked(f"PCIe slots of {board.name} are unknown")
    n = len(board.x16_slots)
    # a card on a riser cable may sit in a smaller slot the build file names (x1/x4 risers)
    n += sum(
        1
        for u in build.gpu_units
        if u.riser is not None
        and u.slot is not None
        and (pos := L.slot_position(board, u.slot)) is not None
        and any(s.position == pos and s.size != 16 for s in board.pcie_slots)
    )
    n += len(ctx.m2_gpus)  # cards on M.2-to-PCIe adapters sit in M.2 slots
    # cards on a bifurcation riser share the slot they name
    shared: dict[int, int] = {}
    for u in build.gpu_units:
        if u.riser is not None and u.riser.kind == "bifurcation" and u.slot is not None:
            pos = L.slot_position(board, u.slot)
            if pos is not None:
                shared[pos] = shared.get(pos, 0) + 1
    n += sum(k - 1 for k in shared.values())
    if build.gpu_count > n:
        yield error(
            f"{build.gpu_count} GPUs need {build.gpu_count} x16-size slots; {board.name} has {n}.",
            f"Use at most {n} GPU(s), or a workstation board with more x16 slots "
            "(or PCIe riser cables in an open frame).",
            board,
            *build.gpus,
        )


@rule("M006", "pcie-lanes", Severity.ERROR, "platform", planner="pcie-lanes")
def pcie_lanes(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """Each GPU should get at least x8 electrical PCIe lanes (warning at x4; error at none).

    Why: lanes carry every batch to the GPU and every gradient between GPUs; at x4 host↔GPU
    copies and multi-GPU all-reduce slow down, and a slot disabled by a sharing M.2 drive gives
    the card nothing. CPU lanes, the chipset and PCIe switches (PLX) set the widths; NVMe drives
    on shared lanes narrow the slots they share with.
    Bad: two GPUs on a Z790 board: the second sits in a chipset x4 slot.
    Good: four GPUs on the ASUS WS X299 SAGE: x16 each through two PLX switches.
    """
    if not build.gpus:
        return
    board = need(build.motherboard, "motherboard")
    if not board.pcie_slots or not board.slot_layout_known:
        raise Unchecked(f"slot wiring of {board.name} is unknown")
    place = ctx.placement
    narrowed = dict(ctx.m2.narrowed) if board.m2_slots else {}
    unknown = False
    low: list[str] = []
    units = build.gpu_units
    indices = place.indices or tuple(range(len(place.placed)))
    for (gpu, slot), lanes, idx in zip(place.placed, place.lanes, indices, strict=True):
        if lanes is None:
            unknown = True
            continue
        shared_by_m2 = slot.position in narrowed
        if shared_by_m2:
            lanes = min(lanes, narrowed[slot.position])
        lanes = min(lanes, gpu.pcie_lanes or 16)
        riser = units[idx].riser if idx < len(units) else None
        if riser is not None and riser.lanes is not None:
            lanes = min(lanes, riser.lanes)
        via = f" via the {slot.source}" if slot.source in ("chipset", "switch") else ""
        if lanes == 0:
            yield error(
                f"{gpu.name} in slot {slot.position} of {board.name} gets no lanes: the slot is "
                "disabled when the M.2 slot it shares with holds a drive.",
                "Move the NVMe drive to another M.2 slot, or the GPU to another slot.",
                gpu,
                board,
                *build.drives,
            )
        elif lanes < L.MIN_GPU_LANES:
            why = " because an M.2 drive shares its lanes" if shared_by_m2 else ""
            low.append(f"slot {slot.position} x{lanes}{via}{why}")
            yield warning(
                f"{gpu.name} in slot {slot.position} of {board.name} runs at x{lanes}{via}{why} "
                f"(below x{L.MIN_GPU_LANES}); data loading and multi-GPU sync slow down.",
                "Use a board whose GPU slots run at x8 or more (a workstation board, or one with "
                "a PCIe switch), or fewer GPUs.",
                gpu,
                board,
            )
    for idx, m2 in ctx.m2_gpus:
        gpu = build.gpus[idx]
        riser = build.gpu_units[idx].riser
        lanes = min(x for x in (m2.lanes or 4, riser.lanes if riser else None) if x)
        if lanes < L.MIN_GPU_LANES:
            yield warning(
                f"{gpu.name} on an M.2 adapter in {m2.name} of {board.name} runs at x{lanes} "
                f"(below x{L.MIN_GPU_LANES}); data loading and multi-GPU sync slow down.",
                "Fine for inference on one card; for training use an x8/x16 slot (a riser from "
                "a free slot, or a board with more slots).",
                gpu,
                board,
            )
    cpu = build.cpu
    if cpu is not None and cpu.pcie_lanes is not None:
        demand = L.cpu_lane_demand(board, place, ctx.m2)
        if demand > cpu.pcie_lanes:
            yield warning(
                f"The slots and M.2 drives in use ask for {demand} CPU lanes; {cpu.name} has "
                f"{cpu.pcie_lanes}, so {board.name} will run some of them narrower than listed.",
                "Check the board manual's lane table for this CPU, or choose a CPU with more "
                "lanes.",
                cpu,
                board,
                *build.gpus,
            )
    if cpu is None or cpu.pcie_lanes is None:
        demand = L.cpu_lane_demand(board, place, ctx.m2)
        if demand:  # never a silent pass: the CPU may not have the lanes the slots ask for
            what = "no CPU in the build" if cpu is None else f"PCIe lanes of {cpu.name} unknown"
            raise Unchecked(f"{what}; the slots and M.2 drives in use ask for {demand} CPU lanes")
    if unknown:
        raise Unchecked(f"electrical lanes of some GPU slots of {board.name} are unknown")


@rule("M007", "slot-spacing", Severity.ERROR, "platform", planner="slot-spacing")
def slot_spacing(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """Card thickness against slot positions: a 3-slot card covers the next two slots.

    Why: a board may have four x16 slots two positions apart, but 3-slot cards cover the slot
    below them, so only two fit. Riser cables or thinner (blower, 2-slot) cards solve it.
    Bad: four 3-slot RTX 4090s on a board with x16 slots at positions 1, 3, 5, 7.
    Good: four 2-slot blower RTX 2080 Ti on the same board (slots 1, 3, 5, 7).
    """
    if len(build.gpus) < 1:
        return
    board = need(build.motherboard, "motherboard")
    if not board.pcie_slots or not board.slot_layout_known:
        raise Unchecked(f"slot positions of {board.name} are unknown")
    place = ctx.placement
    n16 = len(board.x16_slots)
    if place.unplaced and build.gpu_count <= n16:
        widths = sorted({g.slots_occupied or L.DEFAULT_SLOT_WIDTH for g in build.gpus})
        positions = ", ".join(str(s.position) for s in board.x16_slots)
        fitted = len(place.placed)
        yield by_positions(board)(
            f"{build.gpu_count} GPUs of {'/'.join(map(str, widths))}-slot thickness do not fit "
            f"the x16 slots of {board.name} (positions {positions}): only {fitted} fit, the "
            "others' slots are covered by the card above." + estimated_note(board),
            f"Use {fitted} GPU(s), thinner cards (2-slot blower or liquid-cooled), or PCIe riser "
            "cables.",
            board,
            *build.gpus,
        )
    if place.assumed_width:
        raise Unchecked(f"thickness of {place.assumed_width[0].name} is unknown")


@rule("M008", "m2-slots", Severity.ERROR, "platform", planner="m2-slots")
def m2_slots(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """Every M.2 drive needs an M.2 slot (an M.2 SATA drive one that takes SATA).

    Why: M.2 drives mount only in M.2 slots; boards have two to five, some NVMe-only.
    Bad: three M.2 NVMe drives on a board with two M.2 slots.
    Good: one M.2 NVMe drive and one 3.5-inch hard disk on a board with two M.2 slots.
    """
    m2 = [d for d in build.drives if L.is_m2(d)]
    if not m2:
        return
    board = need(build.motherboard, "motherboard")
    if not board.m2_slots:
        raise Unchecked(f"M.2 slots of {board.name} are unknown")
    left = ctx.m2.unassigned
    if left:
        yield error(
            f"{len(m2)} M.2 drives but {board.name} has {len(board.m2_slots)} M.2 slots"
            + (" (some NVMe-only)" if any(d.kind != "nvme" for d in left) else "")
            + f"; {left[0].name} has no slot.",
            "Use fewer or larger M.2 drives, a PCIe M.2 adapter card, or 2.5-inch SATA SSDs.",
            board,
            *m2,
        )
    narrowed = [pos for pos, lanes in ctx.m2.narrowed]
    if narrowed:
        yield info(
            f"Drives in M.2 slots of {board.name} share lanes with the GPU slot(s) "
            f"{', '.join(map(str, sorted(set(narrowed))))}.",
            "See pcie-lanes for the effect; another M.2 slot may avoid it.",
            board,
            *m2,
        )


@rule(
    "M009",
    "gpu-placement",
    Severity.ERROR,
    "platform",
    planner=NotPlanned(
        "plans name no slot (an open frame's risers go where the checker places them); the rule "
        "checks only slots a build names"
    ),
)
def gpu_placement(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """Slots named in the build file (``slot: PCIEX16_3``) must exist, take a GPU and not collide.

    Why: a build file may put each card in a chosen slot (to keep the x16 slots, leave air gaps or
    reach a riser). A slot the board does not have, an x1/x4 slot for a card that is not on a
    riser, two cards in one slot, or a card whose thickness covers the slot given to the next card
    cannot be built. Every placement rule (lanes, spacing, case slots, airflow) uses the slots
    given; the check reports where each card went, its link width and PCIe generation, and the
    riser that limits it. A card on an M.2-to-PCIe adapter may name an M.2 slot.
    Bad: two 3-slot cards in PCIEX16_1 and PCIEX16_2 (the first covers the second's slot).
    Good: four cards on PCIe 4.0 risers in PCIE1, PCIE3, PCIE5 and PCIE7 of an open-frame rig.
    """
    units = build.gpu_units
    if not units or not any(u.slot is not None or u.riser is not None for u in units):
        return
    board = need(build.motherboard, "motherboard")
    if not board.pcie_slots:
        raise Unchecked(f"PCIe slots of {board.name} are unknown")
    by_pos = {s.position: s for s in board.pcie_slots}
    labels = ", ".join(s.name or f"slot {s.position}" for s in board.pcie_slots)
    seen: dict[int, int] = {}
    pinned: dict[int, int] = {}
    for i, u in enumerate(units):
        if u.slot is None:
            continue
        on_m2 = u.riser is not None and u.riser.kind == "m2-adapter"
        if on_m2 and L.m2_slot_named(board, u.slot) is not None:
            if any(j == i for j, _ in ctx.m2_gpus):
                continue
            yield error(
                f"GPU {i + 1} ({u.gpu.name}) and another card are both put in M.2 slot {u.slot}.",
                "Give each M.2 adapter its own M.2 slot.",
                u.gpu,
                board,
            )
            continue
        pos = L.slot_position(board, u.slot)
        if pos is None:
            yield error(
                f"GPU {i + 1} ({u.gpu.name}) is put in slot '{u.slot}', which {board.name} does "
                f"not have.",
                f"Use one of its slots: {labels}.",
                u.gpu,
                board,
            )
            continue
        slot = by_pos[pos]
        if slot.size != 16 and u.riser is None:
            yield error(
                f"GPU {i + 1} ({u.gpu.name}) is put in {_slot_label(slot)}, an x{slot.size} slot: "
                "a GPU's x16 edge connector does not fit it.",
                "Choose an x16-size slot, or mount the card on a riser cable.",
                u.gpu,
                board,
            )
            continue
        if pos in seen and _bifurcated(units[seen[pos]], u):
            pinned[i] = pos
            continue
        if pos in seen:
            yield error(
                f"GPUs {seen[pos] + 1} and {i + 1} are both put in {_slot_label(slot)}.",
                "Give each card its own slot.",
                u.gpu,
                board,
            )
            continue
        seen[pos] = i
        pinned[i] = pos
    order = sorted(pinned, key=lambda i: pinned[i])
    for a, b in pairwise(order):
        ua = units[a]
        if pinned[a] == pinned[b] and _bifurcated(ua, units[b]):
            continue
        width = 1 if ua.riser is not None else (ua.gpu.slots_occupied or L.DEFAULT_SLOT_WIDTH)
        if pinned[a] + width > pinned[b]:
            yield error(
                f"{ua.gpu.name} ({width}-slot) in {_slot_label(by_pos[pinned[a]])} covers "
                f"{_slot_label(by_pos[pinned[b]])}, where GPU {b + 1} is put.",
                "Leave room for the card's thickness, or mount one of them on a riser cable.",
                ua.gpu,
                units[b].gpu,
                board,
            )
    yield from _placement_report(build, ctx)


def _bifurcated(a: GpuUnit, b: GpuUnit) -> bool:
    """Both cards sit on a bifurcation riser, so they may share a slot."""
    return all(u.riser is not None and u.riser.kind == "bifurcation" for u in (a, b))


def _slot_label(slot: object) -> str:
    name = getattr(slot, "name", None)
    pos = getattr(slot, "position", "?")
    return f"{name} (position {pos})" if name else f"slot {pos}"


def _placement_report(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """One info line: where each GPU went, its link and what limits it."""
    board = build.motherboard
    assert board
    place = ctx.placement
    units = build.gpu_units
    lines: list[str] = []
    slowed: list[str] = []
    for (gpu, slot), lanes, idx, riser in zip(
        place.placed, place.lanes, place.indices, place.on_riser, strict=True
    ):
        u = units[idx]
        link = L.link_of(slot, gpu, u.riser, lanes)
        where = _slot_label(slot)
        via = f" on {u.riser.name}" if riser and u.riser is not None else ""
        lines.append(f"GPU {idx + 1} → {where}{via}: {link.text}")
        if link.limited_by_riser:
            slowed.append(f"GPU {idx + 1} runs at PCIe {link.gen}.0 (the riser's rating)")
    for idx, m2 in ctx.m2_gpus:
        adapter = units[idx].riser
        width = min(x for x in (m2.lanes or 4, adapter.lanes if adapter else None) if x)
        gens = (m2.gen, units[idx].gpu.pcie_gen, adapter.pcie_gen if adapter else None)
        known = [g for g in gens if g is not None]
        gen = min(known) if gens[0] is not None and gens[1] is not None else None
        text = f"x{width} PCIe {gen}.0" if gen else f"x{width}"
        lines.append(f"GPU {idx + 1} → M.2 slot {m2.name} via an M.2-to-PCIe adapter: {text}")
    if place.unplaced:
        lines.append(f"{len(place.unplaced)} GPU(s) without a slot")
    yield info(
        "GPU placement on " + board.name + ": " + "; ".join(lines) + ".",
        ("; ".join(slowed) + ". A riser rated for the slot's generation restores full speed.")
        if slowed
        else "Slots as given in the build file (free cards placed by the checker).",
        board,
        *build.gpus,
    )
