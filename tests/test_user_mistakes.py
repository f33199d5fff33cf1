"""What a demanding user tried with malformed inputs, and got a traceback-free but unclear (or
wrong) answer: each case now gives one line that says what is wrong and how to fix it, exit 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
WARMACHINE = REPO / "examples" / "warmachine.yaml"


def _refused(result: Any) -> str:
    """The one-line message of a refused command (exit 2, "error:" first, a "→" fix after)."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: "), result.stderr  # no blank line or bar before it
    assert len(lines) == 2 and lines[1].startswith("  → "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0].removeprefix("error: ")


def test_the_disk_probe_without_a_directory_says_so(run_cli: Any) -> None:
    # it measured nothing and said "install the probes' dependencies", exit 1
    assert (
        _refused(run_cli("bench", "--only", "disk")) == "the disk probe needs a directory to test"
    )


def test_a_disk_test_file_larger_than_the_free_space_is_refused_before_writing(
    run_cli: Any, tmp_path: Path
) -> None:
    # 999 PB would have been written until the drive was full
    message = _refused(
        run_cli(
            "bench", "--disk", str(tmp_path), "--disk-size-mb", "999999999999", "--only", "disk"
        )
    )
    assert "does not fit in the" in message and "MB free there" in message
    assert list(tmp_path.iterdir()) == []


def test_import_list_of_a_build_file_says_it_is_a_build_file(run_cli: Any) -> None:
    # exit 1 with "'name' is not a PCPartPicker category"
    message = _refused(run_cli("import-list", str(WARMACHINE)))
    assert message.endswith(
        "this is a build file (it has a parts: section), not a PCPartPicker list"
    )


