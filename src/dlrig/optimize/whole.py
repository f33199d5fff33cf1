"""The whole machine: a PSU tier for the GPUs, then the rest of the budget spent as an expert would.

Two parts, both read from ``optimize/data/expert.yaml`` (sources there):

* **Floors** (constraint group ``psu-tier``, relaxable like any rule group): a build with 2+ GPUs
  gets a PSU rated 80 PLUS Gold or better, and every build a PSU of the card's wattage class
  (the vendor's required system power for one card plus the board power of each further card:
  ≥ 1,000 W for one RTX 5090).
* **Fill** (after the primary objective, GPU choice fixed): maximise the share of each target
  reached — RAM up to 2× total VRAM (never below the rules' floor), NVMe capacity up to the
  workload's storage twice over (≥ 2 TB), CPU threads up to 8 per GPU, a cooler rated for the
  CPU, the PSU's efficiency tier — then the cheapest build with those points. Each target counts
  the same (fraction reached × :data:`POINTS`); past its target a part earns nothing more, so
  the rest of the budget stays unspent rather than buying what no expert would.

:func:`reasons` says in one line per non-GPU part why it was chosen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from dlrig.optimize.constraints import lin, total
from dlrig.optimize.query import Candidates, Query, Selection
from dlrig.parts import Gpu, Psu
from dlrig.rules import limits as L
from dlrig.textfile import load_data_yaml

if TYPE_CHECKING:
    from dlrig.optimize.planmodel import PlanModel

DATA = "expert.yaml"  # in dlrig/optimize/data/, read as a package resource (a zip install too)
POINTS = 1_000_000  # one target fully reached
GROUP = "psu-tier"


@cache
def expert_data() -> dict[str, Any]:
    """The parsed ``expert.yaml``."""
    from importlib import resources

    text = (resources.files("dlrig.optimize") / "data" / DATA).read_text(encoding="utf-8")
    data: dict[str, Any] = load_data_yaml(text)
    return data


def efficiency_rank(p: Psu) -> int:
    """0 (unrated) to 6 (80 PLUS Titanium)."""
    ranks: dict[str, int] = expert_data()["psu"]["efficiency_rank"]
    return ranks.get(p.efficiency or "", 0)


def multi_gpu_rank() -> int:
    """The least efficiency rank of the multi-GPU PSU tier (80 PLUS Gold)."""
    psu = expert_data()["psu"]
    return int(psu["efficiency_rank"][psu["multi_gpu_min_efficiency"]])


def required_system_w(chip: str) -> int | None:
    """The card vendor's required system power for one card of ``chip`` (None: not listed)."""
    return _required_system_w().get(chip)


@cache
def _required_system_w() -> dict[str, int]:
    out: dict[str, int] = {}
    for row in expert_data()["psu"]["required_system_w"]:
        out.setdefault(row["chip"], int(row["watts"]))  # the first row of a chip, as listed
    return out


def psu_class_w(g: Gpu, n: int) -> int | None:
    """The PSU wattage class of n cards of ``g``: required system power + (n-1) × board power."""
    one = required_system_w(g.chip)
    return None if one is None else one + (n - 1) * g.tdp_w


def psu_tier_ok(psu: Psu, g: Gpu, n: int) -> bool:
    """Whether ``psu`` is of the tier for n cards of ``g`` (the ``psu-tier`` floor)."""
    if n >= 2 and efficiency_rank(psu) < multi_gpu_rank():
        return False
    need = psu_class_w(g, n)
    return need is None or psu.wattage_w >= need


def add_psu_tier(pm: PlanModel, opts: list[tuple[Any, Gpu, int]]) -> None:
    """The ``psu-tier`` floor for the GPU options ``opts`` (literal, GPU, count)."""
    if not pm.q.whole_machine or not pm.on(GROUP):
        return
    psus = pm.cand.psu
    # psu_tier_ok, with each PSU's rank and each (chip, board power, count)'s class once
    gold = multi_gpu_rank()
    below_gold = tuple(i for i, p in enumerate(psus) if efficiency_rank(p) < gold)
    bad_of: dict[tuple[str, float, int], tuple[int, ...]] = {}
    by_bad: dict[tuple[int, ...], list[Any]] = {}
    for lit, g, n in opts:
        key = (g.chip, g.tdp_w, n)
        bad = bad_of.get(key)
        if bad is None:
            need = psu_class_w(g, n)
            low = set(below_gold) if n >= 2 else set()
            if need is not None:
                low.update(i for i, p in enumerate(psus) if p.wattage_w < need)
            bad = bad_of[key] = tuple(sorted(low))
        if bad:
            by_bad.setdefault(bad, []).append(lit)
    for bad, lits in by_bad.items():
        if len(bad) == len(psus):
            for lit in lits:
                pm.m.add(lit == 0)
            continue
        # no chosen option together with a PSU below its tier (one constraint per PSU set)
        below = total(pm.use_psu[i] for i in bad)
        for lit in lits:
            pm.m.add(below == 0).only_enforce_if(lit)


