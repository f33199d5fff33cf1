"""Importers of public parts datasets into a catalog store, and what they share.

Every importer reads its files, maps each record into the pydantic part models, and writes the
result into the store in **one transaction**: a failure (bad path, a bug, Ctrl-C) leaves the
store exactly as it was. Records keep their dataset id (``origin`` + ``record``), so importing
the same data again updates rows instead of duplicating them. Nothing is dropped silently: a
record that is out of scope is *skipped* and one that is malformed or implausible is
*quarantined*, both with a reason, in the :class:`ImportReport`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dlrig.errors import CatalogImportError
from dlrig.jsonout import dumps

ImportProgress = Callable[[int, int, str], None]  # (done, total, what) — the CLI draws the bar

IMPORTED, UPDATED, UNCHANGED, SKIPPED, QUARANTINED, REMOVED = (
    "imported",
    "updated",
    "unchanged",
    "skipped",
    "quarantined",
    "removed",
)
STATUSES = (IMPORTED, UPDATED, UNCHANGED, SKIPPED, QUARANTINED, REMOVED)


class RowProblem(Exception):
    """A record that cannot be imported; ``status`` is skipped or quarantined."""

    status = QUARANTINED

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Skip(RowProblem):
    """Out of scope for dlrig (an old socket, DDR3, a laptop part): not an error in the data."""

    status = SKIPPED


class Quarantine(RowProblem):
    """Malformed or implausible data: kept out of the catalog, reported with the reason."""

    status = QUARANTINED


@dataclass
class RowResult:
    """What happened to one dataset record: its status and why."""

    category: str
    record: str
    status: str
    reason: str = ""
    name: str = ""


@dataclass
class ImportReport:
    """What an import did, per category, with a reason for every row not imported."""

    dataset: str
    source_path: str
    rows: list[RowResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def add(
        self, category: str, record: str, status: str, reason: str = "", name: str = ""
    ) -> None:
        """Record one row's outcome."""
        self.rows.append(RowResult(category, record, status, reason, name))

    def counts(self) -> dict[str, dict[str, int]]:
        """category -> status -> rows."""
        out: dict[str, dict[str, int]] = {}
        for r in self.rows:
            out.setdefault(r.category, dict.fromkeys(STATUSES, 0))[r.status] += 1
        return out

    def top_reasons(self, category: str, status: str, n: int = 3) -> list[tuple[str, int]]:
        """The ``n`` commonest reasons (numbers and names folded) for ``status`` rows of
        ``category``."""
        reasons = Counter(
            _reason_kind(r.reason)
            for r in self.rows
            if r.category == category and r.status == status
        )
        return reasons.most_common(n)

    def to_dict(self) -> dict[str, Any]:
        """``dlrig catalog import --json`` (rows only where something was not imported as is)."""
        return {
            "dataset": self.dataset,
            "source_path": self.source_path,
            "seconds": round(self.seconds, 2),
            "counts": self.counts(),
            "notes": self.notes,
            **self.extra,
            "rows": [
                {
                    "category": r.category,
                    "record": r.record,
                    "status": r.status,
                    "reason": r.reason,
                    "name": r.name,
                }
                for r in self.rows
                if r.status not in (IMPORTED, UPDATED, UNCHANGED) or r.reason
            ],
        }

    def write(self, path: Path) -> None:
        """The full report: JSON, or CSV when the file name ends in .csv."""
        path = Path(path)
        if path.suffix.lower() == ".csv":
            import csv

            with path.open("w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow(["dataset", "category", "record", "status", "reason", "name"])
                for r in self.rows:
                    w.writerow([self.dataset, r.category, r.record, r.status, r.reason, r.name])
            return
        data = self.to_dict()
        data["rows"] = [r.__dict__ for r in self.rows]
        path.write_text(dumps(data, indent=1) + "\n", encoding="utf-8")


def _reason_kind(reason: str) -> str:
    """A reason without its row-specific numbers/names, for grouping ("top reasons")."""
    return re.sub(r"'[^']*'|\b\d[\d.,]*\b", "…", reason)


# --- reading ------------------------------------------------------------------------------------
def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """(line number, record or None, error) for every non-blank line of a JSON Lines file.

    A line that is not UTF-8, not strict JSON (NaN, Infinity, 1e400), nested absurdly deep or
    not an object comes back with its error, so the import quarantines it and goes on."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise CatalogImportError(f"cannot read {path}: {exc}", "check the path") from exc
    with fh:
        for n, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            obj, err = _parse_record(raw)
            if obj is None:
                yield n, None, f"line {n}: {err}"
                continue
            yield n, obj, ""


def _parse_record(raw: bytes) -> tuple[dict[str, Any] | None, str]:
    """One JSON record from bytes: (record, "") or (None, why it is not one)."""
    from dlrig.textfile import MAX_SCALAR_CHARS, TextError, parse_json

    if len(raw) > 16 * MAX_SCALAR_CHARS:
        return None, f"record of {len(raw):,} bytes (larger than any real record)"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text (byte {exc.start})"
    try:
        obj = parse_json(text)
    except TextError as exc:
        syntax = re.match(r"invalid JSON: (.*) \(line \d+, column \d+\)$", exc.message)
        return None, f"invalid JSON ({syntax.group(1)})" if syntax else exc.message
    if not isinstance(obj, dict):
        return None, f"expected a JSON object, got {type(obj).__name__}"
    return obj, ""


def read_records(path: Path) -> list[tuple[str, dict[str, Any] | None, str]]:
    """Records of a .jsonl file, a .json file (one object or a list) or a folder of .json files.

    Returns (where, record or None, error) triples, ``where`` = "file:line" for messages.
    """
    if path.is_dir():
        out: list[tuple[str, dict[str, Any] | None, str]] = []
        for f in sorted(path.glob("*.json")):
            out.extend(_json_file_records(f, f.name))
        return out
    if path.suffix == ".json":
        if not path.is_file():
            raise CatalogImportError(f"cannot read {path}", "check the path")
        return _json_file_records(path, path.name)
    return [(f"{path.name}:{n}", rec, err) for n, rec, err in read_jsonl(path)]


def _json_file_records(f: Path, label: str) -> list[tuple[str, dict[str, Any] | None, str]]:
    """The records of one .json file (an object or a list of them), each bad one with its error."""
    from dlrig.textfile import TextError, parse_json

    try:
        obj = parse_json(f.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, TextError) as exc:
        return [(label, None, f"{label}: invalid JSON ({one_line_error(exc)})")]
    items = obj if isinstance(obj, list) else [obj]
    return [
        (label if len(items) == 1 else f"{label}[{i}]", rec, "")
        if isinstance(rec, dict)
        else (f"{label}[{i}]", None, f"item {i}: expected a JSON object")
        for i, rec in enumerate(items)
    ]


def one_line_error(exc: BaseException) -> str:
    """An exception's message on one line, at most 160 characters."""
    from dlrig.textfile import one_line

    return one_line(getattr(exc, "message", None) or str(exc), 160)


# --- mapping helpers ----------------------------------------------------------------------------
_SLUG_BAD = re.compile(r"[^a-z0-9.+]+")


def slugify(text: str, max_len: int = 100) -> str:
    """'ASUS ROG Strix RTX 4090 (OC)' -> 'asus-rog-strix-rtx-4090-oc'."""
    slug = _SLUG_BAD.sub("-", text.lower()).strip("-.+")
    slug = slug[:max_len].rstrip("-.+")
    return slug or "part"


def change_status(old: str | None, new: str) -> str:
    """A record's import status from its stored data (None: not stored) and its new data."""
    if old is None:
        return IMPORTED
    return UNCHANGED if old == new else UPDATED


def num(value: Any, what: str, *, integer: bool = False) -> float | int | None:
    """A number from a dataset value; None for null/'' ; Quarantine for text or bools."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Quarantine(f"{what}: expected a number, got {value!r}")
    if integer:
        return round(value)
    return float(value)


def validation_reason(exc: ValidationError) -> str:
    """A pydantic error as a short reason: the first three fields and what is wrong."""
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(x) for x in err["loc"]) or "row"
        value = err.get("input")
        shown = "" if isinstance(value, dict | list) else f" (got {value!r})"
        parts.append(f"{loc}: {err['msg']}{shown}")
    return "invalid: " + "; ".join(parts)


def shared_datasets_dir() -> Path | None:
    """``<repo>/../shared/datasets`` for a source checkout, when it exists."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent.parent / "shared" / "datasets"
        if (parent / "pyproject.toml").is_file() and candidate.is_dir():
            return candidate
    return None
