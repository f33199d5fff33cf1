"""`dlrig cost` end to end: table, JSON, plot, price lists, bad input → exit 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dlrig.catalog import open_catalog
from dlrig.cost import estimate_cost
from dlrig.errors import InputError

BUILD = """\
name: Two 4090s
parts:
  cpu: null
  motherboard: null
  memory: null
  gpu: {part: nvidia-rtx-4090-fe, count: 2}
  storage: null
  psu: corsair-hx1000i-2022
  cooler: null
  case: null
cost: {price_usd: 5000, tax_rate: 0.08, assembly_usd: 200, cloud_storage_gb: 500}
"""


@pytest.fixture()
def build_file(tmp_path: Path) -> Path:
    p = tmp_path / "two4090.yaml"
    p.write_text(BUILD, encoding="utf-8")
    return p


def test_estimate_cost_report(build_file: Path) -> None:
    r = estimate_cost(build_file, hours_per_day=8, years=3)
    d = r.to_dict()
    assert d["build"]["upfront_usd"] == pytest.approx(5000 + 400 + 200)
    assert d["build"]["gpu_chips"] == ["rtx-4090", "rtx-4090"]
    assert d["build"]["psu_efficiency"] == 0.92  # the HX1000i is 80+ Platinum
    assert d["usage"]["use_hours"] == pytest.approx(8 * 365.25 * 3, rel=1e-6)
    labels = {o["label"]: o for o in d["options"]}
    one_4090 = labels["cloud: RunPod RTX 4090"]
    # two 4090s do about twice the work of one rented 4090 (less multi-GPU scaling loss)
    assert 1.5 < one_4090["speed_ratio"] <= 2.0
    h100 = labels["cloud: Lambda 1x H100 PCIe"]
    assert h100["speed_ratio"] < one_4090["speed_ratio"]  # a faster GPU needs fewer hours
    assert one_4090["usd_per_month_fixed"] == pytest.approx(500 * 0.07)  # RunPod volume
    assert any(o["stale"] for o in d["options"])  # Jan 2025 rows are over a year old
    assert d["stale"]
    # resale only on the parts; net total below cash total
    assert d["own"]["resale_usd"] == pytest.approx(5000 * 0.75 * 0.875**2, abs=0.01)
    assert len(d["timeline"]["months"]) == 37


def test_more_hours_brings_cloud_break_even_earlier(build_file: Path) -> None:
    def be(h: float) -> float:
        o = next(
            o
            for o in estimate_cost(build_file, hours_per_day=h, years=3).to_dict()["options"]
            if o["label"] == "cloud: RunPod RTX 4090"
        )
        return float(o["break_even"]["months"])

    assert be(16) < be(8) < be(4)


def test_kwh_override_pushes_break_even_later(build_file: Path) -> None:
    def be(kwh: float) -> float:
        d = estimate_cost(build_file, hours_per_day=8, kwh_usd=kwh).to_dict()
        o = next(o for o in d["options"] if o["label"] == "cloud: Lambda 1x H100 PCIe")
        return float(o["break_even"]["months"])

    assert be(0.40) > be(0.10)


def test_run_cost(build_file: Path) -> None:
    d = estimate_cost(build_file, hours_per_day=8, run_hours=10).to_dict()
    run = d["run"]
    assert run["own_electricity_usd"] == pytest.approx(
        d["build"]["electricity_usd_per_use_hour"] * 10, abs=0.01
    )
    rp = run["cloud"]["cloud: RunPod RTX 4090"]
    assert rp["hours"] > 10  # one rented 4090 takes longer than two owned ones


def test_cli_table_json_and_plot(run_cli: Any, build_file: Path, tmp_path: Path) -> None:
    r = run_cli("cost", str(build_file), "--hours-per-day", "8", "--top", "3")
    assert r.exit_code == 0, r.stderr
    assert "break-even" in r.stdout and "stale" in r.stderr
    # AWS's A10G resolves but has no published tensor rate: its row says why it is left out
    err = " ".join(r.stderr.split())
    assert "AWS g5.xlarge" in err and "publishes no dense tensor rate" in err
    assert "GPU chip 'a10g' is not in the chip table" not in err
    r = run_cli("cost", str(build_file), "--vs", "prebuilt", "--json")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert {o["kind"] for o in data["options"]} == {"prebuilt"}
    pytest.importorskip("matplotlib")
    out = tmp_path / "cost.svg"
    r = run_cli("cost", str(build_file), "--vs", "cloud", "--plot", str(out), "--json")
    assert r.exit_code == 0, r.stderr
    assert out.read_text().lstrip().startswith("<?xml")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--hours-per-day", "-1"], "above 0"),
        (["--hours-per-day", "25"], "24 hours"),
        (["--vs", "moon"], "--vs: unknown 'moon'"),
        (["--kwh-usd", "16"], "implausible"),
        (["--plot", "x.pdf"], ".png or .svg"),
    ],
)
def test_cli_bad_input_exits_2(
    run_cli: Any, build_file: Path, args: list[str], needle: str
) -> None:
    r = run_cli("cost", str(build_file), *args)
    assert r.exit_code == 2
    assert needle in r.stderr and "→" in r.stderr and "Traceback" not in r.stderr


def test_cli_price_list_errors_exit_2(run_cli: Any, build_file: Path, tmp_path: Path) -> None:
    bad = tmp_path / "p.csv"
    bad.write_text("provider,offering,chip,gpus,on_demand_usd_per_hour\nA,x,RTX 9090,1,2\n")
    r = run_cli("cost", str(build_file), "--prices", str(bad))
    assert r.exit_code == 2 and "unknown GPU chip" in r.stderr
    bad.write_text("provider,offering,chip,gpus,on_demand_usd_per_hour\nA,x,RTX 4090,1\n")
    r = run_cli("cost", str(build_file), "--prices", str(bad))
    assert r.exit_code == 2 and "p.csv:2" in r.stderr
    r = run_cli("cost", str(build_file), "--prices", str(tmp_path))
    assert r.exit_code == 2 and "is a folder, not a file" in r.stderr
    bad.write_bytes(b"\xff\xfeprovider")
    r = run_cli("cost", str(build_file), "--prices", str(bad))
    assert r.exit_code == 2 and "not a text file" in r.stderr
    r = run_cli("cost", str(build_file), "--workload", str(tmp_path))
    assert r.exit_code == 2 and "is a folder, not a file" in r.stderr
    good = tmp_path / "g.csv"
    good.write_text(
        "provider,offering,chip,gpus,on_demand_usd_per_hour,as_of\n"
        "Acme,2x4090,RTX 4090,2,0.50,2026-11-01\n"
    )
    r = run_cli("cost", str(build_file), "--prices", str(good), "--vs", "cloud", "--json")
    assert r.exit_code == 0, r.stderr
    acme = [o for o in json.loads(r.stdout)["options"] if o["label"] == "cloud: Acme 2x4090"]
    assert acme and acme[0]["speed_ratio"] == pytest.approx(1.0) and not acme[0]["stale"]


def test_bad_cost_section(run_cli: Any, tmp_path: Path) -> None:
    p = tmp_path / "b.yaml"
    p.write_text(BUILD.replace("tax_rate: 0.08", "tax_rat: 0.08"), encoding="utf-8")
    r = run_cli("cost", str(p))
    assert r.exit_code == 2 and "cost.tax_rat" in r.stderr and "tax_rate" in r.stderr
    p.write_text(BUILD.replace("tax_rate: 0.08", "tax_rate: 8"), encoding="utf-8")
    r = run_cli("cost", str(p))
    assert r.exit_code == 2 and "fraction" in r.stderr
    # zeros were silently replaced by the defaults (80 PLUS table, 24 h/day)
    p.write_text(BUILD.replace("tax_rate: 0.08", "psu_efficiency: 0"), encoding="utf-8")
    r = run_cli("cost", str(p))
    assert r.exit_code == 2 and "PSU efficiency must be between 0.5 and 1, got 0" in r.stderr
    p.write_text(BUILD.replace("tax_rate: 0.08", "hours_per_day: 0"), encoding="utf-8")
    r = run_cli("cost", str(p))
    assert r.exit_code == 2 and "hours per day must be above 0" in r.stderr


def test_catalog_fixture_sanity() -> None:
    assert open_catalog().chip("rtx-4090").bf16_tflops


def test_estimate_cost_takes_a_build_and_draws_svg_text(build_file: Path) -> None:
    from dlrig.buildfile import load_build
    from dlrig.catalog import open_catalog

    cat = open_catalog()
    build = load_build(build_file, cat)
    from_build = estimate_cost(build, hours_per_day=8, catalog=cat).to_dict()
    assert from_build == estimate_cost(build_file, hours_per_day=8).to_dict()
    with pytest.raises(InputError, match="not both"):
        estimate_cost(build, run_hours=3, workload={"model": "llama-3.1-8b"})
    pytest.importorskip("matplotlib")
    from dlrig.cost.plot import cumulative_svg

    svg = cumulative_svg(estimate_cost(build, hours_per_day=8))
    assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
    assert "Two 4090s: own vs prebuilt vs cloud" in svg


def test_unpriced_parts_are_named_not_silently_free(run_cli: Any, tmp_path: Path) -> None:
    # A custom PSU has no price: the up-front cost leaves it out, and says so.
    text = BUILD.replace("cost: {price_usd: 5000, ", "cost: {").replace(
        "psu: corsair-hx1000i-2022", 'psu: {custom: {name: "No Price [/] PSU", wattage_w: 1600}}'
    )
    p = tmp_path / "unpriced.yaml"
    p.write_text(text, encoding="utf-8")
    d = estimate_cost(p).to_dict()
    assert d["build"]["unpriced_parts"] == ["No Price [/] PSU"]
    assert any(u.startswith("build: no price for No Price [/] PSU") for u in d["unchecked"])
    r = run_cli("cost", str(p))
    assert r.exit_code == 0, r.stderr
    assert "no price for No Price [/] PSU" in r.stderr
    # cost.price_usd replaces the parts' sum: nothing is left out then.
    assert (
        estimate_cost(build_file_text(tmp_path, BUILD)).to_dict()["build"]["unpriced_parts"] == []
    )


def build_file_text(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "b.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_cost_prints_markup_in_build_name_literally(run_cli: Any, tmp_path: Path) -> None:
    p = build_file_text(tmp_path, BUILD.replace("name: Two 4090s", 'name: "rig [/] x"'))
    r = run_cli("cost", str(p))
    assert r.exit_code == 0, r.stderr
    assert "rig [/] x: $" in r.stdout and "internal error" not in r.stderr


def test_cost_takes_catalog_option(run_cli: Any, build_file: Path, tmp_path: Path) -> None:
    bad = tmp_path / "not-a-store.sqlite"
    bad.write_text("hello")
    r = run_cli("cost", str(build_file), "--catalog", str(bad))
    assert r.exit_code == 2 and "is not a dlrig catalog store" in r.stderr
    r = run_cli("cost", str(build_file), "--catalog", str(tmp_path / "missing.sqlite"))
    assert r.exit_code == 2 and "no catalog store at" in r.stderr


def test_nan_electricity_and_negative_top_exit_2(run_cli: Any, build_file: Path) -> None:
    # --kwh-usd nan printed a table of nan; --top -1 silently dropped the last cloud row
    r = run_cli("cost", str(build_file), "--kwh-usd", "nan")
    assert r.exit_code == 2 and "electricity price nan $/kWh" in r.stderr
    r = run_cli("cost", str(build_file), "--top", "-1")
    assert r.exit_code == 2 and "--top" in r.stderr
