"""Deep-learning rules: RAM vs VRAM, CPU threads, tensor cores, CUDA, storage, mixed GPUs, P2P."""

from __future__ import annotations

import math
from collections.abc import Iterator
from itertools import pairwise

from dlrig.build import Build
from dlrig.parts import Gpu, GpuChip
from dlrig.rules import limits as L
from dlrig.rules.base import (
    Hit,
    NotPlanned,
    RuleContext,
    Severity,
    Unchecked,
    distinct,
    info,
    need,
    rule,
    warning,
)


def _gpu_chips(build: Build) -> Iterator[tuple[Gpu, GpuChip]]:
    """Each GPU model of the build once, with its chip; Unchecked at the first unknown chip."""
    for g in distinct(build.gpus):
        chip = build.chip(g)
        if chip is None:
            raise Unchecked(f"GPU chip '{g.chip}' of {g.name} is not in the catalog")
        yield g, chip


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


@rule("D001", "ram-vs-vram", Severity.WARNING, "deep-learning", planner="ram-vs-vram")
def ram_vs_vram(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """System RAM should be at least the total GPU memory.

    Why: datasets, pinned transfer buffers, checkpoints and model loading are staged in host
    memory; with less RAM than VRAM the loader swaps and large models cannot be loaded or
    offloaded. Tim Dettmers' guide asks for at least the largest GPU's memory; with several
    GPUs each one's loader and buffers add up, so we count them all.
    Bad: 32 GB of RAM with four 11 GB RTX 2080 Ti (44 GB of VRAM).
    Good: 64 GB of RAM with two 24 GB cards (48 GB of VRAM).
    """
    if not build.gpus:
        return
    if not build.memory_kits:
        raise Unchecked("no memory in the build")
    vram = build.total_vram_gib
    ram = build.memory_gib
    if ram < L.RAM_TO_VRAM_RATIO * vram:
        sizes: dict[float, int] = {}
        for g in build.gpus:
            sizes[g.vram_gib] = sizes.get(g.vram_gib, 0) + 1
        detail = " + ".join(f"{n}×{_fmt(v)} GB" for v, n in sizes.items())
        target = next(
            (s for s in (32, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 2048) if s >= vram),
            math.ceil(vram / 1024) * 1024,
        )
        yield warning(
            f"System RAM {_fmt(ram)} GB is below the total GPU memory of {_fmt(vram)} GB "
            f"({detail}).",
            f"Use at least {target} GB of RAM (e.g. more or larger modules).",
            *build.memory_kits,
            *build.gpus,
        )


@rule(
    "D002", "cpu-threads-per-gpu", Severity.WARNING, "deep-learning", planner="cpu-threads-per-gpu"
)
def cpu_threads_per_gpu(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """The CPU needs enough threads to feed each GPU's data loader (4 per GPU).

    Why: decoding and augmenting data runs on the CPU, typically four loader workers per GPU
    (Dettmers: 1-2 cores per GPU); too few threads leave GPUs waiting for batches.
    Bad: an 8-core/8-thread CPU with four GPUs (2 threads per GPU).
    Good: a 12-core/24-thread Intel Core i9-10920X with four GPUs (6 per GPU).
    """
    if not build.gpus:
        return
    cpu = need(build.cpu, "CPU")
    wanted = L.MIN_THREADS_PER_GPU * build.gpu_count
    if cpu.threads < wanted:
        yield warning(
            f"{cpu.name} has {cpu.threads} threads for {build.gpu_count} GPUs "
            f"({cpu.threads / build.gpu_count:.1f} per GPU; {L.MIN_THREADS_PER_GPU} recommended).",
            f"Choose a CPU with at least {wanted} threads, or preprocess data offline.",
            cpu,
            *build.gpus,
        )


@rule("D003", "tensor-cores", Severity.WARNING, "deep-learning", planner="tensor-cores")
def tensor_cores(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """GPUs without tensor cores miss the mixed-precision (FP16/BF16) speed-up.

    Why: tensor cores run FP16/BF16 matrix multiplies several times faster than FP32; cards
    without them (GTX 10-series and older) train far slower per dollar today.
    Bad: a GeForce GTX 1080 Ti.
    Good: a GeForce RTX 2080 Ti or newer.
    """
    for g, chip in _gpu_chips(build):
        if chip.tensor_cores is None:
            raise Unchecked(f"tensor-core support of {chip.name} is unknown")
        if not chip.tensor_cores:
            yield warning(
                f"{g.name} ({chip.name}) has no tensor cores; mixed-precision training gets no "
                "speed-up.",
                "Choose an RTX (Turing or newer) card.",
                g,
            )


@rule("D004", "cuda-support", Severity.WARNING, "deep-learning", planner="cuda-support")
def cuda_support(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """Non-NVIDIA GPUs: check framework support (no CUDA).

    Why: PyTorch, JAX and most libraries target CUDA first; AMD cards need ROCm (supported on a
    list of cards, Linux mainly) and Intel cards need oneAPI/XPU builds; custom kernels
    (FlashAttention, bitsandbytes) may be missing.
    Bad: an AMD Radeon RX 7900 XTX for a project that needs bitsandbytes.
    Good: an NVIDIA GeForce RTX 4090.
    """
    for g, chip in _gpu_chips(build):
        if chip.vendor == "amd":
            yield warning(
                f"{g.name} is an AMD GPU: no CUDA; PyTorch runs through ROCm where the card is "
                "supported (mainly Linux), and some libraries lack ROCm kernels.",
                "Check the ROCm support matrix for this card and your libraries, or choose an "
                "NVIDIA card.",
                g,
            )
        elif chip.vendor == "intel":
            yield warning(
                f"{g.name} is an Intel GPU: no CUDA; PyTorch runs through the XPU backend and many "
                "libraries lack kernels for it.",
                "Check your frameworks' XPU support, or choose an NVIDIA card.",
                g,
            )


@rule("D005", "fast-storage", Severity.WARNING, "deep-learning", planner="fast-storage")
def fast_storage(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """An SSD (ideally NVMe) for the OS and hot data; a large drive for datasets.

    Why: random reads of many small files from a hard disk starve the data loader; an NVMe SSD
    keeps the working set fast. Datasets and checkpoints need room (2 TB+), which hard disks
    give cheaply.
    Bad: a single 4 TB hard disk (slow); a single 500 GB NVMe (small).
    Good: a 1 TB NVMe SSD plus an 8 TB hard disk.
    """
    drives = build.drives
    if not drives:
        raise Unchecked("no storage in the build")
    if not any(d.kind in ("nvme", "sata-ssd") for d in drives):
        yield warning(
            f"No SSD: {', '.join(d.name for d in drives)} "
            f"{'is a hard disk' if len(drives) == 1 else 'are hard disks'}; the data loader will "
            "wait on random reads.",
            "Add an NVMe SSD for the OS and the data you train on.",
            *drives,
        )
    if not any(d.capacity_gb >= L.LARGE_DRIVE_GB for d in drives):
        total = sum(d.capacity_gb for d in drives)
        yield info(
            f"No drive of {L.LARGE_DRIVE_GB:,} GB or more for datasets ({total:,} GB in all).",
            "Add a large hard disk or NVMe for datasets and checkpoints.",
            *drives,
        )


@rule(
    "D006",
    "mixed-gpus",
    Severity.WARNING,
    "deep-learning",
    planner=NotPlanned("a plan buys one GPU model (n copies), so it never mixes models"),
)
def mixed_gpus(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """Different GPU models in one build: data-parallel training runs at the slowest card.

    Why: data-parallel training splits batches evenly and syncs every step, so the fastest card
    waits for the slowest, and the smallest VRAM caps the per-GPU batch. Mixed cards are fine
    for running separate jobs.
    Bad: an RTX 4090 with an RTX 3060.
    Good: four identical RTX 2080 Ti.
    """
    by_chip: dict[str, list[str]] = {}
    for g in build.gpus:
        cards = by_chip.setdefault(g.chip, [])
        if g.name not in cards:
            cards.append(g.name)
    if len(by_chip) > 1:
        # name the models (chips) counted, and the cards of each when a chip has several
        models = []
        for chip_id, cards in by_chip.items():
            chip = build.chip(next(g for g in build.gpus if g.chip == chip_id))
            label = chip.name if chip else chip_id
            models.append(cards[0] if len(cards) == 1 else f"{label}: {' and '.join(cards)}")
        yield warning(
            f"The build mixes {len(by_chip)} GPU models ({'; '.join(models)}); data-parallel "
            "training runs at the slowest card's speed and smallest memory.",
            "Use identical cards for multi-GPU training, or run separate jobs per card.",
            *build.gpus,
        )


def _has_nvlink(build: Build, g: Gpu) -> bool:
    if g.nvlink is not None:
        return g.nvlink
    chip = build.chip(g)
    return bool(chip and chip.nvlink)


@rule(
    "D007",
    "nvlink-p2p",
    Severity.INFO,
    "deep-learning",
    planner=NotPlanned("information only: it reports bridges, never a fault"),
)
def nvlink_p2p(build: Build, ctx: RuleContext) -> Iterator[Hit]:
    """Multi-GPU: which cards can be NVLink-bridged at this slot spacing; PCIe peer-to-peer.

    Why: NVLink bridges and PCIe peer-to-peer speed up multi-GPU gradient exchange. Bridges come
    in fixed spacings (GeForce RTX: 3 or 4 slots; professional cards: 2 or 3), and GeForce cards
    since the RTX 40-series have neither NVLink nor PCIe peer-to-peer (traffic goes through host
    memory).
    Bad: (info) four RTX 4090: no NVLink, no peer-to-peer.
    Good: two RTX 3090 in slots 1 and 4 with a 3-slot NVLink bridge.
    """
    if build.gpu_count < 2:
        return
    gpus = [g for g, _ in _gpu_chips(build)]
    bridgeable = [g for g in gpus if _has_nvlink(build, g)]
    no_p2p = [g for g in gpus if build.chip(g).p2p is False]  # type: ignore[union-attr]
    if no_p2p:
        g = no_p2p[0]
        if g in bridgeable:
            msg = (
                f"{g.name} has no PCIe peer-to-peer between cards (GeForce driver); only pairs "
                "joined by an NVLink bridge talk directly, the rest go through host memory."
            )
        else:
            msg = (
                f"{g.name} supports neither NVLink nor PCIe peer-to-peer between cards; "
                "multi-GPU traffic goes through host memory."
            )
        yield info(
            msg,
            "Expect lower multi-GPU scaling for communication-heavy training (large models).",
            *no_p2p,
        )
    if not bridgeable or build.motherboard is None or not build.motherboard.slot_layout_known:
        return
    place = ctx.placement
    placed = place.placed
    risers = place.on_riser if len(place.on_riser) == len(placed) else (False,) * len(placed)
    pairs: list[str] = []
    framed = False  # a bridgeable pair on risers: its spacing is the frame's, not the board's
    for ((g1, s1), r1), ((g2, s2), r2) in pairwise(zip(placed, risers, strict=True)):
        if g1.id != g2.id or g1 not in bridgeable:
            continue
        if r1 or r2:
            framed = True
            continue
        chip = build.chip(g1)
        assert chip is not None
        spacings = (
            L.NVLINK_SPACING_GEFORCE if "geforce" in chip.name.lower() else (L.NVLINK_SPACING_PRO)
        )
        gap = s2.position - s1.position
        ok = gap in spacings
        pairs.append(f"slots {s1.position}-{s2.position}: {'yes' if ok else 'no'} ({gap}-slot)")
    if pairs:
        yield info(
            f"NVLink bridges for {bridgeable[0].name} come in "
            f"{'/'.join(map(str, spacings))}-slot spacing: " + "; ".join(pairs) + ".",
            "Place bridged pairs at a bridge's spacing (or buy the bridge that matches); "
            "without a bridge the cards talk over PCIe.",
            *bridgeable,
        )
    elif framed:
        chip = build.chip(bridgeable[0])
        geforce = chip is not None and "geforce" in chip.name.lower()
        spacings = L.NVLINK_SPACING_GEFORCE if geforce else L.NVLINK_SPACING_PRO
        yield info(
            f"{bridgeable[0].name} cards on risers: an NVLink bridge ("
            f"{'/'.join(map(str, spacings))}-slot spacing) joins a pair only where the frame "
            "holds the two cards at that spacing; their board slots do not decide it.",
            "Mount bridged pairs side by side at a bridge's spacing on the frame; without a "
            "bridge the cards talk over PCIe.",
            *bridgeable,
        )
