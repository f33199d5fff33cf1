"""The importer protocol and the one loop every import runs.

An importer is a small class with four steps (:class:`Importer`):

1. ``fetch(path)`` reads the dataset's files into :class:`SourceRow` s (a record, or the reason
   it could not be read: bad JSON, bad UTF-8, not an object);
2. ``prepare(conn)`` reads what it needs from the store (the rows an earlier import brought);
3. ``map(row)`` turns one record into what the importer will write and says how it ended
   (:class:`Mapped`); it raises :class:`RowProblem` (skip or quarantine, with the reason) or a
   pydantic ``ValidationError``; ``None`` leaves the outcome to ``finish``;
4. ``finish(report)`` does the whole-dataset work (removed rows, ambiguous prices) and returns
   the :class:`~dlrig.catalog.store.ImportChanges` to write.

:func:`run_import` is the shared loop around them: progress, number checks on every record,
quarantine of **any** failing row whatever its fault (the import goes on), the shrink check
(a source that lost more than :data:`SHRINK_LIMIT` of a category's rows against the store is
refused unless ``allow_shrink``), then one transaction (:func:`dlrig.catalog.store.write_import`)
— the only place the store is written. Adding an importer: a module with one class, and a line
in :data:`dlrig.catalog.importers.run.IMPORTERS`.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError

from dlrig.catalog.importers import (
    QUARANTINED,
    SKIPPED,
    ImportProgress,
    ImportReport,
    RowProblem,
    validation_reason,
)
from dlrig.catalog.importers.sources import DatasetInfo
from dlrig.catalog.store import ImportChanges, origin_counts, write_import
from dlrig.errors import CatalogImportError

__all__ = [
    "SHRINK_LIMIT",
    "Fetched",
    "Importer",
    "Mapped",
    "SourceRow",
    "run_import",
]

# A category may lose at most this share of its stored rows in one import without
# --allow-shrink: a dataset file cut in half is refused instead of deleting half the catalog.
SHRINK_LIMIT = 0.10
# Categories with fewer stored rows than this are not checked (small test sets change a lot).
SHRINK_MIN_ROWS = 20


@dataclass
class SourceRow:
    """One record of the dataset: ``record`` None when it could not be read (``error`` says
    why). ``where`` names it in the report (its dataset id where known, else file:line)."""

    category: str
    where: str
    record: dict[str, Any] | None
    error: str = ""
    name: str = ""


@dataclass
class Fetched:
    """What ``fetch`` read: the rows, the resolved source path, its data date and notes."""

    rows: list[SourceRow]
    path: Path
    data_date: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Mapped:
    """How one row ended (imported, updated, unchanged, skipped...), for the report."""

    status: str
    record: str
    reason: str = ""
    name: str = ""


class Importer(Protocol):
    """A dataset importer (see the module docstring)."""

    info: DatasetInfo

    def fetch(self, path: Path | None) -> Fetched:
        """Read the dataset at ``path`` (None: its default place) into rows."""

    def prepare(self, conn: sqlite3.Connection, fetched: Fetched, report: ImportReport) -> None:
        """Look at the store before mapping (what an earlier import stored)."""

    def map(self, row: SourceRow) -> Mapped | None:
        """One row as a status (None: nothing to record); raise Skip or Quarantine to leave it
        out."""

    def finish(self, report: ImportReport) -> ImportChanges:
        """What to write to the store, in one transaction."""


def run_import(
    conn: sqlite3.Connection,
    importer: Importer,
    path: Path | None,
    progress: ImportProgress | None = None,
    allow_shrink: bool = False,
) -> ImportReport:
    """Run ``importer`` on the dataset at ``path`` and write it in one transaction."""
    started = time.perf_counter()
    fetched = importer.fetch(path)
    report = ImportReport(importer.info.name, str(path if path is not None else fetched.path))
    report.notes.extend(fetched.notes)
    importer.prepare(conn, fetched, report)
    total = len(fetched.rows)
    for done, row in enumerate(fetched.rows, 1):
        if progress and done % 250 == 0:
            progress(done, total, row.category)
        mapped = _map_row(importer, row, report)
        if mapped is not None:
            report.add(row.category, mapped.record, mapped.status, mapped.reason, mapped.name)
    if progress:
        progress(total, total, "writing")
    changes = importer.finish(report)
    _check_shrink(changes, origin_counts(conn, changes.origin), allow_shrink)
    write_import(
        conn,
        changes,
        [
            (r.category, r.record, r.status, r.reason)
            for r in report.rows
            if r.status in (SKIPPED, QUARANTINED)
        ],
    )
    report.seconds = time.perf_counter() - started
    return report


def _map_row(importer: Importer, row: SourceRow, report: ImportReport) -> Mapped | None:
    """``importer.map(row)``; a failing row of any kind is reported and the import goes on."""
    from dlrig.textfile import TextError, check_numbers, one_line

    if row.record is None:
        report.add(row.category, row.where, QUARANTINED, row.error or "unreadable record")
        return None
    try:
        check_numbers(row.record)  # NaN, Infinity, 1e400, absurd nesting: never mapped
        return importer.map(row)
    except RowProblem as exc:
        report.add(row.category, row.where, exc.status, exc.reason, row.name)
    except ValidationError as exc:
        report.add(row.category, row.where, QUARANTINED, validation_reason(exc), row.name)
    except TextError as exc:
        report.add(row.category, row.where, QUARANTINED, f"invalid: {exc.message}", row.name)
    except (RecursionError, MemoryError):
        report.add(row.category, row.where, QUARANTINED, "record too large or too deep", row.name)
    except Exception as exc:  # a malformed record the mapper did not foresee: never a crash
        detail = one_line(str(exc), 160)
        report.add(
            row.category,
            row.where,
            QUARANTINED,
            f"malformed record ({type(exc).__name__}: {detail})",
            row.name,
        )
    return None


def _check_shrink(changes: ImportChanges, before: dict[str, int], allow: bool) -> None:
    """Refuse an import that would drop more than SHRINK_LIMIT of a category's stored rows."""
    if allow:
        return
    shrunk = []
    for category, had in sorted(before.items()):
        if category not in changes.after or had < SHRINK_MIN_ROWS:
            continue  # a category the source does not cover is left as it is
        now = changes.after[category]
        if now < had * (1 - SHRINK_LIMIT):
            shrunk.append(f"{category} {had:,} → {now:,}")
    if shrunk:
        raise CatalogImportError(
            f"the {changes.origin} source has far fewer rows than the store holds "
            f"({'; '.join(shrunk)}): a truncated or partial download? The store was not changed",
            "check the dataset files; if the shrink is real, import again with --allow-shrink",
        )
