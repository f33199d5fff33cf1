"""The fast paths of issue 17 give the same answers: a long gpus ranking is printed whole (as
plain text), the planner's CP-SAT models do not depend on Python's string hashing, and the
caches of name indexes, store checks and large shipped YAML files never serve a stale answer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

MODEL_HASH = """
import hashlib
import dlrig.optimize.planmodel as M
h = hashlib.sha256()
solve = M.PlanModel.solve
def hashed(self, *a, **k):
    h.update(str(self.m.proto).encode())
    return solve(self, *a, **k)
M.PlanModel.solve = hashed
from dlrig.optimize import plan
r = plan(7000, frontier=True)
print(h.hexdigest(), r.best.price_usd, [b.group for b in r.binding])
"""


def test_a_long_gpus_ranking_prints_every_chip_as_plain_text(
    run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dlrig.cli import size

    every = run_cli("gpus", "--model", "gpt2", "--json").json()["gpus"]
    rich = run_cli("gpus", "--model", "gpt2")
    assert "┃" in rich.stdout  # a short ranking is a Rich table
    monkeypatch.setattr(size, "PLAIN_LISTING_ROWS", 10)  # an imported catalog ranks ~1,400
    plain = run_cli("gpus", "--model", "gpt2")
    lines = plain.stdout.splitlines()
    assert plain.exit_code == 0 and "┃" not in plain.stdout
    assert len(lines) == 3 + len(every)  # title, header, rule, one line per chip
    for line, row in zip(lines[3:], every, strict=True):
        assert row["name"][:60] in line


def test_plan_models_are_the_same_under_any_string_hash_seed() -> None:
    outs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        env.pop("DLRIG_CATALOG", None)
        done = subprocess.run(
            [sys.executable, "-c", MODEL_HASH], env=env, capture_output=True, text=True, check=True
        )
        outs.add(done.stdout)
    assert len(outs) == 1, outs


def test_name_indexes_come_back_from_the_cache_holding_the_catalogs_own_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dlrig.catalog import builtin
    from dlrig.catalog import resolve as R
    from dlrig.parts import Category

    monkeypatch.setenv("DLRIG_CACHE_DIR", str(tmp_path))
    files = builtin.data_files()
    first = builtin.load_catalog(files)
    want = first.resolve("RTX 4090 Founders", Category.GPU)
    assert len(list(tmp_path.glob(f"{builtin.INDEX_KIND}-*.pickle"))) == 1

    def no_build(self: Any, records: Any) -> None:
        raise AssertionError("built an index although the cache had it")

    monkeypatch.setattr(R.NameIndex, "__init__", no_build)
    again = builtin.load_catalog(files)
    got = again.resolve("RTX 4090 Founders", Category.GPU)
    assert got == want and got is again.get(got.id)  # the new catalog's object, not a copy
    monkeypatch.undo()
    monkeypatch.setenv("DLRIG_CACHE_DIR", str(tmp_path))
    for entry in tmp_path.glob(f"{builtin.INDEX_KIND}-*.pickle"):
        entry.write_bytes(b"\x80\x05garbage")  # a damaged entry is rebuilt, never trusted
    assert builtin.load_catalog(files).resolve("RTX 4090 Founders", Category.GPU) == want


def test_a_store_changed_after_its_check_is_checked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dlrig.catalog import store as S
    from dlrig.errors import CatalogError

    monkeypatch.setenv("DLRIG_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "s.sqlite"
    conn = S.connect(path, create=True)
    conn.execute("CREATE TABLE pad (x BLOB)")
    for _ in range(50):
        conn.execute("INSERT INTO pad VALUES (randomblob(4000))")
    conn.close()
    checks = []
    quick = S._check_integrity

    def counted(c: Any, p: Path) -> None:
        checks.append(S._file_stamp(p))
        quick(c, p)

    monkeypatch.setattr(S, "_check_integrity", counted)
    S.connect(path).close()
    S.connect(path).close()
    assert len(set(checks)) == 1 and list((tmp_path / "cache").glob("store-checked-*"))
    data = bytearray(path.read_bytes())
    middle = len(data) // 2 // 4096 * 4096
    data[middle : middle + 4096] = bytes(range(256)) * 16
    path.write_bytes(bytes(data))
    with pytest.raises(CatalogError, match="damaged"):
        S.connect(path)


def test_large_shipped_yaml_comes_back_from_the_cache_as_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from importlib import resources

    from dlrig import textfile

    monkeypatch.setenv("DLRIG_CACHE_DIR", str(tmp_path))
    text = (resources.files("dlrig.perf") / "data" / "measurements.yaml").read_text("utf-8")
    assert len(text) >= textfile.CACHED_YAML_BYTES
    parsed = textfile._safe_load(text)
    first = textfile.load_data_yaml(text)
    assert first == parsed and len(list(tmp_path.glob("yaml-*.pickle"))) == 1

    def no_parse(text: str) -> Any:
        raise AssertionError("parsed again although the cache held this text")

    monkeypatch.setattr(textfile, "_safe_load", no_parse)
    again = textfile.load_data_yaml(text)
    assert again == parsed and again is not first  # each caller gets its own copy
    again["edited"] = 1
    assert "edited" not in textfile.load_data_yaml(text)
    # an edited file is another key: parsed, not served the old data
    monkeypatch.setattr(textfile, "_safe_load", lambda t: {"parsed": len(t)})
    edited = text + "\n# a comment\n"
    assert textfile.load_data_yaml(edited) == {"parsed": len(edited)}
    assert len(list(tmp_path.glob("yaml-*.pickle"))) == 2


def test_a_small_yaml_file_is_parsed_without_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt

    from dlrig import textfile

    monkeypatch.setenv("DLRIG_CACHE_DIR", str(tmp_path))
    assert textfile.load_data_yaml("a: 1\nb: [2, 3]\nwhen: 2024-01-02\n") == {
        "a": 1,
        "b": [2, 3],
        "when": dt.date(2024, 1, 2),
    }
    assert not list(tmp_path.glob("*.pickle"))
