"""The web app in a real browser: Playwright for Python driving the system's Chromium.

Covers what TestClient cannot: the editor's JavaScript, downloads, localStorage, layout at
phone width, and keyboard-only use. Skipped, with the reason, where Playwright or a Chromium
binary is missing (Debian: ``apt-get install chromium``; .ci/run installs it; set
DLRIG_CHROMIUM to use another binary). Playwright's own browser download is never used.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (pip install -e '.[dev]')"
)

from web_live import live_server  # noqa: E402 (after the skips: it imports uvicorn)

REPO = Path(__file__).resolve().parents[1]
WARMACHINE_FILE = REPO / "examples" / "warmachine.yaml"
CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
# The Warmachine, picked part by part: (category, filter words, part id)
PICKS = [
    ("cpu", "10920x", "intel-core-i9-10920x"),
    ("motherboard", "x299 sage", "asus-ws-x299-sage"),
    ("memory", "vengeance 2666", "corsair-vengeance-lpx-32gb-2x16gb-ddr4-2666"),
    ("gpu", "turbo 2080", "asus-turbo-rtx-2080ti"),
    ("storage", "970 evo", "samsung-970-evo-1tb"),
    ("storage", "exos", "seagate-exos-8tb"),
    ("psu", "hercules", "rosewill-hercules-1600s"),
    ("cooler", "h115i", "corsair-h115i-pro"),
    ("case", "air 540", "corsair-carbide-air-540"),
]
PHONE = {"width": 390, "height": 844}
# The placeholders wider than their field (measured in the field's font, inside its padding).
CUT_PLACEHOLDERS = """() => {
  const c = document.createElement("canvas").getContext("2d");
  return [...document.querySelectorAll("input[placeholder]")].filter((el) => {
    const st = getComputedStyle(el);
    c.font = st.font;
    const room = el.clientWidth - parseFloat(st.paddingLeft) - parseFloat(st.paddingRight);
    return el.offsetParent !== null && c.measureText(el.placeholder).width > room;
  }).map((el) => el.name + ": " + el.placeholder);
}"""


def _chromium() -> str | None:
    env = os.environ.get("DLRIG_CHROMIUM")
    if env:
        return env if Path(env).exists() else None
    return next((p for p in CHROMIUM_PATHS if Path(p).exists()), None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    exe = _chromium()
    if exe is None:
        pytest.skip("no Chromium binary: apt-get install chromium (or set DLRIG_CHROMIUM)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_server(tmp_path_factory.mktemp("web") / "builds.sqlite") as url:
        yield url


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    yield pg
    context.close()


def _cli_check_json() -> bytes:
    """`dlrig check examples/warmachine.yaml --json`, run as a real process: its exact bytes."""
    code = "from dlrig.cli.app import main; main()"
    out = subprocess.run(
        [sys.executable, "-c", code, "check", str(WARMACHINE_FILE), "--json"],
        capture_output=True, check=True, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    return out.stdout


def _act(page: Any, locator: Any, key: str | None = None) -> None:
    """Click (or press ``key`` on) ``locator`` and wait for the editor's answer to be shown."""
    with page.expect_response(lambda r: r.url.endswith("/api/editor")):
        if key:
            locator.press(key)
        else:
            locator.click()
    _shown(page)


def _shown(page: Any) -> None:
    # The response has arrived, but editor.js still reads its body before it swaps the panel
    # (and clears aria-busy in the same step): on a loaded machine a check can run in between.
    page.locator("#panel:not([aria-busy])").wait_for()


def _pick_warmachine(page: Any, base: str) -> None:
    page.goto(f"{base}/build")
    page.fill("input[name=name]", "Warmachine")
    _act(page, page.locator("input[name=name]"), "Enter")  # Enter updates, never adds a part
    assert page.locator(".item").count() == 0
    for cat, words, part in PICKS:
        _act(page, page.locator(f"#show-{cat}"))
        with page.expect_response(lambda r: r.url.endswith("/api/editor")):
            page.fill("#picker-q", words)  # typing filters the list as you type
        _shown(page)
        _act(page, page.locator(f"#add-{part}"))
    for _ in range(3):  # four GPUs: the stepper
        _act(page, page.locator("#inc-gpu-0"))


