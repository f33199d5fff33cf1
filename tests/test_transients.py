"""Millisecond GPU excursions per generation (catalog/data/gpu_power.yaml): the RTX 5090's
factor read from Igor's Lab's load-peak analysis, and how psu-headroom uses it - a PSU known by
its label only fails on the spikes, an ATX 3.x unit (specified for 200 % excursions) does not, and
Ada, for which no measurement was read, stays without an allowance."""

from __future__ import annotations

from typing import Any

from dlrig import gpu_power
from dlrig.buildfile import load_build_text
from dlrig.rules import Severity, check

TWO_5090 = """
name: two 5090
parts:
  cpu: AMD Ryzen 9 9950X
  gpu: {{part: NVIDIA GeForce RTX 5090 Founders Edition, count: 2}}
  storage: Samsung 990 PRO 2TB
  psu: {psu}
  motherboard: null
  memory: null
  cooler: null
  case: null
"""


def _headroom(catalog: Any, psu: str) -> list[Any]:
    build = load_build_text(TWO_5090.format(psu=psu), catalog)
    return [f for f in check(build, ["psu-headroom"]).findings if f.slug == "psu-headroom"]


def test_rtx_5090_factor_is_sourced_and_ada_stays_unmeasured(catalog: Any) -> None:
    assert gpu_power.transient_factor("rtx-5090", catalog.chip("rtx-5090")) == 1.43
    row = gpu_power.transient_spec("rtx-5090", "Blackwell")
    assert row is not None
    assert row.source.startswith("https://") and row.window == "1-5 ms"  # 823.6 W / 575 W
    assert gpu_power.transient_factor("rtx-4090", catalog.chip("rtx-4090")) is None
    assert gpu_power.transient_factor("rtx-5080", catalog.chip("rtx-5080")) is None


def test_label_only_psu_fails_on_5090_spikes_but_atx3_unit_does_not(catalog: Any) -> None:
    # 2x575 W + 170 W CPU + the rest sits inside 1,500 W with the 10 % margin; the spikes
    # (2x575x1.43 = 1,645 W for the cards alone) do not
    label_only = _headroom(catalog, "{custom: {name: 1500 W PSU, wattage_w: 1500}}")
    assert [f.severity for f in label_only] == [Severity.ERROR]
    assert "×1.43" in label_only[0].message
    assert _headroom(catalog, "Seasonic PRIME TX-1600 ATX 3.1") == []


def test_a_psu_big_enough_for_the_spikes_passes(catalog: Any) -> None:
    assert _headroom(catalog, "{custom: {name: 2200 W PSU, wattage_w: 2200}}") == []


TWO_3080_Z4 = """
name: HP Z4 G4, 2x RTX 3080 at 200 W
parts:
  cpu: {{custom: {{name: Intel Xeon W-2245, vendor: intel, socket: LGA2066, cores: 8, threads: 16,
                 tdp_w: 155}}}}
  gpu: {{part: NVIDIA GeForce RTX 3080 Founders Edition, count: 2, power_limit_w: 200}}
  storage: Samsung 970 EVO 1TB
  psu: {psu}
  motherboard: null
  memory: null
  cooler: null
  case: null
"""


def test_ga102_factor_spans_the_die_not_only_the_3090(catalog: Any) -> None:
    # the RTX 3090 FE's 1-10 ms x1.5 (Igor's Lab) covers every GA102 card: Lenovo measured a
    # second GA102 board (RTX A6000) at x2.18 over 200 us; Ada and GA106 stay unmeasured
    for chip in ("rtx-3080", "rtx-3090", "rtx-a6000"):
        assert gpu_power.transient_factor(chip, catalog.chip(chip)) == 1.5, chip
    assert gpu_power.transient_factor("rtx-3060", catalog.chip("rtx-3060")) is None
    row = gpu_power.transient_spec("rtx-3080", "Ampere (GA102)")
    assert row is not None and row.window == "1-10 ms" and "ga102" in row.architectures


def test_two_capped_3080_spike_past_a_label_only_750_w_unit(catalog: Any) -> None:
    # llama.cpp#23919: 2x200 W sustained + 155 W Xeon + the rest fits 750 W with the margin, the
    # spikes (2x200x1.5 = 600 W for the cards) do not; a 1,000 W unit carries them
    def headroom(psu: str) -> list[Any]:
        build = load_build_text(TWO_3080_Z4.format(psu=psu), catalog)
        return [f for f in check(build, ["psu-headroom"]).findings if f.slug == "psu-headroom"]

    small = headroom("{custom: {name: HP 750 W PSU, wattage_w: 750}}")
    assert [f.severity for f in small] == [Severity.ERROR]
    assert "×1.5" in small[0].message and "2× NVIDIA GeForce RTX 3080" in small[0].message
    assert headroom("{custom: {name: 1000 W PSU, wattage_w: 1000}}") == []
