"""Typical deep-learning rigs described the way their owners write them (issue 14): each test is a
friction or false finding met while describing published and typical builds, fixed in general -
board data that names its own slots, M.2 sharing, slot labels as manuals print them."""

from __future__ import annotations

from typing import Any

from dlrig.buildfile import load_build_text
from dlrig.catalog.resolve import normalize
from dlrig.parts import Category
from dlrig.rules import check
from dlrig.rules import limits as L


def _errors(result: Any) -> set[str]:
    return {f.slug for f in result.errors}


def test_every_shared_lane_names_a_slot_of_its_board(catalog: Any) -> None:
    # a shares_with naming no slot is silently ignored: the ProArt Z790 named 'PCIEX16(G5)_2'
    # while its slots were all called 'PCIEX16', so x8/x8 was read as x16 + x8
    for board in catalog.list(Category.MOTHERBOARD):
        names = {normalize(s.name) for s in board.pcie_slots if s.name}
        names |= {normalize(m.name) for m in board.m2_slots}
        for slot in board.pcie_slots:
            assert {normalize(x) for x in slot.shares_with} <= names, (board.id, slot.position)
        for m2 in board.m2_slots:
            assert {normalize(x) for x in m2.shares_with} <= names, (board.id, m2.name)
        labelled = [s.name for s in board.pcie_slots if s.name]
        assert len(labelled) == len(set(labelled)), (board.id, "two slots share a label")


TWO_4090_Z790 = """
name: 2x RTX 4090 on Z790
parts:
  cpu: Intel Core i9-14900K
  motherboard: ASUS ProArt Z790-Creator WIFI
  memory: Corsair Vengeance 96GB (2x48GB) DDR5-6000 CL30
  gpu: [ZOTAC GAMING GeForce RTX 4090 Trinity, NVIDIA GeForce RTX 4090 Founders Edition]
  storage: Samsung 990 PRO 4TB
  psu: Seasonic PRIME TX-1600 ATX 3.1
  cooler: ARCTIC Liquid Freezer III 360
  case: Corsair 7000D AIRFLOW
"""


def test_x8_x8_on_a_desktop_board_fits_the_cpu_lanes(catalog: Any) -> None:
    # 16 CPU lanes split x8/x8 plus the CPU M.2 slot's 4 = the 14900K's 20: no lane warning
    result = check(load_build_text(TWO_4090_Z790, catalog))
    assert "pcie-lanes" not in {f.slug for f in result.findings}, result.findings
    assert L.place_gpus(result.build.motherboard, result.build.gpus).lanes == (8, 8)


SIX_ON_ROMED8 = """
name: EPYC + 6x RTX 3090 on risers
parts:
  cpu: AMD EPYC 7543P
  motherboard: ASRock Rack ROMED8-2T
  memory: Kingston Server Premier 256GB (8x32GB) DDR4-3200 ECC RDIMM
  gpu: {{part: NVIDIA GeForce RTX 3090 Founders Edition, count: {n}, power_limit_w: 270,
        riser: {{length_mm: 300, pcie_gen: 4}}}}
  storage: Samsung 990 PRO 2TB
  psu: [Super Flower Leadex Platinum 2000W]
  cooler: Noctua NH-U14S TR4-SP3
  case: suda GPUMiningRig 6-GPU open frame
site: 230x16
"""


def test_free_cards_leave_the_slot_an_m2_drive_takes(catalog: Any) -> None:
    # six cards and an NVMe drive on a seven-slot board: the checker used to put a card in
    # PCIE2, whose lanes the M.2 slot takes, and report it without lanes - slot 7 was free
    build = load_build_text(SIX_ON_ROMED8.format(n=6), catalog)
    result = check(build)
    assert "pcie-lanes" not in _errors(result)
    placed = L.place_gpus(build.motherboard, build.gpus, risers=[True] * 6)
    assert [s.position for _, s in placed.placed] == [1, 3, 4, 5, 6, 7]


def test_a_slot_that_gives_its_shared_width_is_narrowed_not_disabled(catalog: Any) -> None:
    # seven cards: PCIE2 must hold one; the board data says x8 when M2_1 holds a drive, and the
    # M.2 slot's own sharing list must not turn that into "no lanes"
    build = load_build_text(SIX_ON_ROMED8.format(n=7), catalog)
    placed = L.place_gpus(build.motherboard, build.gpus, risers=[True] * 7)
    m2 = L.assign_m2(build.motherboard, build.drives, placed)
    assert m2.narrowed == ((2, 8),)


