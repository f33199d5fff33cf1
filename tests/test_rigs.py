"""The rigs people really build (issue 14): power limits, several PSUs and circuits, transients,
open frames and risers, slot assignment, overrides of catalog parts, and the published cases in
examples/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dlrig import gpu_power
from dlrig.buildfile import load_build, load_build_text, parse_build
from dlrig.errors import BuildFileError
from dlrig.rules import Severity, check
from dlrig.rules import limits as L

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

BASE = """
name: t
parts:
  cpu: Intel Core i9-10920X
  motherboard: ASUS WS X299 SAGE
  memory: Corsair Vengeance LPX 128GB (8x16GB) DDR4-2666
  gpu: {gpu}
  storage: Samsung 970 EVO 1TB
  psu: {psu}
  cooler: Corsair H115i PRO
  case: Corsair Carbide Air 540
"""


def _build(catalog: Any, gpu: str, psu: str = "Rosewill Hercules 1600W", extra: str = "") -> Any:
    return load_build_text(BASE.format(gpu=gpu, psu=psu) + extra, catalog)


# --- power limits --------------------------------------------------------------------------------
def test_power_limit_sets_each_cards_power(catalog: Any) -> None:
    capped = _build(
        catalog, "{part: Gigabyte GeForce RTX 3090 TURBO 24G, count: 4, power_limit_w: 300}"
    )
    stock = _build(catalog, "{part: Gigabyte GeForce RTX 3090 TURBO 24G, count: 4}")
    assert capped.gpu_power_w == 1200 and stock.gpu_power_w == 1400
    assert capped.gpu_tdp_w == 1400  # rated board power is unchanged
    assert stock.peak_power_w - capped.peak_power_w == pytest.approx(200)
    assert capped.power_limited and not stock.power_limited


def test_power_limit_below_the_cards_minimum_is_bad_input(catalog: Any) -> None:
    with pytest.raises(BuildFileError) as exc:
        _build(catalog, "{part: NVIDIA GeForce RTX 4090 Founders Edition, power_limit_w: 108}")
    assert "below the 150 W minimum power limit" in exc.value.message
    assert exc.value.line == 7  # the gpu: line


def test_amd_power_limit_range_from_amd_smi(catalog: Any) -> None:
    """The R9700's 210-300 W range (amd-smi, ROCm/amdsmi#195) bounds power_limit_w like
    nvidia-smi's range bounds an NVIDIA card's; inside it the limit is the card's power."""
    card = "AMD Radeon AI PRO R9700"
    with pytest.raises(BuildFileError) as low:
        _build(catalog, f"{{part: {card}, count: 2, power_limit_w: 180}}")
    assert "below the 210 W minimum power limit" in low.value.message
    assert "power1_cap_min" in low.value.hint
    with pytest.raises(BuildFileError, match="above the 300 W maximum"):
        _build(catalog, f"{{part: {card}, count: 2, power_limit_w: 320}}")
    ok = _build(catalog, f"{{part: {card}, count: 2, power_limit_w: 250}}")
    assert ok.gpu_power_w == 500


@pytest.mark.parametrize("value", ["0", "-5", "'300'", "true", "1000"])
def test_bad_power_limits(catalog: Any, value: str) -> None:
    with pytest.raises(BuildFileError, match=r"power_limit_w|twice the"):
        _build(catalog, f"{{part: ASUS Turbo GeForce RTX 2080 Ti, power_limit_w: {value}}}")


def test_power_limit_only_on_gpus(catalog: Any) -> None:
    with pytest.raises(BuildFileError, match="GPU entries only"):
        _build(
            catalog,
            "ASUS Turbo GeForce RTX 2080 Ti",
            psu="{part: Rosewill Hercules 1600W, power_limit_w: 900}",
        )