def test_pick_the_warmachine_part_by_part_gives_the_cli_check(page: Any, base: str) -> None:
    _pick_warmachine(page, base)
    assert page.locator("input[name=count-gpu-0]").input_value() == "4"
    # findings sit next to the parts they name
    memory = page.locator("li.cat", has=page.locator("h3", has_text="memory"))
    assert "ram-vs-vram" in memory.inner_text()
    assert "44 GiB (4 GPUs)" in page.locator("#totals").inner_text()
    assert "1,400 W / 1,440 W" in page.locator("#totals").inner_text()
    with page.expect_download() as dl:
        page.click("#export-check-json")
    assert Path(dl.value.path()).read_bytes() == _cli_check_json()
    # the YAML view is the same build, and editing it drives the lists
    page.locator("details.advanced summary").click()
    yaml_text = page.locator("#yaml").input_value()
    assert "gpu: {part: ASUS Turbo GeForce RTX 2080 Ti, count: 4}" in yaml_text
    page.fill("#yaml", yaml_text.replace("count: 4", "count: 2"))
    _act(page, page.locator("#apply-yaml"))
    assert page.locator("input[name=count-gpu-0]").input_value() == "2"
    assert "22 GiB (2 GPUs)" in page.locator("#totals").inner_text()
    # a count typed into the list is checked when the field is left
    page.fill("#count-gpu-0", "3")
    _act(page, page.locator("#count-gpu-0"), "Tab")
    assert "33 GiB (3 GPUs)" in page.locator("#totals").inner_text()
    assert "count: 3" in page.locator("#yaml").input_value()


def test_save_reload_edit_and_save_a_second_version(page: Any, base: str) -> None:
    page.goto(f"{base}/build")
    page.locator("details.advanced summary").click()
    page.fill("#yaml", WARMACHINE_FILE.read_text(encoding="utf-8"))
    _act(page, page.locator("#apply-yaml"))
    with page.expect_navigation():
        page.click("#save")
    first = page.url
    assert "/b/" in first and "version 1 of 1" in page.inner_text("main")
    page.reload()
    assert "Seagate Exos 8TB" in page.inner_text(".saved-panel")
    page.click("#edit")
    assert "saving makes a new version" in page.inner_text("main")
    _act(page, page.locator("#remove-storage-1"))
    with page.expect_navigation():
        page.click("#save")
    second = page.url
    assert second != first and "version 2 of 2" in page.inner_text("main")
    assert "Seagate Exos 8TB" not in page.inner_text(".saved-panel")
    page.goto(first)  # the first version is unchanged
    assert "Seagate Exos 8TB" in page.inner_text(".saved-panel")
    page.goto(f"{base}/build")  # recent builds, from this browser's storage
    recent = page.locator("#recent")
    assert recent.is_visible()
    assert recent.locator("a").count() == 2
    assert "Warmachine (v2)" in recent.inner_text()


def test_share_a_plan_link(page: Any, base: str) -> None:
    from dlrig.app.plan import planner_available

    if not planner_available():
        pytest.skip("the planner (OR-Tools) is not installed")
    page.goto(f"{base}/plan")
    page.fill("input[name=budget_usd]", "7000")
    page.click("form.grid button[type=submit]")
    page.wait_for_selector("#share-link")
    link = page.get_attribute("#share-link", "href")
    verdict = page.inner_text("h2.verdict")
    assert link is not None and "budget_usd=7000" in link
    other = page.context.new_page()
    other.goto(link)
    assert other.inner_text("h2.verdict") == verdict
    with other.expect_navigation():
        other.click("#save-plan")  # the planned build, saved: its permalink
    assert "/b/" in other.url and "Save" not in other.inner_text("h1")


