"""Catalog coverage: for each rule, how many parts lack the facts it needs.

A rule that lacks data reports *unchecked*; this module counts, per rule and per category, the
parts whose missing facts would make it do so, so `dlrig catalog coverage` shows where the
catalog needs sourcing and a test can fail when the built-in catalog's coverage falls.

The table below mirrors the ``raise Unchecked(...)`` conditions of :mod:`dlrig.rules` (each
entry names the rule and the part fact behind one of them); it holds no facts itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from dlrig.parts import Category, Part


@dataclass(frozen=True)
class Need:
    """A fact ``rule`` needs from parts of ``category``; ``applies`` limits it to some parts
    (an air cooler has no radiator), ``known`` says whether a part has it."""

    rule: str
    category: Category
    fact: str
    known: Callable[[Any], bool]
    applies: Callable[[Any], bool] = lambda _p: True


def _set(field: str) -> Callable[[Any], bool]:
    return lambda p: getattr(p, field) is not None


def _nonempty(field: str) -> Callable[[Any], bool]:
    return lambda p: bool(getattr(p, field))


def _psu_plugs(p: Any) -> bool:
    # an all-12V-2x6 build is checked with the 12V-2x6 count alone; any other needs the 8-pin one
    return p.pcie_8pin is not None


def _enclosed(p: Any) -> bool:
    # an open frame has no side panel, drive cage or slot bracket: the fit rules pass it without
    # a clearance limit (rules/fit.py), so it lacks no fact there
    return bool(p.kind != "open-frame")


def _gpu_plugs(p: Any) -> bool:
    return not (p.pcie_6pin is None and p.pcie_8pin is None and p.pcie_12vhpwr is None)


NEEDS: tuple[Need, ...] = (
    Need("gpu-power-connectors", Category.PSU, "PCIe 8-pin plug count", _psu_plugs),
    Need("gpu-power-connectors", Category.GPU, "power connectors", _gpu_plugs),
    Need("psu-fit", Category.CASE, "PSU length limit", _set("max_psu_length_mm"), _enclosed),
    Need("psu-fit", Category.PSU, "length", _set("length_mm")),
    Need("cooler-capacity", Category.COOLER, "rated capacity", _set("rated_tdp_w")),
    Need("cooler-socket", Category.COOLER, "sockets", _nonempty("sockets")),
    Need(
        "cooler-height",
        Category.COOLER,
        "height (air coolers)",
        _set("height_mm"),
        lambda p: p.kind == "air",
    ),
    Need(
        "cooler-height",
        Category.CASE,
        "CPU cooler clearance",
        _set("max_cooler_height_mm"),
        _enclosed,
    ),
    Need(
        "radiator-mount",
        Category.COOLER,
        "radiator size (AIO)",
        _set("radiator_mm"),
        lambda p: p.kind == "aio",
    ),
    Need("radiator-mount", Category.CASE, "radiator mounts", _nonempty("radiator_mounts")),
    Need("gpu-length", Category.GPU, "length", _set("length_mm")),
    Need("gpu-length", Category.CASE, "maximum GPU length", _set("max_gpu_length_mm"), _enclosed),
    Need(
        "case-expansion-slots",
        Category.CASE,
        "expansion slots",
        _set("expansion_slots"),
        _enclosed,
    ),
    Need("slot-spacing", Category.GPU, "slot width", _set("slot_width")),
    Need("multi-gpu-airflow", Category.GPU, "cooler type", _set("cooling")),
    Need("drive-bays", Category.CASE, "3.5-inch bays", _set("bays_3_5")),
    Need("drive-bays", Category.MOTHERBOARD, "SATA ports", _set("sata_ports")),
    Need("pcie-lanes", Category.CPU, "PCIe lanes", _set("pcie_lanes")),
    Need("pcie-lanes", Category.MOTHERBOARD, "slot wiring", lambda p: p.slot_layout_known),
    Need("gpu-slots", Category.MOTHERBOARD, "PCIe slots", _nonempty("pcie_slots")),
    Need("memory-capacity", Category.MOTHERBOARD, "maximum memory", _set("max_memory_gb")),
    Need("memory-ecc", Category.MOTHERBOARD, "ECC support", _set("ecc")),
    Need("m2-slots", Category.MOTHERBOARD, "M.2 slots", _nonempty("m2_slots")),
)


@dataclass(frozen=True)
class CoverageRow:
    """For one rule and category: how many parts lack the fact the rule needs."""

    rule: str
    category: Category
    fact: str
    parts: int  # parts the fact applies to
    missing: tuple[str, ...]  # ids of those lacking it

    @property
    def known(self) -> int:
        """Parts that have the fact."""
        return self.parts - len(self.missing)

    @property
    def percent(self) -> float:
        """Share of parts that have the fact (100 when there are none)."""
        return 100.0 if self.parts == 0 else 100.0 * self.known / self.parts

    def to_dict(self) -> dict[str, Any]:
        """``dlrig catalog coverage --json``: one row."""
        return {
            "rule": self.rule,
            "category": self.category.value,
            "fact": self.fact,
            "parts": self.parts,
            "known": self.known,
            "missing": len(self.missing),
            "percent": round(self.percent, 1),
            "missing_ids": list(self.missing),
        }


def coverage(parts: Iterable[Part]) -> list[CoverageRow]:
    """One row per (rule, fact): how many of ``parts`` lack it. Price-only rows (no specs at
    all) are left out: they are listed by `dlrig catalog list` as such."""
    by_cat: dict[Category, list[Part]] = {}
    for p in parts:
        if not p.price_only:
            by_cat.setdefault(p.category, []).append(p)
    rows = []
    for need in NEEDS:
        applicable = [p for p in by_cat.get(need.category, []) if need.applies(p)]
        missing = tuple(p.id for p in applicable if not need.known(p))
        rows.append(CoverageRow(need.rule, need.category, need.fact, len(applicable), missing))
    return rows