def test_perf_vs_limit_curve_is_sourced_and_interpolated() -> None:
    # Kinghorn (Puget Systems): 280 W of 350 W keeps 95% of a RTX 3090's training throughput
    assert gpu_power.relative_throughput("rtx-3090", 350, 280) == pytest.approx(0.95)
    # between 300 W (0.981) and 280 W (0.95)
    assert gpu_power.relative_throughput("rtx-3090", 350, 290) == pytest.approx(0.9655, abs=1e-3)
    assert gpu_power.relative_throughput("rtx-3090", 350, 350) == 1.0
    assert gpu_power.relative_throughput("rtx-3090", 350, 400) == 1.0  # no credit above stock
    assert gpu_power.relative_throughput("rtx-3090", 350, 140) is None  # below measured range
    assert gpu_power.relative_throughput("rtx-4090", 450, 300) is None  # no curve: unknown
    # Dettmers: an RTX 2080 Ti limited by 50 W loses 7%
    assert gpu_power.relative_throughput("rtx-2080-ti", 250, 200) == pytest.approx(0.93)
    curve = gpu_power.curve_for("rtx-3090")
    assert curve is not None and any("pugetsystems" in s for s in curve.sources)


def test_limit_ranges_and_transients_are_sourced(catalog: Any) -> None:
    rng = gpu_power.limit_range("rtx-4090")
    assert rng is not None and rng.min_w == 150 and rng.source.startswith("https://")
    fe = catalog.resolve("NVIDIA GeForce RTX 4090 Founders Edition")
    assert gpu_power.lowest_safe_cap_w(fe) == 150
    five = gpu_power.limit_range("rtx-5090")  # nvidia-smi -a of a 575 W card
    assert five is not None and (five.min_w, five.max_w) == (400, 575)
    assert gpu_power.limit_range("rtx-5080") is None  # no source read: unknown
    titan = catalog.chip_of(catalog.resolve("NVIDIA TITAN Xp"))
    assert gpu_power.transient_factor("titan-xp", titan) == 1.225  # Pascal, by architecture
    assert gpu_power.transient_factor("rtx-3090") == 1.5
    assert gpu_power.transient_factor("rtx-4090", catalog.chip("rtx-4090")) is None


def test_hints_never_propose_a_cap_below_the_minimum(catalog: Any) -> None:
    build = _build(
        catalog,
        "{part: NVIDIA GeForce RTX 4090 Founders Edition, count: 4}",
        psu="Corsair RM850x (2021)",
    )
    found = [f for f in check(build, ["psu-headroom"]).findings if f.slug == "psu-headroom"]
    assert found and "capping cannot get there" in found[0].hint
    assert "below the 150 W minimum power limit" in found[0].hint
    assert "nvidia-smi -pl" not in found[0].hint


# --- several PSUs and circuits -------------------------------------------------------------------
TWO_PSU = """
name: two psus
parts:
  cpu: Intel Core i9-10920X
  motherboard: ASUS WS X299 SAGE
  memory: Corsair Vengeance LPX 128GB (8x16GB) DDR4-2666
  gpu:
  - {part: Gigabyte GeForce RTX 3090 TURBO 24G, count: 2}
  - {part: Gigabyte GeForce RTX 3090 TURBO 24G, count: 2, psu: 2}
  storage: Samsung 970 EVO 1TB
  psu: [Seasonic PRIME PX-2200, {part: Seasonic PRIME TX-1600 ATX 3.1, circuit: 2}]
  cooler: Corsair H115i PRO
  case: Corsair Carbide Air 540
site:
  circuits:
  - {mains_voltage_v: 120, circuit_amps: 15}
  - {mains_voltage_v: 120, circuit_amps: 20}
"""


def test_two_psus_each_feed_their_share(catalog: Any) -> None:
    build = load_build_text(TWO_PSU, catalog)
    first, second = build.psu_loads
    assert first.feeds_system and not second.feeds_system
    assert [u.gpu.tdp_w for u in first.gpus] == [350, 350]
    assert second.load_w == 700 and second.circuit_index == 1
    assert first.load_w == pytest.approx(700 + 165 + build.system_allowance_w)
    assert build.site.circuit_limit_w(1) == 1920
    result = check(build, ["psu-headroom", "wall-circuit", "gpu-power-connectors"])
    assert result.ok and not result.warnings, result.findings