def test_share_a_check_link(page: Any, base: str) -> None:
    page.goto(f"{base}/check")
    with page.expect_navigation():
        page.click("#share")
    assert "/b/" in page.url and "ram-vs-vram" in page.inner_text(".saved-panel")


def test_export_each_format(page: Any, base: str) -> None:
    from dlrig.buildfile import load_build_text
    from dlrig.catalog import open_catalog
    from dlrig.importlist import import_list

    _pick_warmachine(page, base)
    got: dict[str, str] = {}
    for fmt in ("yaml", "text", "markdown", "json", "check-json", "slot-map", "power"):
        with page.expect_download() as dl:
            page.click(f"#export-{fmt}")
        assert dl.value.suggested_filename.startswith("warmachine")
        got[fmt] = Path(dl.value.path()).read_text(encoding="utf-8")
    cat = open_catalog()
    assert load_build_text(got["yaml"], cat).gpu_count == 4
    assert json.loads(got["json"])["parts"]["gpu"] == {
        "part": "ASUS Turbo GeForce RTX 2080 Ti",
        "count": 4,
    }
    imported = import_list(got["text"], cat)
    assert not imported.unresolved and imported.build is not None
    assert imported.build.gpu_count == 4
    assert "Type|Item|Price" in got["markdown"]
    assert json.loads(got["check-json"])["totals"]["vram_gib"] == 44.0
    assert got["slot-map"].startswith("<svg") and got["slot-map"].count("2-slot, blower") == 4
    assert "1,400 W at the wall (PSU 90%)" in got["power"]


def test_phone_layout_at_390_px(browser: Any, base: str) -> None:
    import httpx

    from dlrig.app.plan import planner_available

    text = WARMACHINE_FILE.read_text(encoding="utf-8")
    token = httpx.post(f"{base}/api/builds", json={"build": text}).json()["token"]
    # an open frame on risers with two PSUs: the widest parts and power tables
    rig = (REPO / "examples" / "epyc-open-frame-risers.yaml").read_text(encoding="utf-8")
    rig_token = httpx.post(f"{base}/api/builds", json={"build": rig}).json()["token"]
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    pg = context.new_page()
    urls = ["/", "/catalog?category=gpu", "/parts/asus-ws-x299-sage", "/check",
            "/size?model=llama-3.1-8b&task=qlora&gpu=RTX+4090", f"/build?from={token}",
            f"/b/{token}", f"/b/{token}/cost", "/power", "/import-list",
            f"/build?from={rig_token}", f"/b/{rig_token}"]  # fmt: skip
    if planner_available():
        urls.append("/plan?budget_usd=7000")
    for url in urls:
        pg.goto(base + url)
        wide = pg.evaluate("document.documentElement.scrollWidth")
        assert wide <= PHONE["width"], f"{url} scrolls sideways: {wide}px"
    # the editor still works with a thumb: add a GPU on the phone
    pg.goto(f"{base}/build?from={token}&category=gpu")
    with pg.expect_response(lambda r: r.url.endswith("/api/editor")):
        pg.tap("#add-asus-turbo-rtx-2080ti")
    _shown(pg)
    assert pg.locator("input[name=count-gpu-0]").input_value() == "5"
    # placeholders fit their fields, on every page with a form, on a phone and a desktop
    form_pages = ["/catalog", "/build", "/check", "/size", "/cost", "/power", "/import-list"]
    if planner_available():
        form_pages.append("/plan")
    for viewport in (PHONE, {"width": 1280, "height": 900}):
        pg.set_viewport_size(viewport)
        for url in form_pages:
            pg.goto(base + url)
            cut = pg.evaluate(CUT_PLACEHOLDERS)
            assert cut == [], f"{url} at {viewport['width']} px: placeholders cut off: {cut}"
    context.close()


