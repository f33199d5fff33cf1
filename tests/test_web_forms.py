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


@pytest.mark.parametrize("page_name", ["check", "cost"])
def test_the_check_and_cost_pages_show_price_dates(client: TestClient, page_name: str) -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "examples" / "warmachine.yaml").read_text()
    page = client.post(f"/{page_name}", data={"build": text}).text
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
    # the used part's date and source, in the JSON and on the page, as the CLI prints them
    data = client.post(
        "/api/plan", json={"budget_usd": 2500, "used": True, "objective": "vram", "explain": False}
    ).json()
    used = [
        it for items in data["best"]["parts"].values() for it in items
        if it.get("price_kind") == "used"
    ]  # fmt: skip
    assert used and all(it["price_date"] and it["price_source"].startswith("used:") for it in used)
    assert used[0]["price_source"] in html.unescape(page)


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


def test_the_size_page_says_where_each_figure_comes_from(client: TestClient) -> None:
    """`dlrig size` and `dlrig gpus` print "throughput from interpolated ±29%" and a source
    column; the page showed the numbers without it."""
    q = {"model": "llama-3.1-8b", "task": "qlora", "gpu": "RTX 3090"}
    perf = dlrig.size(**q).to_dict()["performance"]
    page = client.get("/size", params=q).text
    m = re.search(r'id="provenance">([^<]+)<', page)
    assert m and m.group(1).strip() == f"{perf['provenance']} ±{perf['expected_error'] * 100:.0f}%"
    assert "<th>source ±err</th>" in page
    top = dlrig.gpus(**{k: v for k, v in q.items() if k != "gpu"}).to_dict()["gpus"][0]
    assert f"{top['provenance']} ±{top['expected_error'] * 100:.0f}%" in page


# Fields a command's API row in docs/web.md need not name, and why.
NOT_IN_THE_API_DOCS = {
    ("cost", "prices"): "the server opens no files (the row says so)",
    ("cost", "versus"): "the query parameter is vs, as the CLI option --vs",
}


@pytest.mark.parametrize("name", sorted(n for n, c in commands().items() if c.web))
def test_the_api_docs_name_every_request_field(name: str) -> None:
    """docs/web.md's endpoint table lists each command's inputs: a field added to a request
    model (condition, used, power_limits...) is documented where API users look."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "web.md").read_text(encoding="utf-8")
    command = commands()[name]
    rows = [ln for ln in doc.splitlines() if re.match(rf"\| `(GET|POST) /api/{name}`", ln)]
    if not rows:
        pytest.skip(f"/api/{name} is a generic route (docs/web.md describes those as a group)")
    row = rows[0]
    skip = {command.text_field, *(f for n, f in NOT_IN_THE_API_DOCS if n == name)}
    if "workload flag" in row:  # "any `dlrig size` workload flag (...)" covers them
        from dlrig.app.base import WorkloadFlags

        skip |= set(WorkloadFlags.model_fields)
    missing = [
        f for f in command.request.model_fields
        if f not in skip and f"`{f}`" not in row and f'"{f}"' not in row
    ]  # fmt: skip
    assert not missing, f"docs/web.md's /api/{name} row does not name {missing}"