def test_import_list_of_a_json_build_file_says_so_too(run_cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text('{"name": "x", "parts": {"cpu": "Intel Core i9-10920X"}}', encoding="utf-8")
    assert "this is a build file" in _refused(run_cli("import-list", str(path)))


@pytest.mark.parametrize("text", ["", "   "])
def test_searching_for_nothing_is_refused(run_cli: Any, text: str) -> None:
    # it listed every part of every category, exit 0
    assert _refused(run_cli("catalog", "search", text)) == "nothing to search for"


@pytest.mark.parametrize(
    ("yaml_line", "message"),
    [
        ("batch: 1e400", "micro_batch: must be a whole number, found '1e400'"),
        ("batch: lots", "micro_batch: must be a whole number, found 'lots'"),
    ],
)
def test_a_workload_value_of_the_wrong_type_is_said_in_words(
    run_cli: Any, tmp_path: Path, yaml_line: str, message: str
) -> None:
    # "Input should be a valid integer, unable to parse string as an integer"
    path = tmp_path / "w.yaml"
    path.write_text(f"model: gpt2\ntask: train\ntokens: 1B\n{yaml_line}\n", encoding="utf-8")
    got = _refused(run_cli("size", str(path)))
    assert message in got and "Input should be" not in got


def test_a_workload_flag_that_is_not_finite_is_said_in_words(run_cli: Any) -> None:
    # "data.epochs: Input should be a finite number"
    got = _refused(run_cli("size", "--model", "gpt2", "--tokens", "1B", "--epochs", "nan"))
    assert got == "workload: data.epochs: must be a finite number, found nan"


def test_a_custom_part_value_of_the_wrong_type_is_said_in_words(
    run_cli: Any, tmp_path: Path
) -> None:
    text = WARMACHINE.read_text(encoding="utf-8").replace(
        "  case: Corsair Carbide Air 540",
        "  case: {custom: {name: My frame, form_factor: ATX, max_gpu_length_mm: long}}",
    )
    assert "My frame" in text
    path = tmp_path / "b.yaml"
    path.write_text(text, encoding="utf-8")
    got = _refused(run_cli("check", str(path)))
    assert "max_gpu_length_mm: must be a whole number, found 'long'" in got, got


def test_a_build_file_written_to_a_pipe_goes_into_the_pipe(tmp_path: Path) -> None:
    """`plan -o /dev/full` said "wrote /dev/full" and, run as root, replaced the device with a
    regular file: a file was renamed over whatever -o named. A pipe (or /dev/stdout) is written
    into, never replaced."""
    import os
    import stat
    import threading

    from dlrig.buildfile import load_build, write_build

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(
        target=lambda: got.append(fifo.read_text(encoding="utf-8")), daemon=True
    )
    reader.start()
    try:
        write_build(load_build(WARMACHINE), fifo)
    finally:
        reader.join(timeout=10)  # a daemon: a reader left blocked cannot hang the test run
    assert stat.S_ISFIFO(fifo.lstat().st_mode)  # still the pipe
    assert got and "Intel Core i9-10920X" in got[0]


def test_a_workload_value_outside_its_choices_is_said_in_words(run_cli: Any) -> None:
    # "precision: Input should be 'fp32', 'bf16', ..."
    got = _refused(run_cli("gpus", "--model", "gpt2", "--precision", "fp7"))
    assert "precision: must be one of 'fp32'" in got and got.endswith("found 'fp7'")


@pytest.mark.parametrize("host", ["192.0.2.1", "127.0.0.1"])  # not this machine's; port taken
def test_serve_on_an_address_it_cannot_listen_on_says_so(run_cli: Any, host: str) -> None:
    # uvicorn logged "ERROR: [Errno 99] ..." and dlrig exited 1 (or 3 for a bad name)
    pytest.importorskip("uvicorn")
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        got = _refused(run_cli("serve", "--host", host, "--port", str(port)))
    assert got.startswith(f"cannot listen on {host}:{port} (")


@pytest.mark.parametrize("text", ["ü", "%", "_", "日本"])
def test_a_search_with_no_searchable_word_finds_nothing(tmp_path: Path, text: str) -> None:
    # it matched every part: `catalog search ü` listed the whole catalog, as did the editor's
    # part picker (and a store's LIKE search)
    from dlrig.catalog.builtin import builtin_catalog
    from dlrig.catalog.store import connect, open_store

    assert builtin_catalog().search(text) == []
    path = tmp_path / "c.sqlite"
    connect(path, create=True).close()
    store = open_store(path)
    assert store.search(text) == [] and store.search(text + " rtx 4090")  # words still count


def test_a_python_argument_of_the_wrong_kind_is_said_in_words() -> None:
    # "include: Input should be a valid list"
    import dlrig

    with pytest.raises(dlrig.DlrigError) as info:
        dlrig.estimate_cost(WARMACHINE, prices=5)
    assert info.value.message == "prices: must be a list, found 5"


def test_the_web_api_says_a_bad_choice_and_a_missing_build_in_words(tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from dlrig.web.app import create_app

    client = TestClient(create_app(db_path=tmp_path / "b.sqlite"))
    # "format: String should match pattern '^(yaml|json|...)$'"
    answer = client.post("/api/export", params={"format": "pdf"}, content=WARMACHINE.read_bytes())
    assert answer.status_code == 422
    assert answer.json()["message"] == (
        "format: must be one of yaml, json, text, markdown, check-json, slot-map, power, "
        "found 'pdf'"
    )
    # a YAML body (curl --data-binary) was read as a form: "<build>: the file is empty"
    answer = client.post("/api/builds", content=WARMACHINE.read_bytes())
    assert answer.status_code == 422
    assert answer.json()["message"] == "the request has no build field"
    assert "application/json" in answer.json()["hint"]


def test_an_override_that_is_not_a_list_is_said_in_words(run_cli: Any, tmp_path: Path) -> None:
    """A tuple field given one value: pydantic's "Input should be a valid tuple" was shown."""
    text = WARMACHINE.read_text(encoding="utf-8").replace(
        "  case: Corsair Carbide Air 540",
        "  case: {part: Corsair Carbide Air 540, with: {psu_form_factors: ATX}}",
    )
    path = tmp_path / "b.yaml"
    path.write_text(text, encoding="utf-8")
    got = _refused(run_cli("check", str(path)))
    assert "psu_form_factors: must be a list, found 'ATX'" in got, got
    assert "Input should" not in got


@pytest.mark.parametrize(
    ("args", "what", "where"),
    [
        (["check", "examples/warmachine.yaml", "--bogus"], "No such option: --bogus", "check"),
        (["check", "examples/warmachine.yaml", "--gpus"], "'--gpus' requires an argument", "check"),
        (["catalog", "list", "--category"], "requires an argument", "catalog list"),
        (["plan", "--budget-usd"], "'--budget-usd' requires an argument", "plan"),
        (["check"], "Missing argument 'FILE'", "check"),
        (["nosuchcmd"], "No such command 'nosuchcmd'", ""),
    ],
)
def test_a_usage_error_says_what_and_where_to_look(
    run_cli: Any, args: list[str], what: str, where: str
) -> None:
    """The option parser's own errors: exit 2, what is wrong, and the help to read. A missing
    value came without the help line (the parser has no context for it yet)."""
    result = run_cli(*args)
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert what in result.stderr
    assert f"Try 'dlrig{' ' + where if where else ''} -h' for help." in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 4  # no box, a few plain lines


@pytest.mark.parametrize(("value", "said"), [(21, "the number 21"), (120.0, "the number 120")])
def test_a_plan_circuit_given_as_a_number_is_said_in_words(value: Any, said: str) -> None:
    """A JSON or form circuit of 21 (or YAML's reading of 0x15) said "must be text, found 21 →
    fix circuit"; it names the number and how to write a circuit, and the field for the web."""
    from dlrig.app.plan import PlanRequest
    from dlrig.errors import InputError

    with pytest.raises(InputError) as info:
        PlanRequest.parse({"budget_usd": 3000, "circuit": value})
    assert said in info.value.message and "VOLTSxAMPS" in info.value.message
    assert '"120x15"' in info.value.hint and info.value.field == "circuit"
    with pytest.raises(InputError, match="not a plausible branch circuit") as text:
        PlanRequest.parse({"budget_usd": 3000, "circuit": "0x15"})  # checked at the request
    assert text.value.field == "circuit"
