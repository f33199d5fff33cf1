"""`dlrig power`: a build's power budget from the limits the power rules use, the same from the
CLI, the web API, the page and the Python API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import dlrig

REPO = Path(__file__).resolve().parents[1]
WARMACHINE = REPO / "examples" / "warmachine.yaml"
FOUR_3090 = REPO / "examples" / "four-gpus-15a-circuit.yaml"


def test_warmachine_budget() -> None:
    b = dlrig.power(WARMACHINE)
    # i9-10920X 165 W + 4 × RTX 2080 Ti 250 W + 95 W rest of system = 1,260 W DC
    assert (b.cpu_w, b.gpu_w, b.rest_w, b.peak_dc_w) == (165.0, 1000.0, 95.0, 1260.0)
    assert b.psu_needed_w == 1386.0 and b.psu_recommended_w == 1400  # ×1.1, next 50 W
    assert b.psu_w == 1600.0 and b.psu_needed_spikes_w is None  # no spike-prone GPU
    assert b.wall_total_w == 1400.0  # ÷0.90
    assert (b.circuit_limit_total_w, b.tightest_circuit_margin_w) == (1440.0, 40.0)
    assert b.gpu_limit_for_psu_w == pytest.approx((1600 / 1.1 - 165 - 95) / 4, abs=0.05)
    assert b.gpu_limit_for_circuit_w == (1440 * 0.9 - 260) / 4 == 259.0
    # the checker's totals agree
    totals = dlrig.check(WARMACHINE).to_dict()["totals"]
    assert (totals["peak_power_w"], totals["wall_power_w"]) == (b.peak_dc_w, b.wall_total_w)


def test_spike_prone_gpus_and_the_circuit() -> None:
    b = dlrig.power(FOUR_3090)
    assert b.psu_needed_spikes_w == pytest.approx(1.1 * (165 + 4 * 350 * 1.5 + b.rest_w), 0.001)
    assert b.psu_atx3 is True and b.psu_recommended_w == 1900  # ATX 3.x rides out the spikes
    assert b.tightest_circuit_margin_w < 0
    # the same cap the wall-circuit warning suggests
    [warning] = [f for f in dlrig.check(FOUR_3090).findings if f.slug == "wall-circuit"]
    assert f"cap each GPU at {int(b.gpu_limit_for_circuit_w or 0)} W" in warning.hint


def test_fewer_gpus_and_bad_input() -> None:
    one = dlrig.power(WARMACHINE, gpus=1)
    assert one.gpu_count == 1 and one.peak_dc_w < dlrig.power(WARMACHINE).peak_dc_w
    with pytest.raises(dlrig.DlrigError, match=r"^gpus: 0 is below 1$"):
        dlrig.power(WARMACHINE, gpus=0)


def test_every_front_door(run_cli: Any) -> None:
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient

    from dlrig.web.app import create_app

    client = TestClient(create_app())
    cli = run_cli("power", str(WARMACHINE), "--gpus", "2", "--json")
    web = client.post("/api/power", params={"gpus": 2}, content=WARMACHINE.read_bytes())
    python = dlrig.to_json(dlrig.power(WARMACHINE, gpus=2))
    assert cli.exit_code == 0 and web.status_code == 200
    assert cli.stdout == web.text + "\n" == python + "\n"
    table = run_cli("power", str(WARMACHINE))
    assert "psu_recommended_w" in table.stdout and "120 V / 15 A" in table.stdout
    assert "Corsair Carbide Air 540" in client.get("/power").text  # the example to start from
    page = client.post("/power", data={"run": "1", "build": WARMACHINE.read_text(), "gpus": ""})
    assert page.status_code == 200 and "gpu_limit_for_circuit_w" in page.text
    bad = client.post("/api/power", params={"gpus": 0}, content=WARMACHINE.read_bytes())
    assert bad.status_code == 422 and bad.json()["message"] == "gpus: 0 is below 1"
