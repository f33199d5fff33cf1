"""Integrity of the whole shipped catalog: ids, sources, plausible values, references."""

from __future__ import annotations

import datetime as dt

import pytest

from dlrig.catalog.builtin import builtin_catalog, data_files
from dlrig.parts import (
    BOARD_FORM_FACTORS,
    MEMORY_TYPES,
    SOCKETS,
    Case,
    Category,
    Cooler,
    Cpu,
    Gpu,
    Memory,
    Motherboard,
    Psu,
    Storage,
)

TODAY = dt.date(2026, 12, 31)


@pytest.fixture(scope="module")
def cat():  # type: ignore[no-untyped-def]
    return builtin_catalog()


def test_every_category_has_a_data_file() -> None:
    names = set(data_files())
    for c in Category:
        assert f"{c.value}.yaml" in names
    assert "gpu_chips.yaml" in names


def test_catalog_is_big_enough(cat) -> None:  # type: ignore[no-untyped-def]
    assert len(cat) >= 150
    assert len(cat.parts(Category.GPU)) >= 30
    for c in Category:
        assert len(cat.parts(c)) >= 8, c


def test_ids_unique_and_sourced(cat) -> None:  # type: ignore[no-untyped-def]
    ids = [p.id for p in cat.parts()]
    assert len(ids) == len(set(ids))
    for p in cat.parts():
        assert p.source.startswith(("http://", "https://")) or len(p.source) > 10, p.id
        if p.price_usd is not None:
            assert p.price_date is not None and p.price_date <= TODAY, p.id
            assert p.price_source, p.id
    for chip in cat.chips:
        assert chip.source, chip.id


def test_names_unique_per_category(cat) -> None:  # type: ignore[no-untyped-def]
    for c in Category:
        names = [p.name.lower() for p in cat.parts(c)]
        assert len(names) == len(set(names)), c


def test_gpu_values_plausible(cat) -> None:  # type: ignore[no-untyped-def]
    chip_ids = {c.id for c in cat.chips}
    for g in cat.parts(Category.GPU):
        assert isinstance(g, Gpu)
        assert g.chip in chip_ids, f"{g.id} references unknown chip {g.chip}"
        assert 30 <= g.tdp_w <= 1000
        if g.length_mm is not None:
            assert 150 <= g.length_mm <= 360
        if g.slot_width is not None:
            assert 1 <= g.slot_width <= 4
        chip = cat.chip_of(g)
        assert chip is not None
        if chip.vram_gib is not None:
            assert g.vram_gib == pytest.approx(chip.vram_gib, rel=0.1), g.id


def test_chip_values_plausible(cat) -> None:  # type: ignore[no-untyped-def]
    for chip in cat.chips:
        assert chip.fp32_tflops is None or 0.5 < chip.fp32_tflops < 200, chip.id
        if chip.bf16_tflops and chip.fp32_tflops:
            # tensor-core bf16 is never slower than plain fp32 on a chip that has it
            assert chip.bf16_tflops >= chip.fp32_tflops * 0.9, chip.id
        if chip.tensor_cores is False:
            assert chip.tensor_core_gen is None, chip.id


def test_platform_values_known(cat) -> None:  # type: ignore[no-untyped-def]
    for p in cat.parts(Category.CPU):
        assert isinstance(p, Cpu)
        assert p.socket in SOCKETS and set(p.memory_types) <= MEMORY_TYPES
    for b in cat.parts(Category.MOTHERBOARD):
        assert isinstance(b, Motherboard)
        assert b.socket in SOCKETS and b.form_factor in BOARD_FORM_FACTORS
        assert b.x16_slots, f"{b.id} has no x16 slot"
    for m in cat.parts(Category.MEMORY):
        assert isinstance(m, Memory) and m.type in MEMORY_TYPES
    for psu in cat.parts(Category.PSU):
        assert isinstance(psu, Psu) and 300 <= psu.wattage_w <= 12000  # power shelves too
    for case in cat.parts(Category.CASE):
        assert isinstance(case, Case)
        assert set(case.motherboard_form_factors) <= BOARD_FORM_FACTORS


def test_every_cpu_has_a_board_and_back(cat) -> None:  # type: ignore[no-untyped-def]
    cpu_sockets = {p.socket for p in cat.parts(Category.CPU)}
    board_sockets = {p.socket for p in cat.parts(Category.MOTHERBOARD)}
    assert cpu_sockets == board_sockets


