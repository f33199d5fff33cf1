"""Every command gives byte-identical JSON from the CLI, the web API and the Python API for the
same inputs, and the same message for the same bad input (one request model, one run, one
serialiser: dlrig.app)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import dlrig

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
pytest.importorskip("jinja2")

from fastapi.testclient import TestClient

from dlrig.app.plan import planner_available
from dlrig.web.app import create_app

REPO = Path(__file__).resolve().parents[1]
WARMACHINE = REPO / "examples" / "warmachine.yaml"


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


def _same(cli: Any, web: Any, python: str) -> str:
    assert cli.exit_code in (0, 1), cli.stderr
    assert web.status_code == 200, web.text
    assert web.headers["content-type"].startswith("application/json")
    assert cli.stdout == web.text + "\n" == python + "\n"
    return python


def test_check(run_cli: Any, client: TestClient) -> None:
    text = WARMACHINE.read_text(encoding="utf-8")
    out = _same(
        run_cli("check", str(WARMACHINE), "--gpus", "2", "--json"),
        client.post("/api/check", params={"gpus": 2}, content=text),
        dlrig.to_json(dlrig.check(WARMACHINE, gpus=2)),
    )
    assert '"gpu_count": 2' in out


def test_size(run_cli: Any, client: TestClient) -> None:
    out = _same(
        run_cli(
            "size",
            "--model",
            "llama-3.1-8b",
            "--task",
            "qlora",
            "--gpu",
            "rtx 4090",
            "--batch",
            "2",
            "--json",
        ),
        client.post(
            "/api/size",
            json={"model": "llama-3.1-8b", "task": "qlora", "gpu": "rtx 4090", "batch": 2},
        ),
        dlrig.to_json(dlrig.size(model="llama-3.1-8b", task="qlora", gpu="rtx 4090", batch=2)),
    )
    assert '"micro_batch": 2' in out


def test_gpus(run_cli: Any, client: TestClient) -> None:
    _same(
        run_cli("gpus", "--model", "gpt2", "--tokens", "1B", "--sort", "price", "--json"),
        client.get("/api/gpus", params={"model": "gpt2", "tokens": "1B", "sort": "price"}),
        dlrig.to_json(dlrig.gpus(model="gpt2", tokens="1B", sort="price")),
    )


def test_cost(run_cli: Any, client: TestClient) -> None:
    text = WARMACHINE.read_text(encoding="utf-8")
    out = _same(
        run_cli("cost", str(WARMACHINE), "--hours-per-day", "8", "--vs", "cloud", "--json"),
        client.post("/api/cost", params={"hours_per_day": 8, "vs": "cloud"}, content=text),
        dlrig.to_json(dlrig.estimate_cost(WARMACHINE, hours_per_day=8, versus="cloud")),
    )
    assert '"upfront_usd": 5307.77' in out


def test_import_list(run_cli: Any, client: TestClient) -> None:
    parts_list = REPO / "tests" / "data" / "warmachine_pcpartpicker.txt"
    cli = run_cli("import-list", str(parts_list), "--name", "wm", "--json")
    assert cli.exit_code == 0  # the case fan and the custom part are skipped, listed
    web = client.post("/api/import-list", params={"name": "wm"}, content=parts_list.read_bytes())
    python = dlrig.to_json(dlrig.import_list(parts_list, name="wm"))
    assert web.status_code == 200
    assert cli.stdout == web.text + "\n" == python + "\n"
    assert '"Intel Core i9-10920X"' in python


def test_catalog_rules_models_chips(run_cli: Any, client: TestClient) -> None:
    from dlrig.app import catalog as command

    cat = dlrig.open_catalog()
    req = command.PartsRequest.parse(category="gpu", filter=["vram_gib>=24"])
    _same(
        run_cli("catalog", "list", "-c", "gpu", "-f", "vram_gib>=24", "--json"),
        client.get("/api/catalog", params={"category": "gpu", "filter": "vram_gib>=24"}),
        dlrig.to_json(command.run(req, cat)),
    )
    _same(run_cli("rules", "--json"), client.get("/api/rules"), dlrig.to_json(command.rules()))
    _same(
        run_cli("size", "--list-models", "--json"),
        client.get("/api/models"),
        dlrig.to_json(command.presets()),
    )
    _same(
        run_cli("catalog", "chips", "--json"),
        client.get("/api/chips"),
        dlrig.to_json(command.chips(cat)),
    )


def test_catalog_search_and_show(run_cli: Any, client: TestClient) -> None:
    from dlrig.app import catalog as command

    cat = dlrig.open_catalog()
    found = _same(
        run_cli("catalog", "search", "rtx 4090", "-c", "gpu", "--json"),
        client.get("/api/catalog", params={"q": "rtx 4090", "category": "gpu"}),
        dlrig.to_json(command.run(command.PartsRequest.parse(q="rtx 4090", category="gpu"), cat)),
    )
    assert '"id": "nvidia-rtx-4090-fe"' in found
    shown = _same(
        run_cli("catalog", "show", "RTX 4090 Founders", "--json"),
        client.get("/api/parts/RTX 4090 Founders"),
        dlrig.to_json(command.show(command.ShowRequest.parse(part="RTX 4090 Founders"), cat)),
    )
    assert '"id": "nvidia-rtx-4090-fe"' in shown


def test_power(run_cli: Any, client: TestClient) -> None:
    text = WARMACHINE.read_text(encoding="utf-8")
    out = _same(
        run_cli("power", str(WARMACHINE), "--gpus", "2", "--json"),
        client.post("/api/power", params={"gpus": 2}, content=text),
        dlrig.to_json(dlrig.power(WARMACHINE, gpus=2)),
    )
    assert '"gpu_count": 2' in out


def test_prices_list_and_stale(run_cli: Any, tmp_path: Path) -> None:
    # CLI and Python only: the web app reads no price book path from a request (docs/prices.md)
    from dlrig.app import prices as command

    book = str(tmp_path / "book.sqlite")
    cat = dlrig.open_catalog()
    listed = run_cli("prices", "list", "--part", "rtx 3090", "--db", book, "--json")
    req = command.ListRequest.parse(part="rtx 3090", db=book)
    assert listed.stdout == dlrig.to_json(command.list_offers(req, cat)) + "\n"
    assert '"price_usd": 850' in listed.stdout  # the shipped used-price snapshot
    stale = run_cli("prices", "stale", "-c", "gpu", "--days", "400", "--db", book, "--json")
    req_s = command.StaleRequest.parse(category="gpu", days=400, db=book)
    assert stale.stdout == dlrig.to_json(command.stale_parts(req_s, cat)) + "\n"
    assert stale.exit_code == 0 and '"category": "gpu"' in stale.stdout


@pytest.mark.skipif(not planner_available(), reason="the planner (ortools) is absent")
def test_plan(run_cli: Any, client: TestClient) -> None:
    def timeless(text: str) -> str:  # "stats" holds solve timings, which differ run to run
        return re.sub(r'"stats": \{[^}]*\}', '"stats": {}', text)

    cli = run_cli("plan", "--budget-usd", "7k", "--gpus", "2", "--no-explain", "--json")
    web = client.post("/api/plan", json={"budget_usd": "$7,000", "gpus": 2, "explain": False})
    python = dlrig.to_json(dlrig.plan(7000, gpus=2, explain=False))
    assert web.status_code == 200 and cli.exit_code == 0
    assert timeless(cli.stdout) == timeless(web.text) + "\n" == timeless(python) + "\n"
    assert '"status": "OPTIMAL"' in python
    # the page reads the budget as the CLI does ("7k" failed in the browser)
    page = client.get("/plan", params={"budget_usd": "7k", "gpus": "2"})
    assert page.status_code == 200 and "proved optimal" in page.text


# --- the same message for the same bad input --------------------------------------------------
def _cli_message(result: Any) -> str:
    assert result.exit_code == 2, result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: ")
    return first.removeprefix("error: ")


def _web_message(resp: Any) -> str:
    assert resp.status_code == 422, resp.text
    return str(resp.json()["message"])


def _python_message(call: Callable[[], Any]) -> str:
    with pytest.raises(dlrig.DlrigError) as info:
        call()
    return info.value.message


# (argv, web API call, Python call, the message, the field): a bad value's message names its
# field in the words of the door it came in: the Python argument and JSON name, the CLI option.
BAD: list[tuple[list[str], Callable[[TestClient], Any], Callable[[], Any], str, str | None]] = [
    (
        ["check", str(WARMACHINE), "--gpus", "0"],
        lambda c: c.post("/api/check", params={"gpus": 0}, content=WARMACHINE.read_bytes()),
        lambda: dlrig.check(WARMACHINE, gpus=0),
        "gpus: 0 is below 1",
        "--gpus",
    ),
    (
        ["size", "--model", "gpt2", "--gpus", "0"],
        lambda c: c.post("/api/size", json={"model": "gpt2", "gpus": 0}),
        lambda: dlrig.size("gpt2", gpus=0),
        "gpus: 0 is below 1",
        "--gpus",
    ),
    (
        ["gpus", "--model", "gpt2", "--batch", "x"],
        lambda c: c.get("/api/gpus", params={"model": "gpt2", "batch": "x"}),
        lambda: dlrig.gpus(model="gpt2", batch="x"),
        "batch: 'x' is not a whole number",
        "--batch",
    ),
    (
        ["plan", "--budget-usd", "7000", "--gpus", "9"],
        lambda c: c.post("/api/plan", json={"budget_usd": 7000, "gpus": 9}),
        lambda: dlrig.plan(7000, gpus=9),
        "gpus: 9 is outside 1-8",  # the planner's own range: "--gpus 9" on the web before
        "--gpus",
    ),
    (
        ["plan", "--budget-usd", "seven"],
        lambda c: c.post("/api/plan", json={"budget_usd": "seven"}),
        lambda: dlrig.plan("seven"),
        "'seven' is not an amount of US dollars",
        None,
    ),
]


def _named(message: str, field: str | None) -> str:
    """``message`` with its leading field name replaced by ``field`` (a CLI option)."""
    return field + message[message.index(":") :] if field else message


@pytest.mark.parametrize(
    ("argv", "web", "python", "message", "flag"),
    BAD,
    ids=[" ".join(b[0][:1] + b[0][-2:]) for b in BAD],
)
def test_same_message_for_the_same_bad_input(
    run_cli: Any,
    client: TestClient,
    argv: list[str],
    web: Callable[[TestClient], Any],
    python: Callable[[], Any],
    message: str,
    flag: str | None,
) -> None:
    if argv[0] == "plan" and not planner_available():
        pytest.skip("the planner (ortools) is absent")
    assert _web_message(web(client)) == _python_message(python) == message
    assert _cli_message(run_cli(*argv)) == _named(message, flag)


def test_cost_names_the_comparison_as_each_door_takes_it(run_cli: Any, client: TestClient) -> None:
    # "unknown --vs 'moon'" on every door: the Python argument is versus, the API's query vs
    text = WARMACHINE.read_bytes()
    assert _cli_message(run_cli("cost", str(WARMACHINE), "--vs", "moon")) == "--vs: unknown 'moon'"
    answer = client.post("/api/cost", params={"vs": "moon"}, content=text)
    assert _web_message(answer) == "vs: unknown 'moon'"
    assert answer.json()["field"] == "versus"
    message = _python_message(lambda: dlrig.estimate_cost(WARMACHINE, versus="moon"))
    assert message == "versus: unknown 'moon'"


def _page_error(page: Any) -> str:
    """The text of a page's error box (message and hint), as the user reads it."""
    error = re.search(r'<div class="error".*?</div>', page.text, re.S)
    assert error is not None, page.text[:500]
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", error.group(0)).split()))


