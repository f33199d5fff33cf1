"""What the machine should deliver: expected values from a build file, or from the chip specs of
the GPUs the run detected (resolved against the catalog's GPU chip table).

Each expected figure carries its source and two thresholds, as ratios of measured to expected:
at or above ``ok_ratio`` a figure is fine; below ``bad_ratio`` the shortfall is an error (the
machine does not perform as planned); in between it is a warning. The expected values are
published specs (the chip table, PCI-SIG link rates, the drive's data sheet); the thresholds in
:data:`THRESHOLDS` are not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlrig.bench.results import BenchResult, Expectation, GpuFacts
from dlrig.errors import DlrigError, InputError
from dlrig.parts import Category, GpuChip, Storage

# PCIe payload bandwidth per lane and direction in GB/s after line encoding (8b/10b for gen 1–2,
# 128b/130b for gen 3–5, FLIT for gen 6). Source: PCI-SIG base specifications, tabulated at
# https://en.wikipedia.org/wiki/PCI_Express#Comparison_table (read 2025-01).
PCIE_GB_S_PER_LANE: dict[int, float] = {
    1: 0.250,
    2: 0.500,
    3: 0.985,
    4: 1.969,
    5: 3.938,
    6: 7.563,
}
ASSUMED_GPU_LANES = 16  # when neither the build nor the card says otherwise

# (ok_ratio, bad_ratio) per kind of figure. These are our own judgement, not published numbers:
# no vendor states what fraction of a spec a healthy machine reaches, so each pair leaves room
# below what a healthy machine typically measures, and sets the error line where only a fault
# (throttling, a lowered power limit, missing lanes, a chipset slot) explains the shortfall.
# - gemm: a large cuBLAS GEMM typically reaches ~70-90% of the dense tensor peak, less for
#   the quick mode's single shape and for fp32; a 40% floor sits below any healthy card.
# - membw.device: a copy kernel typically reaches ~80-90% of the spec'd memory bandwidth.
# - membw.pinned: PCIe packet headers cap a pinned copy near ~80% of the raw link rate; x8
#   instead of x16 lands at ~40%, so 35% means at most half the planned link.
# - membw.p2p / allreduce: peer copies and NCCL rings pass switches and the CPU's root complex
#   and vary most between boards, hence the widest band; 25% is a quarter of one link.
# - disk: spec-sheet reads are measured at queue depths a few reader threads on one file rarely
#   match; 30% (e.g. an NVMe drive at SATA speed) points at the slot or a hot drive.
THRESHOLDS: dict[str, tuple[float, float]] = {
    "gemm": (0.60, 0.40),
    "membw.device": (0.70, 0.50),
    "membw.pinned": (0.65, 0.35),
    "membw.p2p": (0.50, 0.25),
    "allreduce": (0.50, 0.25),
    "disk": (0.60, 0.30),
}


def pcie_gb_s(gen: int, lanes: int) -> float:
    """Raw one-direction PCIe bandwidth in GB/s of a gen × lanes link."""
    return PCIE_GB_S_PER_LANE[gen] * lanes


@dataclass
class PlannedGpu:
    """One GPU as planned: its card name, chip spec (None when unknown) and PCIe link."""

    name: str
    chip: GpuChip | None
    pcie_gen: int | None = None
    pcie_lanes: int | None = None
    lanes_assumed: bool = False


@dataclass
class Baseline:
    """What the run is compared against; ``source`` says where it came from."""

    source: str
    gpus: list[PlannedGpu] = field(default_factory=list)
    storage: list[Storage] = field(default_factory=list)
    disks: dict[str, Storage] = field(default_factory=dict)  # path → drive, from --disk PATH=PART
    from_build: bool = False


def resolve_chip(name: str, catalog: Any) -> GpuChip | None:
    """The catalog chip a device name ("NVIDIA GeForce RTX 4090") names, or None.

    Tries the catalog's resolver (exact, then confident fuzzy), then a word match that
    tolerates driver spellings like "NVIDIA A100 80GB PCIe" for "NVIDIA A100 PCIe 80 GB":
    every word of the chip's name must appear in the device name, and exactly one chip may
    match best. An SXM part never matches a PCIe entry this way.
    """
    for candidate in (name, name.removeprefix("NVIDIA ").strip()):
        try:
            chip: GpuChip = catalog.chip(candidate)
            return chip
        except DlrigError:
            continue
    device = _words(name)
    # SXM modules report e.g. "NVIDIA H100 80GB HBM3" or "A100-SXM4-80GB"; never match them to
    # a PCIe card's entry (different power and clocks).
    sxm = any(w.startswith("sxm") for w in device) or (
        "hbm3" in device and not device & {"pcie", "nvl"}
    )
    matches = []
    for chip in getattr(catalog, "chips", []):
        for label in (chip.name, *chip.aliases):
            words = _words(label)
            if sxm and not any(w.startswith("sxm") for w in words):
                continue
            if words and words <= device:
                matches.append((len(words), chip))
    if not matches:
        return None
    matches.sort(key=lambda wc: -wc[0])
    best = [c for n, c in matches if n == matches[0][0]]
    return best[0] if len({c.id for c in best}) == 1 else None


_VENDOR_WORDS = frozenset({"nvidia", "geforce", "tesla", "amd", "radeon", "intel", "graphics"})


def _words(text: str) -> frozenset[str]:
    """Lower-case words without vendor names; '80 GB' and '80GB' both become '80gb'."""
    text = re.sub(r"(\d+)\s*gb\b", r"\1gb", text.lower())
    return frozenset(w for w in re.split(r"[^a-z0-9]+", text) if w and w not in _VENDOR_WORDS)


def baseline_from_detected(gpus: list[GpuFacts], catalog: Any | None) -> Baseline:
    """Expected values from the chip specs of the detected GPUs."""
    planned = []
    for g in gpus:
        chip = resolve_chip(g.name, catalog) if catalog is not None else None
        gen = g.pcie_gen_max_gpu or g.pcie_gen_max_link
        planned.append(
            PlannedGpu(
                name=g.name,
                chip=chip,
                pcie_gen=gen,
                pcie_lanes=ASSUMED_GPU_LANES,
                lanes_assumed=True,
            )
        )
    known = sum(p.chip is not None for p in planned)
    source = (
        f"detected GPUs ({known} of {len(planned)} found in the chip table)"
        if planned
        else "nothing (no build file, no GPU)"
    )
    return Baseline(source=source, gpus=planned)


def baseline_from_parts(
    gpus: list[Any], storage: list[Storage], chip_of: Any, source: str
) -> Baseline:
    """Expected values from planned parts: GPU cards (one entry per card) and drives.

    ``chip_of(gpu)`` gives a card's chip spec or None (``Build.chip`` or ``Catalog.chip_of``).
    """
    planned = [
        PlannedGpu(
            name=g.name,
            chip=chip_of(g),
            pcie_gen=g.pcie_gen,
            pcie_lanes=g.pcie_lanes or ASSUMED_GPU_LANES,
            lanes_assumed=g.pcie_lanes is None,
        )
        for g in gpus
    ]
    return Baseline(source=source, gpus=planned, storage=list(storage), from_build=True)


def baseline_from_build_file(path: str | Path, catalog: Any) -> Baseline:
    """A baseline from a build file (read with :func:`dlrig.buildfile.load_build`)."""
    from dlrig.buildfile import load_build

    build = load_build(Path(path), catalog)
    return baseline_from_parts(
        list(build.gpus), list(build.drives), build.chip, f"build file {path}"
    )


def attach_disks(baseline: Baseline, disk_args: list[str], catalog: Any) -> list[str]:
    """Parse ``--disk PATH[=PART]`` values: record the named drive, return the paths."""
    paths = []
    for arg in disk_args:
        path, sep, part_name = arg.partition("=")
        paths.append(path)
        if not sep:
            continue
        part = _find_storage(part_name, baseline, catalog)
        baseline.disks[path] = part
    return paths


def _find_storage(name: str, baseline: Baseline, catalog: Any) -> Storage:
    for s in baseline.storage:
        if name in (s.id, s.name):
            return s
    part = catalog.resolve(name, Category.STORAGE)
    if not isinstance(part, Storage):  # pragma: no cover - resolve is category-filtered
        raise InputError(f"'{name}' is not a drive", "name a storage part")
    return part


def drive_for(baseline: Baseline, path: str) -> Storage | None:
    """The drive a disk path should be on: named with PATH=PART, else the build's only drive."""
    if path in baseline.disks:
        return baseline.disks[path]
    if len(baseline.storage) == 1:
        return baseline.storage[0]
    return None


