"""A build naming a price-only row (imported price list, no specs) is checked, never crashes,
and every rule that could not see the part reports *unchecked*."""

from __future__ import annotations

import datetime as dt

from dlrig.buildfile import parse_build
from dlrig.catalog.core import Catalog
from dlrig.catalog.store import PRICE_ONLY_MODELS
from dlrig.parts import Category
from dlrig.rules import check


def _catalog_with_price_only_psu(builtin):  # type: ignore[no-untyped-def]
    psu = PRICE_ONLY_MODELS[Category.PSU](
        id="pcpp-apex-al-8250sfx",
        name="Apex AL-8250SFX",
        brand="Apex",
        source="pcpartpicker-dataset: power-supply.jsonl",
        price_usd=55.0,
        price_date=dt.date(2025, 7, 23),
        price_source="PCPartPicker via docyx/pc-part-dataset",
        origin="pcpartpicker-dataset",
    )
    return Catalog([*builtin.parts(), psu], builtin.chips, name="test")


def test_price_only_part_is_unchecked_not_a_crash(catalog) -> None:  # type: ignore[no-untyped-def]
    cat = _catalog_with_price_only_psu(catalog)
    data = {
        "name": "price-only psu",
        "parts": {
            "cpu": "Intel Core i9-10920X",
            "motherboard": "ASUS WS X299 SAGE",
            "memory": "Corsair Vengeance LPX 32GB (2x16GB) DDR4-2666",
            "gpu": {"part": "ASUS Turbo GeForce RTX 2080 Ti", "count": 2},
            "storage": ["Samsung 970 EVO 1TB"],
            "psu": "Apex AL-8250SFX",
            "cooler": "Corsair H115i PRO",
            "case": "Corsair Carbide Air 540",
        },
    }
    build = parse_build(data, cat)
    assert [p.id for p in build.price_only_parts] == ["pcpp-apex-al-8250sfx"]
    assert build.psu is None and build.price_usd > 55
    result = check(build)
    unchecked = {u.slug: u.reason for u in result.unchecked}
    assert "psu-headroom" in unchecked and "Apex AL-8250SFX" in unchecked["psu-headroom"]
    assert "gpu-power-connectors" in unchecked
    # rules that found nothing cannot vouch for the spec-less part either
    assert "cpu-socket" in unchecked
    assert not any(f.severity == "error" for f in result.findings)