@pytest.mark.parametrize(
    ("path", "query", "shown"),
    [
        ("/plan", {"budget_usd": "7000", "gpus": "9"}, "GPUs now: 9 is outside 1-8"),
        ("/plan", {"budget_usd": "7000", "min_tflops": "-1"}, "Min TFLOPS: -1 is out of range"),
        ("/plan", {"budget_usd": "7000", "alternatives": "x"}, "Alternatives: 'x' is not a"),
        ("/plan", {"budget_usd": "7000", "alternatives": "99"}, "Alternatives: 99 is above 10"),
        ("/size", {"model": "gpt2", "gpus": "0"}, "GPUs: 0 is below 1"),
    ],
)
def test_a_page_names_the_field_by_its_label(
    client: TestClient, path: str, query: dict[str, str], shown: str
) -> None:
    """The web page said "--gpus 0 is outside 1-8": a CLI option the user never typed."""
    if path == "/plan" and not planner_available():
        pytest.skip("the planner (ortools) is absent")
    page = client.get(path, params=query)
    assert page.status_code == 422
    text = _page_error(page)
    assert shown in text
    field = next(k for k in query if k not in ("budget_usd", "model"))
    assert f"--{field.replace('_', '-')}" not in text and f"{field}:" not in text


def test_a_missing_workload_file_says_so_everywhere(run_cli: Any, tmp_path: Path) -> None:
    # plan said "unknown model preset", cost "file not found"
    missing = str(tmp_path / "missing.yaml")
    messages = {
        _cli_message(run_cli(*argv))
        for argv in (
            ["size", missing],
            ["gpus", "--workload", missing],
            ["cost", str(WARMACHINE), "--workload", missing],
            *([["plan", "--budget-usd", "7000", "--workload", missing]] if planner_available()
              else []),
        )
    }  # fmt: skip
    assert messages == {f"{missing}: file not found"}