def test_combined_supply_above_3000_w_is_accepted(catalog: Any) -> None:
    build = _build(
        catalog,
        "{part: Gigabyte GeForce RTX 3090 TURBO 24G, count: 4}",
        psu="{custom: {name: Redundant 3200W shelf, wattage_w: 3200, efficiency: 80+ Platinum}}",
    )
    assert build.psu.wattage_w == 3200
    assert "psu-headroom" not in check(build, ["psu-headroom"]).slugs(Severity.ERROR)


def test_low_line_rating_applies_on_120_v(catalog: Any) -> None:
    psu = (
        "{custom: {name: CRPS 2000W, wattage_w: 2000, wattage_low_line_w: 1000, form_factor: CRPS, "
        "efficiency: 80+ Platinum}}"
    )
    gpus = "{part: Gigabyte GeForce RTX 3090 TURBO 24G, count: 3}"
    low = check(_build(catalog, gpus, psu=psu), ["psu-headroom"])
    assert low.errors and "1,000 W on 120 V mains" in low.errors[0].message
    high = _build(catalog, gpus, psu=psu, extra="site: {mains_voltage_v: 230, circuit_amps: 16}\n")
    assert not check(high, ["psu-headroom"]).errors


def test_psu_and_circuit_numbers_must_exist(catalog: Any) -> None:
    with pytest.raises(BuildFileError, match="psu: 3 but the build lists 1 PSU"):
        _build(catalog, "{part: ASUS Turbo GeForce RTX 2080 Ti, psu: 3}")
    with pytest.raises(BuildFileError, match="circuit: 2 but site lists 1 circuit"):
        _build(
            catalog,
            "ASUS Turbo GeForce RTX 2080 Ti",
            psu="{part: Rosewill Hercules 1600W, circuit: 2}",
        )


def test_build_file_round_trip_keeps_limits_psus_slots_and_circuits(catalog: Any) -> None:
    from dlrig.buildfile import build_to_dict

    build = load_build(EXAMPLES / "epyc-open-frame-risers.yaml", catalog)
    again = parse_build(build_to_dict(build), catalog)
    assert build_to_dict(again) == build_to_dict(build)
    assert [u.slot for u in again.gpu_units] == ["PCIE1", "PCIE3", "PCIE5", "PCIE7"]
    assert [u.psu_index for u in again.gpu_units] == [0, 0, 1, 1]
    assert again.psu_circuits == (0, 1) and len(again.site.circuits) == 2


# --- overrides, names, used platforms ------------------------------------------------------------
def test_with_overrides_a_catalog_part(catalog: Any) -> None:
    build = _build(
        catalog, "{part: ASUS Turbo GeForce RTX 2080 Ti, count: 2, with: {length_mm: 300}}"
    )
    gpu = build.gpus[0]
    assert gpu.length_mm == 300 and gpu.custom and gpu.price_usd is not None
    assert gpu.id.startswith("asus-turbo-rtx-2080ti+")
    renamed = _build(
        catalog, "{part: ASUS Turbo GeForce RTX 2080 Ti, with: {name: My blower 2080 Ti}}"
    )
    assert renamed.gpus[0].price_usd is None  # another product: the base part's price is dropped


def test_with_unknown_field_suggests_the_right_one(catalog: Any) -> None:
    with pytest.raises(BuildFileError) as exc:
        _build(catalog, "{part: ASUS Turbo GeForce RTX 2080 Ti, with: {lenght_mm: 300}}")
    assert "no field 'lenght_mm'" in exc.value.message and "length_mm" in exc.value.hint


def test_a_name_with_a_colon_or_comma_gets_told_to_quote_it(catalog: Any) -> None:
    text = BASE.format(gpu="ASUS Turbo GeForce RTX 2080 Ti", psu="Rosewill Hercules 1600W").replace(
        "cpu: Intel Core i9-10920X", "cpu: AMD EPYC 7313P: 16 cores"
    )
    with pytest.raises(BuildFileError) as exc:
        load_build_text(text, catalog)
    assert "quoted" in exc.value.hint
    with pytest.raises(BuildFileError) as exc2:
        _build(catalog, "{part: ASUS Turbo GeForce RTX 2080 Ti, 11GB, count: 2}")
    assert "comma" in exc2.value.message and "quoted" in exc2.value.hint


