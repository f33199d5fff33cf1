"""GPU power limits as a planner decision (issue 14): the planner may cap cards at measured
power limits to fit a PSU or a wall circuit, reports what the caps cost in throughput, writes
``power_limit_w`` into ``plan -o`` files, and still matches exhaustive enumeration."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("ortools")

from dlrig import gpu_power
from dlrig.build import Site
from dlrig.catalog.core import Catalog
from dlrig.optimize import plan
from dlrig.parts import Category, Gpu
from dlrig.rules import Severity
from test_optimize import (
    assert_planner_matches_enumeration,
    random_catalog,
)

MAX_GPUS = 4


def capped_catalog(seed: int) -> Catalog:
    """The random catalog of test_optimize with its first chip made an RTX 3090 (sourced limit
    range and power-limit curve, so the planner may cap it) at the 3090's 350 W."""
    cat = random_catalog(seed)
    chips = [c.model_copy(update={"id": "rtx-3090"}) if c.id == "chip0" else c for c in cat.chips]
    parts = [
        p.model_copy(update={"chip": "rtx-3090", "tdp_w": 350})
        if isinstance(p, Gpu) and p.chip == "chip0"
        else p
        for p in cat.parts()
    ]
    return Catalog(parts, chips, name=f"capped-{seed}", version=f"capped-{seed}")


def test_cap_options_are_the_measured_points_above_the_floor(catalog: Any) -> None:
    gpu = catalog.resolve("Gigabyte GeForce RTX 3090 TURBO 24G")
    caps = gpu_power.cap_options(gpu)
    # Puget/jankyai points at 300/280/250/225 W; 200 W keeps 81 % (< PLAN_CAP_MIN_THROUGHPUT)
    assert [c for c, _ in caps] == [300, 280, 250, 225]
    assert caps[1][1] == pytest.approx(0.95)
    assert all(k >= gpu_power.PLAN_CAP_MIN_THROUGHPUT for _, k in caps)
    # the 4090 and 5090 have sourced limit ranges but no power-limit curve: no caps offered
    assert gpu_power.cap_options(catalog.resolve("NVIDIA GeForce RTX 4090 Founders Edition")) == ()


@pytest.mark.parametrize("seed", range(0, 40, 4))
def test_planner_with_caps_matches_exhaustive_enumeration(seed: int) -> None:
    builds = assert_planner_matches_enumeration(capped_catalog(seed), seed, max_gpus=MAX_GPUS)
    assert any(b.power_limited for b, _, _ in builds)  # the reference enumerates the caps


def test_caps_let_four_3090s_onto_one_15_a_circuit(catalog: Any) -> None:
    card = "Gigabyte GeForce RTX 3090 TURBO 24G"
    site = Site(mains_voltage_v=120, circuit_amps=15)
    r = plan(9000, gpus=4, include=[card], catalog=catalog, site=site, explain=False)
    assert r.best is not None and r.status == "OPTIMAL"
    limit = r.best.power_limit
    assert limit is not None and limit["power_limit_w"] < 350
    (item,) = r.best.build.items[Category.GPU]
    assert item.part.name == card and item.count == 4
    assert item.power_limit_w == limit["power_limit_w"]  # the catalog card, capped
    assert limit["throughput_kept"] == pytest.approx(
        gpu_power.relative_throughput("rtx-3090", 350, limit["power_limit_w"]), abs=1e-4
    )
    assert f"capped at {limit['power_limit_w']} W" in limit["text"]
    assert "of uncapped throughput" in limit["text"]
    # JSON: the GPU line carries the limit
    gpu_line = r.best.to_dict()["parts"]["gpu"][0]
    assert gpu_line["power_limit_w"] == limit["power_limit_w"]
    # without caps the same request cannot fit four 350 W cards on 15 A
    stock = plan(
        9000, gpus=4, include=[card], catalog=catalog, site=site, explain=False, power_limits=False
    )
    assert stock.best is None