def _exp(key: str, value: float | None, source: str, kind: str) -> Expectation | None:
    if value is None or value <= 0:
        return None
    ok, bad = THRESHOLDS[kind]
    return Expectation(key=key, value=value, source=source, ok_ratio=ok, bad_ratio=bad)


def gpu_link(baseline: Baseline, facts: GpuFacts | None, index: int) -> tuple[int, int, str] | None:
    """(gen, lanes, source) of the PCIe link GPU ``index`` should have, or None when unknown."""
    planned = baseline.gpus[index] if index < len(baseline.gpus) else None
    gen = planned.pcie_gen if planned else None
    lanes = planned.pcie_lanes if planned else None
    assumed = planned.lanes_assumed if planned else True
    if gen is None and facts is not None:
        gen = facts.pcie_gen_max_gpu or facts.pcie_gen_max_link
    if gen is None or gen not in PCIE_GB_S_PER_LANE:
        return None
    lanes = lanes or ASSUMED_GPU_LANES
    src = f"PCIe {gen}.0 x{lanes}" + (" (x16 assumed)" if assumed else "")
    return gen, lanes, src


def _slowest_link(
    baseline: Baseline, facts: dict[int, GpuFacts], gpus: Iterable[int]
) -> tuple[float, str] | None:
    """(GB/s, source) of the slowest PCIe link among ``gpus``; None when any link is unknown."""
    rates = []
    for g in gpus:
        link = gpu_link(baseline, facts.get(g), g)
        if link is None:
            return None
        rates.append((pcie_gb_s(link[0], link[1]), link[2]))
    return min(rates, key=lambda r: r[0]) if rates else None