def test_a_workload_file_name_on_the_web_says_the_web_opens_no_files(client: TestClient) -> None:
    # "unknown model preset './missing.yaml'" misled: it is a file name, and the server opens none
    name = "./missing.yaml"
    text = WARMACHINE.read_bytes()
    answers = [
        client.post("/api/size", json={"workload": name}),
        client.get("/api/gpus", params={"workload": name}),
        client.post("/api/cost", params={"workload": name}, content=text),
        *([client.post("/api/plan", json={"budget_usd": 7000, "workload": name})]
          if planner_available() else []),
    ]  # fmt: skip
    assert {_web_message(r) for r in answers} == {f"{name}: the web app opens no files"}


@pytest.mark.parametrize(
    ("argv", "options", "message"),
    [
        (["bench", "--only", "bogus"], {"only": ["bogus"]}, "unknown probe 'bogus'"),
        (["bench", "--device", "tpu"], {"device": "tpu"}, "unknown device 'tpu'"),
    ],
)
def test_bench_says_the_same_for_the_same_bad_input(
    run_cli: Any, argv: list[str], options: dict[str, Any], message: str
) -> None:
    # no web door (it measures the server); refused before any bar is drawn or probe runs
    cli = _cli_message(run_cli(*argv))
    assert cli == _python_message(lambda: dlrig.benchmark(**options)) == message


