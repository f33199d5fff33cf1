"""Catalog coverage: the facts the rules need, per rule; the built-in catalog must not lose any."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from dlrig.buildfile import load_build
from dlrig.catalog import open_catalog
from dlrig.catalog.coverage import NEEDS, coverage
from dlrig.parts import Cooler
from dlrig.rules import RULES, check

ROOT = Path(__file__).parents[1]
FLOORS = yaml.safe_load((ROOT / "tests" / "data" / "coverage_floors.yaml").read_text())


def _rows() -> dict[tuple[str, str, str], Any]:
    return {(r.rule, r.category.value, r.fact): r for r in coverage(open_catalog(None).parts())}


def test_every_need_names_a_rule() -> None:
    assert {n.rule for n in NEEDS} <= set(RULES)


@pytest.mark.parametrize("floor", FLOORS, ids=[f"{f['rule']}:{f['fact']}" for f in FLOORS])
def test_builtin_coverage_does_not_fall(floor: dict[str, Any]) -> None:
    row = _rows()[(floor["rule"], floor["category"], floor["fact"])]
    assert row.percent >= floor["min_percent"], (
        f"{row.rule}: {row.fact} known for {row.known}/{row.parts} {row.category.value} parts "
        f"({row.percent:.0f}%), below the floor of {floor['min_percent']}%; missing: "
        f"{', '.join(row.missing)}"
    )


def test_every_row_has_a_floor() -> None:
    assert {(f["rule"], f["category"], f["fact"]) for f in FLOORS} == set(_rows())


def test_coverage_counts_real_parts() -> None:
    rows = _rows()
    psu = rows[("gpu-power-connectors", "psu", "PCIe 8-pin plug count")]
    assert "rosewill-hercules-1600s" not in psu.missing  # cross-filled from OpenDB
    assert psu.known >= 7
    aio = rows[("radiator-mount", "cooler", "radiator size (AIO)")]
    assert aio.parts == sum(
        1 for p in open_catalog(None).parts() if getattr(p, "kind", "") == "aio"
    )


def test_coverage_command(run_cli: Any) -> None:
    r = run_cli("catalog", "coverage", "--json")
    assert r.exit_code == 0
    data = {(d["rule"], d["fact"]): d for d in r.json()}
    row = data[("gpu-power-connectors", "PCIe 8-pin plug count")]
    assert row["known"] + row["missing"] == row["parts"] and "missing_ids" not in row


def test_warmachine_unchecked_only_where_no_source_was_found(catalog: Any) -> None:
    """The Warmachine's PSU plugs are known now (OpenDB); what stays unchecked lacks a source:
    the Carbide Air 540's PSU length limit and the H115i PRO's rated capacity (neither is in
    OpenDB, and no maker's figure was found)."""
    result = check(load_build(ROOT / "examples" / "warmachine.yaml", catalog))
    assert {u.slug for u in result.unchecked} == {"psu-fit", "cooler-capacity"}


def test_open_frames_lack_no_enclosure_fact() -> None:
    """The fit rules pass an open frame without a PSU length, cooler clearance, GPU length or
    slot count, so coverage does not count the frame as missing them."""
    rows = _rows()
    frames = [p.id for p in open_catalog(None).parts() if getattr(p, "kind", None) == "open-frame"]
    assert frames  # the suda GPUMiningRig frame
    for fact in ("PSU length limit", "CPU cooler clearance", "maximum GPU length"):
        row = next(r for r in rows.values() if r.category.value == "case" and r.fact == fact)
        assert not set(frames) & set(row.missing)
    radiators = rows[("radiator-mount", "case", "radiator mounts")]
    assert set(frames) <= set(radiators.missing)  # an AIO still needs a mount on a frame


def test_cooler_capacity_says_what_it_rests_on() -> None:
    """Every built-in cooler capacity names its basis (maker rating, maker CPU statement or a
    review's measurement), so the finding can say which."""
    coolers = [p for p in open_catalog(None).parts() if isinstance(p, Cooler)]
    rated = [c for c in coolers if c.rated_tdp_w is not None]
    assert rated and all(c.rated_tdp_basis for c in rated)
