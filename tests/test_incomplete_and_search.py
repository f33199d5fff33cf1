"""Search and build files resolve alike; incomplete builds get no pass; search says when it
cuts the list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dlrig.parts import Category

ROOT = Path(__file__).parents[1]
PARTS = ("cpu", "motherboard", "memory", "gpu", "storage", "psu", "cooler", "case")


def _build(tmp_path: Path, **parts: str | None) -> Path:
    lines = ["name: t", "parts:"]
    lines += [f"  {c}: {parts.get(c) or 'null'}" for c in PARTS]
    path = tmp_path / "b.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_search_and_build_file_agree(catalog: Any, run_cli: Any, tmp_path: Path) -> None:
    found = catalog.search("Corsair Air 540", Category.CASE)
    assert [p.id for p in found] == ["corsair-carbide-air-540"]
    path = _build(
        tmp_path,
        cpu="Intel Core i9-10920X",
        motherboard="ASUS WS X299 SAGE",
        psu="Rosewill Hercules 1600W",
        case="Corsair Air 540",
    )
    r = run_cli("check", str(path), "--json")
    assert r.json()["resolved_fuzzy"] == [
        "line 10: 'Corsair Air 540' matched as 'Corsair Carbide Air 540'"
    ]
    assert "matched as 'Corsair Carbide Air 540'" in r.stderr


def test_every_part_null_is_bad_input(run_cli: Any, tmp_path: Path) -> None:
    r = run_cli("check", str(_build(tmp_path)))
    assert r.exit_code == 2 and "every part is null" in r.stderr and "✓" not in r.stdout


def test_missing_core_parts_get_no_tick(run_cli: Any, tmp_path: Path) -> None:
    path = _build(tmp_path, gpu="NVIDIA GeForce RTX 4090 Founders Edition", psu="Corsair AX1600i")
    r = run_cli("check", str(path))
    assert r.exit_code == 0  # no errors in what could be checked, but no pass mark either
    assert "incomplete build: no cpu, motherboard, case" in " ".join(r.stdout.split())
    assert "✓" not in r.stdout
    d = run_cli("check", str(path), "--json").json()
    assert d["missing_core"] == ["cpu", "motherboard", "case"]


def test_search_says_when_it_cuts_the_list(run_cli: Any) -> None:
    r = run_cli("catalog", "search", "rtx", "--category", "gpu")
    total = len([ln for ln in r.stdout.splitlines() if ln.startswith("│ ")])
    assert "showing 20 of" in " ".join(r.stderr.split())
    everything = run_cli("catalog", "search", "rtx", "--category", "gpu", "--limit", "0", "--json")
    n = len(everything.json())
    assert n > 20 and f"showing 20 of {n} matches" in " ".join(r.stderr.split())
    assert total >= 20
