"""Plans on the built-in catalog: every plan passes the checker and meets the request."""

from __future__ import annotations

import itertools

import pytest

pytest.importorskip("ortools")
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlrig.build import Site
from dlrig.optimize import plan
from dlrig.rules import check


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLRIG_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    budget=st.integers(1500, 60000),
    objective=st.sampled_from(["throughput", "vram", "throughput-per-dollar", "cost"]),
    gpus=st.one_of(st.none(), st.integers(1, 4)),
    blower=st.booleans(),
    volts=st.sampled_from([120.0, 230.0]),
)
def test_every_plan_passes_check(
    budget: int, objective: str, gpus: int | None, blower: bool, volts: float
) -> None:
    r = plan(
        budget,
        objective=objective,
        gpus=gpus,
        cooling=["blower"] if blower else None,
        site=Site(volts, 16.0),
        explain=False,
    )
    if r.best is None:
        assert r.infeasible is not None and r.infeasible.reasons
        return
    b = r.best
    again = check(b.build)
    assert not again.errors
    assert b.price_usd <= budget + 1e-6
    if gpus is not None:
        assert b.gpu_count == gpus
    if blower:
        assert all(g.cooling == "blower" for g in b.build.gpus)
    assert not any(
        f.severity.value == "warning" and f.slug in r.held_warnings for f in again.findings
    )


def test_budget_7000_is_optimal_and_explained() -> None:
    r = plan(7000, alternatives=2)
    assert r.status == "OPTIMAL"
    assert r.best is not None and r.best.price_usd <= 7000
    assert r.best.gpu_count >= 1
    # alternatives are distinct GPU choices, each no better than the best
    seen = {(r.best.build.gpus[0].id, r.best.gpu_count)}
    for a in r.alternatives:
        key = (a.build.gpus[0].id, a.gpu_count)
        assert key not in seen
        seen.add(key)
        assert a.tflops <= r.best.tflops + 1e-9
        assert not check(a.build).errors


def test_more_budget_never_hurts() -> None:
    tflops = [plan(b, explain=False).best.tflops for b in (3000, 6000, 12000)]  # type: ignore[union-attr]
    assert tflops == sorted(tflops)
    assert tflops[0] < tflops[-1]


def test_too_small_budget_explains_and_offers_cheapest() -> None:
    r = plan(300, explain=False)
    assert r.best is None and r.status == "INFEASIBLE"
    assert r.infeasible is not None
    assert "too small" in r.infeasible.reasons[0]
    cheapest = r.infeasible.cheapest
    assert cheapest is not None and cheapest.price_usd > 300
    assert not check(cheapest.build).errors


def test_workload_vram_and_ram_are_met() -> None:
    from dlrig.sizing import vram_required_gib
    from dlrig.workload import workload_from_mapping

    wl = {
        "model": "llama-3.1-8b",
        "task": "lora",
        "micro_batch": 1,
        "sequence": 2048,
        "gradient_checkpointing": True,
    }
    r = plan(8000, wl, explain=False)
    assert r.best is not None
    b = r.best
    w = workload_from_mapping(wl)
    assert vram_required_gib(w, b.gpu_count) <= b.build.gpus[0].vram_gib
    assert b.build.memory_gib >= b.workload["system"]["ram_gib"]  # type: ignore[index]


def test_impossible_workload_says_what_is_missing() -> None:
    r = plan(60000, {"model": "llama-3.1-70b", "task": "train"}, explain=False)
    assert r.best is None
    assert r.infeasible is not None
    assert "GiB per GPU" in r.infeasible.reasons[0]


def test_upgrade_path_fits_the_final_gpu_count() -> None:
    r = plan(6000, gpus=1, upgrade_to=3, explain=False, allow=["wall-circuit"])
    assert r.best is not None
    b = r.best
    assert b.gpu_count == 1
    assert b.future is not None and b.future.gpu_count == 3
    assert not check(b.future).errors
    assert b.future_price_usd is not None and b.future_price_usd > b.price_usd


def test_include_and_exclude() -> None:
    r = plan(9000, include=["NVIDIA RTX 4000 Ada Generation"], explain=False)
    assert r.best is not None
    assert {g.id for g in r.best.build.gpus} == {"nvidia-rtx-4000-ada"}
    best = plan(9000, explain=False).best
    assert best is not None
    top = best.build.gpus[0].id
    other = plan(9000, exclude=[top], explain=False).best
    assert other is not None and top not in other.build.part_ids


def test_frontier_is_pareto() -> None:
    r = plan(8000, frontier=True, explain=False)
    pts = [(f.price_usd, f.tflops) for f in r.frontier]
    assert len(pts) >= 2
    for (p1, t1), (p2, t2) in itertools.pairwise(pts):
        assert p2 < p1 and t2 < t1


def test_binding_constraints_named() -> None:
    r = plan(5000)
    assert r.best is not None
    assert any(b.group == "budget" for b in r.binding)
    assert any(b.group == "multi-gpu-airflow" for b in r.binding)


def test_included_part_is_enforced_or_infeasible() -> None:
    """--include is a demand: a plan either contains the part or says no build exists."""
    from dlrig.catalog import open_catalog
    from dlrig.optimize import plan

    cat = open_catalog()
    six_k = cat.resolve("NVIDIA RTX 6000 Ada Generation")
    ok = plan(catalog=cat, budget_usd=40000, include=[six_k.name], gpus=2, explain=False)
    assert ok.best is not None and six_k.id in ok.best.build.part_ids
    # four 48 GB cards need 192 GB of RAM (RAM >= VRAM), more than any priced board here holds
    no = plan(catalog=cat, budget_usd=40000, include=[six_k.name], gpus=4, explain=False)
    assert no.best is None or six_k.id in no.best.build.part_ids


def test_planner_never_pairs_a_chipset_with_a_cpu_it_rejects() -> None:
    """WRX90 runs only Threadripper PRO: with the board and an sTR5 cooler priced, the plan
    must pick a PRO CPU for it (the checker's cpu-socket rule, shared limits)."""
    from dlrig.catalog import open_catalog
    from dlrig.optimize import plan
    from dlrig.rules import limits as L

    cat = open_catalog()
    board = cat.resolve("ASUS Pro WS WRX90E-SAGE SE")
    result = plan(
        catalog=cat,
        budget_usd=60000,
        include=[board.name],
        part_prices={board.name: 1299, "Noctua NH-U14S TR5-SP6": 150},
        explain=False,
    )
    assert result.best is not None
    build = result.best.build
    assert build.motherboard is not None and build.motherboard.id == board.id
    assert build.cpu is not None and L.cpu_supported_by_chipset(build.cpu.name, "WRX90")
    assert "PRO" in build.cpu.name
