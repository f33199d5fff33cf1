"""The planner's optimum against exhaustive enumeration through the real checker.

Random small catalogs (fixed seeds) exercise every constraint family; the oracle enumerates every
build, keeps those the checker accepts (no error, no held warning), and takes the best by the
objective. The planner must reach the same objective value, for every objective.
"""

from __future__ import annotations

import datetime as dt
import random
from fractions import Fraction

import pytest

pytest.importorskip("ortools")

from dlrig.build import Build
from dlrig.catalog.core import Catalog
from dlrig.optimize import plan
from dlrig.optimize.brute import accepted, builds_within
from dlrig.optimize.prep import clear_cache
from dlrig.parts import (
    Case,
    Cooler,
    Cpu,
    Gpu,
    GpuChip,
    Memory,
    Motherboard,
    PcieSlot,
    Psu,
    RadiatorMount,
    Storage,
)

DAY = dt.date(2025, 1, 1)


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLRIG_CACHE_DIR", str(tmp_path))


SRC = "test"
MAX_GPUS = 3


def _common(rng: random.Random, i: str, lo: int, hi: int) -> dict[str, object]:
    return {
        "id": i,
        "name": i,
        "brand": rng.choice(["acme", "zeta"]),
        "price_usd": float(rng.randrange(lo, hi, 10)),
        "price_date": DAY,
        "source": SRC,
    }


LAYOUTS = [
    [(1, 16, 16, "cpu"), (4, 16, 8, "cpu"), (6, 16, 4, "chipset")],
    [(1, 16, 16, "switch"), (3, 16, 16, "switch"), (5, 16, 16, "switch"), (7, 16, 8, "switch")],
    [(1, 16, 16, "cpu"), (3, 16, 8, "cpu")],
    [(2, 16, 16, "cpu"), (5, 16, 16, "cpu"), (7, 16, 16, "cpu")],
]


def random_catalog(seed: int) -> Catalog:
    rng = random.Random(seed)
    sockets = ["AM5", "LGA1700"]
    parts: list[object] = []
    chips = []
    for k in range(2):
        parts.append(
            Cpu(
                **_common(rng, f"cpu{k}", 200, 900),
                vendor="amd",
                socket=rng.choice(sockets),
                cores=8,
                threads=rng.choice([8, 16, 32]),
                tdp_w=rng.choice([65, 120, 170]),
                pcie_lanes=rng.choice([20, 24, 48]),
                memory_types=("DDR5",),
                max_memory_gb=rng.choice([128, 192]),
            )
        )
    for k in range(2):
        layout = rng.choice(LAYOUTS)
        parts.append(
            Motherboard(
                **_common(rng, f"board{k}", 150, 700),
                socket=rng.choice(sockets),
                chipset="X",
                form_factor=rng.choice(["ATX", "E-ATX", "Micro-ATX"]),
                memory_type="DDR5",
                memory_slots=rng.choice([2, 4]),
                max_memory_gb=rng.choice([96, 192]),
                pcie_slots=tuple(
                    PcieSlot(position=p, size=s, lanes=ln, source=src)  # type: ignore[arg-type]
                    for p, s, ln, src in layout
                ),
                sata_ports=4,
            )
        )
    for k in range(2):
        parts.append(
            Memory(
                **_common(rng, f"mem{k}", 60, 400),
                type="DDR5",
                speed_mts=6000,
                modules=2,
                module_gb=rng.choice([16, 32, 48]),
            )
        )
    for k in range(3):
        chip = GpuChip(
            id=f"chip{k}",
            name=f"Chip {k}",
            vendor="nvidia",
            architecture="x",
            tensor_cores=True,
            bf16_tflops=float(rng.randrange(40, 400, 5)),
            vram_gib=24.0,
            source=SRC,
        )
        chips.append(chip)
        hp = rng.random() < 0.4
        parts.append(
            Gpu(
                **_common(rng, f"gpu{k}", 500, 3000),
                chip=chip.id,
                vram_gib=float(rng.choice([12, 24, 48])),
                tdp_w=rng.choice([200, 300, 450]),
                length_mm=rng.choice([260, 310, 340]),
                slot_width=float(rng.choice([2, 3])),
                cooling=rng.choice(["blower", "open-air"]),
                pcie_6pin=0,
                pcie_8pin=0 if hp else rng.choice([1, 2]),
                pcie_12vhpwr=1 if hp else 0,
                pcie_lanes=16,
            )
        )
    for k in range(2):
        parts.append(
            Storage(
                **_common(rng, f"ssd{k}", 80, 300),
                kind="nvme",
                interface="PCIe 4.0 x4 NVMe",
                capacity_gb=rng.choice([1000, 2000]),
                form_factor="M.2 2280",
            )
        )
    for k in range(2):
        parts.append(
            Psu(
                **_common(rng, f"psu{k}", 100, 500),
                wattage_w=rng.choice([750, 1000, 1300, 1600]),
                efficiency="80+ Gold",
                length_mm=rng.choice([160, 210]),
                pcie_8pin=rng.choice([2, 4, 6, None]),
                pcie_12vhpwr=rng.choice([0, 1, 2]),
                atx3=rng.random() < 0.5,
            )
        )
    for k in range(2):
        aio = rng.random() < 0.3
        parts.append(
            Cooler(
                **_common(rng, f"cooler{k}", 30, 200),
                kind="aio" if aio else "air",
                sockets=tuple(rng.sample(sockets, rng.choice([1, 2]))),
                height_mm=None if aio else rng.choice([150, 168]),
                radiator_mm=360 if aio else None,
                rated_tdp_w=rng.choice([150, 250]),
            )
        )
    for k in range(2):
        parts.append(
            Case(
                **_common(rng, f"case{k}", 80, 300),
                form_factor="Tower",
                motherboard_form_factors=tuple(
                    rng.choice([["Micro-ATX", "ATX"], ["Micro-ATX", "ATX", "E-ATX"]])
                ),
                max_gpu_length_mm=rng.choice([300, 350, 420]),
                max_cooler_height_mm=rng.choice([160, 185]),
                expansion_slots=rng.choice([7, 8, 9]),
                bays_3_5=2,
                bays_2_5=2,
                max_psu_length_mm=rng.choice([180, 220]),
                radiator_mounts=(RadiatorMount(position="top", max_mm=rng.choice([240, 360])),),
            )
        )
    return Catalog(parts, chips, name=f"random-{seed}", version=f"random-{seed}")  # type: ignore[arg-type]