def test_plan_file_writes_the_power_limit(catalog: Any, tmp_path: Any) -> None:
    from dlrig.buildfile import load_build
    from dlrig.optimize.planfile import plan_file_text, plan_header

    card = "Gigabyte GeForce RTX 3090 TURBO 24G"
    r = plan(9000, gpus=4, include=[card], catalog=catalog, explain=False)
    assert r.best is not None and r.best.power_limit is not None
    text = plan_file_text(r.best, plan_header(r.best, [], None))
    cap = r.best.power_limit["power_limit_w"]
    assert f"power_limit_w: {cap}" in text and "nvidia-smi -pl" in text
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    again = load_build(path, catalog)
    assert again.gpu_units[0].power_limit_w == cap and again.gpu_power_w == 4 * cap


# --- transients per GPU generation (gpu_power.yaml), not a 3090-only constant -----------------
TITAN = "NVIDIA TITAN Xp"
RM850X = "Corsair RM850x (2021)"  # 850 W, pre-ATX 3.0, over-power protection measured at 1,049 W
CPU = "Intel Core i5-14600K"  # 125 W


def _pascal_plan(catalog: Any, opp_w: int | None) -> Any:
    """2× TITAN Xp (Pascal GP102: ×1.225 transients) with a 125 W CPU on the RM850x, whose
    measured trip point is set to ``opp_w``."""
    psu = catalog.resolve(RM850X)
    parts = [
        p.model_copy(update={"opp_w": opp_w}) if p.id == psu.id else p for p in catalog.parts()
    ]
    cat = Catalog(parts, list(catalog.chips), name=f"opp-{opp_w}", version=f"opp-{opp_w}")
    return plan(
        20000,
        gpus=2,
        include=[TITAN, CPU, RM850X],
        precision="fp32",  # Pascal has no bf16 rate
        allow=["tensor-cores", "pcie-lanes"],
        fill=False,
        part_prices={TITAN: 300},
        catalog=cat,
        explain=False,
    )


def test_planner_counts_pascal_transients_like_the_checker(catalog: Any) -> None:
    from dlrig.rules import check

    # sustained 2×250 + 125 + rest ≈ 690 W (×1.1 fits 850 W); the spikes add 2×250×0.225 W
    known = _pascal_plan(catalog, opp_w=1049)  # a measured trip point: the label is the line
    assert known.best is not None
    build = known.best.build
    assert [p.name for p in build.psus] == [RM850X]
    spikes = build.psu_loads[0].load_w + 2 * 250 * 0.225
    assert 850 / 1.1 < spikes < 850
    assert "psu-headroom" not in check(build).slugs()
    # no trip point known: the checker warns (label ×1.1 < spikes), so the planner refuses it;
    # a planner with the 3090-only constant returned this build
    unknown = _pascal_plan(catalog, opp_w=None)
    assert unknown.best is None and unknown.status == "INFEASIBLE"
    from dlrig.build import BuildItem

    no_opp = catalog.resolve(RM850X).model_copy(update={"opp_w": None})
    loose = build.replace(items={**build.items, Category.PSU: (BuildItem(no_opp, 1),)})
    assert "psu-headroom" in check(loose).slugs(Severity.WARNING)


def test_no_cap_when_it_buys_nothing(catalog: Any) -> None:
    """--used --objective vram: a capped 3090 ties with the uncapped one on VRAM and price; the
    plan keeps the card uncapped (a cap that buys nothing only costs throughput)."""
    from dlrig.app.plan import priced_catalog

    used = priced_catalog(catalog, "new,used")
    r = plan(2000, objective="vram", catalog=used, explain=False)
    assert r.best is not None and r.best.build.gpu_units[0].gpu.chip == "rtx-3090"
    assert r.best.power_limit is None
    assert all(u.power_limit_w is None for u in r.best.build.gpu_units)
    # the same with a GPU count the circuit holds uncapped, for every objective that can tie
    for objective in ("vram", "throughput", "cost"):
        r = plan(2000, objective=objective, gpus=1, catalog=used, explain=False, min_tflops=1)
        assert r.best is not None and r.best.power_limit is None, objective