def test_platforms_for_1_2_4_8_gpus(cat) -> None:  # type: ignore[no-untyped-def]
    most = max(len(b.x16_slots) for b in cat.parts(Category.MOTHERBOARD))
    assert most >= 7
    assert any(p.wattage_w >= 2000 for p in cat.parts(Category.PSU))
    assert any(p.wattage_w <= 850 for p in cat.parts(Category.PSU))
    assert any(p.atx3 and p.pcie_12vhpwr for p in cat.parts(Category.PSU))
    assert any((c.expansion_slots or 0) >= 8 for c in cat.parts(Category.CASE))
    assert {s.kind for s in cat.parts(Category.STORAGE)} == {"nvme", "sata-ssd", "hdd"}
    assert {c.kind for c in cat.parts(Category.COOLER)} == {"air", "aio"}
    kinds = {(m.type, m.registered) for m in cat.parts(Category.MEMORY)}
    assert ("DDR4", False) in kinds and ("DDR5", False) in kinds and ("DDR5", True) in kinds


def test_required_gpu_families_present(cat) -> None:  # type: ignore[no-untyped-def]
    names = " | ".join(c.name for c in cat.chips).lower()
    for family in (
        "1080 ti",
        "2080 ti",
        "titan rtx",
        "3090",
        "3090 ti",
        "4090",
        "5090",
        "a5000",
        "a6000",
        "6000 ada",
        "pro 6000",
        "l40s",
        "a100",
        "h100",
    ):
        assert family in names, family
    assert any(c.vendor == "amd" for c in cat.chips)
    blower_3090 = [
        g
        for g in cat.parts(Category.GPU)
        if isinstance(g, Gpu) and "3090" in g.chip and g.cooling == "blower"
    ]
    assert blower_3090


# --- the Warmachine reference build ---------------------------------------------------------


def test_warmachine_cpu(cat) -> None:  # type: ignore[no-untyped-def]
    cpu = cat.resolve("Intel Core i9-10920X", Category.CPU)
    assert isinstance(cpu, Cpu)
    assert (cpu.socket, cpu.cores, cpu.threads, cpu.tdp_w) == ("LGA2066", 12, 24, 165)
    assert cpu.pcie_lanes == 48 and cpu.memory_types == ("DDR4",)


def test_warmachine_board(cat) -> None:  # type: ignore[no-untyped-def]
    b = cat.resolve("ASUS WS X299 SAGE", Category.MOTHERBOARD)
    assert isinstance(b, Motherboard)
    assert b.form_factor == "SSI CEB" and b.socket == "LGA2066"
    assert len(b.x16_slots) == 7
    assert len(b.pcie_switches) == 2
    assert sum(1 for s in b.x16_slots if s.lanes == 16) >= 4


def test_warmachine_rest(cat) -> None:  # type: ignore[no-untyped-def]
    mem = cat.resolve("Corsair Vengeance LPX 32GB (2x16GB) DDR4-2666", Category.MEMORY)
    assert isinstance(mem, Memory)
    assert (mem.type, mem.speed_mts, mem.modules, mem.module_gb) == ("DDR4", 2666, 2, 16)
    gpu = cat.resolve("ASUS Turbo GeForce RTX 2080 Ti", Category.GPU)
    assert isinstance(gpu, Gpu) and gpu.cooling == "blower" and gpu.vram_gib == 11
    ssd = cat.resolve("Samsung 970 EVO 1TB", Category.STORAGE)
    assert isinstance(ssd, Storage) and ssd.kind == "nvme" and ssd.capacity_gb == 1000
    hdd = cat.resolve("Seagate Exos 8TB", Category.STORAGE)
    assert isinstance(hdd, Storage) and hdd.kind == "hdd" and hdd.capacity_gb == 8000
    psu = cat.resolve("Rosewill Hercules 1600W", Category.PSU)
    assert isinstance(psu, Psu) and psu.wattage_w == 1600
    cooler = cat.resolve("Corsair H115i PRO", Category.COOLER)
    assert isinstance(cooler, Cooler) and cooler.kind == "aio" and cooler.radiator_mm == 280
    assert "LGA2066" in cooler.sockets
    case = cat.resolve("Corsair Carbide Air 540", Category.CASE)
    assert isinstance(case, Case) and "ATX" in case.motherboard_form_factors
    assert (case.expansion_slots or 0) >= 8
