"""The build editor, saved builds, share links and exports over HTTP (no browser needed)."""

from __future__ import annotations

import json
import re
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
pytest.importorskip("uvicorn")

import httpx
from fastapi.testclient import TestClient

from dlrig.web.app import create_app
from dlrig.web.editor import MAX_BODY_BYTES, edit, picker_rows
from dlrig.web.store import MAX_BUILD_BYTES, BuildStore

REPO = Path(__file__).resolve().parents[1]
WARMACHINE = (REPO / "examples" / "warmachine.yaml").read_text(encoding="utf-8")
GPU = "asus-turbo-rtx-2080ti"


@pytest.fixture()
def client(tmp_path: Path) -> TestClient:
    return TestClient(create_app(db_path=tmp_path / "builds.sqlite"))


def _check_json_cli(run_cli) -> str:  # type: ignore[no-untyped-def]
    out = run_cli("check", str(REPO / "examples" / "warmachine.yaml"), "--json")
    assert out.exit_code == 0
    return out.stdout  # type: ignore[no-any-return]


# --- editing ------------------------------------------------------------------------------------
def test_picking_the_warmachine_part_by_part_gives_the_cli_check(catalog, run_cli) -> None:  # type: ignore[no-untyped-def]
    res = edit({"op": "update", "build": "name: x\nparts: {}\n", "name": "Warmachine"}, catalog)
    assert res.error is not None  # every category must appear: the editor starts from a full one
    from dlrig.web.editor import empty_build_text

    text = empty_build_text()
    picks = [
        ("cpu", "intel-core-i9-10920x"), ("motherboard", "asus-ws-x299-sage"),
        ("memory", "corsair-vengeance-lpx-32gb-2x16gb-ddr4-2666"), ("gpu", GPU), ("gpu", GPU),
        ("gpu", GPU), ("gpu", GPU), ("storage", "samsung-970-evo-1tb"),
        ("storage", "seagate-exos-8tb"), ("psu", "rosewill-hercules-1600s"),
        ("cooler", "corsair-h115i-pro"), ("case", "corsair-carbide-air-540"),
    ]  # fmt: skip
    for cat, part in picks:
        res = edit({"op": f"add:{cat}:{part}", "build": text, "name": "Warmachine"}, catalog)
        assert res.error is None, res.error
        text = res.text
    assert res.result is not None
    from dlrig.web.editor import check_json

    assert check_json(res.result) == _check_json_cli(run_cli)
    assert "gpu: {part: ASUS Turbo GeForce RTX 2080 Ti, count: 4}" in text


def test_actions_count_remove_and_single_categories(catalog) -> None:  # type: ignore[no-untyped-def]
    res = edit({"op": "apply", "build": WARMACHINE}, catalog)
    assert res.build is not None and res.build.gpu_count == 4
    text = res.text
    dec = edit({"op": "dec:gpu:0", "build": text}, catalog)
    assert dec.build is not None and dec.build.gpu_count == 3
    counted = edit({"op": "update", "build": text, "count-gpu-0": "2"}, catalog)
    assert counted.build is not None and counted.build.gpu_count == 2
    removed = edit({"op": "remove:storage:1", "build": text}, catalog)
    assert removed.build is not None and [d.id for d in removed.build.drives] == [
        "samsung-970-evo-1tb"
    ]
    # another CPU replaces the CPU: a build takes one
    swapped = edit({"op": "add:cpu:amd-ryzen-7-9700x", "build": text}, catalog)
    assert swapped.build is not None and swapped.build.cpu is not None
    assert swapped.build.cpu.id == "amd-ryzen-7-9700x"
    assert any(f.slug == "cpu-socket" for f in swapped.result.errors)  # type: ignore[union-attr]
    bad = edit({"op": "update", "build": text, "count-gpu-0": "lots"}, catalog)
    assert bad.error is not None and "whole number" in bad.error.message
    too_many = edit({"op": "update", "build": text, "count-cpu-0": "2"}, catalog)
    assert too_many.error is not None and "one cpu" in too_many.error.message
    circuit = edit({"op": "update", "build": text, "circuit": "230x16"}, catalog)
    assert circuit.result is not None
    assert circuit.result.to_dict()["totals"]["circuit_limit_w"] == 2944.0  # 230 × 16 × 0.8
    assert "mains_voltage_v: 230" in circuit.text


def test_yaml_errors_keep_the_text_and_name_the_line(catalog) -> None:  # type: ignore[no-untyped-def]
    broken = WARMACHINE.replace("cpu: Intel Core i9-10920X", "cpux: Intel Core i9-10920X")
    res = edit({"op": "apply", "build": broken}, catalog)
    assert res.error is not None and res.text == broken
    assert getattr(res.error, "line", None) == 3


