"""`dlrig check`, `dlrig rules`, `dlrig import-list` through the real entry point."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WARMACHINE = str(ROOT / "examples" / "warmachine.yaml")


def test_check_warmachine_report(run_cli: Any) -> None:
    r = run_cli("check", WARMACHINE)
    assert r.exit_code == 0, r.stderr
    out = r.stdout
    assert "Warmachine" in out
    assert "D001 ram-vs-vram" in out and "32 GB" in out and "44 GB" in out
    assert "→" in out  # every finding shows its fix
    assert "1,260 W" in out  # peak DC power
    assert "unchecked" in out
    assert "no errors" in out


def test_check_json(run_cli: Any) -> None:
    r = run_cli("check", WARMACHINE, "--json")
    assert r.exit_code == 0
    d = r.json()
    assert d["ok"] is True and d["build"] == "Warmachine"
    assert d["totals"]["gpu_count"] == 4 and d["totals"]["vram_gib"] == 44
    assert "ram-vs-vram" in {f["slug"] for f in d["findings"]}


def test_check_gpus_option(run_cli: Any) -> None:
    d = run_cli("check", WARMACHINE, "--json", "--gpus", "1").json()
    assert d["totals"]["gpu_count"] == 1
    assert "ram-vs-vram" not in {f["slug"] for f in d["findings"]}


def test_check_errors_exit_1(run_cli: Any) -> None:
    r = run_cli("check", str(ROOT / "examples" / "undersized-psu.yaml"))
    assert r.exit_code == 1
    assert "P001 psu-headroom" in r.stdout and "ERROR" in r.stdout
    r = run_cli("check", str(ROOT / "examples" / "undersized-psu.yaml"), "--json")
    assert r.exit_code == 1 and r.json()["ok"] is False


def test_check_bad_file_exit_2(run_cli: Any, tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("name: x\nparts:\n  cpu: Intel Core i9-10920X\n  gpuu: foo\n")
    r = run_cli("check", str(p))
    assert r.exit_code == 2
    assert f"{p}:4" in r.stderr and "unknown category 'gpuu'" in r.stderr
    assert "did you mean 'gpu'" in r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    r = run_cli("check", str(tmp_path / "missing.yaml"))
    assert r.exit_code == 2 and "not found" in r.stderr


def test_check_bad_gpus_exit_2(run_cli: Any) -> None:
    assert run_cli("check", WARMACHINE, "--gpus", "0").exit_code == 2


def test_rules_list_and_explain(run_cli: Any) -> None:
    r = run_cli("rules")
    assert r.exit_code == 0 and "psu-headroom" in r.stdout and "nvlink-p2p" in r.stdout
    r = run_cli("rules", "slot-spacing")
    assert r.exit_code == 0 and "Why:" in r.stdout and "Bad:" in r.stdout
    d = run_cli("rules", "--json").json()
    assert {x["slug"] for x in d} >= {"psu-headroom", "ram-vs-vram"}
    assert run_cli("rules", "P003", "--json").json()["slug"] == "wall-circuit"
    r = run_cli("rules", "no-such-rule")
    assert r.exit_code == 2 and "unknown rule" in r.stderr


def test_import_list(run_cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "wm.yaml"
    r = run_cli(
        "import-list", str(ROOT / "tests" / "data" / "warmachine_pcpartpicker.txt"), "-o", str(out)
    )
    assert r.exit_code == 0  # the case fan and the custom part are skipped, not failures
    assert "skipped: line 15: Case Fan" in r.stderr
    assert out.exists()
    d = run_cli("check", str(out), "--json").json()
    assert d["totals"]["gpu_count"] == 4 and d["ok"] is True
    assert d["totals"]["price_complete"] is True


def test_check_huge_gpu_count_exit_2(run_cli: Any) -> None:
    r = run_cli("check", WARMACHINE, "--gpus", "100000000")
    assert (
        r.exit_code == 2 and "at most 64" in r.stderr and "--gpus: 100,000,000 is more" in r.stderr
    )


def test_ram_vs_vram_beyond_table(run_cli: Any) -> None:
    # 64 × 48 GB = 3,072 GB of VRAM: past the RAM size table, still a finding (was a crash)
    r = run_cli("check", str(ROOT / "examples" / "amd-gpu.yaml"), "--gpus", "64", "--json")
    assert r.exit_code in (0, 1), r.stderr
    hints = [f["hint"] for f in r.json()["findings"] if f["slug"] == "ram-vs-vram"]
    assert hints == ["Use at least 3072 GB of RAM (e.g. more or larger modules)."]


def test_check_prints_markup_characters_literally(run_cli: Any, tmp_path: Path) -> None:
    text = (ROOT / "examples" / "warmachine.yaml").read_text()
    text = text.replace("name: Warmachine", 'name: "rig [/] [bold]x"').replace(
        "psu: Rosewill Hercules 1600W", 'psu: {custom: {name: "Big [/] PSU", wattage_w: 2000}}'
    )
    p = tmp_path / "markup.yaml"
    p.write_text(text)
    r = run_cli("check", str(p))
    assert r.exit_code in (0, 1), r.stderr
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr
    assert "Big [/] PSU (custom)" in r.stdout  # parts table
    assert "PCIe power plugs of Big [/] PSU are unknown" in r.stdout  # unchecked reasons
    assert "rig [/] [bold]x" in r.stdout


def test_import_list_markup_line_printed_literally(run_cli: Any, tmp_path: Path) -> None:
    p = tmp_path / "list.txt"
    p.write_text("CPU: Intel [/] thing [red]\n")
    r = run_cli("import-list", str(p))
    assert r.exit_code == 1
    assert "line 1: CPU: Intel [/] thing [red]" in r.stderr


def test_internal_error_message_with_markup_does_not_crash(run_cli: Any, monkeypatch: Any) -> None:
    import dlrig.rules

    def boom(*_: Any, **__: Any) -> None:
        raise ValueError("closing tag [/bold] in a message")

    monkeypatch.setattr(dlrig.rules, "check", boom)
    r = run_cli("check", WARMACHINE)
    assert r.exit_code == 3
    assert "internal error: ValueError: closing tag [/bold] in a message" in r.stderr


def test_import_list_from_stdin_gets_a_name(run_cli: Any, monkeypatch: Any) -> None:
    import io
    import sys

    text = (ROOT / "tests" / "data" / "warmachine_pcpartpicker.txt").read_text()
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    r = run_cli("import-list", "-", "--json")
    assert r.json()["build"]["name"] == "parts list"  # not '-'


def test_fuzzy_part_names_are_reported(run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A name matched by similarity is named on stderr and in the JSON, with its line."""
    from pathlib import Path

    text = Path("examples/warmachine.yaml").read_text(encoding="utf-8")
    typo = text.replace("RTX 2080 Ti, count", "RTX 2080 Tii, count")
    assert typo != text
    path = tmp_path / "typo.yaml"
    path.write_text(typo, encoding="utf-8")
    r = run_cli("check", str(path), "--json")
    assert r.exit_code == 0
    assert r.json()["resolved_fuzzy"] == [
        "line 6: 'ASUS Turbo GeForce RTX 2080 Tii' matched as 'ASUS Turbo GeForce RTX 2080 Ti'"
        " (read 'tii' as 'ti')"
    ]
    assert "matched as 'ASUS Turbo GeForce RTX 2080 Ti'" in r.stderr
    exact = run_cli("check", "examples/warmachine.yaml", "--json")
    assert exact.json()["resolved_fuzzy"] == [] and "matched as" not in exact.stderr
