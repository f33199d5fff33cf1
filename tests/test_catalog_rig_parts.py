"""The parts people build multi-GPU rigs with (issue 14), as the built-in catalog holds them:
partner RTX 3090 cards, the Tesla P40, the PSUs of published rigs, and each card's own power-limit
ceiling (a chip's ceiling read on one card is not applied to the others)."""

from __future__ import annotations

from typing import Any

import pytest

from dlrig import gpu_power
from dlrig.buildfile import load_build_text
from dlrig.errors import BuildFileError
from dlrig.rules import Severity, check

RIG = """
name: t
parts:
  cpu: AMD EPYC 7313P
  motherboard: ASRock Rack ROMED8-2T
  memory: Kingston Server Premier 256GB (8x32GB) DDR4-3200 ECC RDIMM
  gpu: {gpu}
  storage: Samsung 990 PRO 2TB
  psu: {psu}
  cooler: Noctua NH-U14S TR4-SP3
  case: suda GPUMiningRig 6-GPU open frame
"""


def _rig(catalog: Any, gpu: str, psu: str = "EVGA SuperNOVA 1600 G2") -> Any:
    return load_build_text(RIG.format(gpu=gpu, psu=psu), catalog)


# --- power-limit ceilings per card ---------------------------------------------------------------
@pytest.mark.parametrize(
    "card",
    [
        "NVIDIA GeForce RTX 3090 Founders Edition",
        "Gigabyte GeForce RTX 3090 TURBO 24G",
        "EVGA GeForce RTX 3090 FTW3 ULTRA GAMING",
    ],
)
def test_3090_cards_keep_the_floor_but_not_another_cards_ceiling(catalog: Any, card: str) -> None:
    """The 350 W ceiling was read on one unnamed card, and a ZOTAC 3090 at the same 350 W default
    reads 385 W: no catalog card inherits the 350 W, every card keeps the 100 W driver floor."""
    assert gpu_power.card_limits_w(catalog.resolve(card)) == (100, None)


def test_founders_edition_may_be_raised_to_370_w_unverified(catalog: Any) -> None:
    gpu = (
        "{part: NVIDIA GeForce RTX 3090 Founders Edition, count: 2, power_limit_w: 370, "
        "riser: {length_mm: 200, pcie_gen: 4}}"
    )
    build = _rig(catalog, gpu)
    assert build.gpu_power_w == 740
    (hit,) = check(build, ["power-limit-range"]).findings
    assert hit.severity is Severity.INFO
    assert "370 W, above its 350 W board power" in hit.message and "unverified" in hit.message
    assert "nvidia-smi -q -d POWER" in hit.hint


def test_founders_edition_floor_still_refused(catalog: Any) -> None:
    with pytest.raises(BuildFileError, match="below the 100 W minimum power limit"):
        _rig(catalog, "{part: NVIDIA GeForce RTX 3090 Founders Edition, power_limit_w: 90}")


def test_a_ceiling_read_on_the_reference_card_still_bounds_it(catalog: Any) -> None:
    """Chips whose row names no cards keep the old rule: the ceiling holds for cards at the
    reference board power (the RTX 4090 FE at 450 W reads Max 450 W)."""
    with pytest.raises(BuildFileError, match="above the 450 W maximum power limit"):
        _rig(catalog, "{part: NVIDIA GeForce RTX 4090 Founders Edition, power_limit_w: 500}")