def test_fuzzy_names_are_reported_when_applied(catalog) -> None:  # type: ignore[no-untyped-def]
    text = WARMACHINE.replace("ASUS WS X299 SAGE", "asus ws x299 sag")
    res = edit({"op": "apply", "build": text}, catalog)
    assert res.error is None and res.notes and "ASUS WS X299 SAGE" in res.notes[0]


def test_part_list_filters_and_sorts(catalog) -> None:  # type: ignore[no-untyped-def]
    from dlrig.parts import Category

    rows, total = picker_rows(catalog, Category.GPU, "vram_gib>=24", sort="tflops", desc=True)
    assert total == len(rows) > 0
    vram = [float(r["cells"][0][0]) for r in rows]
    assert min(vram) >= 24
    tflops = [r["cells"][1][0] for r in rows]
    known = [float(t) for t in tflops if t != "—"]
    assert known == sorted(known, reverse=True)
    assert all(t == "—" for t in tflops[len(known) :])  # unknown values last
    words, _ = picker_rows(catalog, Category.GPU, "2080 ti blower")
    assert words and all("2080" in r["name"] for r in words)
    cheap, _ = picker_rows(catalog, Category.PSU, "", sort="price")
    prices = [r["price_usd"] for r in cheap if r["price_usd"] is not None]
    assert prices == sorted(prices)


def test_pages_render_without_javascript(client: TestClient) -> None:
    page = client.get("/build")
    assert page.status_code == 200 and 'action="/build"' in page.text
    assert "not yet chosen: cpu, motherboard, memory, gpu, storage, psu, cooler, case" in page.text
    added = client.post("/build", data={"build": WARMACHINE, "op": f"add:gpu:{GPU}"})
    assert added.status_code == 200
    assert 'id="count-gpu-0" value="5"' in added.text
    assert "<svg" in added.text and "slot 7" in added.text  # the slot map is server-side
    bad = client.post("/build", data={"build": "parts: [", "op": "apply"})
    assert bad.status_code == 422 and "invalid YAML" in bad.text
    picker = client.get("/build/picker", params={"category": "gpu", "q": "vram_gibb>=24"})
    assert picker.status_code == 200 and "vram_gib" in picker.text  # did-you-mean, not a 500


def test_api_editor_answers_yaml_check_and_fragments(client: TestClient) -> None:
    r = client.post("/api/editor", json={"build": WARMACHINE, "op": "show:psu"})
    body = r.json()
    assert r.status_code == 200 and body["error"] is None
    assert body["check"]["totals"]["gpu_count"] == 4 and body["name"] == "Warmachine"
    assert 'value="add:psu:' in body["picker_html"]
    assert "ram-vs-vram" in body["panel_html"]
    bad = client.post("/api/editor", json={"build": WARMACHINE, "op": "add:gpu:no-such-card"})
    assert bad.status_code == 422 and bad.json()["error"]["error"] == "PartNotFoundError"


# --- saved builds -------------------------------------------------------------------------------
def test_save_permalink_versions_and_immutability(client: TestClient) -> None:
    first = client.post("/api/builds", json={"build": WARMACHINE})
    assert first.status_code == 201
    v1 = first.json()
    assert v1["version"] == 1 and len(v1["token"]) >= 22  # 128 random bits
    edited = edit({"op": "remove:storage:1", "build": WARMACHINE}, _catalog(client)).text
    second = client.post("/api/builds", json={"build": edited, "parent": v1["token"]}).json()
    assert second["version"] == 2 and second["token"] != v1["token"]
    old = client.get(f"/api/builds/{v1['token']}").json()
    assert "Seagate Exos 8TB" in old["text"]  # v1 unchanged
    assert old["check"]["totals"]["storage_gb"] == 9000
    new = client.get(f"/api/builds/{second['token']}").json()
    assert new["check"]["totals"]["storage_gb"] == 1000
    page = client.get(f"/b/{v1['token']}")
    assert page.status_code == 200 and f"/b/{second['token']}" in page.text  # versions listed
    form = client.post("/b", data={"build": WARMACHINE}, follow_redirects=False)
    assert form.status_code == 303 and form.headers["location"].startswith("/b/")
    assert client.get("/b/AAAAAAAAAAAAAAAAAAAAAA").status_code == 404
    assert client.get("/api/builds/../../etc").status_code == 404
    orphan = client.post("/api/builds", json={"build": WARMACHINE, "parent": "x" * 22})
    assert orphan.status_code == 422


def _catalog(client: TestClient):  # type: ignore[no-untyped-def]
    return client.app.state.catalogs.get()  # type: ignore[attr-defined]


