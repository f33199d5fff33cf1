"""`dlrig power` judges a build with several PSUs on several circuits the way `check` does: per
PSU (what it feeds) and per circuit (the PSUs plugged into it). It used to add every GPU to PSU 1
and circuit 1, and said the two-PSU open-frame rig overloads its circuit by 372 W and needs its
GPUs capped at 264 W, while `check` passed it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import dlrig
from dlrig.errors import InputError

REPO = Path(__file__).resolve().parents[1]


def test_two_psus_on_two_circuits_are_budgeted_one_by_one() -> None:
    build = REPO / "examples" / "epyc-open-frame-risers.yaml"
    assert dlrig.check(build).ok  # the checker's verdict: each PSU and circuit carries its share
    d = dlrig.power(build).to_dict()
    psu1, psu2 = d["psus"]
    assert psu1["feeds"] == "system + 2 GPU(s)" and psu2["feeds"] == "2 GPU(s)"
    assert psu2["load_w"] == 700.0  # two 350 W RTX 3090s
    assert psu2["needed_w"] == 770.0 and psu2["margin_w"] == 830.0  # 1,600 W - 1.1 × 700 W
    assert psu1["load_w"] + psu2["load_w"] == d["peak_dc_w"]
    c1, c2 = d["circuits"]
    assert (c1["psus"], c2["psus"]) == ("PSU 1", "PSU 2")
    assert c1["limit_w"] == c2["limit_w"] == 1440.0
    assert c1["margin_w"] > 0 and c2["margin_w"] > 0
    assert d["tightest_circuit_margin_w"] == min(c1["margin_w"], c2["margin_w"])  # the tightest one
    assert d["psu_w"] == 3200.0 and d["circuit_limit_total_w"] == 2880.0
    # no cap is needed: the tightest per-GPU limit is above the cards' 350 W
    assert d["gpu_limit_for_psu_w"] > 350 and d["gpu_limit_for_circuit_w"] > 350


def test_one_psu_budget_is_unchanged() -> None:
    d = dlrig.power(REPO / "examples" / "warmachine.yaml").to_dict()
    assert (d["psu_w"], d["wall_total_w"], d["circuit"]) == (1600.0, 1400.0, "120 V / 15 A")
    assert (d["tightest_circuit_margin_w"], d["gpu_limit_for_psu_w"]) == (40.0, 298.6)
    [only] = d["psus"]
    assert only["feeds"] == "system + 4 GPU(s)" and only["load_w"] == d["peak_dc_w"]
    assert len(d["circuits"]) == 1


def test_a_gpu_count_keeps_the_cards_power_limit_psu_slots_and_riser() -> None:
    """`check four-3090-capped-1600w.yaml --gpus 4` (the file's own count) dropped the 300 W cap
    and failed psu-headroom; the web Check page's GPUs field did the same."""
    capped = REPO / "examples" / "four-3090-capped-1600w.yaml"
    as_written = dlrig.check(capped).to_dict()
    same = dlrig.check(capped, gpus=4).to_dict()
    assert same["ok"] and same["findings"] == as_written["findings"]
    assert dlrig.power(capped, gpus=3).to_dict()["gpu_w"] == 900.0  # 3 × 300 W, not 3 × 350 W
    rig = REPO / "examples" / "epyc-open-frame-risers.yaml"
    two = dlrig.check(rig, gpus=2).to_dict()
    placement = next(f for f in two["findings"] if f["slug"] == "gpu-placement")
    assert "GPU 1 → PCIE1" in placement["message"] and "GPU 2 → PCIE3" in placement["message"]
    assert "on 200 mm PCIe 4.0 riser" in placement["message"]


def test_more_gpus_than_a_split_line_build_says_why_it_cannot_tell() -> None:
    """Two lines of the same card (one per PSU) were called "2 GPU models"."""
    with pytest.raises(InputError, match="lists its GPUs on several lines; cannot tell"):
        dlrig.check(REPO / "examples" / "epyc-open-frame-risers.yaml", gpus=6)


def test_the_power_drawing_counts_caps_and_every_psu_and_circuit() -> None:
    """The web editor's power export drew the capped 3090s at 350 W, and the two-PSU rig's four
    GPUs against PSU 1's 1,600 W and circuit 1's 1,440 W."""
    from dlrig.buildfile import load_build
    from dlrig.drawings import power_bar_svg

    catalog = dlrig.open_catalog()
    capped = power_bar_svg(load_build(REPO / "examples" / "four-3090-capped-1600w.yaml", catalog))
    assert "<title>4 GPU(s): 1,200 W</title>" in capped
    rig = power_bar_svg(load_build(REPO / "examples" / "epyc-open-frame-risers.yaml", catalog))
    assert ">2 PSUs 3,200 W<" in rig
    assert ">circuit 2,880 W (120 V × 15 A + 120 V × 15 A × 80%)<" in rig


def test_check_text_shows_each_line_s_limit_psu_slots_riser_and_circuit(run_cli: Any) -> None:
    """The parts table showed two identical PSU rows and two identical GPU rows: which card is
    on which PSU, slot and riser, and which PSU on which circuit, was only in the file."""
    r = run_cli("check", str(REPO / "examples" / "epyc-open-frame-risers.yaml"))
    assert r.exit_code == 0, r.stderr
    text = " ".join(r.stdout.split())
    assert "Trinity OC; PSU 2, slots PCIE5, PCIE7, 200 mm PCIe 4.0 riser" in text
    assert "EVGA SuperNOVA 1600 P2; circuit 2" in text
    capped = run_cli("check", str(REPO / "examples" / "four-3090-capped-1600w.yaml")).stdout
    assert "TURBO 24G; 300 W limit" in " ".join(capped.split())


def test_each_psu_s_efficiency_counts_for_the_load_it_feeds(catalog: Any) -> None:
    """Electricity (cost) and the wall draw (power) take each PSU at its own 80 PLUS efficiency
    for its own load, not PSU 1's for everything."""
    from dlrig.build import BuildItem
    from dlrig.buildfile import load_build
    from dlrig.cost.tco import inputs_from_build
    from dlrig.parts import Category

    rig = load_build(REPO / "examples" / "epyc-open-frame-risers.yaml", catalog)
    gold = catalog.resolve("Rosewill Hercules 1600W")  # 80+ Gold: 90 % at half load
    platinum, _ = rig.items[Category.PSU]  # EVGA SuperNOVA 1600 P2, 80+ Platinum: 92 %
    second = BuildItem(gold, 1, circuit=2)
    build = rig.replace(items={**rig.items, Category.PSU: (platinum, second)})
    l1, l2 = (ld.load_w for ld in build.psu_loads)
    wall = l1 / 0.92 + l2 / 0.90
    inp = inputs_from_build(build, catalog)
    assert inp.psu_efficiency == pytest.approx((l1 + l2) / wall)
    assert inp.psu_efficiency != pytest.approx(0.92)  # PSU 1's alone, as before
    assert inp.psu_rating == "PSU 1 80+ Platinum, PSU 2 80+ Gold"
    assert inp.peak_power_w / inp.psu_efficiency == pytest.approx(wall)
    # the power report draws the same from the wall, and gives the same combined efficiency
    d = dlrig.power(build).to_dict()
    assert d["wall_total_w"] == pytest.approx(wall, abs=0.2)
    assert d["psu_efficiency"] == pytest.approx(inp.psu_efficiency)


@pytest.mark.parametrize(
    "example", ["epyc-open-frame-risers.yaml", "four-gpus-15a-circuit.yaml", "warmachine.yaml"]
)
def test_power_and_wall_circuit_share_one_circuit_draw(example: str) -> None:
    """`dlrig power` and the wall-circuit rule each summed a circuit's wall draw (limits.
    circuit_draw is now the one sum); the summary labels its totals and its tightest margin."""
    from dlrig.buildfile import load_build
    from dlrig.catalog import open_catalog
    from dlrig.rules import limits

    build = load_build(REPO / "examples" / example, open_catalog())
    d = dlrig.power(REPO / "examples" / example).to_dict()
    draws = [
        limits.circuit_draw(i, build.site.circuit_limit_w(i), build.psu_loads)
        for i in range(len(build.site.circuits))
    ]
    for row, draw in zip(d["circuits"], draws, strict=True):
        assert (row["wall_w"], row["limit_w"]) == (draw.wall_w, draw.limit_w)
        assert row["gpu_limit_w"] == pytest.approx(draw.gpu_cap_w, abs=0.05)
    assert d["wall_total_w"] == pytest.approx(sum(x.wall_w for x in draws), abs=0.05)
    assert d["circuit_limit_total_w"] == sum(x.limit_w for x in draws)
    assert d["tightest_circuit_margin_w"] == pytest.approx(min(x.margin_w for x in draws))
    over = [x for x in draws if x.wall_w > x.limit_w]
    findings = [f for f in dlrig.check(build).findings if f.slug == "wall-circuit"]
    assert len(findings) == len(over)  # the rule warns exactly where power shows a negative margin
    for f, x in zip(findings, over, strict=True):
        assert f"{x.wall_w:,.0f} W" in f.message


def test_the_power_summary_says_which_lines_are_totals() -> None:
    d = dlrig.power(REPO / "examples" / "epyc-open-frame-risers.yaml").to_dict()
    # two circuits: the total margin (2,880 - 1,812 W) is not the tightest circuit's margin
    total_margin = d["circuit_limit_total_w"] - d["wall_total_w"]
    assert d["tightest_circuit_margin_w"] < total_margin - 500
    assert not {"wall_w", "circuit_limit_w", "circuit_margin_w"} & set(d)
