"""Crash safety: an import killed (SIGKILL) at random points leaves the old store or the new one,
never a mix or a damaged file, and a re-run succeeds."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from dlrig.catalog.importers.run import import_dataset

FIXTURES = Path(__file__).parent / "fixtures"
KILL_POINTS = 24
SEED = 9

pytestmark = pytest.mark.skipif(
    not hasattr(os, "fork") or sys.platform == "win32", reason="needs fork and SIGKILL"
)


def _dataset(folder: Path, n: int, tdp: int) -> Path:
    """An OpenDB folder: the fixture files plus ``n`` copies of a card (a longer write)."""
    shutil.copytree(FIXTURES / "opendb", folder)
    base = json.loads(
        (FIXTURES / "opendb" / "GPU.jsonl").read_text(encoding="utf-8").splitlines()[0]
    )
    with (folder / "GPU.jsonl").open("a", encoding="utf-8") as fh:
        for i in range(n):
            rec = json.loads(json.dumps(base))
            rec["opendb_id"] = f"kill-{i}"
            rec["metadata"]["name"] = f"{base['metadata']['name']} lot {i}"
            rec["metadata"]["part_numbers"] = [f"LOT-{i}"]
            rec["tdp"] = tdp
            fh.write(json.dumps(rec) + "\n")
    return folder


def _snapshot(store: Path) -> str:
    """A digest of everything an import writes except its timestamps."""
    conn = sqlite3.connect(store)
    h = hashlib.sha256()
    for table, cols in (
        ("parts", "id, category, origin, record, name, aliases, price_only, data, match"),
        ("part_names", "norm, id"),
        ("prices", "*"),
        ("chips", "*"),
        ("chip_fills", "*"),
        ("quarantine", "*"),
        ("datasets", "name, version, data_date, path, rows"),
    ):
        for row in conn.execute(f"SELECT {cols} FROM {table} ORDER BY 1, 2"):
            h.update(repr(row).encode())
    conn.close()
    return h.hexdigest()


def test_kill_during_import_leaves_old_or_new(tmp_path: Path) -> None:
    from dlrig.catalog.store import connect

    old_src = _dataset(tmp_path / "old", 600, 450)
    new_src = _dataset(tmp_path / "new", 620, 420)  # every copy updated, 20 more
    base = tmp_path / "base.sqlite"
    import_dataset(base, "opendb", old_src)
    old = _snapshot(base)
    reference = tmp_path / "reference.sqlite"
    shutil.copy(base, reference)
    t0 = time.perf_counter()
    import_dataset(reference, "opendb", new_src)
    duration = time.perf_counter() - t0
    new = _snapshot(reference)
    assert old != new

    rng = random.Random(SEED)
    outcomes = {"old": 0, "new": 0, "mid-transaction": 0}
    store = tmp_path / "c.sqlite"
    for _ in range(KILL_POINTS):
        shutil.copy(base, store)
        for extra in ("-journal", "-wal", "-shm"):
            Path(f"{store}{extra}").unlink(missing_ok=True)
        delay = rng.uniform(0, duration * 1.1)
        pid = os.fork()
        if pid == 0:  # the child imports until it is killed
            try:
                import_dataset(store, "opendb", new_src)
            finally:
                os._exit(0)
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        outcomes["mid-transaction"] += Path(f"{store}-journal").exists()  # a hot journal left
        connect(store).close()  # opens (rolls back a half-written transaction), passes quick_check
        state = _snapshot(store)
        assert state in (old, new), f"killed after {delay:.3f} s: neither the old nor the new store"
        outcomes["old" if state == old else "new"] += 1
        import_dataset(store, "opendb", new_src)  # a re-run succeeds
        assert _snapshot(store) == new
    # the kill points spread over the import: some before its commit, some after
    assert outcomes["old"] >= 3, outcomes
    print(f"{KILL_POINTS} kills over {duration:.2f} s imports: {outcomes}")