def test_keyboard_only_editor(page: Any, base: str) -> None:
    page.goto(f"{base}/build")

    def tab_to(element_id: str, limit: int = 120) -> None:
        for _ in range(limit):
            if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
                return
            page.keyboard.press("Tab")
        raise AssertionError(f"Tab never reached #{element_id}")

    tab_to("show-gpu")
    with page.expect_response(lambda r: r.url.endswith("/api/editor")):
        page.keyboard.press("Enter")
    _shown(page)
    # from the category tabs back to the filter field, type, then forward to the card
    for _ in range(20):
        if page.evaluate("document.activeElement.id") == "picker-q":
            break
        page.keyboard.press("Shift+Tab")
    with page.expect_response(lambda r: r.url.endswith("/api/editor")):
        page.keyboard.type("2080 turbo")
    _shown(page)
    tab_to("add-asus-turbo-rtx-2080ti")
    with page.expect_response(lambda r: r.url.endswith("/api/editor")):
        page.keyboard.press("Enter")
    _shown(page)
    # focus stays on the button, so Space adds another
    assert page.evaluate("document.activeElement.id") == "add-asus-turbo-rtx-2080ti"
    with page.expect_response(lambda r: r.url.endswith("/api/editor")):
        page.keyboard.press("Space")
    _shown(page)
    assert page.locator("input[name=count-gpu-0]").input_value() == "2"
    # the focused element is always visible
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"