def test_slot_label_without_its_generation(catalog: Any) -> None:
    # ASUS prints 'PCIEX16(G5)_3'; owners write 'PCIEX16_3'
    board = catalog.resolve("ASUS Pro WS W790E-SAGE SE", Category.MOTHERBOARD)
    assert L.slot_position(board, "PCIEX16(G5)_3") == 3
    assert L.slot_position(board, "PCIEX16_3") == 3
    assert L.slot_position(board, "pciex16 5") == 5


# --- names as owners write them ------------------------------------------------------------------
import re  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import pytest  # noqa: E402

from dlrig.catalog.resolve import NameIndex  # noqa: E402
from dlrig.errors import AmbiguousPartError  # noqa: E402


@dataclass(frozen=True)
class _Rec:
    key: str
    name: str
    aliases: tuple[str, ...] = ()

    @property
    def id(self) -> str:  # catalog ids are slugs of the name
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")


SHOP_GPUS = NameIndex(
    [
        _Rec("a", "EVGA GeForce RTX 3090 FTW3 ULTRA GAMING 24GB GDDR6X"),
        _Rec("b", "EVGA FTW3 ULTRA HYBRID GAMING GeForce RTX 3090 24GB GDDR6X Black"),
        _Rec("c", "EVGA FTW3 ULTRA GAMING GeForce RTX 3090 Ti 24GB GDDR6X Black"),
        _Rec("d", "Asus TUF GAMING GeForce RTX 3090 24GB GDDR6X"),
        _Rec("e", "Asus ROG STRIX GAMING OC GeForce RTX 3090 24GB GDDR6X"),
        _Rec("f", "MSI GeForce RTX 4070 12GB GDDR6 VENTUS 2X"),
        _Rec("g", "MSI GeForce RTX 4070 12GB GDDR6X VENTUS 2X"),
    ]
)


def test_memory_type_in_a_shop_name_is_not_a_model_number() -> None:
    # 'GDDR6X' made every imported card unmatchable unless the owner typed it too
    assert SHOP_GPUS.resolve("EVGA RTX 3090 FTW3 Ultra 24GB").key == "a"
    assert SHOP_GPUS.resolve("Asus TUF RTX 3090 24GB").key == "d"
    # stated on both sides it still has to agree
    assert SHOP_GPUS.resolve("MSI RTX 4070 12GB GDDR6 Ventus 2X").key == "f"
    assert SHOP_GPUS.resolve("MSI RTX 4070 12GB GDDR6X Ventus 2X").key == "g"


def test_a_variant_word_not_written_loses_but_another_line_stays_ambiguous() -> None:
    # 'HYBRID' adds a word to everything the plain FTW3 ULTRA GAMING has: the plain one is meant
    assert SHOP_GPUS.resolve("EVGA GeForce RTX 3090 FTW3 Ultra Gaming 24GB").key == "a"
    # TUF and ROG STRIX each have words the other lacks: no guess
    with pytest.raises(AmbiguousPartError):
        SHOP_GPUS.resolve("Asus RTX 3090 Gaming 24GB")


# --- estimated slot positions --------------------------------------------------------------------
SPACING = """
name: t
parts:
  cpu: {cpu}
  motherboard: {board}
  memory: {memory}
  gpu: {{part: {gpu}, count: {n}}}
  storage: Samsung 990 PRO 4TB
  psu: null
  cooler: null
  case: null
"""


def _spacing(catalog: Any, board: str, n: int) -> list[Any]:
    if "TRX50" in board:
        cpu, memory = (
            "AMD Ryzen Threadripper 7970X",
            "Kingston FURY Renegade Pro 128GB (4x32GB) DDR5-5600 ECC RDIMM",
        )
    else:
        cpu, memory = "Intel Core i9-10920X", "Corsair Vengeance LPX 128GB (8x16GB) DDR4-2666"
    text = SPACING.format(
        cpu=cpu, board=board, memory=memory, gpu="NVIDIA GeForce RTX 3090 Founders Edition", n=n
    )
    result = check(load_build_text(text, catalog))
    return [f for f in result.findings if f.slug == "slot-spacing"]


def test_spacing_on_estimated_positions_warns_instead_of_rejecting(catalog: Any) -> None:
    # the TRX50 SAGE's positions are the catalog's estimate: three 3-slot cards are a warning
    # that says so, not an error a real build could be rejected on
    (finding,) = _spacing(catalog, "ASUS Pro WS TRX50-SAGE WIFI", 3)
    assert finding.severity.value == "warning" and "estimated" in finding.message
    # positions read from the manual (WS X299 SAGE, seven x16 slots) still reject four of them
    (finding,) = _spacing(catalog, "ASUS WS X299 SAGE", 4)
    assert finding.severity.value == "error" and "estimated" not in finding.message