@pytest.mark.parametrize(
    ("field", "value"),
    [("years", "-3"), ("hours_per_day", "0"), ("kwh_usd", "-1"), ("run_hours", "0")],
)
def test_the_cost_page_names_no_cli_option(client: TestClient, field: str, value: str) -> None:
    """ "years must be above 0 → e.g. --years 3" on the web page, where there is no --years."""
    page = client.post(
        "/cost", data={"build": WARMACHINE.read_text(encoding="utf-8"), field: value}
    )
    assert page.status_code == 422
    said = _page_error(page)
    assert "--" not in said, said


def test_a_generic_page_names_the_field_by_its_label(client: TestClient) -> None:
    """The power page (a form generated from the request model): "gpus: 65 ... → pass --gpus 64
    or fewer" named a CLI option; an empty build was "Build file (YAML or JSON); on the web,
    its text.: missing" (the help text taken for the label)."""
    text = WARMACHINE.read_text(encoding="utf-8")
    for form, shown in (
        ({"build": text, "gpus": "65"}, "gpus: 65 is more than one machine holds (at most 64)"),
        ({"build": ""}, "build: missing"),
    ):
        page = client.post("/power", data={"run": "1", **form})
        assert page.status_code == 422
        said = _page_error(page)
        assert shown in said and "--" not in said, said


def test_a_workload_conflict_names_no_cli_option_on_the_plan_page(client: TestClient) -> None:
    """ "--workload: qlora needs a quantized base" on the web page."""
    if not planner_available():
        pytest.skip("the planner (ortools) is absent")
    query = {"budget_usd": "7000", "workload": "llama-3.1-8b", "task": "qlora", "precision": "bf16"}
    said = _page_error(client.get("/plan", params=query))
    assert said.startswith("error: workload: qlora needs a quantized base"), said
