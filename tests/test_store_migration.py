"""Schema version 2 (the covering index for searches): a version-1 store is upgraded when
opened, keeps its content token and its answers; one that cannot be written is read as it is."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from dlrig.catalog import store as store_mod
from dlrig.catalog.importers.run import import_dataset
from dlrig.catalog.store import SCHEMA_VERSION, open_store

FIXTURES = Path(__file__).parent / "fixtures"
QUERIES = ("rtx 4090", "corsair", "suprim x", "asus turbo 3090")


def _version_1_store(tmp_path: Path) -> Path:
    """An imported store as dlrig wrote it before version 2: no search index, user_version 1."""
    path = tmp_path / "v1.sqlite"
    import_dataset(path, "opendb", FIXTURES / "opendb")
    conn = sqlite3.connect(path)
    conn.execute("DROP INDEX parts_search")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    return path


def _meta(path: Path) -> tuple[int, bool, str]:
    conn = sqlite3.connect(path)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    indexed = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'parts_search'"
    ).fetchone()
    token = conn.execute("SELECT value FROM meta WHERE key = 'content_version'").fetchone()[0]
    conn.close()
    return version, indexed is not None, token


def _answers(path: Path) -> list[list[str]]:
    cat = open_store(path)
    return [[p.id for p in cat.search(q)] for q in QUERIES]


def test_a_new_store_has_the_search_index_and_uses_it(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    import_dataset(path, "opendb", FIXTURES / "opendb")
    assert SCHEMA_VERSION == 2 and _meta(path)[:2] == (2, True)
    conn = sqlite3.connect(path)
    plan = conn.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM parts WHERE 1=1 AND search LIKE '%rtx%' ORDER BY name"
    ).fetchall()
    assert "COVERING INDEX parts_search" in " ".join(str(r) for r in plan)


def test_a_version_1_store_is_upgraded_with_the_same_answers(tmp_path: Path) -> None:
    path = _version_1_store(tmp_path)
    _, _, token = _meta(path)
    readonly = _read_only(path)  # the answers of the old layout, read without upgrading it
    assert _meta(path)[:2] == (1, False)
    answers = _answers(path)
    assert _meta(path) == (2, True, token)  # upgraded; the content token (cache keys) kept
    assert answers == readonly and all(answers)


def _read_only(path: Path) -> list[list[str]]:
    """The answers with the store opened read-only (SQLite refuses every write)."""
    real = sqlite3.connect

    def connect_ro(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        return real(f"file:{database}?mode=ro", *args, uri=True, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(store_mod.sqlite3, "connect", connect_ro)
        return _answers(path)


def test_a_read_only_version_1_store_is_read_as_it_is(tmp_path: Path) -> None:
    path = _version_1_store(tmp_path)
    answers = _read_only(path)
    assert _meta(path)[:2] == (1, False)  # not upgraded, not damaged
    assert any("msi-geforce-rtx-4090" in pid for pid in answers[0])


def test_concurrent_openers_of_a_version_1_store_upgrade_it_once(tmp_path: Path) -> None:
    path = _version_1_store(tmp_path)
    results: list[Any] = []

    def worker() -> None:
        try:
            results.append(_answers(path))
        except Exception as exc:  # pragma: no cover - reported below
            results.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == results[0] for r in results) and not isinstance(results[0], Exception)
    assert _meta(path)[:2] == (2, True)


def test_a_version_1_store_another_process_writes_is_read_without_waiting(tmp_path: Path) -> None:
    """The upgrade only adds an index: while another connection holds the write lock the store
    is read as it is at once, not after SQLite's 5 s busy timeout, and upgraded later."""
    import time

    path = _version_1_store(tmp_path)
    expected = _read_only(path)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        start = time.perf_counter()
        assert _answers(path) == expected
        assert time.perf_counter() - start < 2.0
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert _meta(path)[0] == 1
    _answers(path)
    assert _meta(path)[:2] == (2, True)
