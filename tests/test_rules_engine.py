"""The rules engine: registry, unchecked reporting, docs, and properties over random builds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlrig.build import Build, BuildItem
from dlrig.errors import InputError
from dlrig.parts import Category
from dlrig.rules import RULES, TOPICS, Severity, check, get_rule
from dlrig.rules import limits as L
from dlrig.rules.docs import render

ROOT = Path(__file__).resolve().parents[1]
PUBLIC_SLUGS = {
    "psu-headroom", "gpu-power-connectors", "wall-circuit",
    "cpu-socket", "memory-type", "memory-capacity", "memory-ecc", "gpu-slots", "pcie-lanes",
    "slot-spacing", "m2-slots",
    "case-form-factor", "gpu-length", "case-expansion-slots", "cooler-height", "radiator-mount",
    "psu-fit", "drive-bays",
    "cooler-socket", "cooler-capacity", "multi-gpu-airflow",
    "ram-vs-vram", "cpu-threads-per-gpu", "tensor-cores", "cuda-support", "fast-storage",
    "mixed-gpus", "nvlink-p2p",
}  # fmt: skip


def test_public_slugs_are_registered() -> None:
    assert set(RULES) >= PUBLIC_SLUGS


def test_codes_unique_and_prefixed() -> None:
    codes = [r.code for r in RULES.values()]
    assert len(codes) == len(set(codes))
    for r in RULES.values():
        assert r.code.startswith(TOPICS[r.topic])
        d = r.to_dict()
        assert d["why"] and d["bad"] and d["good"], r.slug


def test_get_rule_by_code_and_typo() -> None:
    assert get_rule("p001").slug == "psu-headroom"
    with pytest.raises(InputError, match="unknown rule") as info:
        get_rule("psu-headrom")
    assert "psu-headroom" in info.value.hint


def test_docs_are_current() -> None:
    doc = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert doc == render(), "docs/rules.md is stale: run `python -m dlrig.rules.docs`"
    for slug in RULES:
        assert f"### {slug}\n" in doc, f"rule {slug} is undocumented"


def test_empty_build_is_all_unchecked_or_silent() -> None:
    """With nothing known, every rule either says unchecked or has nothing to judge."""
    result = check(Build("empty", {}))
    assert result.findings == [] or all(f.parts for f in result.findings)
    unchecked = {u.slug for u in result.unchecked}
    assert {"psu-headroom", "cpu-socket", "case-form-factor", "cooler-socket"} <= unchecked
    assert all(u.reason for u in result.unchecked)


def test_unknown_data_is_unchecked_not_pass(catalog: Any) -> None:
    board = catalog.resolve("ASUS WS X299 SAGE", Category.MOTHERBOARD)
    cpu = catalog.resolve("Intel Core i9-10920X", Category.CPU)
    gpu = catalog.resolve("ASUS Turbo GeForce RTX 2080 Ti", Category.GPU)
    # a GPU whose chip is not in the catalog: chip-based rules must say unchecked
    odd = gpu.model_copy(update={"id": "custom-odd", "chip": "no-such-chip", "custom": True})
    b = Build.from_parts({"cpu": cpu, "motherboard": board, "gpu": [(odd, 2)]})
    result = check(b, rules=["tensor-cores", "cuda-support", "nvlink-p2p"])
    assert {u.slug for u in result.unchecked} == {"tensor-cores", "cuda-support", "nvlink-p2p"}


def test_json_shape(catalog: Any) -> None:
    from dlrig.buildfile import load_build

    d = check(load_build(ROOT / "examples" / "warmachine.yaml", catalog)).to_dict()
    assert set(d) >= {"ok", "build", "findings", "unchecked", "totals"}
    assert d["ok"] is True and d["build"] == "Warmachine"
    assert set(d["totals"]) >= {
        "price_usd",
        "peak_power_w",
        "wall_power_w",
        "vram_gib",
        "gpu_count",
    }
    for f in d["findings"]:
        assert set(f) == {"rule", "slug", "severity", "message", "hint", "parts"}
        assert f["severity"] in ("error", "warning", "info")
    assert all(isinstance(s, str) for s in d["unchecked"])


def test_limits_are_planner_friendly(catalog: Any) -> None:
    assert L.psu_required_w(165, [250] * 4, 95) == pytest.approx(1.1 * 1260)
    assert L.psu_efficiency("80+ Gold") == (0.90, False)
    assert L.psu_efficiency(None) == (0.80, True)
    # two PSUs as one: a Gold one feeding 1,000 W and an unrated one feeding 250 W draw
    # 1000/0.90 + 250/0.80 = 1,423.6 W at the wall for 1,250 W DC; a PSU with no load counts not
    eff, assumed = L.combined_psu_efficiency([(1000, "80+ Gold"), (250, None), (0, "80+")])
    assert eff == pytest.approx(1250 / (1000 / 0.90 + 250 / 0.80)) and assumed
    assert L.combined_psu_efficiency([(0, "80+ Platinum"), (0, None)]) == (0.92, False)
    assert L.combined_psu_efficiency([]) == (0.80, True)
    assert L.board_fits_case("SSI CEB", ["ATX", "E-ATX"]) == ("likely", "E-ATX")
    assert L.board_fits_case("SSI CEB", ["ATX"])[0] == "verify"
    assert L.board_fits_case("E-ATX", ["Micro-ATX"])[0] == "no"
    assert L.board_fits_case("ATX", ["E-ATX"])[0] == "fits"
    gpu = catalog.resolve("NVIDIA GeForce RTX 3090 Founders Edition", Category.GPU)
    assert L.gpu_power_cap_for_circuit_w(1440, 0.9, 300, 4) == pytest.approx(249)
    board = catalog.resolve("ASUS WS X299 SAGE", Category.MOTHERBOARD)
    place = L.place_gpus(board, [gpu] * 4)
    assert [s.position for _, s in place.placed] == [1, 4, 7] and len(place.unplaced) == 1
    blower = catalog.resolve("ASUS Turbo GeForce RTX 2080 Ti", Category.GPU)
    place = L.place_gpus(board, [blower] * 4)
    assert [s.position for _, s in place.placed] == [1, 3, 5, 7]
    assert place.lanes == (16, 16, 16, 16) and place.bottom == 8


# --- properties over random builds from the catalog ----------------------------------------------
def _random_builds(catalog: Any) -> Any:
    def one(cat: Category) -> Any:
        parts = catalog.parts(cat)
        return st.sampled_from(parts) if parts else st.none()

    single = {
        c: one(c)
        for c in (Category.CPU, Category.MOTHERBOARD, Category.PSU, Category.COOLER, Category.CASE)
    }
    multi = {
        Category.GPU: st.lists(st.tuples(one(Category.GPU), st.integers(1, 4)), max_size=2),
        Category.MEMORY: st.lists(
            st.tuples(one(Category.MEMORY), st.integers(1, 2)), min_size=1, max_size=2
        ),
        Category.STORAGE: st.lists(st.tuples(one(Category.STORAGE), st.integers(1, 3)), max_size=3),
    }

    @st.composite
    def build(draw: Any) -> Build:
        items: dict[Category, list[BuildItem]] = {}
        for c, s in single.items():
            p = draw(st.one_of(st.none(), s) if c is Category.COOLER else s)
            items[c] = [BuildItem(p)] if p is not None else []
        for c, s in multi.items():
            items[c] = [BuildItem(p, n) for p, n in draw(s) if p is not None]
        return Build("random", items, catalog=catalog)

    return build()


@pytest.fixture(scope="module")
def builds(catalog: Any) -> Any:
    return _random_builds(catalog)


def test_property_never_crashes_deterministic_names_parts(catalog: Any) -> None:
    @settings(
        max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(_random_builds(catalog))
    def prop(build: Build) -> None:
        first = check(build)
        again = check(build.replace())
        assert first.findings == again.findings
        assert first.unchecked == again.unchecked
        ids = build.part_ids
        for f in first.findings:
            assert f.parts, f
            assert set(f.parts) <= ids, (f.parts, ids)
            assert f.message and f.hint
            assert f.severity in (Severity.ERROR, Severity.WARNING, Severity.INFO)
        assert first.rules_run == len(RULES)
        first.to_dict()  # serialisable

    prop()


def test_check_plugs_verdicts_shared_by_rule_and_planner() -> None:
    from dlrig.rules import limits as L

    two_4090 = L.ConnectorDemand(pcie_8pin=0, pcie_12vhpwr=2, adapter_8pin=6)  # 3 plugs per card
    assert L.check_plugs(two_4090, 6, 2).verdict == "ok"
    adapter = L.check_plugs(two_4090, 6, 1)
    assert (adapter.verdict, adapter.short_native, adapter.adapter_plugs) == ("adapter", 1, 3)
    assert L.check_plugs(two_4090, 2, 1).verdict == "short-12vhpwr"
    four_3090 = L.ConnectorDemand(pcie_8pin=8, pcie_12vhpwr=0, adapter_8pin=0)
    assert L.check_plugs(four_3090, 6, 2).verdict == "short-8pin"
    assert L.check_plugs(four_3090, 8, 0).spare_8pin == 0


def test_psu_form_fit_shared_by_rule_and_planner() -> None:
    from dlrig.rules import limits as L

    assert L.psu_form_fit("ATX", ("ATX",)) == "ok"
    assert L.psu_form_fit("SFX", ("ATX",)) == "bracket"
    assert L.psu_form_fit("ATX", ("SFX", "SFX-L")) == "no"