def test_bodies_over_the_limit_are_refused_with_a_message(client: TestClient) -> None:
    big = "#" * (1024 * 1024)
    for path in ("/api/builds", "/api/editor", "/build", "/b", "/api/export"):
        r = client.post(path, content=big, headers={"content-type": "application/json"})
        assert r.status_code == 413, path
        assert r.json()["message"] == (
            f"the request body is 1,048,576 bytes; the limit is {MAX_BODY_BYTES:,}"
        )
    # under the body limit but over what a saved build may hold
    half = "x" * (MAX_BUILD_BYTES // 2 + 100)  # each value within the YAML reader's own limit
    text = WARMACHINE + f"description: {half}\ncost: {{note: {half}}}\n"
    r = client.post("/api/builds", json={"build": text})
    assert r.status_code == 422 and "saved builds are limited to" in r.json()["message"]


def test_twenty_concurrent_saves_lose_none_and_survive_a_restart(tmp_path: Path) -> None:
    from web_live import live_server

    db = tmp_path / "builds.sqlite"
    names = [f"Rig {i}" for i in range(20)]
    with live_server(db) as base:

        def save(name: str) -> dict[str, object]:
            text = WARMACHINE.replace("name: Warmachine", f"name: {name}")
            r = httpx.post(f"{base}/api/builds", json={"build": text}, timeout=60)
            assert r.status_code == 201, r.text
            return r.json()  # type: ignore[no-any-return]

        with ThreadPoolExecutor(max_workers=20) as pool:
            saved = list(pool.map(save, names))
    assert len({s["token"] for s in saved}) == 20
    with live_server(db) as base:  # a new server process state on the same file
        for s, name in zip(saved, names, strict=True):
            got = httpx.get(f"{base}/api/builds/{s['token']}", timeout=30).json()
            assert got["name"] == name and got["version"] == 1
    assert BuildStore(db).count() == 20
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_concurrent_new_versions_of_one_build_are_numbered_apart(tmp_path: Path) -> None:
    store = BuildStore(tmp_path / "b.sqlite")
    root = store.save("Rig", WARMACHINE)
    with ThreadPoolExecutor(max_workers=10) as pool:
        versions = list(pool.map(lambda _: store.save("Rig", WARMACHINE, root.token), range(10)))
    assert sorted(v.version for v in versions) == list(range(2, 12))
    assert [v.version for v in store.versions(root.lineage)] == list(range(1, 12))


# --- share links and exports --------------------------------------------------------------------
def test_share_check_and_cost_links(client: TestClient) -> None:
    r = client.post("/share/check", data={"build": WARMACHINE}, follow_redirects=False)
    assert r.status_code == 303
    link = r.headers["location"]
    assert "ram-vs-vram" in client.get(link).text
    r = client.post(
        "/share/cost", data={"build": WARMACHINE, "hours_per_day": "8"}, follow_redirects=False
    )
    cost_link = r.headers["location"]
    assert cost_link.endswith("/cost?hours_per_day=8")
    page = client.get(cost_link)
    assert page.status_code == 200 and "8.0 h/day" in page.text


def test_exports_read_back(client: TestClient, catalog, run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from dlrig.buildfile import load_build_text
    from dlrig.importlist import import_list

    token = client.post("/api/builds", json={"build": WARMACHINE}).json()["token"]
    got = {f: client.get(f"/b/{token}/export/{f}") for f in
           ("yaml", "json", "text", "markdown", "check-json")}  # fmt: skip
    assert all(r.status_code == 200 for r in got.values())
    assert got["yaml"].headers["content-disposition"] == 'attachment; filename="warmachine.yaml"'
    assert got["check-json"].text == _check_json_cli(run_cli)
    for fmt in ("yaml", "json"):
        b = load_build_text(got[fmt].text, catalog, f"<{fmt}>")
        assert b.gpu_count == 4 and b.name == "Warmachine"
    imported = import_list(got["text"].text, catalog)
    assert imported.unresolved == [] and imported.build is not None
    assert imported.build.gpu_count == 4 and imported.build.price_usd == 5307.77
    md = got["markdown"].text
    assert "**Video Card** | 4 × ASUS Turbo GeForce RTX 2080 Ti | $3,476.00" in md
    assert "✓ no errors, 1 warning(s)" in md
    svg = client.get(f"/b/{token}/export/slot-map")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.headers["content-disposition"] == 'attachment; filename="warmachine-slot-map.svg"'
    cli_svg = tmp_path / "slots.svg"
    run_cli("check", str(REPO / "examples" / "warmachine.yaml"), "--slot-map", str(cli_svg))
    assert svg.text == cli_svg.read_text(encoding="utf-8")  # the CLI draws the same picture
    power = client.get(f"/b/{token}/export/power")
    assert "1,400 W at the wall" in power.text
    assert client.get(f"/b/{token}/export/exe").status_code == 404
    raw = client.post("/api/export?format=text", content=WARMACHINE)
    assert raw.status_code == 200 and raw.text == got["text"].text


def test_names_are_never_markup(client: TestClient) -> None:
    evil = "<img src=x onerror=alert(1)>"
    text = WARMACHINE.replace("name: Warmachine", f"name: '{evil}'").replace(
        "case: Corsair Carbide Air 540",
        "case: {custom: {name: '<script>alert(2)</script>', form_factor: ATX Mid Tower, "
        "motherboard_form_factors: [ATX]}}",
    )
    token = client.post("/api/builds", json={"build": text}).json()["token"]
    for url in (f"/b/{token}", f"/build?from={token}"):
        page = client.get(url).text
        assert evil not in page and "<script>alert(2)" not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page
    md = client.get(f"/b/{token}/export/markdown").text
    assert "\\<img" in md  # escaped for forums that render HTML in Markdown


def test_serve_db_option_is_documented(run_cli) -> None:  # type: ignore[no-untyped-def]
    out = run_cli("serve", "--help")
    assert "--db" in out.stdout


def test_check_writes_a_slot_map(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    svg = tmp_path / "slots.svg"
    out = run_cli("check", str(REPO / "examples" / "warmachine.yaml"), "--slot-map", str(svg))
    assert out.exit_code == 0 and svg.read_text(encoding="utf-8").startswith("<svg")
    bad = run_cli("check", str(REPO / "examples" / "warmachine.yaml"), "--slot-map", "x.png")
    assert bad.exit_code == 2 and "ending in .svg" in bad.stderr


def test_json_content_type_only_for_json() -> None:
    from dlrig.web.editor import parse_fields

    assert parse_fields("build=a%3Ab&op=apply", False) == {"build": "a:b", "op": "apply"}
    assert parse_fields(json.dumps({"build": "x", "count": 2}), True) == {
        "build": "x",
        "count": "2",
    }


# --- the smaller defects ----------------------------------------------------------------
def test_check_page_names_unpriced_parts_and_shows_fuzzy_matches(client: TestClient) -> None:
    page = client.post("/check", data={"build": WARMACHINE}).text
    assert (
        "without a price: Rosewill Hercules 1600W, Corsair H115i PRO, Corsair Carbide Air 540"
        in (page)
    )
    shown = re.sub(r'href="[^"]*"', "", page.split("<details>")[0])
    assert "rosewill-hercules-1600s" not in shown  # ids only in links and the JSON
    fuzzy = client.post(
        "/check", data={"build": WARMACHINE.replace("ASUS WS X299 SAGE", "asus ws x299 sag")}
    ).text
    visible = fuzzy.split("<details>")[0]
    assert "Check these names" in visible and "ASUS WS X299 SAGE" in visible


def test_no_plan_link_without_the_planner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import importlib.util

    from dlrig.app.plan import planner_available

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "ortools" else real(name, *a)
    )
    assert planner_available() is False
    home = TestClient(create_app(db_path=tmp_path / "b.sqlite")).get("/").text
    assert 'href="/plan"' not in home


def test_own_form_posts_pass_the_gate_under_no_referrer(client: TestClient) -> None:
    # what Chromium sends for this app's own form posts (Referrer-Policy: no-referrer)
    own = {"origin": "null", "sec-fetch-site": "same-origin"}
    assert client.post("/check", data={"build": WARMACHINE}, headers=own).status_code == 200
    evil = {"origin": "null", "sec-fetch-site": "cross-site"}
    assert client.post("/check", data={"build": WARMACHINE}, headers=evil).status_code == 403


def test_cost_chart_legend_does_not_cover_the_plot(catalog) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("matplotlib")
    from dlrig.app import cost
    from dlrig.cost.plot import _figure

    report = cost.run(cost.CostRequest.parse(build=WARMACHINE), catalog, read_files=False)
    fig, plt = _figure(report, 6)
    try:
        fig.canvas.draw()
        [legend] = fig.legends
        ax = fig.axes[0].get_window_extent()
        box = legend.get_window_extent()
        assert box.y1 <= ax.y0 or box.x0 >= ax.x1  # below or beside the axes, never on them
    finally:
        plt.close(fig)


def test_dlrig_serve_db_keeps_saved_builds_across_a_restart(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys
    import time

    db = tmp_path / "saved.sqlite"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-c", "from dlrig.cli.app import main; main()", "serve",
           "--port", str(port), "--db", str(db)]  # fmt: skip

    def start() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/", timeout=2).status_code == 200:
                    return proc
            except httpx.TransportError:
                time.sleep(0.2)
        proc.kill()
        raise AssertionError("dlrig serve did not start")

    proc = start()
    try:
        token = httpx.post(f"{base}/api/builds", json={"build": WARMACHINE}).json()["token"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert db.is_file()
    proc = start()
    try:
        got = httpx.get(f"{base}/api/builds/{token}")
        assert got.status_code == 200 and got.json()["name"] == "Warmachine"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