def enumerate_builds(
    cat: Catalog, budget: float, max_gpus: int = MAX_GPUS
) -> list[tuple[Build, int, float]]:
    """Every build within budget: (build, TFLOPS ×1000, price), unchecked."""
    return list(builds_within(cat, budget, max_gpus))


def best_by(builds: list[tuple[Build, int, float]], objective: str) -> tuple[object, ...] | None:
    """The oracle: walk builds in objective order and return the first the checker accepts."""
    keys = {
        "throughput": lambda e: (-e[1], e[2]),
        "vram": lambda e: (-e[0].total_vram_gib, e[2]),
        "cost": lambda e: (e[2], -e[1]),
        "throughput-per-dollar": lambda e: (-Fraction(e[1]) / Fraction(str(e[2])), e[2]),
    }
    for e in sorted(builds, key=keys[objective]):
        if _cached_accept(e[0]):
            return _score(e, objective)
    return None


_ACCEPT: dict[int, bool] = {}


def _cached_accept(b: Build) -> bool:
    key = id(b)
    if key not in _ACCEPT:
        _ACCEPT[key] = accepted(b)
    return _ACCEPT[key]


def _score(e: tuple[Build, int, float], objective: str) -> tuple[object, ...]:
    b, t, price = e
    if objective == "throughput":
        return (t, price)
    if objective == "vram":
        return (b.total_vram_gib, price)
    if objective == "cost":
        return (price,)
    return (Fraction(t) / Fraction(str(price)),)


def planner_score(r: object, objective: str) -> tuple[object, ...] | None:
    best = r.best  # type: ignore[attr-defined]
    if best is None:
        return None
    t = round(best.tflops * 1000)
    e = (best.build, t, best.price_usd)
    return _score(e, objective)


SEEDS = range(50)
OBJECTIVES = ("throughput", "vram", "throughput-per-dollar", "cost")


def assert_planner_matches_enumeration(
    cat: Catalog, seed: int, *, max_gpus: int = MAX_GPUS
) -> list[tuple[Build, int, float]]:
    """For a budget drawn from ``seed``: every objective's plan (up to ``max_gpus`` cards)
    scores what exhaustive enumeration up to the same count finds best, is OPTIMAL and passes
    check.
    Returns the enumerated builds."""
    rng = random.Random(1000 + seed)
    budget = float(rng.randrange(2500, 9000, 250))
    builds = enumerate_builds(cat, budget, max_gpus)
    _ACCEPT.clear()
    for objective in OBJECTIVES:
        expect = best_by(builds, objective)
        r = plan(
            budget, objective=objective, max_gpus=max_gpus, catalog=cat, explain=False, fill=False
        )
        got = planner_score(r, objective)
        assert got == expect, (seed, objective, r.best and r.best.build, r.status)
        if r.best is not None:
            assert r.status == "OPTIMAL"
            assert not r.best.check.errors
    clear_cache()
    return builds


@pytest.mark.parametrize("seed", SEEDS)
def test_planner_matches_exhaustive_enumeration(seed: int) -> None:
    assert_planner_matches_enumeration(random_catalog(seed), seed)


@pytest.mark.parametrize("seed", range(0, 50, 5))
def test_whole_machine_keeps_the_optimum_and_fills(seed: int) -> None:
    """With the whole-machine stage (the default) the GPUs stay optimal unless the PSU tier
    binds, the build passes the checker and the budget, and its fill points never fall below
    the exact optimum's."""
    from dlrig.optimize.whole import psu_tier_ok

    cat = random_catalog(seed)
    budget = float(random.Random(1000 + seed).randrange(2500, 9000, 250))
    exact = plan(budget, max_gpus=MAX_GPUS, catalog=cat, explain=False, fill=False)
    whole = plan(budget, max_gpus=MAX_GPUS, catalog=cat, explain=False)
    if exact.best is None:
        return
    e = exact.best.build
    tier_ok = psu_tier_ok(e.psu, e.gpus[0], e.gpu_count)  # type: ignore[arg-type]
    if not tier_ok:
        assert whole.best is None or whole.best.tflops <= exact.best.tflops
        return
    assert whole.best is not None
    assert whole.best.tflops == exact.best.tflops
    assert whole.best.price_usd <= budget
    assert not whole.best.check.errors
    w = whole.best.build
    assert w.memory_gb >= e.memory_gb or w.storage_gb >= e.storage_gb or w.price_usd >= e.price_usd
    assert set(whole.best.reasons) >= {"memory", "storage", "psu", "cooler", "cpu"}