@pytest.mark.parametrize("socket", ["LGA2011-3", "sTR4", "LGA2011", "LGA3647"])
def test_used_platform_sockets_are_accepted_in_custom_parts(catalog: Any, socket: str) -> None:
    cpu = (
        f"{{custom: {{name: Old CPU, vendor: intel, socket: {socket}, cores: 8, threads: 16, "
        "tdp_w: 140, memory_types: [DDR4]}}"
    )
    text = BASE.format(gpu="ASUS Turbo GeForce RTX 2080 Ti", psu="Rosewill Hercules 1600W")
    build = load_build_text(text.replace("cpu: Intel Core i9-10920X", f"cpu: {cpu}"), catalog)
    assert build.cpu.socket == socket


def test_used_and_server_platforms_are_in_the_catalog(catalog: Any) -> None:
    board = catalog.resolve("ROMED8-2T")
    assert board.socket == "SP3" and len(board.x16_slots) == 7
    assert all(s.source == "cpu" and s.gen == 4 for s in board.pcie_slots)
    assert catalog.resolve("EPYC 7313P").pcie_lanes == 128
    assert catalog.resolve("E5-2697 v4").socket == "LGA2011-3"
    assert catalog.resolve("X399 Taichi").socket == "sTR4"
    for name in ("TITAN Xp", "GTX 1080", "RTX 3070", "RX 6900 XT", "H200 NVL", "B200", "R9700"):
        chip = catalog.chip(name) if catalog.chip(name) else None
        assert chip is not None and chip.source.startswith("https://"), name


# --- open frames, risers, slots ------------------------------------------------------------------
def test_slot_assignment_is_honoured_by_placement(catalog: Any) -> None:
    build = _build(
        catalog,
        "{part: ASUS Turbo GeForce RTX 2080 Ti, count: 2, slot: [PCIEX16_3, PCIEX16_7]}",
    )
    result = check(build)
    placed = [f for f in result.findings if f.slug == "gpu-placement"]
    assert placed and placed[0].severity is Severity.INFO
    assert "GPU 1 → PCIEX16_3 (position 3)" in placed[0].message
    assert "GPU 2 → PCIEX16_7 (position 7)" in placed[0].message
    # a 2-slot card in slot 7 reaches case slot 8: the Air 540 has 8
    assert "case-expansion-slots" not in result.slugs(Severity.ERROR)


def test_riser_generation_limits_the_link(catalog: Any) -> None:
    from dlrig.buildfile import build_to_dict

    build = build_to_dict(load_build(EXAMPLES / "epyc-open-frame-risers.yaml", catalog))
    build["parts"]["gpu"][0]["riser"] = {"length_mm": 300, "pcie_gen": 3}
    result = check(parse_build(build, catalog), ["gpu-placement"])
    info = result.findings[0]
    assert "GPU 1 → PCIE1 (position 1) on 300 mm PCIe 3.0 riser: x16 PCIe 3.0" in info.message
    assert "GPU 1 runs at PCIe 3.0" in info.hint
    assert "GPU 3 → PCIE5 (position 5) on 200 mm PCIe 4.0 riser: x16 PCIe 4.0" in info.message


def test_m2_adapter_riser_narrows_the_link(catalog: Any) -> None:
    build = _build(
        catalog,
        "{part: ASUS Turbo GeForce RTX 2080 Ti, riser: {kind: m2-adapter, lanes: 4, pcie_gen: 3}}",
    )
    lanes = [f for f in check(build, ["pcie-lanes"]).findings]
    assert lanes and lanes[0].severity is Severity.WARNING and "x4" in lanes[0].message


def test_riser_cards_do_not_collide_on_the_board(catalog: Any) -> None:
    gpu = "{part: NVIDIA GeForce RTX 3090 Founders Edition, count: 4%s}"
    stacked = _build(catalog, gpu % "")
    risers = _build(catalog, gpu % ", riser: {length_mm: 200, pcie_gen: 4}")
    assert "slot-spacing" in check(stacked, ["slot-spacing"]).slugs(Severity.ERROR)
    assert not check(risers, ["slot-spacing", "multi-gpu-airflow"]).findings


