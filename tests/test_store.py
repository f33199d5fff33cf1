"""The SQLite store: schema versioning, the combined catalog, transactions."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dlrig.catalog import open_catalog
from dlrig.catalog import store as store_mod
from dlrig.catalog.builtin import builtin_catalog
from dlrig.catalog.importers.run import import_dataset
from dlrig.catalog.store import SCHEMA_VERSION, connect, open_store
from dlrig.errors import CatalogError, CatalogImportError, PartNotFoundError
from dlrig.parts import Category

FIXTURES = Path(__file__).parent / "fixtures"


def _snapshot(path: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT id, data FROM parts ORDER BY id").fetchall()
    rows += conn.execute("SELECT name, imported_at FROM datasets ORDER BY name").fetchall()
    conn.close()
    return rows


def test_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="no catalog store"):
        open_store(tmp_path / "nope.sqlite")


def test_new_store_has_builtin_parts(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    connect(path, create=True).close()
    cat = open_store(path)
    builtin = builtin_catalog()
    assert len(cat) == len(builtin)
    assert [p.id for p in cat.parts(Category.GPU)] == [p.id for p in builtin.parts(Category.GPU)]
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    connect(path, create=True).close()
    sqlite3.connect(path).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}").connection.close()
    with pytest.raises(CatalogError, match="schema version"):
        open_store(path)


def test_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    sqlite3.connect(path).execute("CREATE TABLE x (a)").connection.close()
    with pytest.raises(CatalogError, match="not a dlrig catalog"):
        open_store(path)


def test_env_var_selects_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.sqlite"
    import_dataset(path, "opendb", FIXTURES / "opendb")
    monkeypatch.setenv("DLRIG_CATALOG", str(path))
    cat = open_catalog()
    assert "MSI GeForce RTX 4090 SUPRIM X 24G" in {p.name for p in cat.parts(Category.GPU)}
    assert cat.version != builtin_catalog().version
    # the Catalog API works across builtin and imported parts
    imported = cat.resolve("msi geforce rtx 4090 suprim x 24g")
    assert cat.get(imported.id) == imported and imported.id in cat
    blowers = {p.name for p in cat.list(Category.GPU, ["cooling=blower", "vram_gib>=24"])}
    assert "ASUS TURBO GeForce RTX 3090 24GB" in blowers  # imported, "1 Fan" in OpenDB
    with pytest.raises(PartNotFoundError):
        cat.get("no-such-part-anywhere")


def test_failing_import_leaves_catalog_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.sqlite"
    import_dataset(path, "opendb", FIXTURES / "opendb")
    before = _snapshot(path)

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    # fail inside the write transaction, after some rows were already written
    monkeypatch.setattr(store_mod, "write_parts", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        import_dataset(path, "opendb", FIXTURES / "opendb")
    assert _snapshot(path) == before
    with pytest.raises(CatalogImportError):
        import_dataset(path, "opendb", tmp_path / "does-not-exist")
    assert _snapshot(path) == before


def test_gpu_chip_by_chip_or_card_name_in_a_store(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    import_dataset(path, "opendb", FIXTURES / "opendb")
    cat = open_catalog(path)
    assert cat.gpu_chip("rtx 4090").id == "rtx-4090"
    assert cat.gpu_chip("MSI GeForce RTX 4090 SUPRIM X 24G").id == "rtx-4090"  # an imported card
    assert cat.gpu_chip("NVIDIA GeForce RTX 4090 Founders Edition").id == "rtx-4090"
    with pytest.raises(PartNotFoundError, match="unknown GPU chip 'zzz-9'"):
        cat.gpu_chip("zzz-9")


def test_an_imported_id_that_the_builtin_catalog_gained_later(tmp_path: Path) -> None:
    """A store imported before the built-in catalog gained a part with the same id: the curated
    part wins and the catalog still opens (before: 'duplicate part id' for every plan)."""
    import sqlite3

    from dlrig.catalog.builtin import builtin_catalog

    path = tmp_path / "c.sqlite"
    import_dataset(path, "opendb", FIXTURES / "opendb")
    builtin_gpu = builtin_catalog().parts(Category.GPU)[0]
    conn = sqlite3.connect(path)
    (pid,) = conn.execute("SELECT id FROM parts WHERE category = 'gpu' LIMIT 1").fetchone()
    conn.execute("UPDATE parts SET id = ? WHERE id = ?", (builtin_gpu.id, pid))
    conn.commit()
    conn.close()
    cat = open_catalog(path)
    ids = [p.id for p in cat.parts()]
    assert len(ids) == len(set(ids)) and cat.get(builtin_gpu.id).origin == "builtin"
