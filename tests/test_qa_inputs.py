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
    ("text", "usd"),
    [
        ("7,000", 7000),
        ("$1,234,567.50", 1234567.5),
        ("7k", 7000),
        ("7000 USD", 7000),  # as price files write it (dlrig prices import reads "1299 USD")
        ("7000$", 7000),
        ("7.5k usd", 7500),
    ],
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


# --- prices from Python (docs/prices.md) ---------------------------------------------------------
def test_prices_from_python_give_the_cli_json(
    run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dlrig.app import prices

    monkeypatch.setenv("DLRIG_PRICES", str(tmp_path / "book.sqlite"))
    cli = run_cli("prices", "list", "--part", "RTX 3090", "--condition", "used", "--json")
    assert cli.exit_code == 0, cli.stderr
    catalog = dlrig.open_catalog()
    used = prices.list_offers(prices.ListRequest.parse(part="RTX 3090", condition="used"), catalog)
    assert cli.stdout == dlrig.to_json(used) + "\n"
    with pytest.raises(InputError, match="unknown condition 'mint'"):
        prices.ListRequest.parse(condition="mint")


def test_a_used_only_plan_says_why_nothing_can_be_bought(run_cli: Any) -> None:
    """`plan --condition used` listed "no usable priced cpu passes the filters" for each
    category without saying that only used offers were allowed."""
    r = run_cli("plan", "--budget-usd", "5000", "--condition", "used", "--no-explain", "--json")
    assert r.exit_code == 1
    first = r.json()["infeasible"]["reasons"][0]
    # the request's words, the same JSON from every door (the web has no --condition)
    assert first.startswith("condition used: only parts with a used offer can be bought")
    assert first.endswith("allow new parts too with condition new,used")


def test_plan_o_keeps_the_prices_the_plan_paid(run_cli: Any, tmp_path: Path) -> None:
    """A --part-price quote (or a used offer) was dropped from the file plan -o wrote: check and
    cost of that file read the catalog's price again."""
    card = "NVIDIA GeForce RTX 4090 Founders Edition"
    out = tmp_path / "plan.yaml"
    args = ["--budget-usd", "5000", "--part-price", f"{card}=1200", "--include", card]
    r = run_cli("plan", *args, "--no-explain", "--json", "-o", str(out))
    assert r.exit_code == 0, r.stderr
    planned = r.json()["best"]
    assert "price_usd: 1200" in out.read_text(encoding="utf-8")
    checked = run_cli("check", str(out), "--json").json()["totals"]
    assert checked["price_usd"] == pytest.approx(planned["price_usd"])


def test_plan_names_a_part_option_matched_word_by_word(run_cli: Any) -> None:
    """--include 'Founders 4090 Edition' picked the RTX 4090 FE without a word (check and
    import-list show such matches for the user to confirm)."""
    r = run_cli(
        "plan", "--budget-usd", "5000", "--include", "Founders 4090 Edition", "--no-explain",
        "--json",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    notes = r.json()["notes"]
    assert notes[0] == (
        "include: 'Founders 4090 Edition' matched as 'NVIDIA GeForce RTX 4090 Founders "
        "Edition' (the part's name adds 'rtx')"
    )


@pytest.mark.parametrize(
    ("old", "new", "message", "hint"),
    [
        (
            "motherboard: ASUS WS X299 SAGE",
            "motherboard: {part: ASUS WS X299 SAGE, with: {max_memory_gb: lots}}",
            "with: max_memory_gb: must be a whole number, found 'lots'",
            "write e.g. max_memory_gb: 128 (the catalog's value)",
        ),
        (
            "psu: Rosewill Hercules 1600W",
            "psu: {part: Rosewill Hercules 1600W, with: {wattage_w: 0}}",
            "with: wattage_w: must be at least 300, found 0",
            "write e.g. wattage_w: 1600 (the catalog's value)",
        ),
        (
            "gpu: {part: ASUS Turbo GeForce RTX 2080 Ti, count: 4}",
            "gpu: {part: ASUS Turbo GeForce RTX 2080 Ti, count: 4, riser: {pcie_gen: 9}}",
            "riser: pcie_gen: must be at most 6, found 9",
            "write e.g. riser: {length_mm: 200, pcie_gen: 4}",
        ),
        (
            "gpu: {part: ASUS Turbo GeForce RTX 2080 Ti, count: 4}",
            "gpu: {part: ASUS Turbo GeForce RTX 2080 Ti, count: 4, riser: {lenght_mm: 200}}",
            "riser: lenght_mm: no such field",
            "riser fields: name, kind, length_mm",
        ),
    ],
)
def test_a_wrong_value_in_with_or_riser_is_said_in_words(
    run_cli: Any, tmp_path: Path, old: str, new: str, message: str, hint: str
) -> None:
    """ "Input should be a valid integer, unable to parse string as an integer" with a hint
    listing 21 field names; "Extra inputs are not permitted"."""
    r = run_cli("check", str(_warmachine_with(tmp_path, old, new)))
    assert r.exit_code == 2
    assert message in r.stderr and hint in r.stderr
    assert "Input should" not in r.stderr and "Extra inputs" not in r.stderr


def test_cost_plot_to_a_folder_that_cannot_be_made_is_bad_input(
    run_cli: Any, tmp_path: Path
) -> None:
    """--plot under a file (or /proc) was an "internal error: FileNotFoundError", exit 3."""
    pytest.importorskip("matplotlib")
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    out = blocker / "cost.svg"
    r = run_cli("cost", str(REPO / "examples" / "warmachine.yaml"), "--plot", str(out))
    assert r.exit_code == 2
    assert f"error: cannot write the plot {out}" in r.stderr
    assert "internal error" not in r.stderr


def test_a_price_book_path_that_is_a_folder_says_so(run_cli: Any, tmp_path: Path) -> None:
    """--db FOLDER said "not a dlrig price book (unable to open database file)" and told the
    user to move their file away."""
    f = tmp_path / "quotes.csv"
    f.write_text("part,price\nNVIDIA GeForce RTX 3090 Founders Edition,700\n")
    r = run_cli("prices", "import", str(f), "--db", str(tmp_path))
    assert r.exit_code == 2
    assert f"error: {tmp_path}: is a folder, not a price book" in r.stderr


def test_an_amd_card_is_told_to_cap_with_rocm_smi(run_cli: Any, tmp_path: Path) -> None:
    """The cap hint said "nvidia-smi -pl 153" for four Radeon PRO W7900s."""
    text = (REPO / "examples" / "amd-gpu.yaml").read_text(encoding="utf-8")
    text = text.replace("count: 2}", "count: 4}").replace(
        "psu: Rosewill Hercules 1600W", "psu: Corsair HX1000i (2022)"
    )
    f = tmp_path / "amd4.yaml"
    f.write_text(text, encoding="utf-8")
    r = run_cli("check", str(f), "--json")
    hints = [x["hint"] for x in r.json()["findings"] if x["slug"] == "psu-headroom"]
    assert hints and "(rocm-smi --setpoweroverdrive 153)" in hints[0]
    assert "nvidia-smi" not in hints[0]


def test_an_empty_circuit_list_says_it_is_empty(run_cli: Any, tmp_path: Path) -> None:
    """`circuits: []` was told it "must be a list of circuits" (it is one)."""
    text = (REPO / "examples" / "warmachine.yaml").read_text(encoding="utf-8")
    f = tmp_path / "b.yaml"
    site = "site:              # optional, documented defaults\n  mains_voltage_v: 120\n"
    text = text.replace(site + "  circuit_amps: 15", "site:\n  circuits: []")
    f.write_text(text, encoding="utf-8")
    r = run_cli("check", str(f))
    assert r.exit_code == 2 and "site.circuits: lists no circuit" in r.stderr
