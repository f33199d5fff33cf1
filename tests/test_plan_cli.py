"""`dlrig plan` on the command line: tables, JSON, build files that `dlrig check` accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

pytest.importorskip("ortools")

from dlrig.buildfile import load_build
from dlrig.cli.app import app
from dlrig.rules import check

runner = CliRunner()


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLRIG_CACHE_DIR", str(tmp_path / "cache"))


def test_plan_writes_a_build_that_checks(tmp_path: Path) -> None:
    out = tmp_path / "build.yaml"
    r = runner.invoke(app, ["plan", "--budget-usd", "7000", "--no-explain", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "OPTIMAL" in r.output and "proved optimal" in r.output
    build = load_build(out)
    assert not check(build).errors
    assert build.price_usd <= 7000


def test_plan_json_shape() -> None:
    r = runner.invoke(app, ["plan", "--budget-usd", "9000", "--json", "-k", "2", "--no-explain"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["status"] == "OPTIMAL"
    assert data["best"]["check"]["ok"] is True
    assert data["best"]["price_usd"] <= 9000
    assert len(data["alternatives"]) == 2
    assert data["stats"]["checker_cuts"] == 0  # the model agrees with the checker


def test_plan_infeasible_exit_code_and_message() -> None:
    r = runner.invoke(app, ["plan", "--budget-usd", "200", "--no-explain"])
    assert r.exit_code == 1
    assert "cheapest build that fits" in r.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--objective", "speed"], "unknown objective 'speed'"),
        (["--workload", "llama-3.1-8bb"], "did you mean 'llama-3.1-8b'"),
        (["--include", "Nonexistentbrandxyz"], "neither a brand nor a part"),
        (["--gpus", "3", "--upgrade-to", "2"], "--gpus: 3 is more than the 2 to upgrade to"),
        (["--cooling", "blowr"], "unknown GPU cooling 'blowr'"),
    ],
)
def test_plan_bad_input_is_exit_2(run_cli, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("plan", "--budget-usd", "5000", "--no-explain", *args)
    assert r.exit_code == 2, r.stderr
    assert message in r.stderr and "internal error" not in r.stderr


def test_plan_output_path_is_checked_before_solving(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # a folder, or a file where a folder must be, was an internal error after the whole solve
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for target, message in ((tmp_path, "is a folder"), (blocker / "b.yaml", "cannot create")):
        r = run_cli("plan", "--budget-usd", "7000", "--no-explain", "-o", str(target))
        assert r.exit_code == 2, r.stderr
        assert message in r.stderr and "internal error" not in r.stderr
        assert r.stdout == ""
    assert [x for x in tmp_path.iterdir() if x.name != "cache"] == [blocker]  # nothing written


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--budget-usd", "nan"], "'nan' is not a finite amount"),
        (["--budget-usd", "inf"], "'inf' is not a finite amount"),
        (["--budget-usd", "7000", "--time-limit", "0"], "--time-limit: 0 is out of range"),
        (["--budget-usd", "7000", "--min-vram-gib", "-1"], "--min-vram-gib: -1 is out of range"),
        (["--budget-usd", "7000", "--min-tflops", "nan"], "--min-tflops: nan is out of range"),
    ],
)
def test_plan_bad_numbers_exit_2(run_cli, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    # NaN/inf budgets were internal errors; --time-limit 0 said "no build meets these constraints"
    r = run_cli("plan", *args, "--no-explain")
    assert r.exit_code == 2, r.stderr
    assert message in r.stderr and "internal error" not in r.stderr


def test_plan_frontier_and_upgrade() -> None:
    r = runner.invoke(app, ["plan", "--budget-usd", "6000", "--frontier", "--no-explain"])
    assert r.exit_code == 0, r.output
    assert "Pareto frontier" in r.output
    r = runner.invoke(
        app,
        [
            "plan",
            "--budget-usd",
            "6000",
            "--gpus",
            "1",
            "--upgrade-to",
            "3",
            "--allow",
            "wall-circuit",
            "--no-explain",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "upgrade path: 3 GPUs" in r.output


def test_budget_written_like_a_price(run_cli) -> None:  # type: ignore[no-untyped-def]
    from dlrig.units import parse_usd

    assert parse_usd("$7,000") == parse_usd("7k") == parse_usd("7000") == 7000.0
    r = run_cli("plan", "--budget-usd", "$7,000", "--no-explain", "--json")
    assert r.exit_code == 0 and r.json()["best"]["price_usd"] <= 7000
    bad = run_cli("plan", "--budget-usd", "seven")
    assert bad.exit_code == 2 and "not an amount" in bad.stderr


def test_part_price_quotes(run_cli) -> None:  # type: ignore[no-untyped-def]
    bad = run_cli("plan", "--budget-usd", "7000", "--part-price", "no equals sign")
    assert bad.exit_code == 2 and "NAME=USD" in bad.stderr
    neg = run_cli("plan", "--budget-usd", "7000", "--part-price", "Rosewill Hercules 1600W=-5")
    assert neg.exit_code == 2 and "not a positive amount" in neg.stderr
    unknown = run_cli("plan", "--budget-usd", "7000", "--part-price", "Hercules 9000 Ultra=99")
    assert unknown.exit_code == 2


def test_plan_precision_option(run_cli) -> None:  # type: ignore[no-untyped-def]
    # the throughput objective is the performance model's default mix at the given precision
    # (FP8 tensor cores count for the matmul part; memory-bound parts do not speed up)
    args = ("plan", "--budget-usd", "7000", "--gpus", "2", "--no-explain", "--json")
    bf16 = run_cli(*args).json()["best"]
    fp8 = run_cli(*args, "--precision", "fp8").json()["best"]
    assert fp8["parts"]["gpu"] == bf16["parts"]["gpu"]  # the same two cards win
    [gpu] = fp8["parts"]["gpu"]
    from dlrig.catalog import open_catalog

    chip = open_catalog().chip_of(open_catalog().get(gpu["id"]))
    assert chip is not None and chip.fp8_tflops and chip.bf16_tflops
    # (per workload the bound is exact; the mix is normalised per precision by the reference
    # card, whose memory-bound share differs from this card's: allow 1 %)
    ratio = chip.fp8_tflops / chip.bf16_tflops
    assert bf16["tflops"] <= fp8["tflops"] <= bf16["tflops"] * ratio * 1.01
    bad = run_cli("plan", "--budget-usd", "7000", "--precision", "fp9")
    assert bad.exit_code == 2 and "unknown precision 'fp9'" in bad.stderr


def test_plan_distinct_option(run_cli) -> None:  # type: ignore[no-untyped-def]
    # --distinct build: the next-best builds may keep the GPU and change any other part
    def gpus_of(*extra: str) -> list[tuple[str, int]]:
        r = run_cli("plan", "--budget-usd", "7000", "-k", "2", "--no-explain", *extra, "--json")
        d = r.json()
        gpus = [b["parts"]["gpu"][0] for b in [d["best"], *d["alternatives"]]]
        return [(g["id"], g.get("count", 1)) for g in gpus]

    by_gpu, by_build = gpus_of(), gpus_of("--distinct", "build")
    assert len(set(by_gpu)) == 3  # the default: each alternative has another GPU choice
    assert by_build[0] == by_gpu[0] and len(by_build) == 3 and len(set(by_build)) < 3
    bad = run_cli("plan", "--budget-usd", "7000", "--distinct", "part")
    assert bad.exit_code == 2 and "unknown distinct mode 'part'" in bad.stderr


def test_1500_gives_a_build() -> None:
    """$1,500 was infeasible with launch MSRPs (cheapest $1,519); with the dated offers of the
    shipped snapshot (PCPartPicker 2025-07-23 for the CPUs) it buys a whole machine."""
    r = runner.invoke(app, ["plan", "--budget-usd", "1500", "--no-explain", "--json"])
    assert r.exit_code == 0, r.output
    best = json.loads(r.stdout)["best"]
    assert best["gpu_count"] >= 1 and best["price_usd"] <= 1500
    assert best["check"]["ok"] is True


def test_unspent_budget_names_the_unpriced_parts_that_would_do() -> None:
    """$40,000 stops at two cards: the blockers of a third name the PSUs and boards that would
    hold it but have no price, each with its reason, and how to give a quote."""
    r = runner.invoke(app, ["plan", "--budget-usd", "40000", "--json"])
    assert r.exit_code == 0, r.output
    unspent = json.loads(r.stdout)["unspent"]
    assert "Seasonic PRIME PX-2200 (no-retail-offer)" in unspent, unspent
    assert "(not-found)" in unspent and "--part-price" in unspent, unspent


def test_check_and_cost_price_a_plans_build_as_the_plan_did(tmp_path: Path) -> None:
    """plan, check and cost price parts at the same offers: the $1,500 plan's build file costs
    what the plan said when checked and costed (its CPU's launch MSRP would put it over)."""
    out = tmp_path / "b.yaml"
    args = ["plan", "--budget-usd", "1500", "--no-explain", "--json", "-o", str(out)]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    price = json.loads(r.stdout)["best"]["price_usd"]
    checked = runner.invoke(app, ["check", str(out), "--json"])
    assert json.loads(checked.stdout)["totals"]["price_usd"] == price
    costed = runner.invoke(app, ["cost", str(out), "--json"])
    assert json.loads(costed.stdout)["build"]["upfront_usd"] == price
