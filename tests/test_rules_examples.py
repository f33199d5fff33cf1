"""The shipped examples: the Warmachine acceptance criteria and the failure builds' findings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dlrig.buildfile import load_build
from dlrig.rules import Severity, check

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# example → (error slugs exactly, slugs that must also be present as (slug, severity))
EXPECTED: dict[str, tuple[set[str], set[tuple[str, str]]]] = {
    "four-open-air-3slot-consumer": (
        {"gpu-slots", "psu-headroom"},
        {("multi-gpu-airflow", "warning"), ("wall-circuit", "warning")},
    ),
    "undersized-psu": ({"psu-headroom"}, set()),
    "too-few-psu-connectors": ({"gpu-power-connectors"}, set()),
    "socket-mismatch": ({"cpu-socket", "memory-type", "cooler-socket"}, set()),
    "ddr5-on-ddr4-board": ({"memory-type"}, set()),
    "gpu-too-long": ({"gpu-length"}, set()),
    "four-gpus-15a-circuit": (set(), {("wall-circuit", "warning")}),
    "too-many-m2-drives": ({"m2-slots"}, set()),
    "rdimm-on-desktop-board": ({"memory-ecc"}, set()),
    "case-too-few-slots": ({"case-expansion-slots"}, set()),
    "open-air-stack": (set(), {("multi-gpu-airflow", "warning")}),
    "hdd-only": (set(), {("fast-storage", "warning")}),
    "amd-gpu": (set(), {("cuda-support", "warning"), ("tensor-cores", "warning")}),
    # published cases (issue 14): see each file's header for the source and what happened
    "four-3090-capped-1600w": (
        set(),
        {("psu-headroom", "warning"), ("wall-circuit", "warning")},
    ),
    "four-3090-uncapped-1600w": ({"psu-headroom"}, set()),
    "two-titan-xp-850w": ({"psu-headroom"}, set()),
    "epyc-open-frame-risers": (set(), {("gpu-placement", "info")}),
}


@pytest.fixture(scope="module")
def warmachine(catalog: Any) -> Any:
    return load_build(EXAMPLES / "warmachine.yaml", catalog)


def test_warmachine_has_no_errors(warmachine: Any) -> None:
    result = check(warmachine)
    assert result.ok, result.errors
    assert warmachine.gpu_count == 4
    assert warmachine.total_vram_gib == 44


def test_warmachine_warns_ram_below_vram(warmachine: Any) -> None:
    result = check(warmachine)
    ram = [f for f in result.findings if f.slug == "ram-vs-vram"]
    assert len(ram) == 1 and ram[0].severity is Severity.WARNING
    assert "32 GB" in ram[0].message and "44 GB" in ram[0].message


def test_warmachine_one_gpu_has_no_ram_warning(warmachine: Any) -> None:
    result = check(warmachine.with_gpu_count(1))
    assert "ram-vs-vram" not in result.slugs()


def test_warmachine_board_fits_air_540(warmachine: Any) -> None:
    result = check(warmachine)
    ff = [f for f in result.findings if f.slug == "case-form-factor"]
    assert all(f.severity is Severity.INFO for f in ff)
    assert "case-form-factor" not in result.slugs(Severity.ERROR)
    assert "case-form-factor" not in result.slugs(Severity.WARNING)


def test_warmachine_no_airflow_warning_and_psu_ok(warmachine: Any) -> None:
    result = check(warmachine)
    slugs = result.slugs()
    assert "multi-gpu-airflow" not in slugs  # blower cards
    assert "psu-headroom" not in slugs
    assert "psu-headroom" not in {u.slug for u in result.unchecked}
    assert "slot-spacing" not in slugs and "pcie-lanes" not in slugs


def test_at_least_ten_failure_examples() -> None:
    files = {p.stem for p in EXAMPLES.glob("*.yaml")} - {"warmachine"}
    assert len(files) >= 10
    assert files <= set(EXPECTED), files - set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_failure_example(name: str, catalog: Any) -> None:
    build = load_build(EXAMPLES / f"{name}.yaml", catalog)
    result = check(build)
    errors, present = EXPECTED[name]
    assert result.slugs(Severity.ERROR) == errors, result.errors
    found = {(f.slug, f.severity.value) for f in result.findings}
    assert present <= found, found
    assert result.ok is (not errors)