# --- the fill stage --------------------------------------------------------------------------
@dataclass(frozen=True)
class Targets:
    """What the fill stage aims at for one GPU choice (GB, GB, threads)."""

    ram_floor_gb: int  # the rules' floor: RAM ≥ VRAM and the workload's RAM
    ram_gb: int
    workload_ram_gb: int | None
    storage_need_gb: int
    nvme_gb: int
    threads_floor: int
    threads: int
    gpus: int
    vram_gib: float


def targets(q: Query, cand: Candidates, g: Gpu, n: int) -> Targets:
    """The fill targets for n cards of ``g`` under request ``q``."""
    data = expert_data()
    vram = g.vram_gib * n
    need = cand.ram_need_gib.get((g.id, n))
    floor = max(math.ceil(L.RAM_TO_VRAM_RATIO * vram), need or 0)
    ram = max(floor, math.ceil(float(data["memory"]["ram_per_vram"]) * vram))
    store = cand.storage_need_gb
    st = data["storage"]
    nvme = max(int(st["min_nvme_gb"]), math.ceil(float(st["need_factor"]) * store))
    t_floor = max(L.MIN_THREADS_PER_GPU * n, cand.threads_need.get(n, 0))
    threads = max(t_floor, int(data["cpu"]["threads_per_gpu"]) * n)
    return Targets(floor, ram, need, store, nvme, t_floor, threads, n, vram)


