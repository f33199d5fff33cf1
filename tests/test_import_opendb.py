"""OpenDB import from small fixture files, including malformed and implausible rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dlrig.catalog.importers.opendb import cpu_pcie_lanes, gpu_cooling
from dlrig.catalog.importers.run import import_dataset
from dlrig.catalog.store import open_store
from dlrig.parts import Category

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def imported(tmp_path: Path):
    store = tmp_path / "catalog.sqlite"
    report = import_dataset(store, "opendb", FIXTURES / "opendb")
    return store, report


def _reason(report, record: str) -> tuple[str, str]:
    [row] = [r for r in report.rows if r.record == record]
    return row.status, row.reason


def test_counts_per_category(imported) -> None:
    _, report = imported
    counts = report.counts()
    assert counts["gpu"]["imported"] == 3  # 4090 SUPRIM, 3090 TURBO, A6000
    assert counts["gpu"]["quarantined"] == 6
    assert counts["gpu"]["skipped"] == 1  # duplicate id
    assert counts["psu"] == {**counts["psu"], "imported": 2, "quarantined": 1, "skipped": 1}
    assert counts["prebuiltdesktop"]["skipped"] == 1


def test_malformed_rows_are_quarantined_with_reasons(imported) -> None:
    _, report = imported
    reasons = {r.record: (r.status, r.reason) for r in report.rows if r.category == "gpu"}
    assert reasons["GPU.jsonl:3"] == ("quarantined", "line 3: invalid JSON (Expecting value)")
    assert reasons["GPU.jsonl:4"] == ("quarantined", "missing opendb_id")
    assert reasons["gpu-0003"][0] == "quarantined" and "'very long'" in reasons["gpu-0003"][1]
    assert reasons["gpu-0004"] == (
        "quarantined",
        "total_slot_width 77 implausible (more than 4 slots)",
    )
    assert reasons["gpu-0005"][1] == "TDP 1000 W implausible for GeForce RTX 5090 (chip 575 W)"
    assert "unknown GPU chip 'Voodoo 9 Ultra'" in reasons["gpu-0006"][1]
    assert _reason(report, "psu-0003")[1].startswith("invalid: wattage_w")
    assert _reason(report, "psu-0004") == ("skipped", "PSU form factor 'TFX' is not modelled")
    assert _reason(report, "mb-0002")[1].startswith("31 PCIe slots listed")
    # LGA1150 is a known socket (old platforms, issue 14); its DDR3 is what is not modelled
    assert "DDR3" in _reason(report, "mb-0003")[1]


def test_gpu_fields_mapped(imported) -> None:
    store, _ = imported
    cat = open_store(store)
    card = cat.resolve("MSI GeForce RTX 4090 SUPRIM X 24G")
    assert card.category is Category.GPU
    assert (card.chip, card.vram_gib, card.tdp_w, card.length_mm) == ("rtx-4090", 24, 450, 336)
    assert (card.pcie_12vhpwr, card.pcie_8pin, card.pcie_6pin) == (1, 0, 0)
    assert (card.slot_width, card.cooling, card.pcie_gen, card.pcie_lanes) == (
        3.5,
        "open-air",
        4,
        16,
    )
    assert card.origin == "opendb" and "open-db/GPU/gpu-0001.json" in card.source
    assert cat.chip_of(card).id == "rtx-4090"
    turbo = cat.resolve("ASUS TURBO GeForce RTX 3090 24GB")
    assert turbo.cooling == "blower"  # "1 Fan" in OpenDB, a blower by name
    assert turbo.pcie_8pin is None and turbo.pcie_12vhpwr is None  # zeros meant unknown
    assert cat.resolve("PNY NVIDIA RTX A6000").cooling == "blower"  # workstation chip


def test_psu_board_cpu_mapping(imported) -> None:
    store, _ = imported
    cat = open_store(store)
    rm = cat.resolve("Corsair RM1000x (2021) 1000W ATX 3.0")
    assert (rm.pcie_8pin, rm.pcie_12vhpwr, rm.eps_8pin, rm.atx3) == (None, None, 2, True)
    tx = cat.resolve("Seasonic PRIME TX-1600")
    assert (tx.pcie_8pin, tx.pcie_12vhpwr, tx.efficiency) == (9, 1, "80+ Titanium")
    board = cat.resolve("ASUS TUF GAMING X670E-PLUS WIFI")
    assert board.slot_layout_known is False and board.chipset == "X670E"
    assert [(s.size, s.lanes, s.gen) for s in board.pcie_slots] == [(16, None, None)] * 3
    assert [m.name for m in board.m2_slots] == ["M.2_1"]  # the E-key Wi-Fi slot is not storage
    assert cat.resolve("AMD Ryzen 9 7950X").pcie_lanes == 24
    # the curated part wins a name clash; the imported copy keeps its own id and unknown lanes
    assert cat.resolve("AMD Ryzen Threadripper PRO 7975WX").origin == "builtin"
    assert cat.get("amd-ryzen-threadripper-pro-7975wx-cpu-0002").pcie_lanes is None
    assert cat.resolve("Intel Core i9 10980XE").pcie_lanes == 48
    case = cat.resolve("Phanteks Fixture Tower XL")
    assert case.motherboard_form_factors == ("ATX", "E-ATX", "Micro-ATX", "Mini-ITX")
    assert case.max_gpu_length_mm == 491


def test_reimport_is_idempotent(imported) -> None:
    store, _ = imported
    n = len(open_store(store))
    again = import_dataset(store, "opendb", FIXTURES / "opendb")
    assert len(open_store(store)) == n
    counts = again.counts()
    assert counts["gpu"]["imported"] == 0 and counts["gpu"]["unchanged"] == 3


def test_report_file(imported, tmp_path: Path) -> None:
    _, report = imported
    out = tmp_path / "report.json"
    report.write(out)
    data = json.loads(out.read_text())
    assert data["counts"]["gpu"]["quarantined"] == 6
    assert len(data["rows"]) == len(report.rows)
    report.write(tmp_path / "report.csv")
    assert (tmp_path / "report.csv").read_text().count("\n") == len(report.rows) + 1


@pytest.mark.parametrize(
    ("name", "chipset", "label", "expected"),
    [
        ("Gigabyte GeForce RTX 2080 Ti TURBO 11G", "GeForce RTX 2080 Ti", "1 Fan", "blower"),
        ("MSI GeForce RTX 2080 AERO 8G", "GeForce RTX 2080", "1 Fan", "blower"),
        ("MSI GeForce GTX 1650 AERO ITX 4G", "GeForce GTX 1650", "1 Fan", "open-air"),
        ("PNY RTX A4000", "RTX A4000", "1 Fan", "blower"),
        ("EVGA GeForce RTX 3090 FTW3", "GeForce RTX 3090", "3 Fans", "open-air"),
        ("EVGA GeForce RTX 3090 Hybrid", "GeForce RTX 3090", "Hybrid", "liquid"),
    ],
)
def test_blower_detection(name: str, chipset: str, label: str, expected: str) -> None:
    assert gpu_cooling(name, chipset, label) == expected


def test_lane_table() -> None:
    assert cpu_pcie_lanes("LGA1700", "Intel Core i9-13900K") == (20, 5)
    assert cpu_pcie_lanes("LGA1200", "Intel Core i5 11400") == (20, 4)
    assert cpu_pcie_lanes("LGA1200", "Intel Core i5 10400") == (16, 3)
    assert cpu_pcie_lanes("AM4", "AMD Ryzen 5 5600G") == (None, None)
    assert cpu_pcie_lanes("AM4", "AMD Ryzen 9 5950X") == (20, 4)
    assert cpu_pcie_lanes("LGA2066", "Intel Core i7 7820X") == (28, 3)
    assert cpu_pcie_lanes("SP5", "AMD EPYC 9654") == (None, None)


def test_lane_table_rows_are_sourced_and_dated() -> None:
    """Every row of platform_pcie_lanes.yaml names its vendor page and when it was read."""
    import datetime as dt

    from dlrig.catalog.importers.opendb import lane_rules
    from dlrig.parts import SOCKETS

    rules = lane_rules()
    assert len(rules) == 19
    for rule in rules:
        assert rule["socket"] in SOCKETS, rule["name"]
        assert rule["source"].startswith(("https://www.intel.com/", "https://www.amd.com/"))
        assert isinstance(rule["source_date"], dt.date), rule["name"]
        if rule["lanes"] is not None:  # null = "varies on this platform", never a guess
            assert 16 <= rule["lanes"] <= 128 and rule["gen"] in (3, 4, 5), rule["name"]


def test_builtin_cpu_lanes_agree_with_the_lane_table() -> None:
    """A CPU's lane count in the built-in catalog and the platform table the importer uses must
    not disagree: the Threadripper 7960X/7970X once said 80 in cpu.yaml and 88 in the table.
    Where one side is unknown there is nothing to compare; at least the CPUs on the common
    desktop and Threadripper platforms must be compared."""
    from dlrig.catalog import open_catalog
    from dlrig.parts import Cpu

    compared, wrong = [], []
    for cpu in open_catalog(None).parts(Category.CPU):
        assert isinstance(cpu, Cpu)
        lanes, gen = cpu_pcie_lanes(cpu.socket, cpu.name)
        if lanes is None or cpu.pcie_lanes is None:
            continue
        compared.append(cpu.id)
        if (cpu.pcie_lanes, cpu.pcie_gen) != (lanes, gen):
            wrong.append(
                f"{cpu.id}: catalog {cpu.pcie_lanes} gen {cpu.pcie_gen}, table {lanes} gen {gen}"
            )
    assert not wrong, "; ".join(wrong)
    assert {"amd-ryzen-threadripper-7960x", "amd-ryzen-threadripper-7970x"} <= set(compared)
    assert len(compared) >= 20