# --- partner RTX 3090 cards ----------------------------------------------------------------------
def test_partner_3090_facts(catalog: Any) -> None:
    ftw3 = catalog.resolve("EVGA RTX 3090 FTW3 Ultra")
    assert (ftw3.id, ftw3.length_mm, ftw3.slot_width, ftw3.slots_occupied) == (
        "evga-rtx-3090-ftw3-ultra",
        300,
        2.75,
        3,
    )
    assert (ftw3.pcie_8pin, ftw3.pcie_12vhpwr, ftw3.tdp_w, ftw3.chip) == (3, 0, 350, "rtx-3090")
    assert ftw3.price_usd == 1518.99 and str(ftw3.price_date) == "2025-07-23"
    suprim = catalog.resolve("MSI RTX 3090 Suprim X")
    assert (suprim.length_mm, suprim.slot_width, suprim.tdp_w) == (336, 3, 420)
    assert suprim.pcie_8pin is None  # OpenDB's zeros are unknown, not "no plugs"
    tuf = catalog.resolve("TUF-RTX3090-24G-GAMING")
    assert (tuf.id, tuf.length_mm, tuf.pcie_8pin, tuf.tdp_w) == ("asus-tuf-rtx-3090", 300, 2, 350)


def test_three_8_pin_cards_count_against_the_psu_plugs(catalog: Any) -> None:
    """Three FTW3 cards take the EVGA 1600 G2's nine PCIe plugs; a fourth needs twelve."""
    card = (
        "{part: EVGA RTX 3090 FTW3 Ultra, count: %d, power_limit_w: 280, "
        "riser: {length_mm: 200, pcie_gen: 4}}"
    )
    three = check(_rig(catalog, card % 3), ["gpu-power-connectors"])
    four = check(_rig(catalog, card % 4), ["gpu-power-connectors"])
    assert not three.findings
    assert four.slugs(Severity.ERROR) == {"gpu-power-connectors"}
    assert "12" in four.findings[0].message and "9" in four.findings[0].message


# --- Tesla P40 -----------------------------------------------------------------------------------
def test_tesla_p40_chip_and_card(catalog: Any) -> None:
    chip = catalog.chip("tesla-p40")
    assert (chip.vram_gib, chip.tdp_w, chip.memory_bandwidth_gb_s) == (24, 250, 347.1)
    assert chip.tensor_cores is False and chip.compute_capability == "6.1"
    card = catalog.resolve("Tesla P40")
    assert (card.cooling, card.slot_width, card.length_mm, card.pcie_gen) == ("passive", 2, 267, 3)
    # its 8-pin EPS power plug is not a PCIe plug: the counts stay unknown
    assert card.pcie_8pin is card.pcie_6pin is card.pcie_12vhpwr is None


def test_passive_p40s_need_server_airflow(catalog: Any) -> None:
    build = _rig(
        catalog, "{part: NVIDIA Tesla P40, count: 2, riser: {length_mm: 200, pcie_gen: 4}}"
    )
    result = check(build, ["multi-gpu-airflow", "gpu-power-connectors"])
    (warn,) = [f for f in result.findings if f.slug == "multi-gpu-airflow"]
    assert warn.severity is Severity.WARNING and "passively cooled" in warn.message
    assert "gpu-power-connectors" in {u.slug for u in result.unchecked}


# --- PSUs ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "pid", "watts", "plugs", "hpwr", "eps", "length"),
    [
        ("EVGA SuperNOVA 1600 G2", "evga-supernova-1600-g2", 1600, 9, 0, 2, 220),
        ("Corsair HX1200 Platinum", "corsair-hx1200-platinum", 1200, None, None, None, 200),
        ("CP-9020070", "corsair-hx1200i-2017", 1200, 6, 0, 2, 200),
        ("Corsair RM850e (2025)", "corsair-rm850e-2025", 850, 2, 1, 2, 140),
    ],
)
def test_psu_facts(
    catalog: Any, name: str, pid: str, watts: int, plugs: Any, hpwr: Any, eps: Any, length: int
) -> None:
    psu = catalog.resolve(name)
    assert (
        psu.id,
        psu.wattage_w,
        psu.pcie_8pin,
        psu.pcie_12vhpwr,
        psu.eps_8pin,
        psu.length_mm,
    ) == (
        pid,
        watts,
        plugs,
        hpwr,
        eps,
        length,
    )