def quality(pm: PlanModel, t: Targets) -> Any:
    """Points (linear expression) for how far the chosen parts reach the targets ``t``."""
    m, c = pm.m, pm.cand
    lits: list[Any] = []
    coefs: list[int] = []

    def capped(expr: Any, target: int, name: str) -> None:
        reached = m.new_int_var(0, target, f"fill-{name}")
        m.add(reached <= expr)
        lits.append(reached)
        coefs.append(POINTS // max(target, 1))

    capped(pm.memory_gb, t.ram_gb, "ram")
    nvme = lin(
        (s.capacity_gb * n, v)
        for (s, n), v in zip(c.storage, pm.use_drive, strict=True)
        if s.kind == "nvme"
    )
    capped(nvme, t.nvme_gb, "nvme")
    threads = lin((p.threads, v) for p, v in zip(c.cpu, pm.use_cpu, strict=True))
    capped(threads, t.threads, "threads")
    rated = m.new_bool_var("fill-cooler")
    m.add(
        lin((k.rated_tdp_w or 0, v) for k, v in zip(c.cooler, pm.use_cooler, strict=True))
        >= lin((p.tdp_w, v) for p, v in zip(c.cpu, pm.use_cpu, strict=True))
    ).only_enforce_if(rated)
    lits.append(rated)
    coefs.append(POINTS)
    top = max(expert_data()["psu"]["efficiency_rank"].values())
    for p, v in zip(c.psu, pm.use_psu, strict=True):
        # 2+ GPUs: facts that let the checker verify the plugs and the PSU's fit, not assume them
        known = (p.pcie_8pin is not None) + (p.length_mm is not None) / 2 if t.gpus >= 2 else 0
        lits.append(v)
        coefs.append(POINTS * efficiency_rank(p) // top + round(POINTS * known))
    if t.gpus >= 2:
        for k, v in zip(c.case, pm.use_case, strict=True):
            if k.max_psu_length_mm is not None:
                lits.append(v)
                coefs.append(POINTS // 2)
    return pm.cp.LinearExpr.weighted_sum(lits, coefs)


def fill_objective(pm: PlanModel, t: Targets) -> tuple[Any, bool]:
    """(objective, maximise): the most points, then the cheapest build."""
    return quality(pm, t) * (pm.max_price + 1) - pm.price, True


# --- why each part ---------------------------------------------------------------------------
def reasons(sel: Selection, t: Targets | None, whole_machine: bool) -> dict[str, str]:
    """One line per non-GPU category: why this part (what it had to meet, what it aims at)."""
    g, n = sel.gpu
    kit, kits = sel.memory
    ram = kit.capacity_gb * kits
    drive, drives = sel.storage
    cap = drive.capacity_gb * drives
    out: dict[str, str] = {"gpu": f"{n}× {g.name}: the objective's optimum for the request"}
    cpu, cooler, psu = sel.cpu, sel.cooler, sel.psu
    if t is None:  # --objective cost or --no-fill: the cheapest part that passes the rules
        cheapest = "cheapest that passes the rules"
        return {
            **out,
            **{k: cheapest for k in ("cpu", "motherboard", "memory", "storage", "psu", "cooler")},
        }
    need = f"workload needs {t.workload_ram_gb} GB, " if t.workload_ram_gb else ""
    out["memory"] = (
        f"{ram} GB: {need}RAM ≥ VRAM needs {math.ceil(t.vram_gib)} GB; target 2× VRAM "
        f"{t.ram_gb} GB" + ("" if ram >= t.ram_gb else " (budget or board limits it)")
    )
    store = f"workload stores {t.storage_need_gb} GB; " if t.storage_need_gb else ""
    kind = "NVMe" if drive.kind == "nvme" else drive.kind
    out["storage"] = f"{cap:,} GB {kind}: {store}target {t.nvme_gb:,} GB NVMe" + (
        "" if drive.kind == "nvme" and cap >= t.nvme_gb else " (budget limits it)"
    )
    per = cpu.threads / n
    out["cpu"] = (
        f"{cpu.threads} threads ({per:g} per GPU): rules need {t.threads_floor}, target "
        f"{t.threads} (4 cores per GPU)"
    )
    cls = psu_class_w(g, n)
    tier = []
    if cls is not None:
        tier.append(f"≥ {cls:,} W class for {n}× {g.chip}")
    if n >= 2:
        tier.append(f"{expert_data()['psu']['multi_gpu_min_efficiency']}+ for multi-GPU")
    eff = psu.efficiency or "unrated"
    out["psu"] = f"{psu.wattage_w:,} W {eff}: " + (
        "; ".join(tier) if tier and whole_machine else "covers 110% of the peak load"
    )
    if cooler.rated_tdp_w is None:
        out["cooler"] = f"rating unknown for the {cpu.tdp_w} W CPU (no rated cooler fit)"
    else:
        out["cooler"] = f"rated {cooler.rated_tdp_w} W for the {cpu.tdp_w} W CPU"
    out["motherboard"] = f"cheapest with the socket, {n} GPU slot(s), lanes and RAM capacity"
    out["case"] = f"cheapest that fits the board, {n} GPU(s) (length, slots), PSU and cooler"
    if sel.riser is not None:
        out["case"] = frame_reason(sel)
    return out


def frame_reason(sel: Selection) -> str:
    """Why an open frame: the cards sit on risers off the board, so their thickness meets no
    slot spacing; says how many of them the board's slots would take in a tower, and the
    risers' cost."""
    from dlrig.rules import limits as L

    g, n = sel.gpu
    riser = sel.riser
    assert riser is not None
    each = f" at ${riser.price_usd:,.0f} each" if riser.price_usd is not None else ""
    positions = sel.case.gpu_positions
    where = f"{positions} GPU positions" if positions is not None else "GPU positions unknown"
    text = (
        f"open frame ({where}): {n} cards on {n}× {riser.name}{each}, off the board, so no slot "
        "spacing or case slots limit them"
    )
    place = L.place_gpus(sel.board, [g] * n)
    width = g.slots_occupied or L.DEFAULT_SLOT_WIDTH
    placed = len(place.placed)
    stacked = any(
        b.position - (a.position + width) <= 0
        for (_, a), (_, b) in zip(place.placed, place.placed[1:], strict=False)
    )
    if placed < n:
        text += f"; in a tower the board's slots take {placed} of these {width}-slot cards"
    elif g.cooling == "open-air" and stacked:
        text += "; in the board's slots these open-air cards would sit with no air gap"
    else:  # same cards either way: the optimum (then the fill) took the frame
        text += (
            "; a tower holds them in the board's slots too: the frame with its risers was the "
            "cheaper (or better-filled) build"
        )
    return text
