"""The build editor (/build, /api/editor) changes a count without dropping what else the line
says — a card's power limit, its PSU, slots and riser, a part's `with:` overrides — and picking a
PSU swaps it (since two-PSU builds exist, a click added a second PSU that fed nothing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
pytest.importorskip("jinja2")

from fastapi.testclient import TestClient

from dlrig.web.app import create_app

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


def _edit(client: TestClient, example: str, **fields: str) -> dict[str, Any]:
    text = (EXAMPLES / example).read_text(encoding="utf-8")
    r = client.post("/api/editor", json={"build": text, **fields})
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def test_more_capped_cards_stay_capped(client: TestClient) -> None:
    out = _edit(client, "four-3090-capped-1600w.yaml", op="inc:gpu:0")
    assert (
        "gpu: {part: Gigabyte GeForce RTX 3090 TURBO 24G, count: 5, power_limit_w: 300}"
        in (out["yaml"])
    )
    fewer = _edit(client, "four-3090-capped-1600w.yaml", op="update", **{"count-gpu-0": "3"})
    assert "count: 3, power_limit_w: 300}" in fewer["yaml"]
    assert fewer["check"]["ok"]  # 3 × 300 W on 1,600 W: no psu-headroom error


def test_a_card_on_the_second_psu_keeps_its_psu_slot_and_riser(client: TestClient) -> None:
    out = _edit(client, "epyc-open-frame-risers.yaml", op="dec:gpu:1")
    second = out["yaml"].split("  - part: ZOTAC GAMING GeForce RTX 3090 Trinity OC\n")[2]
    assert second.startswith("    psu: 2\n    slot: PCIE5\n    riser: {")


def test_picking_a_psu_swaps_the_first_one(client: TestClient) -> None:
    out = _edit(client, "warmachine.yaml", op="add:psu:corsair-hx1000i-2022")
    assert "  psu: Corsair HX1000i (2022)\n" in out["yaml"]
    two = _edit(client, "epyc-open-frame-risers.yaml", op="add:psu:corsair-hx1000i-2022")
    assert (
        "  - Corsair HX1000i (2022)\n  - {part: EVGA SuperNOVA 1600 P2, circuit: 2}"
        in (two["yaml"])
    )


def test_an_editor_action_keeps_the_second_circuit(client: TestClient) -> None:
    """The page sends its circuit field (circuit 1, "120x15") with every action; it replaced the
    whole site, so a two-circuit build lost circuit 2 and PSU 2 was 'on circuit 2 but site
    lists 1'."""
    out = _edit(client, "epyc-open-frame-risers.yaml", op="update", circuit="120x15")
    assert "site:\n  circuits:\n  - {mains_voltage_v: 120, circuit_amps: 15}\n  - {" in out["yaml"]
    assert out["check"]["ok"]
    assert not [f for f in out["check"]["findings"] if f["severity"] == "warning"]
    moved = _edit(client, "epyc-open-frame-risers.yaml", op="update", circuit="230x16")
    assert (
        "  - {mains_voltage_v: 230, circuit_amps: 16}\n  - {mains_voltage_v: 120" in (moved["yaml"])
    )
