"""The options of one request: filter the preprocessed catalog, prune, and expand (part × count)
with the workload's VRAM, RAM, thread and storage needs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from dlrig.optimize.prep import MAX_DRIVES, MAX_GPUS, MAX_KITS, Prep, ceil_int
from dlrig.optimize.query import TFLOPS_SCALE, Candidates, Query
from dlrig.parts import Category, Gpu, Part
from dlrig.rules import limits as L

# Rules the planner holds by filtering GPU options here rather than by a model constraint:
# tensor-cores and cuda-support (when held) drop GPUs without tensor cores / non-NVIDIA GPUs;
# workload-fits drops (GPU, count) options whose VRAM per GPU cannot hold the workload.
CANDIDATE_FILTERS = ("tensor-cores", "cuda-support", "workload-fits")


def gpu_counts(q: Query) -> list[int]:
    """The GPU counts the planner tries: the requested count, else 1 up to the most allowed."""
    top = q.upgrade_to or q.max_gpus
    if q.gpus is not None:
        return [q.gpus]
    return list(range(1, min(top, MAX_GPUS) + 1))


def candidates(
    prep: Prep,
    q: Query,
    exclude_ids: Iterable[str] = (),
    exclude_brands: Iterable[str] = (),
    cooling: Sequence[str] | None = None,
) -> tuple[Candidates, dict[str, Any]]:
    """Filter, prune and expand (part × count) the options of one query."""
    from dlrig.catalog import normalize
    from dlrig.sizing import objective_coefficient as coefficient

    ex_ids, ex_brands = set(exclude_ids), set(exclude_brands)
    pins = set(q.include_ids)
    avoid = q.avoid
    dropped: dict[str, int] = {}

    def keep(p: Part) -> bool:
        if p.id in ex_ids or normalize(p.brand) in ex_brands:
            return False
        if isinstance(p, Gpu):
            chip = prep.chips[p.id]
            if cooling and p.cooling not in cooling:
                return False
            if "tensor-cores" in avoid and chip.tensor_cores is False:
                return False
            if "cuda-support" in avoid and chip.vendor != "nvidia":
                return False
            if (
                "pcie-lanes" in avoid
                and p.pcie_lanes is not None
                and p.pcie_lanes < L.MIN_GPU_LANES
            ):
                return False
            if coefficient(chip, 1, q.workload, q.precision) is None:
                dropped["gpu without a TFLOPS figure"] = (
                    dropped.get("gpu without a TFLOPS figure", 0) + 1
                )
                return False
        return True

    filtered = {c: [p for p in ps if keep(p)] for c, ps in prep.parts.items()}
    # pruning depends on the filtered parts and the pins only: requests that filter alike (a
    # workload's precision with the same TFLOPS figures known, ...) share one pruned set
    signature = (tuple(tuple(p.id for p in ps) for ps in filtered.values()), frozenset(pins))
    before = {c.value: len(ps) for c, ps in filtered.items()}
    pruned = prep.pruned(filtered, signature, keep=pins)
    boards = pruned[Category.MOTHERBOARD]
    max_slots = max((b.memory_slots for b in boards), default=0)  # type: ignore[attr-defined]
    w = q.workload
    memory = [
        (k, m)
        for k in pruned[Category.MEMORY]
        for m in range(1, MAX_KITS + 1)
        if k.modules * m <= max_slots  # type: ignore[attr-defined]
    ]
    counts = gpu_counts(q)
    vram_need: dict[int, float] = {}
    if w is not None:
        from dlrig.sizing import vram_required_gib

        vram_need = {n: vram_required_gib(w, n) for n in counts}
    gpus: list[tuple[Any, int]] = []
    tflops: dict[tuple[str, int], int] = {}
    caps: dict[str, tuple[Gpu, int, float]] = {}
    for g, kept in _with_caps(pruned[Category.GPU], q, caps):
        chip = prep.chips[caps.get(g.id, (g,))[0].id]
        for n in counts:
            if n >= 2 and "multi-gpu-airflow" in avoid and g.cooling == "passive":
                continue
            if n >= 2 and q.known_fit and (g.slot_width is None or g.cooling is None):
                continue
            if w is not None and vram_need[n] > g.vram_gib:
                continue
            # the workload's own figure of merit (sizing.objective_coefficient), model TFLOPS
            t = coefficient(chip, n, w, q.precision)
            assert t is not None
            tflops[(g.id, n)] = round(t * kept * TFLOPS_SCALE)
            gpus.append((g, n))
    ram_need: dict[tuple[str, int], int] = {}
    threads_need: dict[int, int] = {}
    storage_need = 0
    if w is not None:
        from dlrig.sizing import memory_bytes, system_requirements

        mems = {n: memory_bytes(w, n) for n in counts}
        for g, n in gpus:
            req = system_requirements(w, mems[n], n, prep.chips[caps.get(g.id, (g,))[0].id])
            ram_need[(g.id, n)] = ceil_int(req["ram_gib"])
            threads_need[n] = int(req["cpu_threads"])
        any_req = system_requirements(w, mems[counts[0]], counts[0], None)
        storage_need = ceil_int(any_req["storage_gb"])
    drive_counts = range(1, MAX_DRIVES + 1) if storage_need else range(1, 2)
    storage = [(s, n) for s in pruned[Category.STORAGE] for n in drive_counts]
    cand = Candidates(
        cpu=pruned[Category.CPU],  # type: ignore[arg-type]
        board=boards,  # type: ignore[arg-type]
        memory=memory,  # type: ignore[arg-type]
        gpu=gpus,
        storage=storage,  # type: ignore[arg-type]
        psu=pruned[Category.PSU],  # type: ignore[arg-type]
        cooler=pruned[Category.COOLER],  # type: ignore[arg-type]
        case=pruned[Category.CASE],  # type: ignore[arg-type]
        tflops=tflops,
        ram_need_gib=ram_need,
        threads_need=threads_need,
        storage_need_gb=storage_need,
        caps=caps,
    )
    info = {
        "filtered": before,
        "pruned": {c.value: len(ps) for c, ps in pruned.items()},
        "options": cand.sizes(),
        "dropped": dropped,
        "vram_need_gib": {n: round(v, 2) for n, v in vram_need.items()},
    }
    return cand, info


def _with_caps(
    gpus: Sequence[Part], q: Query, caps: dict[str, tuple[Gpu, int, float]]
) -> list[tuple[Gpu, float]]:
    """Each GPU (throughput kept 1.0) and, when the query lets the planner set power limits,
    its capped options (optimize.caps), which are recorded in ``caps``."""
    from dlrig.optimize.caps import variants

    out: list[tuple[Gpu, float]] = []
    for g in gpus:
        assert isinstance(g, Gpu)
        out.append((g, 1.0))
        if not q.power_limits:
            continue
        for v, cap, kept in variants(g):
            caps[v.id] = (g, cap, kept)
            out.append((v, kept))
    return out