def test_open_frame_example_has_no_false_errors_or_warnings(catalog: Any) -> None:
    build = load_build(EXAMPLES / "epyc-open-frame-risers.yaml", catalog)
    assert not any(it.part.custom for its in build.items.values() for it in its)
    result = check(build)
    assert result.ok and not result.warnings, result.findings
    assert {u.slug for u in result.unchecked} == {"cooler-capacity"}
    assert build.case.kind == "open-frame" and len(build.psus) == 2


# --- the published cases -------------------------------------------------------------------------
def test_puget_capped_quad_3090_runs_on_one_1600_w_psu(catalog: Any) -> None:
    result = check(load_build(EXAMPLES / "four-3090-capped-1600w.yaml", catalog))
    assert result.ok
    warn = [f for f in result.findings if f.slug == "psu-headroom"]
    assert warn[0].severity is Severity.WARNING and "1,477 W" in warn[0].message


def test_puget_uncapped_quad_3090_fails_psu_headroom(catalog: Any) -> None:
    result = check(load_build(EXAMPLES / "four-3090-uncapped-1600w.yaml", catalog))
    assert result.slugs(Severity.ERROR) == {"psu-headroom"}
    assert "even the sustained 1,677 W exceeds it" in result.errors[0].message


def test_two_titan_xp_on_an_unnamed_850_w_psu_fail(catalog: Any) -> None:
    # Behuret's rig rebooted under training; the article names the PSU by its wattage only
    result = check(load_build(EXAMPLES / "two-titan-xp-850w.yaml", catalog))
    assert result.slugs(Severity.ERROR) == {"psu-headroom"}
    msg = result.errors[0].message
    assert "×1.225" in msg and "846 W" in msg and "930 W" in msg
    assert "Nothing but the label is known" in msg


def _titan_rig(catalog: Any, psu: str) -> Any:
    from dlrig.buildfile import build_to_dict

    data = build_to_dict(load_build(EXAMPLES / "two-titan-xp-850w.yaml", catalog))
    data["parts"]["psu"] = psu
    return parse_build(data, catalog)


def test_a_measured_opp_trip_point_decides_the_spikes(catalog: Any) -> None:
    # the RM850x (2021) trips at 1,049 W (Tom's Hardware): 846 W of spikes ride through
    rm = catalog.resolve("Corsair RM850x (2021)")
    assert rm.opp_w == 1049 and "tomshardware.com" in (rm.opp_source or "")
    ok = check(_titan_rig(catalog, "Corsair RM850x (2021)"), ["psu-headroom"])
    assert not ok.findings
    low = {"part": "Corsair RM850x (2021)", "with": {"opp_w": 800}}
    bad = check(_titan_rig(catalog, low), ["psu-headroom"])  # type: ignore[arg-type]
    assert bad.errors and "above the 800 W at which its over-power protection trips" in (
        bad.errors[0].message
    )


def test_a_known_model_without_a_measured_trip_point_gets_a_warning(catalog: Any) -> None:
    known = {"part": "Corsair RM850x (2021)", "with": {"opp_w": None}}
    result = check(_titan_rig(catalog, known), ["psu-headroom"])  # type: ignore[arg-type]
    assert not result.errors and result.warnings
    assert "over-power trip point is not in the catalog" in result.warnings[0].message


def test_limits_module_keeps_the_planners_functions() -> None:
    # the planner (optimize/) still calls these; power limits are an addition, not a rename
    assert L.psu_required_w(165, [300, 300], 100) == pytest.approx(1.1 * 865)
    assert L.gpu_power_cap_for_psu_w(1600, 277, 4) == pytest.approx((1600 / 1.1 - 277) / 4)
    assert L.psu_usable_w(2000, 1000, 120) == 1000 and L.psu_usable_w(2000, 1000, 230) == 2000