def expectations(result: BenchResult, baseline: Baseline) -> dict[str, Expectation]:
    """Expected value for every measurement the baseline says something about."""
    out: dict[str, Expectation] = {}
    facts = {g.index: g for g in result.gpus}
    for m in result.measurements:
        e: Expectation | None = None
        i = m.gpu
        planned = baseline.gpus[i] if i is not None and i < len(baseline.gpus) else None
        chip = planned.chip if planned else None
        if m.probe == "gemm" and chip is not None:
            dtype = str(m.params.get("dtype", ""))
            e = _exp(m.key, chip.peak_tflops(dtype), f"{chip.name} dense {dtype} peak", "gemm")
        elif m.key.startswith("membw.device.") and chip is not None:
            e = _exp(
                m.key, chip.memory_bandwidth_gb_s, f"{chip.name} memory bandwidth", "membw.device"
            )
        elif ".pinned." in m.key and i is not None:
            link = gpu_link(baseline, facts.get(i), i)
            if link:
                e = _exp(m.key, pcie_gb_s(link[0], link[1]), link[2], "membw.pinned")
        elif m.key.startswith("membw.p2p.") and m.params.get("peer_access"):
            slow = _slowest_link(baseline, facts, (m.params["src"], m.params["dst"]))
            if slow:
                e = _exp(m.key, slow[0], f"slower link: {slow[1]}", "membw.p2p")
        elif (
            m.key == "allreduce.busbw"
            and m.params.get("backend") == "nccl"
            and m.params.get("nodes", 1) == 1
        ):
            # PCIe is the floor: with NVLink bridges the figure lands above it, which is fine.
            slow = _slowest_link(baseline, facts, range(int(m.params["ranks"])))
            if slow:
                e = _exp(m.key, slow[0], f"slowest GPU link: {slow[1]}", "allreduce")
        elif m.key.startswith("disk.read."):
            drive = drive_for(baseline, str(m.params.get("path", "")))
            if drive is not None:
                e = _exp(m.key, drive.seq_read_mb_s, f"{drive.name} sequential read spec", "disk")
        if e is not None:
            out[m.key] = e
    return out
