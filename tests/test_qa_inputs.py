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