def test_the_editor_works_without_javascript(browser: Any, base: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    pg = context.new_page()
    pg.goto(f"{base}/build?category=gpu")
    with pg.expect_navigation():
        pg.click("#add-asus-turbo-rtx-2080ti")
    assert pg.locator("input[name=count-gpu-0]").input_value() == "1"
    assert pg.locator("#panel svg").count() == 2  # slot map and power budget, server-side
    with pg.expect_navigation():
        pg.click("#inc-gpu-0")
    assert pg.locator("input[name=count-gpu-0]").input_value() == "2"
    pg.fill("#picker-q", "psu")
    with pg.expect_navigation():
        pg.press("#picker-q", "Enter")  # Enter submits "update", not the first Add button
    assert pg.locator("input[name=count-gpu-0]").input_value() == "2"
    with pg.expect_navigation():
        pg.click("#save")
    assert "/b/" in pg.url
    context.close()


def test_names_are_not_executed(page: Any, base: str) -> None:
    evil = "<img src=x onerror=window.__pwned=1>"
    text = WARMACHINE_FILE.read_text(encoding="utf-8").replace(
        "name: Warmachine", f"name: '{evil}'"
    )
    page.goto(f"{base}/build")
    page.locator("details.advanced summary").click()
    page.fill("#yaml", text)
    _act(page, page.locator("#apply-yaml"))
    assert page.input_value("input[name=name]") == evil
    with page.expect_navigation():
        page.click("#save")
    assert evil in page.inner_text("h1")  # shown as text
    page.goto(f"{base}/build")  # the recent list renders the name as text too
    assert evil in page.inner_text("#recent")
    assert page.evaluate("window.__pwned") is None


# --- issue #14's rigs: caps, two PSUs on two circuits, open frames on risers -----------------
EXAMPLES = REPO / "examples"


def test_check_page_shows_an_open_frame_rig_per_psu_and_circuit(page: Any, base: str) -> None:
    page.goto(f"{base}/check")
    page.fill("textarea[name=build]", (EXAMPLES / "epyc-open-frame-risers.yaml").read_text())
    with page.expect_navigation():
        page.click("form.editor button[type=submit]:has-text('Check')")
    assert "no errors, 0 warning(s)" in page.inner_text("h2.verdict")
    assert "fed by PSU 2" in page.inner_text("#parts-table")
    assert "slots PCIE5, PCIE7" in page.inner_text("#parts-table")
    risers = page.locator("#parts-table tbody tr.riser")
    assert risers.count() == 2
    assert risers.first.inner_text().startswith("riser\t200 mm PCIe 4.0 riser")
    psus = page.locator("#psu-table tbody tr")
    assert psus.count() == 2
    assert "system + 2 GPU(s)" in psus.nth(0).inner_text()
    assert "2 GPU(s)" in psus.nth(1).inner_text()
    circuits = page.locator("#circuit-table tbody tr")
    assert circuits.count() == 2
    assert circuits.nth(1).inner_text().startswith("2: 120 V / 15 A")
    assert "slots 1-3: no" not in page.inner_text("main")


def test_editor_caps_the_gpus_in_place(page: Any, base: str) -> None:
    page.goto(f"{base}/build")
    page.locator("details.advanced summary").click()
    page.fill("#yaml", (EXAMPLES / "four-3090-uncapped-1600w.yaml").read_text())
    _act(page, page.locator("#apply-yaml"))
    assert "1 error(s)" in page.inner_text("#verdict")
    limit = page.locator("#limit-gpu-0")
    assert limit.input_value() == "" and limit.get_attribute("placeholder") == "stock"
    # below the driver's floor: refused where it was typed, the build stays on the page
    limit.fill("90")
    _act(page, limit, "Tab")
    assert "90 W is outside what its driver accepts" in page.inner_text("#panel")
    assert "the driver accepts 100 W or more" in page.inner_text("#panel")
    assert page.locator("#limit-gpu-0").is_visible()
    assert "power_limit_w" not in page.locator("#yaml").input_value()
    page.locator("#limit-gpu-0").fill("280")
    _act(page, page.locator("#limit-gpu-0"), "Tab")
    assert "no errors" in page.inner_text("#verdict")
    assert "power_limit_w: 280" in page.locator("#yaml").input_value()
    assert "capped at 280 W of 350 W" in page.inner_text("#panel")
    headroom = page.locator("#psu-table tbody tr").first.locator("td").nth(6).inner_text()
    assert int(headroom.replace(",", "")) > 0  # 4 x 280 W + CPU + rest fits 1,600 W with 10 %


def test_plan_page_caps_four_3090s_on_one_15_a_circuit(page: Any, base: str) -> None:
    from dlrig.app.plan import planner_available

    if not planner_available():
        pytest.skip("the planner (OR-Tools) is not installed")
    page.goto(f"{base}/plan")
    page.fill("input[name=budget_usd]", "9000")
    page.fill("input[name=gpus]", "4")
    page.fill("input[name=include]", "Gigabyte GeForce RTX 3090 TURBO 24G")
    page.fill("input[name=circuit]", "120x15")
    page.select_option("select[name=precision]", "fp16")
    page.check("input[name=used]")
    page.select_option("select[name=explain]", "false")
    with page.expect_navigation():
        page.click("form.grid button[type=submit]")
    text = page.inner_text("#power-limit")
    assert "capped at" in text and "of uncapped throughput" in text
    circuit = page.locator("#circuit-table tbody tr").first.locator("td")
    assert circuit.nth(0).inner_text() == "1: 120 V / 15 A"
    assert float(circuit.nth(2).inner_text().replace(",", "")) <= 1440
    assert "used=true" in page.url and "precision=fp16" in page.url


def test_editor_moves_cards_to_another_psu(page: Any, base: str) -> None:
    page.goto(f"{base}/build")
    page.locator("details.advanced summary").click()
    page.fill("#yaml", (EXAMPLES / "epyc-open-frame-risers.yaml").read_text())
    _act(page, page.locator("#apply-yaml"))
    assert "no errors" in page.inner_text("#verdict")
    assert page.locator("#psu-gpu-1").input_value() == "2"
    with page.expect_response(lambda r: r.url.endswith("/api/editor")):
        page.select_option("#psu-gpu-1", "1")
    _shown(page)
    assert "error" in page.inner_text("#verdict")
    assert "psu: 2" not in page.locator("#yaml").input_value()
    assert "system + 4 GPU(s)" in page.inner_text("#psu-table")
    assert page.locator("#psu-gpu-1").input_value() == "1"
    # a second circuit typed into the form, and the PSU table follows
    more = page.locator("input[name=circuits_more]")
    assert more.input_value() == "120x15"
    more.fill("230x16")
    _act(page, more, "Enter")
    assert "2: 230 V / 16 A" in page.inner_text("#circuit-table")
    assert "{mains_voltage_v: 230, circuit_amps: 16}" in page.locator("#yaml").input_value()
