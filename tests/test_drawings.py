"""The slot map and power budget SVGs: drawn from the checker's own placement and power sums."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from dlrig.build import Build
from dlrig.buildfile import load_build
from dlrig.drawings import power_bar_svg, slot_map_svg
from dlrig.parts import Gpu

REPO = Path(__file__).resolve().parents[1]
NS = "{http://www.w3.org/2000/svg}"


def _titles(svg: str) -> list[str]:
    root = ET.fromstring(svg)  # well-formed XML, or this raises
    return [t.text or "" for t in root.iter(f"{NS}title")]


def _texts(svg: str) -> list[str]:
    return [t.text or "" for t in ET.fromstring(svg).iter(f"{NS}text")]


def test_warmachine_slot_map_places_four_cards_in_slots_1_3_5_7(catalog) -> None:  # type: ignore[no-untyped-def]
    svg = slot_map_svg(load_build(REPO / "examples" / "warmachine.yaml", catalog))
    cards = [t for t in _titles(svg) if t.startswith("ASUS Turbo GeForce RTX 2080 Ti")]
    assert cards == ["ASUS Turbo GeForce RTX 2080 Ti, 2-slot"] * 4
    texts = _texts(svg)
    assert texts.count("blocked by the card above") == 3  # slots 2, 4 and 6
    assert texts.count("x16 slot, x16 lanes (switch, gen 3)") == 4  # 1, 3, 5, 7 keep x16
    assert texts.count("no air gap (blowers)") == 3
    # RTX 2080 Ti bridges come in 3- and 4-slot spacing: none fits cards two slots apart
    assert texts.count("no NVLink bridge for 2-slot spacing (3/4 exist)") == 3
    assert "end of the case's 8 expansion slots" in texts  # Corsair Carbide Air 540
    # each card's rectangle starts at its slot: y = top + (slot - 1) × pitch + pitch / 2 - 6
    ys = sorted(float(y) for y in re.findall(r"<rect x='[\d.]+' y='([\d.]+)' width='374\.0'", svg))
    pitch = 20.32 * 2.2
    assert [round((y - ys[0]) / pitch, 2) for y in ys] == [0, 2, 4, 6]  # 0.1 px rounding


def test_bridged_pair_at_three_slot_spacing(catalog) -> None:  # type: ignore[no-untyped-def]
    board = catalog.get("asus-proart-x670e-creator-wifi")
    card = catalog.get("nvidia-rtx-3090-fe")
    build = Build.from_parts({"motherboard": board, "gpu": (card, 2)}, catalog=catalog)
    svg = slot_map_svg(build)
    assert "NVLink bridge, 3-slot spacing" in _titles(svg)
    assert "air gap: 0 slot(s)" not in _texts(svg)
    assert "no air gap: cards touch" in _texts(svg)  # open-air 3-slot cards in slots 1 and 4


def test_unplaced_cards_and_missing_board_are_said(catalog) -> None:  # type: ignore[no-untyped-def]
    board = catalog.get("asus-proart-b650-creator")
    card = catalog.get("nvidia-rtx-3090-fe")
    many = Build.from_parts({"motherboard": board, "gpu": (card, 3)}, catalog=catalog)
    assert any("GPU(s) without a slot" in t for t in _texts(slot_map_svg(many)))
    none = Build.from_parts({"gpu": card}, catalog=catalog)
    assert _texts(slot_map_svg(none)) == ["slot map: no motherboard"]


def test_power_bar_numbers_match_the_check(catalog) -> None:  # type: ignore[no-untyped-def]
    build = load_build(REPO / "examples" / "warmachine.yaml", catalog)
    texts = _texts(power_bar_svg(build))
    assert "4 GPU(s) 1,000 W" in texts
    assert "needed 1,386 W (×1.1)" in texts  # 1.1 × 1,260 W
    assert "PSU 1,600 W" in texts
    assert "1,400 W at the wall (PSU 90%)" in texts
    assert "circuit 1,440 W (120 V × 15 A × 80%)" in texts


def test_names_are_escaped(catalog) -> None:  # type: ignore[no-untyped-def]
    board = catalog.get("asus-ws-x299-sage")
    evil = Gpu(id="custom-x", name="<script>alert(1)</script> & co", brand="x", chip="rtx-3090",
               vram_gib=24, tdp_w=350, custom=True, source="test")  # fmt: skip
    svg = slot_map_svg(Build.from_parts({"motherboard": board, "gpu": evil}, catalog=catalog))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert any(t.startswith("<script>alert(1)</script> & co") for t in _titles(svg))


def test_short_bars_carry_their_labels_outside(catalog) -> None:  # type: ignore[no-untyped-def]
    svg = power_bar_svg(Build("empty", {}))
    root = ET.fromstring(svg)
    labels = {t.text: t.get("fill") for t in root.iter(f"{NS}text")}
    assert labels["12 W peak"] == "#1d2330"  # 4 case fans, dark text beside a short bar
    assert labels["15 W at the wall (PSU 80% assumed)"] == "#1d2330"


def test_cards_past_the_case_slots_are_marked(catalog) -> None:  # type: ignore[no-untyped-def]
    build = load_build(REPO / "examples" / "case-too-few-slots.yaml", catalog)
    texts = _texts(slot_map_svg(build))
    assert "end of the case's 7 expansion slots" in texts
    assert "the cards reach slot 8: they do not fit" in texts
