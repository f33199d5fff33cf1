"""Every input of a command is reachable from its web page: each page's form offers every field
of the command's request model (issue #11's promise — the CLI and the web API are generated from
the model, the hand-made pages are checked against it here), and what the CLI prints beside a
result (price dates, search totals, power caps) the page shows too."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
pytest.importorskip("jinja2")

from fastapi.testclient import TestClient

import dlrig
from dlrig.app import commands
from dlrig.app.plan import planner_available
from dlrig.errors import InputError
from dlrig.web.app import create_app

# Request fields a page does not offer as a form field of the same name, and why.
NOT_ON_THE_PAGE = {
    ("cost", "prices"): "a quotes file's path: the web app opens no files (quotes go in the "
    "build file's cost: section)",
    ("cost", "versus"): "the form field is named vs, as the CLI option --vs",
}


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


def _form_names(html: str) -> set[str]:
    return set(re.findall(r'<(?:input|select|textarea)[^>]*\bname="([a-z_]+)"', html))


@pytest.mark.parametrize("name", sorted(n for n, c in commands().items() if c.web))
def test_every_request_field_is_on_the_page(client: TestClient, name: str) -> None:
    if name == "plan" and not planner_available():
        pytest.skip("no planner in this install")
    page = client.get(f"/{name}")
    assert page.status_code == 200
    names = _form_names(page.text)
    missing = [
        f
        for f in commands()[name].request.model_fields
        if f not in names and (name, f) not in NOT_ON_THE_PAGE
    ]
    assert not missing, f"/{name} has no form field for {missing}"


def test_the_catalog_page_says_a_search_was_cut(client: TestClient) -> None:
    """ "20 parts matching 'rtx'" while 38 match: the CLI said so, the page did not."""
    total = len(dlrig.open_catalog().search("rtx", limit=None))
    assert total > 20
    page = client.get("/catalog", params={"q": "rtx"}).text
    assert f"showing 20 of {total} matches" in page
    everything = client.get("/catalog", params={"q": "rtx", "limit": "0"}).text
    assert f"{total} parts matching" in everything and "showing" not in everything
    api = client.get("/api/catalog", params={"q": "rtx", "limit": "0"})
    assert len(api.json()) == total


def test_the_check_page_shows_price_dates(client: TestClient) -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "examples" / "warmachine.yaml").read_text()
    page = client.post("/check", data={"build": text}).text
    m = re.search(r'id="price-dates">([^<]+)<', page)
    assert m and m.group(1).startswith("prices dated 2025-07-23; 6 older than")


def test_the_size_page_takes_a_workload_file_and_a_framework(client: TestClient) -> None:
    workload = "model: llama-3.1-8b\ntask: qlora\n"
    page = client.get("/size", params={"workload": workload, "framework": "unsloth"}).text
    assert 'class="error"' not in page
    assert "qlora" in page and "Llama 3.1 8B" in page


@pytest.mark.skipif(not planner_available(), reason="no planner in this install")
def test_the_plan_page_takes_condition_caps_and_shows_price_dates(client: TestClient) -> None:
    page = client.get(
        "/plan",
        params={
            "budget_usd": "2500",
            "used": "true",
            "objective": "vram",
            "explain": "false",
            "power_limits": "false",
        },
    ).text
    assert "No build found" not in page and 'class="error"' not in page
    m = re.search(r'id="price-dates">([^<]+)<', page)
    assert m and m.group(1).startswith("prices dated ")
    assert "used" in m.group(1)  # as `plan --used --objective vram` (tests/test_prices_cli.py)


@pytest.mark.skipif(not planner_available(), reason="no planner in this install")
def test_a_bad_condition_gets_one_message_at_every_door(client: TestClient, run_cli: Any) -> None:
    message = "unknown condition 'mint'"
    cli = run_cli("plan", "--budget-usd", "4000", "--condition", "new,mint")
    assert cli.exit_code == 2 and message in cli.stderr
    api = client.post("/api/plan", json={"budget_usd": 4000, "condition": "new,mint"})
    assert api.status_code == 422 and api.json()["message"] == message
    page = client.get("/plan", params={"budget_usd": "4000", "condition": "new,mint"})
    assert page.status_code == 422 and message in html.unescape(page.text)
    with pytest.raises(InputError, match=message):
        dlrig.plan(4000, condition="new,mint")