def test_custom_parts_may_leave_facts_unknown(catalog: Any) -> None:
    text = BASE.format(gpu="ASUS Turbo GeForce RTX 2080 Ti", psu="Rosewill Hercules 1600W")
    text = text.replace(
        "cpu: Intel Core i9-10920X",
        "cpu: {custom: {name: Used Xeon, vendor: intel, socket: LGA2066, cores: 10, threads: 20, "
        "tdp_w: 140}}",
    ).replace("cooler: Corsair H115i PRO", "cooler: {custom: {name: Some cooler, kind: air}}")
    text = text.replace(
        "case: Corsair Carbide Air 540", "case: {custom: {name: Old tower, form_factor: Tower}}"
    )
    build = load_build_text(text, catalog)
    result = check(build, ["memory-type", "cooler-socket", "case-form-factor"])
    assert not result.findings
    reasons = {u.slug: u.reason for u in result.unchecked}
    assert reasons == {
        "memory-type": "memory types of Used Xeon are unknown",
        "cooler-socket": reasons["cooler-socket"],
        "case-form-factor": "board form factors Old tower takes are unknown",
    }


def test_cap_hints_say_how_much_throughput_the_cap_keeps(catalog: Any) -> None:
    # four RTX 3090 on a 120 V / 15 A circuit: the cap that fits keeps ~94% (measured curve)
    result = check(load_build(EXAMPLES / "four-3090-capped-1600w.yaml", catalog), ["wall-circuit"])
    hint = result.findings[0].hint
    assert "cap each GPU at 261 W (nvidia-smi -pl 261), keeping about 94%" in hint
    assert gpu_power.relative_throughput("rtx-3090", 350, 261) == pytest.approx(0.945, abs=1e-3)


def test_with_overrides_are_written_back_as_written(catalog: Any) -> None:
    from dlrig.buildfile import build_to_dict

    build = load_build(EXAMPLES / "four-3090-capped-1600w.yaml", catalog)
    board = build_to_dict(build)["parts"]["motherboard"]
    assert board == {
        "part": "ASUS WS X299 SAGE",
        "with": {
            "name": "ASUS WS C422 SAGE/10G",
            "chipset": "C422",
            "ecc": True,
            "rdimm": True,
            "max_memory_gb": None,
        },
    }
    again = parse_build(build_to_dict(build), catalog)
    assert again.motherboard == build.motherboard


def test_electricity_cost_counts_capped_cards_at_their_limit(catalog: Any) -> None:
    from dlrig.cost.tco import inputs_from_build

    capped = load_build(EXAMPLES / "four-3090-capped-1600w.yaml", catalog)
    stock = load_build(EXAMPLES / "four-3090-uncapped-1600w.yaml", catalog)
    a, b = inputs_from_build(capped, catalog), inputs_from_build(stock, catalog)
    assert b.peak_power_w - a.peak_power_w == pytest.approx(200)
    assert a.peak_power_w == pytest.approx(1477)


def test_cap_to_fit_answers_the_planners_question(catalog: Any) -> None:
    # "4x RTX 3090 on one 120 V / 15 A circuit": the cap that fits and what it keeps
    gpu = catalog.resolve("Gigabyte GeForce RTX 3090 TURBO 24G")
    fit = L.cap_to_fit(gpu, 4, non_gpu_w=280, wall_limit_w=1440, efficiency=0.92)
    assert fit.needed and fit.cap_w == 261  # (1440 × 0.92 − 280) / 4 = 261.2
    assert fit.throughput == pytest.approx(0.945, abs=1e-3)
    assert L.cap_to_fit(gpu, 2, 280, psu_w=1600).needed is False
    # a 4090 cannot go below 150 W: eight of them on 15 A do not fit at any cap
    fe = catalog.resolve("NVIDIA GeForce RTX 4090 Founders Edition")
    assert L.cap_to_fit(fe, 8, 280, wall_limit_w=1440, efficiency=0.92).cap_w is None


