"""Fuzz the CLI's loaders with seeded hostile input (tests/fuzz_inputs.py).

Every case must end as promised: exit 0, 1 or 2 (never 3, the internal-error code), no traceback,
an error message of one line, strict JSON on stdout (no NaN/Infinity) whenever JSON is printed,
and bounded time; memory stays bounded over the whole run (an alias bomb that expanded would not).
"""

from __future__ import annotations

import json
import random
import resource
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fuzz_inputs import (
    HOSTILE_SCALARS,
    PARTS_LIST,
    PRICE_CSV,
    WARMACHINE,
    WORKLOAD,
    alias_bomb,
    binary_blob,
    mutate_yaml,
)

SEED = 18
CASES = 300
CASE_LIMIT_S = 10  # per case (the slowest honest case, a full cost report, takes ~0.3 s)

NUMBER_FLAGS = ["nan", "inf", "-inf", "1e400", "1e308", "9" * 400, "-1", "0", "1e9", "abc", ""]


def _strict(text: str) -> Any:
    def refuse(name: str) -> Any:
        raise ValueError(f"non-strict JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def _case(rng: random.Random, tmp: Path, n: int) -> list[str]:
    """argv for one hostile case (files written under ``tmp``)."""

    def write(name: str, text: str | bytes) -> str:
        path = tmp / f"{n}-{name}"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8", errors="replace")
        return str(path)

    kind = rng.randrange(12)
    if kind <= 2:
        build = write("build.yaml", mutate_yaml(rng, WARMACHINE))
        return ["check", build, *(["--json"] if rng.random() < 0.7 else [])]
    if kind == 3:
        build = write("build.yaml", mutate_yaml(rng, WARMACHINE))
        return ["cost", build, "--json"]
    if kind <= 5:
        workload = write("workload.yaml", mutate_yaml(rng, WORKLOAD))
        if rng.random() < 0.5:
            return ["size", workload, "--json"]
        return ["gpus", "--workload", workload, "--json"]
    if kind == 6:
        if rng.random() < 0.5:
            lines = PRICE_CSV.splitlines()
            cells = lines[1].split(",")
            cells[rng.randrange(len(cells))] = rng.choice([*NUMBER_FLAGS, "2024-13-45"])
            prices = write("prices.csv", lines[0] + "\n" + ",".join(cells) + "\n")
        else:
            doc = (
                "offerings:\n  - {provider: acme, offering: x, chip: a100-sxm4-80gb, gpus: 1, "
                "on_demand_usd_per_hour: 2.0}\n"
            )
            prices = write("prices.yaml", mutate_yaml(rng, doc))
        return ["cost", "examples/warmachine.yaml", "--prices", prices, "--json"]
    if kind == 7:
        text: str | bytes = rng.choice(
            [
                mutate_yaml(rng, PARTS_LIST),
                "(" * 200_000,
                binary_blob(rng),
                "Video Card: " + "x" * 100_000,
                "CPU: " + "9" * 300 + " (" + "$" * 500 + ")",
            ]
        )
        return ["import-list", write("list.txt", text), "--json"]
    if kind == 8:
        value = rng.choice([*NUMBER_FLAGS, "x" * 5000, "2024-13-45"])
        field = rng.choice(["vram_gib", "tdp_w", "cooling", "length_mm"])
        op = rng.choice([">=", "<=", "=", "!=", ">", "<"])
        return ["catalog", "list", "-c", "gpu", "-f", f"{field}{op}{value}", "--json"]
    if kind == 9:
        name = rng.choice(["x" * 100_000, "RTX 4090" * 50, "(" * 5000, "\x00", "é" * 400])
        return ["size", "--model", "llama-3.1-8b", "--gpu", name, "--json"]
    if kind == 10:
        flag = rng.choice(["--tokens", "--samples", "--epochs", "--batch", "--seq", "-u", "-n"])
        return ["size", "--model", "llama-3.1-8b", flag, rng.choice(NUMBER_FLAGS), "--json"]
    budget = rng.choice(["nan", "inf", "1e308", "-5", "0", "9" * 400, "1e400", "abc"])
    return ["plan", "--budget-usd", budget, "--json"]


def _alarm(seconds: int) -> Callable[[], None]:
    def on_alarm(signum: int, frame: Any) -> None:
        raise TimeoutError(f"case ran longer than {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)

    def cancel() -> None:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)

    return cancel


def _check_result(argv: list[str], r: Any) -> None:
    shown = [a if len(a) < 80 else a[:60] + "…" for a in argv]
    assert r.exit_code in (0, 1, 2), (shown, r.exit_code, r.stderr[-500:])
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, (shown, r.stderr)
    if r.exit_code == 2:
        # ours ("error: ...") or a usage error of the option parser ("Error: Invalid value...")
        errors = [line for line in r.stderr.splitlines() if line.lower().startswith("error:")]
        assert len(errors) == 1, (shown, r.stderr[:500])
        assert len(errors[0]) < 2100, shown  # never a whole 100 KB input echoed back
    if "--json" in argv and r.exit_code in (0, 1) and r.stdout.strip():
        _strict(r.stdout)


@pytest.mark.slow
def test_cli_survives_hostile_inputs(run_cli: Any, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    outcomes: dict[int, int] = {}
    slowest = 0.0
    for n in range(CASES):
        argv = _case(rng, tmp_path, n)
        cancel = _alarm(CASE_LIMIT_S)
        t0 = time.perf_counter()
        try:
            r = run_cli(*argv)
        finally:
            cancel()
        slowest = max(slowest, time.perf_counter() - t0)
        _check_result(argv, r)
        outcomes[r.exit_code] = outcomes.get(r.exit_code, 0) + 1
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start_rss) / 1024
    assert grown_mb < 400, f"memory grew by {grown_mb:.0f} MB"
    # the generator does produce refusals and successes alike (it is not all one kind)
    assert outcomes.get(2, 0) > CASES // 3 and outcomes.get(0, 0) + outcomes.get(1, 0) > 10
    print(f"{CASES} cases: exit codes {outcomes}, slowest {slowest:.2f} s, +{grown_mb:.0f} MB")


@pytest.mark.parametrize(
    ("argv_tail", "needle"),
    [
        (["micro_batch: true"], "micro_batch"),
        (["micro_batch: 4.5"], "micro_batch"),
        (["sequence: .inf"], "sequence"),
        (["data: {tokens: .nan}"], "data.tokens"),
        (["data: {tokens: 2024-13-45}"], "data.tokens"),
        (["lora: {rank: " + "9" * 5000 + "}"], "digits"),
        (["extra: !!timestamp 2024-13-45"], "!!timestamp"),
        (["model: {params: 1.0e+400}"], "model.params"),
    ],
)
def test_workload_fields_refused_by_name(
    run_cli: Any, tmp_path: Path, argv_tail: list[str], needle: str
) -> None:
    """The lenient coercions of before (true → 1, NaN, impossible dates) are refused, naming the
    field, with exit 2 and one line."""
    path = tmp_path / "w.yaml"
    base = "task: lora\nmodel: llama-3.1-8b\n"
    path.write_text(base + "\n".join(argv_tail) + "\n", encoding="utf-8")
    r = run_cli("size", str(path), "--json")
    assert r.exit_code == 2 and needle in r.stderr, r.stderr
    assert len([x for x in r.stderr.splitlines() if x.startswith("error:")]) == 1


def test_alias_bomb_refused_fast_and_small(run_cli: Any, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(alias_bomb(), encoding="utf-8")
    assert len(bomb.read_bytes()) < 1100  # the 1 KB, 10^9-value document
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    for cmd in (
        ["check", str(bomb)],
        ["size", str(bomb)],
        ["cost", "x.yaml", "--prices", str(bomb)],
    ):
        r = run_cli(*cmd)
        assert r.exit_code == 2, r.stderr
    assert time.perf_counter() - t0 < 1.0
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024 < 100


def test_accepted_bad_inputs_now_refused(run_cli: Any, tmp_path: Path, monkeypatch: Any) -> None:
    import io
    import sys

    r = run_cli("catalog", "list", "-c", "gpu", "-f", "vram_gib>=nan")
    assert r.exit_code == 2 and "vram_gib>=nan" in r.stderr
    monkeypatch.setattr(sys, "stdin", io.BytesIO(b"\xff\xfe\x00binary\x00"))
    r = run_cli("import-list", "-")
    assert r.exit_code == 2 and "not a text file" in r.stderr
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    r = run_cli("catalog", "list", "-c", "gpu", "--catalog", str(empty))
    assert r.exit_code == 2 and "empty" in r.stderr and empty.stat().st_size == 0
    name = "x" * 100_000
    t0 = time.perf_counter()
    r = run_cli("size", "--model", "llama-3.1-8b", "--gpu", name)
    assert r.exit_code == 2 and len(r.stderr) < 500 and time.perf_counter() - t0 < 2
    parens = tmp_path / "parens.txt"
    parens.write_text("(" * 200_000 + "\n", encoding="utf-8")
    t0 = time.perf_counter()
    r = run_cli("import-list", str(parens))
    assert r.exit_code == 2 and time.perf_counter() - t0 < 2


def test_price_list_rows_bounded(run_cli: Any, tmp_path: Path) -> None:
    prices = tmp_path / "big.csv"
    row = "acme,x{},a100-sxm4-80gb,1,1.99\n"
    prices.write_text(
        "provider,offering,chip,gpus,on_demand_usd_per_hour\n"
        + "".join(row.format(i) for i in range(100_000)),
        encoding="utf-8",
    )
    t0 = time.perf_counter()
    r = run_cli("cost", "examples/warmachine.yaml", "--prices", str(prices), "--json")
    assert r.exit_code == 2 and "rows" in r.stderr and time.perf_counter() - t0 < 2
    for bad in ("1e400", "inf", "nan", "9" * 400):
        prices.write_text(
            f"provider,offering,chip,gpus,on_demand_usd_per_hour\nacme,x,a100,1,{bad}\n",
            encoding="utf-8",
        )
        r = run_cli("cost", "examples/warmachine.yaml", "--prices", str(prices), "--json")
        assert r.exit_code == 2 and "on_demand_usd_per_hour" in r.stderr, (bad, r.stderr)


def test_hostile_scalars_in_every_build_position(run_cli: Any, tmp_path: Path) -> None:
    """Each hostile scalar at the count, price and site positions of a build: exit 2, one line."""
    path = tmp_path / "b.yaml"
    for value in HOSTILE_SCALARS:
        for old in ("count: 4", "price_usd: 699.99"):
            if old not in WARMACHINE:
                continue
            key = old.split(":")[0]
            path.write_text(WARMACHINE.replace(old, f"{key}: {value}"), encoding="utf-8")
            r = run_cli("check", str(path), "--json")
            _check_result(["check", str(path), "--json"], r)


def test_data_not_a_mapping_with_a_data_flag(run_cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("model: llama-3.1-8b\ndata: tokens\n", encoding="utf-8")
    r = run_cli("size", str(path), "--tokens", "1e9")
    assert r.exit_code == 2 and "data" in r.stderr, r.stderr
