"""`dlrig bench` through the real entry point, on the CPU with quick sizes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")


def test_bench_cpu_json_and_markdown(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    md = tmp_path / "report.md"
    r = run_cli(
        "bench",
        "--quick",
        "--device",
        "cpu",
        "--only",
        "gemm",
        "--only",
        "membw",
        "--json",
        "-o",
        str(md),
    )
    assert r.exit_code == 0, r.stderr
    data = r.json()
    assert data["device"] == "cpu" and data["mode"] == "quick"
    keys = {f["key"]: f for f in data["figures"]}
    assert set(keys) == {"gemm.fp32.cpu", "gemm.bf16.cpu", "membw.host"}
    assert all(f["value"] > 0 and f["verdict"] == "unknown" for f in keys.values())
    assert "gemm" in r.stderr and "figure(s)" in r.stderr  # progress lines go to stderr
    text = md.read_text()
    assert text.startswith("# dlrig bench report") and "| fp32 GEMM |" in text


def test_bench_disk_table(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = run_cli(
        "bench",
        "--quick",
        "--device",
        "cpu",
        "--only",
        "disk",
        "--disk",
        str(tmp_path),
        "--disk-size-mb",
        "4",
    )
    assert r.exit_code == 0, r.stderr
    assert "disk sequential read" in r.stdout and "MB/s" in r.stdout
    assert list(tmp_path.iterdir()) == []


def test_bench_bad_input_exits_2(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("bench", "--device", "cpu", "--disk", str(tmp_path / "missing"))
    assert r.exit_code == 2 and "not a directory" in r.stderr
    r = run_cli("bench", "--device", "tpu")
    assert r.exit_code == 2 and "unknown device 'tpu'" in r.stderr
    r = run_cli("bench", "--device", "cpu", "--build", str(tmp_path / "nope.yaml"))
    assert r.exit_code == 2 and "Traceback" not in r.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nparts:\n  cpu: [oops\n")
    r = run_cli("bench", "--device", "cpu", "--only", "gemm", "--build", str(bad))
    assert r.exit_code == 2 and f"error: {bad}:4: invalid YAML" in r.stderr
    assert "figure(s)" not in r.stderr  # refused before any probe ran


def test_bench_output_into_a_missing_directory_exits_2(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "missing" / "report.md"
    r = run_cli("bench", "--device", "cpu", "--only", "gemm", "-o", str(out))
    assert r.exit_code == 2
    assert f"error: -o {out}: the directory {out.parent} does not exist" in r.stderr
    assert "figure(s)" not in r.stderr  # refused before any probe ran
    assert list(tmp_path.iterdir()) == []
    r = run_cli("bench", "--device", "cpu", "--only", "gemm", "-o", str(tmp_path))
    assert r.exit_code == 2 and f"error: -o {tmp_path}: is a directory" in r.stderr


def test_cli_import_does_not_import_torch() -> None:
    code = "import sys, dlrig.cli.app; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
