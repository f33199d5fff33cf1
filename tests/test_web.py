"""`dlrig serve`: the JSON API returns the CLI's --json shapes; pages render; errors are clean."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
pytest.importorskip("jinja2")

from fastapi.testclient import TestClient

from dlrig.app import catalog as app_catalog
from dlrig.app.base import workload_ref
from dlrig.app.plan import planner_available
from dlrig.errors import WorkloadError
from dlrig.web.app import PACKAGE_DIR, create_app

REPO = Path(__file__).resolve().parents[1]
WARMACHINE = REPO / "examples" / "warmachine.yaml"
FIXTURES = Path(__file__).parent / "fixtures"
QLORA = {"model": "llama-3.1-8b", "task": "qlora"}


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


@pytest.fixture(scope="module")
def warmachine() -> str:
    return WARMACHINE.read_text(encoding="utf-8")


def _error(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) >= {"error", "message", "hint"}
    assert "Traceback" not in resp.text
    return body  # type: ignore[no-any-return]


# --- check ------------------------------------------------------------------------------------
def test_check_warmachine_matches_the_cli(client: TestClient, warmachine: str, run_cli) -> None:  # type: ignore[no-untyped-def]
    resp = client.post("/api/check", content=warmachine)
    assert resp.status_code == 200
    data = resp.json()
    assert data["ok"] is True and data["build"] == "Warmachine"
    [ram] = [f for f in data["findings"] if f["slug"] == "ram-vs-vram"]
    assert ram["severity"] == "warning" and ram["rule"] == "D001"
    assert "System RAM 32 GB is below the total GPU memory of 44 GB (4×11 GB)" in ram["message"]
    t = data["totals"]
    assert (t["gpu_count"], t["vram_gib"], t["peak_power_w"], t["memory_gb"]) == (
        4,
        44.0,
        1260.0,
        32,
    )
    cli = run_cli("check", str(WARMACHINE), "--json")
    assert cli.exit_code == 0
    assert data == cli.json()


def test_check_gpus_and_json_body(client: TestClient, warmachine: str) -> None:
    two = client.post("/api/check", params={"gpus": 2}, content=warmachine).json()
    assert two["totals"]["gpu_count"] == 2 and two["totals"]["vram_gib"] == 22.0
    assert "ram-vs-vram" not in {f["slug"] for f in two["findings"]}  # 32 GB RAM ≥ 22 GB VRAM
    import yaml

    as_json = json.dumps(yaml.safe_load(warmachine))
    same = client.post("/api/check", content=as_json, headers={"content-type": "application/json"})
    assert same.json() == client.post("/api/check", content=warmachine).json()


def test_check_finds_errors_with_ok_false(client: TestClient) -> None:
    text = (REPO / "examples" / "socket-mismatch.yaml").read_text(encoding="utf-8")
    data = client.post("/api/check", content=text).json()
    assert data["ok"] is False
    assert "cpu-socket" in {f["slug"] for f in data["findings"] if f["severity"] == "error"}


def test_bad_builds_get_message_hint_and_line(client: TestClient) -> None:
    typo = "name: x\nparts:\n  cpu: Intel Core i9-10920X\n  cpux: 1\n"
    body = _error(client.post("/api/check", content=typo), 422)
    assert body["error"] == "BuildFileError" and body["line"] == 4
    assert "unknown category 'cpux'" in body["message"] and "did you mean 'cpu'" in body["hint"]

    body = _error(client.post("/api/check", content="name: [x\n"), 422)
    assert body["message"].startswith("<build>:") and "invalid YAML" in body["message"]

    body = _error(client.post("/api/check", content=""), 422)
    assert "empty" in body["message"] and "warmachine" in body["hint"]

    unknown = WARMACHINE.read_text(encoding="utf-8").replace("ASUS WS X299 SAGE", "Qwerty 9000")
    body = _error(client.post("/api/check", content=unknown), 422)
    assert "Qwerty 9000" in body["message"] and body["hint"]

    body = _error(client.post("/api/check", content=b"\xff\xfe name"), 400)
    assert "UTF-8" in body["message"]
    assert body["error"] == "BadRequestError"  # a public kind, not a private class name

    big = WARMACHINE.read_text(encoding="utf-8").replace("count: 4", "count: 1000000000000")
    body = _error(client.post("/api/check", content=big), 422)
    assert "at most 64" in body["message"] and body["line"] == 6
    body = _error(
        client.post("/api/check", params={"gpus": 10**8}, content=WARMACHINE.read_text()), 422
    )
    assert "at most 64" in body["message"]

    body = _error(client.post("/api/check", params={"gpus": 0}, content="x"), 422)
    assert body["message"].startswith("gpus:")


# --- catalog ----------------------------------------------------------------------------------
def test_catalog_list_with_filters(client: TestClient, catalog) -> None:  # type: ignore[no-untyped-def]
    filters = ["vram_gib>=24", "cooling=blower"]
    parts = client.get("/api/catalog", params={"category": "gpu", "filter": filters}).json()
    expected = catalog.list(catalog.get("asus-turbo-rtx-2080ti").category, filters)
    assert [p["id"] for p in parts] == [p.id for p in expected] and len(parts) >= 2
    assert all(p["vram_gib"] >= 24 and p["cooling"] == "blower" for p in parts)
    assert "ASUS Turbo GeForce RTX 3090" in {p["name"] for p in parts}
    assert parts[0]["category"] == "gpu"


def test_catalog_search_and_errors(client: TestClient) -> None:
    found = client.get("/api/catalog", params={"q": "rtx 4090"}).json()
    assert "nvidia-rtx-4090-fe" in {p["id"] for p in found}
    big = client.get("/api/catalog", params={"q": "rtx", "filter": "vram_gib>=32"}).json()
    assert big and all(p["vram_gib"] >= 32 for p in big)
    body = _error(client.get("/api/catalog", params={"category": "gpux"}), 422)
    assert body["message"] == "unknown category 'gpux'"
    body = _error(client.get("/api/catalog", params={"category": "gpu", "filter": "vram>=2"}), 422)
    assert "vram_gib" in body["hint"]


def test_part_and_chips(client: TestClient, catalog) -> None:  # type: ignore[no-untyped-def]
    part = client.get("/api/parts/rtx-4090-fe").json()
    assert part["id"] == "nvidia-rtx-4090-fe" and part["vram_gib"] == 24.0
    assert part["chip_spec"]["bf16_tflops"] == 165.2
    body = _error(client.get("/api/parts/qwerty-9000-zz"), 404)
    assert "qwerty-9000-zz" in body["message"]
    chips = client.get("/api/chips").json()
    assert len(chips) == len(catalog.chips)
    assert {c["id"]: c for c in chips}["rtx-4090"]["memory_bandwidth_gb_s"] == 1008.0
    rules = client.get("/api/rules").json()
    assert "ram-vs-vram" in {r["slug"] for r in rules}
    assert "llama-3.1-8b" in {m["id"] for m in client.get("/api/models").json()}


# --- size and gpus ----------------------------------------------------------------------------
def test_size_matches_the_cli(client: TestClient, run_cli) -> None:  # type: ignore[no-untyped-def]
    resp = client.post("/api/size", json={"workload": QLORA, "gpu": "rtx 4090"})
    data = resp.json()
    assert resp.status_code == 200
    assert data["vram_per_gpu_gib"] == 10.494 and data["fits"] is True
    assert data["gpu"]["id"] == "rtx-4090" and data["trainable_params"] == 13631488.0
    cli = run_cli(
        "size", "--model", "llama-3.1-8b", "--task", "qlora", "--gpu", "rtx 4090", "--json"
    )
    assert data == cli.json()
    as_text = client.post("/api/size", json={"workload": "model: llama-3.1-8b\ntask: qlora\n",
                                              "gpu": "rtx 4090"}).json()  # fmt: skip
    assert as_text == data


def test_size_errors(client: TestClient) -> None:
    body = _error(client.post("/api/size", json={"workload": {**QLORA, "task": "qlorax"}}), 422)
    assert body["error"] == "WorkloadError" and "qlora" in body["hint"]
    body = _error(client.post("/api/size", json={"workload": QLORA, "gpus": 0}), 422)
    assert body["message"].startswith("gpus:")
    body = _error(client.post("/api/size", json={"workload": QLORA, "gpu": "zzz-9"}), 422)
    assert "zzz-9" in body["message"]
    body = _error(client.post("/api/size", json={"workload": QLORA, "gpus_n": 2}), 422)
    assert body["message"] == "unknown field 'gpus_n'"
    bad_json = client.post(
        "/api/size", content="{bad", headers={"content-type": "application/json"}
    )
    assert "not valid JSON" in _error(bad_json, 400)["message"]


def test_gpus_ranking_matches_the_cli(client: TestClient, run_cli) -> None:  # type: ignore[no-untyped-def]
    data = client.get("/api/gpus", params={**QLORA, "sort": "perf-per-dollar"}).json()
    assert data["workload"] == "qlora Llama 3.1 8B, int4, batch 1 × 2048 tokens"
    assert data["sort"] == "perf-per-dollar" and data["n_gpus"] == 1
    cli = run_cli("gpus", "--model", "llama-3.1-8b", "--task", "qlora", "--sort",
                  "perf-per-dollar", "--json")  # fmt: skip
    assert data == cli.json()
    bare = client.get("/api/gpus").json()
    assert bare["workload"] is None and bare["gpus"][0]["perf_unit"].startswith("mix TFLOPS")
    body = _error(client.get("/api/gpus", params={"sort": "speed"}), 422)
    assert body["message"] == "unknown sort key 'speed'"
    assert _error(client.get("/api/gpus", params={"batch": "x"}), 422)["message"].startswith(
        "batch:"
    )


def test_library_errors_carry_the_cli_message(client: TestClient, run_cli) -> None:  # type: ignore[no-untyped-def]
    cli = run_cli("size", "--model", "llama-3.1-8b", "--batch", "0")
    body = _error(client.post("/api/size", json={"workload": {"model": "llama-3.1-8b",
                                                              "micro_batch": 0}}), 422)  # fmt: skip
    assert cli.exit_code == 2
    assert f"error: {body['message']}" in cli.stderr and f"→ {body['hint']}" in cli.stderr
    assert body["message"] == "workload: micro_batch is 0"
    cli = run_cli("cost", str(WARMACHINE), "--kwh-usd", "-1")
    body = _error(client.post("/api/cost", params={"kwh_usd": -1}, content=WARMACHINE.read_bytes()),
                  422)  # fmt: skip
    assert f"error: {body['message']}" in cli.stderr and f"→ {body['hint']}" in cli.stderr


# --- cost -------------------------------------------------------------------------------------
def test_cost_matches_the_cli(client: TestClient, warmachine: str, run_cli) -> None:  # type: ignore[no-untyped-def]
    data = client.post("/api/cost", params={"hours_per_day": 8}, content=warmachine).json()
    assert data["build"]["upfront_usd"] == 5307.77 and data["build"]["wall_power_w"] == 1400.0
    assert data["usage"]["use_hours"] == 8766.0 and data["own"]["total_usd"] == 7271.35
    cli = run_cli("cost", str(WARMACHINE), "--hours-per-day", "8", "--json")
    assert data == cli.json()


def test_cost_plot_and_errors(client: TestClient, warmachine: str) -> None:
    pytest.importorskip("matplotlib")
    resp = client.post("/api/cost", params={"plot": "svg"}, content=warmachine)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in resp.text and "</svg>" in resp.text
    body = _error(client.post("/api/cost", params={"vs": "moon"}, content=warmachine), 422)
    # the field as this API names it (the CLI says --vs, the Python API versus)
    assert body["message"] == "vs: unknown 'moon'" and body["field"] == "versus"
    body = _error(client.post("/api/cost", params={"hours_per_day": 30}, content=warmachine), 422)
    assert "24" in body["message"]


# --- plan -------------------------------------------------------------------------------------
needs_planner = pytest.mark.skipif(
    not planner_available(), reason="the planner (dlrig.optimize, ortools) is absent"
)


def _without_stats(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k != "stats"}  # stats holds solve timings


@needs_planner
def test_plan_matches_the_library(client: TestClient, catalog) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("ortools")
    from dlrig.app.plan import priced_catalog
    from dlrig.buildfile import load_build_text
    from dlrig.optimize import plan
    from dlrig.rules import check

    data = client.post("/api/plan", json={"budget_usd": 7000}).json()
    assert data["status"] == "OPTIMAL" and data["best"]["check"]["ok"] is True
    assert 0 < data["best"]["price_usd"] <= 7000 and data["best"]["gpu_count"] >= 1
    # the web app, like the CLI, plans on the catalog priced at the shipped offers
    priced = priced_catalog(catalog, "new")
    assert _without_stats(data) == _without_stats(plan(7000, catalog=priced).to_dict())
    resp = client.post("/api/plan", params={"output": "yaml"}, json={"budget_usd": 7000})
    assert resp.headers["content-type"].startswith("application/yaml")
    build = load_build_text(resp.text, priced)
    assert build.price_usd == data["best"]["price_usd"] and check(build).ok


@needs_planner
def test_plan_infeasible_and_errors(client: TestClient) -> None:
    pytest.importorskip("ortools")
    data = client.post("/api/plan", json={"budget_usd": 300}).json()
    assert data["best"] is None and data["status"] == "INFEASIBLE"
    assert "$300" in data["infeasible"]["reasons"][0]
    body = _error(client.post("/api/plan", json={"budget_usd": 7000, "objective": "speed"}), 422)
    assert body["message"] == "unknown objective 'speed'"
    body = _error(client.post("/api/plan", json={"budget_usd": 7000, "circuit": "abc"}), 422)
    assert "VOLTSxAMPS" in body["message"]
    assert _error(client.post("/api/plan", json={"budget": 7000}), 422)["message"] == (
        "unknown field 'budget'"
    )


def test_plan_workload_is_never_a_server_path() -> None:
    assert workload_ref("/etc/passwd", read_files=False) == {"model": "/etc/passwd"}
    assert workload_ref("llama-3.1-8b", read_files=False) == {"model": "llama-3.1-8b"}
    assert workload_ref("model: x\ntask: lora\n", read_files=False) == {
        "model": "x",
        "task": "lora",
    }
    assert workload_ref("  ", read_files=False) is None
    # YAML text is read by the library's workload parser: its message, with the line
    with pytest.raises(WorkloadError, match=r"^workload:2: not valid YAML"):
        workload_ref("model: x\ntask: [lora\n", read_files=False)
    with pytest.raises(WorkloadError, match="must be a mapping of fields"):
        workload_ref("- x\n- y\n", read_files=False)


# --- pages ------------------------------------------------------------------------------------
def test_pages_render(client: TestClient) -> None:
    home = client.get("/")
    assert home.status_code == 200 and "Check a build" in home.text and "builtin" in home.text
    cat = client.get("/catalog", params={"category": "gpu", "q": "4090"})
    assert cat.status_code == 200 and "NVIDIA GeForce RTX 4090 Founders Edition" in cat.text
    assert "VRAM GiB" in cat.text
    part = client.get("/parts/nvidia-rtx-4090-fe")
    assert part.status_code == 200 and "GPU chip: GeForce RTX 4090" in part.text
    assert client.get("/parts/qwerty-9000-zz").status_code == 404
    assert "vram_gib" in client.get("/catalog", params={"filter": "vram>=2"}).text
    css = client.get("/static/style.css")
    assert css.status_code == 200 and ".finding.error" in css.text
    assert client.get("/docs").status_code == 404  # the Swagger UI would load from a CDN


def test_check_page(client: TestClient, warmachine: str) -> None:
    form = client.get("/check")
    assert form.status_code == 200 and "Corsair Carbide Air 540" in form.text  # pre-filled
    done = client.post("/check", data={"build": warmachine, "gpus": ""})
    assert done.status_code == 200
    assert "no errors, 1 warning(s)" in done.text and 'class="finding warning"' in done.text
    assert "System RAM 32 GB is below the total GPU memory of 44 GB" in done.text
    bad = client.post("/check", data={"build": "name: x\nparts:\n  cpux: 1\n", "gpus": ""})
    assert bad.status_code == 422 and "unknown category" in bad.text
    assert 'data-error-line="3"' in bad.text and "cpux" in bad.text  # the text is kept
    assert client.post("/check", data={"build": warmachine, "gpus": "two"}).status_code == 422


def test_size_page(client: TestClient) -> None:
    assert "choose a model" in client.get("/size").text
    page = client.get("/size", params={**QLORA, "gpu": "rtx 4090", "batch": ""})
    assert page.status_code == 200
    assert "10.49 GiB" in page.text and "✓ fits in 24 GiB" in page.text
    assert "Every GPU chip for this workload" in page.text
    bad = client.get("/size", params={"model": "llama-3.1-8b", "batch": "x"})
    assert bad.status_code == 422 and "is not a whole number" in bad.text


def test_cost_page(client: TestClient, warmachine: str) -> None:
    assert "Rosewill Hercules 1600W" in client.get("/cost").text
    page = client.post("/cost", data={"build": warmachine, "hours_per_day": "8", "vs": "all"})
    assert page.status_code == 200
    assert "$5,308 up front" in page.text and "7,271" in page.text
    pytest.importorskip("matplotlib")
    assert 'src="data:image/svg+xml;base64,' in page.text


@needs_planner
def test_plan_page(client: TestClient) -> None:
    pytest.importorskip("ortools")
    assert "Budget USD" in client.get("/plan").text
    page = client.get("/plan", params={"budget_usd": "7000"})
    assert page.status_code == 200 and "proved optimal" in page.text
    assert "Check this build" in page.text
    assert client.get("/plan", params={"budget_usd": "lots"}).status_code == 422


def test_example_copy_is_current() -> None:
    shipped = PACKAGE_DIR / "static" / "warmachine.yaml"
    assert shipped.read_text(encoding="utf-8") == WARMACHINE.read_text(encoding="utf-8")


# --- robustness -------------------------------------------------------------------------------
def test_internal_error_is_one_line_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: Any) -> Any:
        raise RuntimeError("kaput")

    monkeypatch.setattr(app_catalog, "chips", boom)
    resp = TestClient(create_app(), raise_server_exceptions=False).get("/api/chips")
    body = _error(resp, 500)
    assert body["message"] == "internal error"  # the exception's text stays on the server
    assert "kaput" not in resp.text


def test_imported_store_works_across_threads(tmp_path: Path) -> None:
    from dlrig.catalog.importers.run import import_dataset

    store = tmp_path / "catalog.sqlite"
    import_dataset(store, "opendb", FIXTURES / "opendb")
    client = TestClient(create_app(store))
    names = {p["name"] for p in client.get("/api/catalog", params={"q": "suprim"}).json()}
    assert "MSI GeForce RTX 4090 SUPRIM X 24G" in names
    assert "SUPRIM" in client.get("/catalog", params={"q": "suprim"}).text


def test_bad_catalog_fails_at_start(tmp_path: Path) -> None:
    from dlrig.errors import CatalogError

    with pytest.raises(CatalogError, match="no catalog store"):
        create_app(tmp_path / "missing.sqlite")


def test_serve_without_the_web_extra(monkeypatch: pytest.MonkeyPatch, run_cli) -> None:  # type: ignore[no-untyped-def]
    import sys

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # import uvicorn → ImportError
    result = run_cli("serve", "--port", "8999")
    assert result.exit_code == 2
    assert "this command needs uvicorn, which is not installed" in result.stderr
    assert "→ install it with: pip install 'dlrig[web]'" in result.stderr


def test_unknown_api_route_uses_the_error_shape(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/api/nope")
    assert r.status_code == 404
    body = r.json()
    assert body["error"] == "NotFound" and "/api/nope" in body["message"] and body["hint"]
    assert client.delete("/api/check").status_code == 405


def test_check_page_shows_word_matches(client: TestClient, warmachine: str) -> None:
    """A name matched word by word is listed on the page itself, not only in the JSON."""
    typo = warmachine.replace("RTX 2080 Ti, count", "RTX 2080 Tii, count")
    page = client.post("/check", data={"build": typo, "gpus": ""}).text
    visible = page.split("<details>")[0]
    assert "matched as &#39;ASUS Turbo GeForce RTX 2080 Ti&#39;" in visible
    assert "Check these names" in visible
