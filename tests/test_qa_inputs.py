"""Malformed input a real user produces for the newer inputs (price files, budgets, power
limits, slots, PSUs, overrides): one line naming what, where and how to fix it, exit code 2 (or
the row reported with its line), never a traceback, nothing stored on failure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import dlrig
from dlrig.errors import InputError

REPO = Path(__file__).resolve().parents[1]


# --- dlrig prices import ----------------------------------------------------------------------
def test_a_bad_condition_row_is_reported_with_its_line_and_the_rest_import(
    run_cli: Any, tmp_path: Path
) -> None:
    f = tmp_path / "quotes.csv"
    f.write_text(
        "part,price,currency,date,condition\n"
        "NVIDIA GeForce RTX 3090 Founders Edition,690,USD,2026-11-20,used\n"
        "NVIDIA GeForce RTX 3090 Founders Edition,650,USD,2026-11-21,usd\n"
    )
    r = run_cli("prices", "import", str(f), "--db", str(tmp_path / "b.sqlite"), "--json")
    assert r.exit_code == 0, r.stderr
    d = r.json()
    assert (d["matched"], d["added"]) == (1, 1)
    [bad] = d["unmatched"]
    assert bad["line"] == 3
    assert "unknown condition 'usd'" in bad["reason"] and "--condition" not in bad["reason"]


def test_a_price_that_is_not_a_number_says_so_in_words(run_cli: Any, tmp_path: Path) -> None:
    f = tmp_path / "quotes.csv"
    f.write_text("part,price\nNVIDIA GeForce RTX 3090 Founders Edition,abc\n")
    book = tmp_path / "b.sqlite"
    r = run_cli("prices", "import", str(f), "--db", str(book), "--json")
    assert r.exit_code == 1
    [bad] = r.json()["unmatched"]
    assert bad["reason"] == "price 'abc' is not an amount of US dollars (e.g. 799)"
    assert "could not convert" not in r.stdout + r.stderr


# --- budgets ----------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["6,0000", "60,00", "7,00k", ",7000"])
def test_a_budget_with_misplaced_commas_is_refused_everywhere(run_cli: Any, text: str) -> None:
    """ "60,00" (a decimal comma) was read as $6,000 and "6,0000" as $60,000, silently."""
    r = run_cli("plan", "--budget-usd", text)
    assert r.exit_code == 2
    assert f"'{text}': commas must group thousands (7,000)" in r.stderr
    assert "Traceback" not in r.stderr
    with pytest.raises(InputError, match="commas must group thousands"):
        dlrig.plan(text)


@pytest.mark.parametrize(
    ("text", "usd"), [("7,000", 7000), ("$1,234,567.50", 1234567.5), ("7k", 7000)]
)
def test_grouped_budgets_still_read(text: str, usd: float) -> None:
    from dlrig.units import parse_usd

    assert parse_usd(text) == usd


def test_a_price_file_saved_by_excel_with_a_byte_order_mark_imports(
    run_cli: Any, tmp_path: Path
) -> None:
    """Excel's "CSV UTF-8" starts with a BOM: the header read '\\ufeffpart' and was refused."""
    f = tmp_path / "excel.csv"
    f.write_bytes(b"\xef\xbb\xbfpart,price\nNVIDIA GeForce RTX 3090 Founders Edition,700\n")
    r = run_cli("prices", "import", str(f), "--db", str(tmp_path / "b.sqlite"), "--json")
    assert r.exit_code == 0, r.stderr
    assert (r.json()["matched"], r.json()["added"]) == (1, 1)


# --- dlrig gpus -------------------------------------------------------------------------------
@pytest.mark.parametrize("flags", [["--precision", "fp16"], ["--precision", "fp12"], ["-b", "8"]])
def test_gpus_refuses_workload_flags_without_a_workload(run_cli: Any, flags: list[str]) -> None:
    """`gpus --precision fp16` ranked by the bf16 mix (and fp12 too), exit 0, without a word."""
    r = run_cli("gpus", *flags)
    assert r.exit_code == 2
    name = "precision" if flags[0] == "--precision" else "batch"
    assert f"error: {name} given without a workload" in r.stderr
    with pytest.raises(InputError, match=f"{name} given without a workload"):
        dlrig.gpus(**{name: flags[1]})


def test_gpus_without_anything_still_ranks_the_default_mix(run_cli: Any) -> None:
    r = run_cli("gpus", "--json")
    assert r.exit_code == 0 and r.json()["workload"] is None


# --- build files ------------------------------------------------------------------------------
def _warmachine_with(tmp_path: Path, old: str, new: str) -> Path:
    text = (REPO / "examples" / "warmachine.yaml").read_text(encoding="utf-8")
    assert old in text
    f = tmp_path / "build.yaml"
    f.write_text(text.replace(old, new), encoding="utf-8")
    return f


def test_two_parts_written_with_a_comma_are_told_to_be_a_list(run_cli: Any, tmp_path: Path) -> None:
    """ "did you mean 'Samsung 970 EVO 1TB' or 'Seagate Exos 8TB'? (the model differs: you
    wrote 1000 GB, 8000 GB ...)" did not say what was wrong."""
    f = _warmachine_with(
        tmp_path,
        "storage: [Samsung 970 EVO 1TB, Seagate Exos 8TB]",
        "storage: Samsung 970 EVO 1TB, Seagate Exos 8TB",
    )
    r = run_cli("check", str(f))
    assert r.exit_code == 2
    assert "→ for several parts write a list: storage: [Samsung 970 EVO 1TB, Seagate Exos 8TB]" in (
        r.stderr
    )
    f = _warmachine_with(
        tmp_path, "cpu: Intel Core i9-10920X", "cpu: Intel Core i9-10920X, Intel Core i9-10980XE"
    )
    r = run_cli("check", str(f))
    assert r.exit_code == 2 and "a build takes one cpu: name one of" in r.stderr


# --- dlrig cost -------------------------------------------------------------------------------
def test_cost_with_a_preset_and_no_data_size_names_the_workload(run_cli: Any) -> None:
    """It said "no training time for {'model': 'llama-3.1-8b'}" (a Python dict)."""
    r = run_cli("cost", str(REPO / "examples" / "warmachine.yaml"), "--workload", "llama-3.1-8b")
    assert r.exit_code == 2
    assert "error: no training time for train Llama 3.1 8B" in r.stderr
    assert "{'model'" not in r.stderr and "data: {tokens: 1B}" in r.stderr


def test_the_web_cost_api_says_it_opens_no_price_file() -> None:
    """`?prices=quotes.csv` got "prices: Input should be a valid list"."""
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient

    from dlrig.web.app import create_app

    r = TestClient(create_app()).post(
        "/api/cost",
        params={"prices": "quotes.csv"},
        content=(REPO / "examples" / "warmachine.yaml").read_bytes(),
    )
    assert r.status_code == 422
    assert r.json()["message"] == "prices: the web app opens no files"
