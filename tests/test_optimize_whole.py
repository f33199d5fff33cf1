"""The whole-machine stage: PSU tier floor, the rest of the budget spent on targets, reasons,
caveats, the unspent-budget explanation and the editable ``plan -o`` file."""

from __future__ import annotations

import pytest

pytest.importorskip("ortools")

import yaml

from dlrig.buildfile import parse_build
from dlrig.catalog import open_catalog
from dlrig.optimize import plan
from dlrig.optimize.planfile import plan_file_text, plan_header
from dlrig.optimize.whole import efficiency_rank, multi_gpu_rank, psu_class_w, psu_tier_ok
from dlrig.parts import Category, Gpu


def _gpu(chip: str) -> Gpu:
    return next(g for g in open_catalog().parts(Category.GPU) if g.chip == chip)  # type: ignore[misc]


def test_psu_class_is_the_vendor_requirement_plus_further_cards() -> None:
    g = _gpu("rtx-5090")
    assert psu_class_w(g, 1) == 1000  # NVIDIA: 1000 W required system power
    assert psu_class_w(g, 2) == 1000 + g.tdp_w
    assert psu_class_w(_gpu("rtx-a6000"), 1) is None  # not listed: the headroom rule alone


def test_tier_needs_gold_for_two_gpus() -> None:
    cat = open_catalog()
    g = _gpu("rtx-5090")
    for p in cat.parts(Category.PSU):
        ok = psu_tier_ok(p, g, 2)  # type: ignore[arg-type]
        if ok:
            assert efficiency_rank(p) >= multi_gpu_rank()  # type: ignore[arg-type]
            assert p.wattage_w >= 1000 + g.tdp_w  # type: ignore[attr-defined]


def test_default_plan_fills_and_explains() -> None:
    r = plan(7000)
    exact = plan(7000, fill=False, explain=False)
    assert r.best is not None and exact.best is not None
    assert r.best.tflops == exact.best.tflops  # the GPUs stay the optimum
    assert exact.best.price_usd <= r.best.price_usd <= 7000
    b = r.best.build
    assert b.memory_gb >= 2 * r.best.vram_gib  # Puget: RAM 2× VRAM, reached within budget
    assert b.memory_gb > exact.best.build.memory_gb
    assert r.best.reasons["memory"].startswith(f"{b.memory_gb} GB")
    assert b.psu is not None and psu_tier_ok(b.psu, b.gpus[0], b.gpu_count)
    # more than 10% left over: the plan names what blocks a third card
    assert r.unspent is not None and "blocked by" in r.unspent


def test_cost_objective_stays_cheapest() -> None:
    a = plan(objective="cost", min_tflops=50, explain=False)
    b = plan(objective="cost", min_tflops=50, explain=False, fill=False)
    assert a.best is not None and b.best is not None
    assert a.best.price_usd == b.best.price_usd


def test_workload_need_is_in_the_reason() -> None:
    r = plan(4000, "llama-3.1-8b", task="qlora", explain=False)
    assert r.best is not None
    need = r.best.workload["system"]["ram_gib"]  # type: ignore[index]
    assert r.best.build.memory_gb >= need
    assert "workload needs" in r.best.reasons["memory"]


def test_plan_file_is_block_yaml_with_reasons_and_reads_back() -> None:
    r = plan(7000, explain=False)
    assert r.best is not None
    text = plan_file_text(r.best, plan_header(r.best, r.caveats, r.unspent))
    assert "{" not in text  # block style only
    assert f"# {r.best.reasons['psu']}" in text
    data = yaml.safe_load(text)
    back = parse_build(data, catalog=open_catalog())
    assert back.price_usd == r.best.build.price_usd
    assert [p.id for p in back.parts] == [p.id for p in r.best.build.parts]
