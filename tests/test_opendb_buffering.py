"""OpenDB memory: a kit whose name says Registered is read as registered (and ECC), whatever
OpenDB's own buffering field says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dlrig.catalog.importers.opendb import map_memory

OPENDB_RAM = Path("/work/shared/datasets/opendb/RAM.jsonl")


def _rec(name: str, registered: str = "Unbuffered", ecc: str = "Non-ECC") -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "ram_type": "DDR5",
        "form_factor": "288-pin DIMM",
        "speed": 6400,
        "modules": {"quantity": 4, "capacity_gb": 32},
        "registered": registered,
        "ecc": ecc,
    }


@pytest.mark.parametrize(
    ("name", "registered", "ecc"),
    [
        ("Kingston FURY Renegade Pro Registered Black DDR5-6400 CL32 128GB (4x32GB)", True, True),
        ("V-Color ECC RDIMM 512GB (8x64GB) DDR5 5600", True, True),
        ("Samsung 64GB DDR5-4800 LRDIMM", True, True),
        ("V-Color ECC UDIMM 64GB (2x32GB) DDR5 5600", False, True),
        ("Corsair Vengeance Non-ECC DDR5-6000 64GB (2x32GB)", False, False),
        ("Corsair Vengeance DDR5-6000 64GB (2x32GB)", False, False),
    ],
)
def test_name_corrects_the_buffering_field(name: str, registered: bool, ecc: bool) -> None:
    mapped = map_memory(_rec(name), None)  # type: ignore[arg-type]  # memory needs no context
    assert (mapped["registered"], mapped["ecc"]) == (registered, ecc)


def test_the_field_still_counts() -> None:
    mapped = map_memory(_rec("Some Kit DDR5-4800", "Registered", "ECC"), None)  # type: ignore[arg-type]
    assert mapped["registered"] and mapped["ecc"]


@pytest.mark.skipif(not OPENDB_RAM.exists(), reason="shared OpenDB dataset not present")
def test_every_registered_name_in_opendb_maps_registered() -> None:
    names = []
    for line in OPENDB_RAM.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        name = rec["metadata"]["name"]
        if "registered" in name.lower() and rec.get("ram_type") in ("DDR4", "DDR5"):
            try:
                mapped = map_memory(rec, None)  # type: ignore[arg-type]
            except Exception:  # skipped/quarantined rows are not imported
                continue
            names.append((name, mapped["registered"]))
    assert len(names) >= 100
    assert [n for n, reg in names if not reg] == []