def test_a_gpu_on_an_m2_adapter_sits_in_the_m2_slot(catalog: Any) -> None:
    gpus = (
        "[{part: ASUS Turbo GeForce RTX 2080 Ti, count: 4}, {part: ASUS Turbo GeForce RTX "
        "2080 Ti, slot: M.2_2, riser: {kind: m2-adapter, length_mm: 300, pcie_gen: 3}}]"
    )
    build = _build(catalog, gpus)
    result = check(build)
    placement = next(f for f in result.findings if f.slug == "gpu-placement")
    assert "GPU 5 → M.2 slot M.2_2 via an M.2-to-PCIe adapter: x4 PCIe 3.0" in placement.message
    lanes = [f for f in result.findings if f.slug == "pcie-lanes"]
    assert lanes and "on an M.2 adapter in M.2_2" in lanes[0].message and "x4" in lanes[0].message
    assert "gpu-slots" not in result.slugs()  # five GPUs, but the fifth needs no x16 slot
    # the Samsung 970 EVO takes the other M.2 slot
    assert "m2-slots" not in result.slugs(Severity.ERROR)


def test_power_budget_counts_caps_and_measured_transients() -> None:
    import dlrig

    capped = dlrig.power(EXAMPLES / "four-3090-capped-1600w.yaml")
    assert capped.gpu_w == 1200 and capped.peak_dc_w == pytest.approx(1477)
    assert capped.psu_needed_spikes_w == pytest.approx(1.1 * (165 + 1200 * 1.5 + 112), abs=0.1)
    assert capped.gpu_limit_for_circuit_w == pytest.approx((1440 * 0.92 - 277) / 4, abs=0.1)
    titan = dlrig.power(EXAMPLES / "two-titan-xp-850w.yaml")
    assert titan.psu_needed_spikes_w == pytest.approx(930.1, abs=0.1)  # Pascal ×1.225


def test_two_gpus_on_a_bifurcation_riser_share_one_slot(catalog: Any) -> None:
    gpu = (
        "{part: ASUS Turbo GeForce RTX 2080 Ti, count: 2, slot: [PCIEX16_1, PCIEX16_1], "
        "riser: {kind: bifurcation, pcie_gen: 3}}"
    )
    result = check(_build(catalog, gpu))
    placement = next(f for f in result.findings if f.slug == "gpu-placement")
    assert placement.severity is Severity.INFO, result.findings
    assert "GPU 1 → PCIEX16_1 (position 1)" in placement.message
    assert "GPU 2 → PCIEX16_1 (position 1)" in placement.message
    assert placement.message.count("x8 PCIe 3.0") == 2  # x16 split x8/x8
    assert not result.slugs(Severity.ERROR) & {"gpu-placement", "slot-spacing", "pcie-lanes"}


def test_bifurcated_cards_need_no_extra_x16_slot(catalog: Any) -> None:
    board = catalog.resolve("ASUS ProArt B650-Creator")
    n16 = len(board.x16_slots)
    slot = board.x16_slots[0].name
    gpu = (
        f"{{part: ASUS Turbo GeForce RTX 2080 Ti, count: {n16 + 1}, slot: {[slot] * (n16 + 1)}, "
        "riser: {kind: bifurcation}}"
    ).replace("'", "")
    text = BASE.format(gpu=gpu, psu="Rosewill Hercules 1600W").replace(
        "motherboard: ASUS WS X299 SAGE", "motherboard: ASUS ProArt B650-Creator"
    )
    result = check(load_build_text(text, catalog), ["gpu-slots"])
    assert not result.findings


def test_every_power_limit_row_names_a_catalog_chip_and_a_source(catalog: Any) -> None:
    """gpu_power.yaml rows: a chip the catalog has, a floor below the reference power, a ceiling
    at or above it, an https source; the same for notes (a typo in a chip id would silently
    leave the chip's range unknown)."""
    from dlrig.textfile import load_data_yaml

    raw = load_data_yaml(gpu_power.data_text())
    chip_ids = {c.id for c in catalog.chips}
    for row in raw["limits"]:
        assert row["chip"] in chip_ids, row["chip"]
        assert 0 < row["min_w"] < row["reference_w"] <= row["max_w"], row["chip"]
        assert str(row["source"]).startswith("https://"), row["chip"]
    for row in raw.get("notes", []):
        assert row["chip"] in chip_ids and str(row["source"]).startswith("https://")
